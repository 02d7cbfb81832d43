"""Benchmark of the persuasion-technique analyser: cross-validated official measures and speed.

    python bench/bench_techniques.py [--data ../shared/data/raw] [--folds 5] [--cache /tmp/narrascope-cache]
    python bench/bench_techniques.py --model neural --cache ~/.cache/narrascope   # needs the 'train' extra
    python bench/bench_techniques.py --model mpnet --cache ~/.cache/narrascope    # needs 'train' and 'mpnet'
    python bench/bench_techniques.py --set bias_lexicon=crf --out /tmp/ablation.json   # Params fields changed

Runs the cross-validation of ``narrascope.analysers.techniques.evaluate`` (split by article, the
same folds for PTC and SemEval-2023 T3, whose articles overlap), times the shipped analyser on top
of the shared spaCy parse, writes ``bench/results/techniques.json`` (``techniques_neural.json`` for the
fine-tuned tagger: ~20 minutes of fine-tuning per fold, cached in ``--cache``; ``techniques_mpnet.json``
for the frozen all-mpnet-base-v2 tagger: its states once, then a few minutes per fold) and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from narrascope.analysers.technique_frozen import clear_states
from narrascope.analysers.techniques import (
    MPNET_PARAMS,
    VERSION,
    Params,
    TechniqueAnalyser,
    default_model_path,
    evaluate,
    score_predictions,
)
from narrascope.document import Article
from narrascope.evaluate.ptc import read_articles
from narrascope.nlp import parse

ROOT = Path(__file__).resolve().parent
PUBLISHED = {
    "ptc_si": ("PTC span identification F1 (partial overlap)", 0.5155, "2020 winner (Hitachi), test"),
    "ptc_tc": ("PTC technique micro-F1 (gold spans)", 0.6207, "2020 winner (ApplicaAI), test"),
    "semeval2023_st3": ("SemEval-2023 T3 EN subtask 3 micro-F1", 0.16125, "official baseline, dev"),
}


def speed(articles_dir: Path, model: str = "crf", n: int = 40) -> dict[str, Any]:
    """Milliseconds per article of the analyser alone (the parse is done beforehand): wall-clock and
    CPU time of this process (the CPU figure is the fair one on a shared machine), with the date and
    the params of the model timed (``--speed-only`` keeps CV figures that may be another model's)."""
    texts = list(read_articles(articles_dir).values())[:n]
    clear_states()  # the CV kept these articles' encoder states: time the encoder, not that cache
    arts = parse([Article(t) for t in texts])
    analyser = TechniqueAnalyser(default_model_path(model))
    analyser(arts[0])  # load the model outside the timing
    wall, cpu = [], []
    for art in arts:
        t0, c0 = time.perf_counter(), time.process_time()
        analyser(art)
        wall.append(1000 * (time.perf_counter() - t0))
        cpu.append(1000 * (time.process_time() - c0))
    return {
        "articles": len(arts),
        "ms_wall_mean": round(statistics.mean(wall), 1),
        "ms_wall_median": round(statistics.median(wall), 1),
        "ms_cpu_mean": round(statistics.mean(cpu), 1),
        "ms_cpu_median": round(statistics.median(cpu), 1),
        "load_average": round(os.getloadavg()[0], 1),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "params": dict(analyser.model.params.__dict__),
    }


PARAMS = {"crf": Params(), "neural": Params(neural=True), "mpnet": MPNET_PARAMS}


def with_settings(params: Params, settings: list[str]) -> Params:
    """``params`` with ``NAME=VALUE`` settings applied, each value read as its field's type."""
    types = {f.name: type(getattr(params, f.name)) for f in fields(params)}
    changes: dict[str, Any] = {}
    for item in settings:
        name, _, value = item.partition("=")
        if name not in types:
            raise SystemExit(f"--set {item}: no Params field {name!r} (fields: {', '.join(types)})")
        kind = types[name]
        changes[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return replace(params, **changes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent.parent / "shared" / "data" / "raw"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache", default=None, help="folder to cache the spaCy parse of the corpora")
    ap.add_argument("--speed-only", action="store_true")
    ap.add_argument("--model", choices=tuple(PARAMS), default="crf", help="span tagger (see Params.neural)")
    ap.add_argument(
        "--jobs-dir",
        default=None,
        help="pool fold<k>.json files written by evaluate(predictions_dir=...) (folds run as separate jobs)",
    )
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="change a Params field")
    ap.add_argument("--babe", default=None, help="BABE folder for the biased-word lexicon (default: DATA/babe_mbic)")
    ap.add_argument("--out", default=None, help="results file (default: bench/results/techniques[_MODEL].json)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    data = Path(args.data)
    ptc, st3 = data / "semeval2020_t11_ptc", data / "semeval2023_t3" / "en"
    params = with_settings(PARAMS[args.model], args.set)
    babe = Path(args.babe) if args.babe else data / "babe_mbic"
    out = Path(args.out) if args.out else ROOT / "results" / (
        "techniques.json" if args.model == "crf" else f"techniques_{args.model}.json"
    )
    result = json.loads(out.read_text()) if args.speed_only and out.is_file() else {}
    if args.jobs_dir:
        files = sorted(Path(args.jobs_dir).glob("fold*.json"))
        result = {
            "folds": args.folds,
            "split": "by article id, shared by PTC and SemEval-2023 T3",
            "version": VERSION,
            "params": params.__dict__,
            **score_predictions(files),
        }
    elif not args.speed_only:
        t0 = time.time()
        result = evaluate(ptc, st3, folds=args.folds, cache_dir=args.cache, params=params, babe_dir=babe)
        result["cv_seconds"] = round(time.time() - t0)
    if not args.speed_only:  # the date of the CV figures
        result["date"] = time.strftime("%Y-%m-%d")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")  # kept if the timing below fails
    result["speed"] = speed(ptc / "train-articles", args.model)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\n{result.get('folds', '?')}-fold CV by article on the train sets\n")
    print("| measure | narrascope (CV) | published | reference |\n|---|---|---|---|")
    for key, (name, ref, who) in PUBLISHED.items():
        res = result.get(key, {})
        val = res.get("f1", res.get("micro_f1"))
        print(f"| {name} | {val:.3f} | {ref:.3f} | {who} |" if val is not None else f"| {name} | - | {ref} | {who} |")
    sp = result["speed"]
    print(
        f"\nanalyser on top of the parse ({sp['articles']} PTC articles): CPU {sp['ms_cpu_mean']} ms/article "
        f"mean, {sp['ms_cpu_median']} median; wall {sp['ms_wall_mean']} ms, load average {sp['load_average']}"
    )


if __name__ == "__main__":
    main()
