"""Narratives benchmark: 5-fold CV (official F1-samples) of the shipped configuration and its ablations,
plus milliseconds per article on top of the shared parse.

    python bench/bench_narratives.py [--data ../shared/data/raw/semeval2025_t10] [--only full,no_gate] [--repeats 5]

The ``mpnet*`` rows need the ``mpnet`` extra, the ``use_m3*`` rows the ``multilingual`` extra;
``use_m3_languages`` adds the BG, HI, PT and RU articles (training release and dev_gold) to the
document-vector heads' training rows. ``--speed-model mpnet`` times the shipped 'mpnet' model (with
``--speed-only``, without re-running any CV row).

Writes bench/results/narratives.json and prints a markdown table. The decoder's calibration (or thresholds)
is fitted inside each training fold (inner CV); nothing is tuned on a test fold. ``--repeats R`` repeats the CV
over R splits (seeds ``--seed`` to ``--seed + R - 1``) and reports the mean and the spread across splits: with
359 articles one split's figure moves by about 0.01 from split to split.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from narrascope.analysers.narratives import (
    CLOSENESS_SENTENCES,
    CLOSENESS_TOP,
    MPNET_CONFIG,
    ExtraArticles,
    NarrativeAnalyser,
    NarrativeConfig,
    article_features,
    cross_validate,
    default_model_path,
    load_model,
    other_language_articles,
)
from narrascope.document import Article
from narrascope.embed import get_encoder, load_encoder
from narrascope.evaluate.semeval2025 import load_dataset
from narrascope.taxonomy.narratives import Taxonomy, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "raw" / "semeval2025_t10"
OUT = ROOT / "bench" / "results" / "narratives.json"

SHIPPED = (
    load_model().config
    if (ROOT / "narrascope" / "models" / "narratives" / "model.json").is_file()
    else NarrativeConfig()
)
# The rows below but "full" change one thing of the default model as it was before the label closeness (2026-11-25),
# which is how their figures were measured ("no_closeness" is that model).
BEFORE_CLOSENESS = replace(SHIPPED, closeness_coarse=0.0, closeness_fine=0.0)
# Likewise the "mpnet" rows but "mpnet" change that model as it was before its label closeness (2026-11-25).
MPNET_BEFORE_CLOSENESS = replace(MPNET_CONFIG, closeness_coarse=0.0, closeness_fine=0.0)
ABLATIONS: dict[str, tuple[str, NarrativeConfig]] = {
    "full": ("shipped configuration", SHIPPED),
    "tfidf_only": (
        "the TF-IDF heads alone (the default model before 2026-11-24)",
        replace(BEFORE_CLOSENESS, embeddings=False),
    ),
    "thresholds": (
        "global thresholds tuned by grid search instead of the expected-F1 decoder (the default model before "
        "2026-11-24)",
        replace(BEFORE_CLOSENESS, decoder="thresholds"),
    ),
    "no_gate": ("without the 'Other' gate", replace(BEFORE_CLOSENESS, gate=False)),
    "no_topic": ("without the topic gate", replace(BEFORE_CLOSENESS, topic=False)),
    "no_gates": ("without both gates", replace(BEFORE_CLOSENESS, gate=False, topic=False)),
    "no_hierarchy": ("fine labels not restricted to predicted coarse", replace(BEFORE_CLOSENESS, hierarchy=False)),
    "no_definitions": (
        "without label definitions as training documents",
        replace(BEFORE_CLOSENESS, definitions=False),
    ),
    "embeddings": (
        "+ MiniLM document-vector heads over the first 80 sentences, C=10 (ensemble)",
        replace(BEFORE_CLOSENESS, embeddings=True, doc_sentences=80, embed_C=None),
    ),
    "minilm15": (
        "+ MiniLM document-vector heads over the first 15 sentences, C=1 (the mpnet model's settings)",
        replace(BEFORE_CLOSENESS, embeddings=True, doc_sentences=15, embed_C=1.0),
    ),
    "minilm5": (
        "+ MiniLM document-vector heads over the first 5 sentences, C=1",
        replace(BEFORE_CLOSENESS, embeddings=True, doc_sentences=5, embed_C=1.0),
    ),
    "minilm3": (
        "+ MiniLM document-vector heads over the first 3 sentences, C=1",
        replace(BEFORE_CLOSENESS, embeddings=True, doc_sentences=3, embed_C=1.0),
    ),
    "use_m3": (
        "+ multilingual USE-m3 document-vector heads (first 15 sentences, C=1)",
        replace(BEFORE_CLOSENESS, embeddings=True, encoder="use-m3", doc_sentences=15, embed_C=1.0),
    ),
    "use_m3_languages": (
        "+ USE-m3 heads that also learn from the BG/HI/PT/RU articles",
        replace(
            BEFORE_CLOSENESS, embeddings=True, encoder="use-m3", doc_sentences=15, embed_C=1.0, other_languages=True
        ),
    ),
    "mpnet": (
        "+ all-mpnet-base-v2 document-vector heads (first 15 sentences, C=1), the gate's also over the article's "
        "slant (BABE sentence classifier), and the label closeness over mpnet vectors (the 'mpnet' model)",
        MPNET_CONFIG,
    ),
    "mpnet_no_closeness": (
        "the 'mpnet' model without the label closeness (as shipped until 2026-11-25)",
        MPNET_BEFORE_CLOSENESS,
    ),
    "mpnet_thresholds": (
        "the 'mpnet' model without the label closeness, with global thresholds instead of the expected-F1 decoder "
        "(as shipped until 2026-11-24)",
        replace(MPNET_BEFORE_CLOSENESS, decoder="thresholds"),
    ),
    "mpnet_no_slant": (
        "+ all-mpnet-base-v2 document-vector heads (first 15 sentences, C=1), without the slant or the closeness",
        replace(MPNET_BEFORE_CLOSENESS, slant=""),
    ),
    "no_closeness": (
        "without the article's closeness to each label's definition and examples (the default model before "
        "2026-11-25)",
        BEFORE_CLOSENESS,
    ),
    "C3": ("stronger regularisation, C=3", replace(BEFORE_CLOSENESS, C=3.0)),
    "C30": ("weaker regularisation, C=30", replace(BEFORE_CLOSENESS, C=30.0)),
    "unbalanced": ("heads without class balancing", replace(BEFORE_CLOSENESS, class_weight=None)),
    "unigrams": ("word unigrams only", replace(BEFORE_CLOSENESS, ngram_max=1)),
}
PUBLISHED = [
    ("2nd place, EN test (zero-shot GPT-4o-mini)", 0.55, 0.43),
    ("random baseline (dev)", 0.106, 0.000),
]


def doc_vectors(cfg: NarrativeConfig, texts: list[str]) -> np.ndarray:
    """Document vectors, cached in ~/.cache/narrascope (derived numbers only, no text)."""
    closeness = [f"closeness={CLOSENESS_SENTENCES},{CLOSENESS_TOP}"] if cfg.closeness else []
    parts = [cfg.encoder, str(cfg.doc_sentences), *([f"slant={cfg.slant}"] if cfg.slant else []), *closeness, *texts]
    key = hashlib.sha1("\0".join(parts).encode()).hexdigest()[:16]
    cache = Path.home() / ".cache" / "narrascope" / f"bench_narratives_vectors_{key}.npy"
    if cache.is_file():
        return np.load(cache)
    vecs = article_features(cfg, texts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, vecs)
    return vecs


def english_training_set(data: str | Path, tax: Taxonomy) -> tuple[list[str], list[list[str]], list[list[str]]]:
    """The English training articles of a SemEval-2025 T10 folder: texts, coarse labels, fine labels."""
    ds = load_dataset(data, "EN", tax)
    return (
        [ds.texts[i] for i in ds.ids],
        [ds.labels[i].coarse for i in ds.ids],
        [ds.labels[i].fine for i in ds.ids],
    )


def save_per_model(out: Path, models: str, measure: Callable[[str], dict], dataset: str, protocol: str) -> None:
    """Measure each of the comma-separated ``models``, print its row, and save the rows to ``out``: a row measured
    again replaces its old one, the other models' rows stay."""
    prev = json.loads(out.read_text()) if out.is_file() else {}
    rows = prev.get("models", {})
    for name in [m for m in models.split(",") if m]:
        t0 = time.time()
        rows[name] = measure(name)
        rows[name]["seconds"] = round(time.time() - t0, 1)
        print(name, json.dumps(rows[name], indent=1), flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"dataset": dataset, "protocol": protocol, "date": time.strftime("%Y-%m-%d"), "models": rows}
    out.write_text(json.dumps(report, indent=1) + "\n")


