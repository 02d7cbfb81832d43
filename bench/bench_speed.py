"""Speed and memory: articles/s of the full pipeline and of the bare spaCy parse on the same texts,
cold start, and peak memory. Writes bench/results/speed.json.

    python bench/bench_speed.py [--data ../shared/data] [--n 200]

Texts: SemEval-2025 T10 English training articles when ``--data`` has them, else the examples
repeated. Each measurement runs in a fresh process so they do not share caches or memory.
The README's figures come from the README's install (``pip install -e .``, no torch): spaCy
imports torch whenever it is installed, so a venv with the train or mpnet extras starts slower.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = "raw/semeval2025_t10/train_target_4_December_release/EN/raw-documents"

CHILD = textwrap.dedent("""
    import json, resource, sys, time
    t0 = time.perf_counter()
    mode, paths = sys.argv[1], sys.argv[2:]
    from narrascope.ingest import read
    arts = [a for a in read(paths)]
    t_read = time.perf_counter()
    if mode == "parse":
        from narrascope.nlp import load_nlp, parse
        load_nlp()
    else:
        import narrascope
        pipe = narrascope.Pipeline()
        pipe.analyze_text("Warm up\\n\\nThe minister said the talks would go on.")
    t_load = time.perf_counter()
    if mode == "parse":
        parse(arts)
    else:
        list(pipe.pipe(arts))
    t_end = time.perf_counter()
    print(json.dumps({"articles": len(arts), "read_s": t_read - t0, "load_s": t_load - t_read,
                      "run_s": t_end - t_load, "analysers": pipe.names if mode == "full" else [],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")

COLD = textwrap.dedent("""
    import time; t0 = time.perf_counter()
    import sys, resource, json, narrascope
    art = narrascope.analyze(sys.argv[1])
    print(json.dumps({"cold_start_s": time.perf_counter() - t0, "quotes": len(art.quotes),
                      "torch_imported": "torch" in sys.modules,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def run(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    folder = Path(args.data) / RAW
    if folder.is_dir():
        paths = sorted(str(p) for p in folder.glob("*.txt"))[: args.n]
        corpus = f"SemEval-2025 T10 EN train, first {len(paths)} articles"
    else:
        paths = sorted(str(p) for p in (HERE.parent / "examples").glob("*.txt"))
        corpus = "examples"
    parse = run(CHILD, "parse", *paths)
    full = run(CHILD, "full", *paths)
    cold = min((run(COLD, str(HERE.parent / "examples" / "000_32c6785b4f59bc36.txt")) for _ in range(3)),
               key=lambda r: r["cold_start_s"])
    chars = sum(len(Path(p).read_text(encoding="utf-8")) for p in paths)
    result = {
        "corpus": corpus,
        "articles": full["articles"],
        "default_analysers": full["analysers"],
        "mean_chars": round(chars / len(paths)),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "parse_articles_per_s": round(parse["articles"] / parse["run_s"], 2),
        "full_articles_per_s": round(full["articles"] / full["run_s"], 2),
        "full_vs_parse": round(parse["run_s"] / full["run_s"], 3),
        "model_load_s": round(full["load_s"], 2),
        "cold_start_s": round(cold["cold_start_s"], 2),
        "peak_rss_mb_full_run": round(full["peak_rss_mb"]),
        "peak_rss_mb_cold_start": round(cold["peak_rss_mb"]),
        # spaCy's thinc imports torch when it is installed (train, mpnet extras), which slows the cold start
        "torch_installed": cold["torch_imported"],
    }
    out = HERE / "results" / "speed.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