def split_summary(runs: list[dict]) -> dict:
    """One row's figures: the CV's as they are for one split; for several, their mean, spread and each split's."""
    if len(runs) == 1:
        r = runs[0]
        return {
            "f1_samples_coarse": round(r["f1_samples_coarse"], 4),
            "f1_samples_fine": round(r["f1_samples_fine"], 4),
            "per_fold": r["per_fold"],
        }
    c = np.array([r["f1_samples_coarse"] for r in runs])
    f = np.array([r["f1_samples_fine"] for r in runs])
    return {
        "f1_samples_coarse": round(float(c.mean()), 4),
        "f1_samples_fine": round(float(f.mean()), 4),
        "splits": len(runs),
        "sd_across_splits": {"coarse": round(float(c.std(ddof=1)), 4), "fine": round(float(f.std(ddof=1)), 4)},
        "per_split": [
            {"seed": r["seed"], "coarse": round(r["f1_samples_coarse"], 4), "fine": round(r["f1_samples_fine"], 4)}
            for r in runs
        ],
    }


def speed(texts: list[str], n: int = 40, model: str = "minilm") -> dict[str, Any]:
    """ms per article of the analyser (evidence and explanation included) on parsed articles, warm: the median
    of three timed passes after a first one (this machine's speed drifts by 10-20% from pass to pass)."""
    from narrascope.nlp import parse

    arts = [Article(text=t, title=t.split("\n", 1)[0]) for t in texts[:n]]
    t0 = time.perf_counter()
    parse(arts)
    parse_ms = (time.perf_counter() - t0) * 1000 / len(arts)
    analyser = NarrativeAnalyser(default_model_path(model))
    for a in arts:  # a first pass loads the model and the evidence encoder outside the timing
        analyser(a)
    # The share spent running the ONNX sentence encoder (MiniLM: the lead's vectors, the evidence candidates),
    # which the budget ("on top of the shared parse and embeddings") would leave out.
    cfg = analyser.model.config
    onnx = [load_encoder(n) for n in {cfg.encoder, cfg.evidence_encoder} - {"", "mpnet", "use-m3"}]
    kept: list[Any] = [*onnx, *([get_encoder("mpnet")] if cfg.encoder == "mpnet" else [])]  # they keep vectors
    sessions = [e.session for e in onnx]
    encoding = [0.0]

    class TimedSession:
        def __init__(self, session: Any) -> None:
            self.session = session

        def run(self, *args: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return self.session.run(*args)
            finally:
                encoding[0] += time.perf_counter() - t0

    passes, encoder_ms = [], []
    for e, session in zip(onnx, sessions, strict=True):
        e.session = TimedSession(session)
    try:
        for _ in range(3):
            encoding[0] = 0.0
            for e in kept:  # each pass reads every sentence anew, as the first reading of an article does
                e.clear_cache()
            t0 = time.perf_counter()
            for a in arts:
                analyser(a)
            passes.append((time.perf_counter() - t0) * 1000 / len(arts))
            encoder_ms.append(encoding[0] * 1000 / len(arts))
    finally:
        for e, session in zip(onnx, sessions, strict=True):
            e.session = session
    middle = int(np.argsort(passes)[1])
    return {
        "articles": len(arts),
        "ms_per_article": round(passes[middle], 2),
        "encoder_ms_per_article": round(encoder_ms[middle], 2),
        "passes_ms": [round(p, 2) for p in passes],
        "parse_ms_per_article": round(parse_ms, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--repeats", type=int, default=1, help="CV repeated over this many splits (seed, seed + 1, ...)")
    ap.add_argument("--only", default="", help="comma-separated ablation names (default: all)")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--speed-only", action="store_true", help="time the model, keep the stored CV rows")
    ap.add_argument(
        "--speed-model",
        default="minilm",
        help="model timed: 'minilm', the default (key speed), 'mpnet' (speed_mpnet) or a model folder (speed_<name>)",
    )
    args = ap.parse_args()

    tax = load_taxonomy()
    texts, coarse, fine = english_training_set(args.data, tax)
    names = [] if args.speed_only else [n for n in args.only.split(",") if n] or list(ABLATIONS)
    rows: dict[str, dict] = {}
    per_label: dict[str, dict] = {}
    for name in names:
        what, cfg = ABLATIONS[name]
        vecs = doc_vectors(cfg, texts) if cfg.embeddings else None
        extra = None
        if cfg.other_languages:
            o_texts, o_coarse, o_fine = other_language_articles(args.data, "EN", tax)
            extra = ExtraArticles(doc_vectors(cfg, o_texts), o_coarse, o_fine)
        t0 = time.time()
        runs = [
            cross_validate(texts, coarse, fine, cfg, tax, args.folds, args.seed + k, vecs, extra)
            for k in range(args.repeats)
        ]
        rows[name] = {
            "what": what,
            **({"other_language_articles": len(extra.coarse)} if extra else {}),
            **split_summary(runs),
            "seconds": round(time.time() - t0, 1),
        }
        if name == "full":
            per_label = {"per_label_coarse": runs[0]["per_label_coarse"], "per_label_fine": runs[0]["per_label_fine"]}
        row = rows[name]
        print(f"{name}: coarse {row['f1_samples_coarse']:.3f} fine {row['f1_samples_fine']:.3f}", flush=True)
    other = [["Other"]] * len(texts)
    from narrascope.evaluate.semeval2025 import f1_samples

    # Re-read just before writing: several runs with --only may share the file.
    prev = json.loads(OUT.read_text()) if OUT.is_file() else {}
    rows = {**prev.get("ablations", {}), **rows}
    result = {
        **prev,
        **per_label,
        "dataset": {
            "path": "semeval2025_t10 EN train",
            "documents": len(texts),
            "narrative_documents": sum(c != ["Other"] for c in coarse),
        },
        "protocol": f"{args.folds}-fold CV by article (seed {args.seed}; rows with 'splits' repeat it over that many "
        "seeds from it and give the mean); the decoder (calibration, or thresholds) fitted by inner CV on "
        "each training fold; official F1-samples (coarse over 22 labels, fine over the 91 official labels)",
        "other_everywhere": {
            "f1_samples_coarse": round(f1_samples(coarse, other, tax.coarse_labels)[0], 4),
            "f1_samples_fine": round(f1_samples(fine, other, tax.official_fine_labels)[0], 4),
        },
        "ablations": rows,
    }
    key = "speed" if args.speed_model in ("minilm", "tfidf") else f"speed_{Path(args.speed_model).name}"
    if not args.no_speed:
        result[key] = speed(texts, model=args.speed_model)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n")

    print("\n| system | F1-samples coarse | F1-samples fine |\n|---|---|---|")
    for name, row in rows.items():
        print(f"| {name}: {row['what']} | {row['f1_samples_coarse']:.3f} | {row['f1_samples_fine']:.3f} |")
    oe = result["other_everywhere"]
    print(f"| 'Other' everywhere | {oe['f1_samples_coarse']:.3f} | {oe['f1_samples_fine']:.3f} |")
    for what, c, f in PUBLISHED:
        print(f"| published: {what} | {c:.3f} | {f:.3f} |")
    if key in result:
        s = result[key]
        print(
            f"\nspeed ({args.speed_model}): {s['ms_per_article']} ms per article on top of the parse "
            f"({s['encoder_ms_per_article']} ms of it in the ONNX sentence encoder; passes {s['passes_ms']}; "
            f"{s['parse_ms_per_article']} ms parse), {s['articles']} articles"
        )


if __name__ == "__main__":
    main()
