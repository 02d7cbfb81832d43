"""Narratives when the share of articles that carry a narrative differs from the training articles' (57%).

The model's P(narrative) is calibrated on the training articles. ``narrascope predict semeval2025-st2`` therefore
estimates the share of its folder (``--narrative-share auto``: EM, Saerens et al. 2002, as if the folder held
``SHARE_PRIOR_ARTICLES`` more articles at the training share) and re-weights P(narrative) for it. Measured on the
folds of ``bench_narratives.py`` (the model of each training fold, its decoder fitted inside the fold):

- **how the unlabelled EN test folder looks to the model**: its mean P(narrative), its estimated share and the share
  the model calls "Other", beside the same figures on the held-out training folds (no test label is read: it has
  none);
- **what a shift costs, and what the estimate wins back**: each held-out fold resampled to a given share of narrative
  articles (keeping all of one kind, drawing from the other) and, with ``--sizes``, cut to smaller folders; the
  official F1-samples as decoded with the training share, and with the share estimated from the folder for each
  ``--prior-articles`` (0 is plain EM).

    python bench/bench_narratives_shift.py [--data ../shared/data/raw/semeval2025_t10] [--model minilm,mpnet]

Writes ``bench/results/narratives_shift.json``. The figures are means over folds and draws (not pooled).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from bench_narratives import doc_vectors, english_training_set, save_per_model

from narrascope.analysers.narratives import (
    DEFAULT_CONFIG,
    MPNET_CONFIG,
    SHARE_PRIOR_ARTICLES,
    NarrativeConfig,
    NarrativeModel,
    Prediction,
    estimate_narrative_share,
    kfold,
    probabilities,
)
from narrascope.evaluate.semeval2025 import f1_samples, read_documents
from narrascope.taxonomy.narratives import Taxonomy, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "raw" / "semeval2025_t10"
OUT = ROOT / "bench" / "results" / "narratives_shift.json"
CONFIGS = {"minilm": DEFAULT_CONFIG, "mpnet": MPNET_CONFIG}
SHARES = (0.4, 0.7, 0.8, 0.9)  # of narrative articles in a resampled held-out fold


def f1(preds: list[Prediction], gold_c: list, gold_f: list, tax: Taxonomy) -> tuple[float, float]:
    """Official F1-samples (coarse, fine) of predictions."""
    return (
        f1_samples(gold_c, [p.coarse for p in preds], tax.coarse_labels)[0],
        f1_samples(gold_f, [p.fine for p in preds], tax.official_fine_labels)[0],
    )


def measure(
    texts: list[str],
    coarse: list[list[str]],
    fine: list[list[str]],
    unlabelled: list[str],
    cfg: NarrativeConfig,
    tax: Taxonomy,
    seeds: list[int],
    args: argparse.Namespace,
) -> dict:
    n = len(texts)
    narrative = np.array([c != [tax.other] for c in coarse])
    vecs = doc_vectors(cfg, texts)
    u_vecs = doc_vectors(cfg, unlabelled) if unlabelled else None
    folder: dict[str, list[float]] = {"mean_p": [], "estimated_share": [], "called_other": []}
    held_out: dict[str, list[float]] = {"mean_p": [], "estimated_share": [], "called_other": [], "share": []}
    folds = []
    for seed in seeds:
        for test in kfold(n, 5, seed):
            train = np.setdiff1d(np.arange(n), test)
            m = NarrativeModel(tax, cfg).fit(
                [texts[i] for i in train], [coarse[i] for i in train], [fine[i] for i in train], vecs[train]
            )
            for rows, stats, X, V in (
                (test, held_out, [texts[i] for i in test], vecs[test]),
                *([(None, folder, unlabelled, u_vecs)] if unlabelled else []),
            ):
                scores = m.scores(X, V)
                p = probabilities(scores, m.calibration, m.space, cfg)[0]
                stats["mean_p"].append(float(p.mean()))
                stats["estimated_share"].append(m.estimate_share(scores))
                stats["called_other"].append(float(np.mean([d.coarse == [tax.other] for d in m.decisions(scores)])))
                if rows is not None:
                    stats["share"].append(float(narrative[test].mean()))
                    folds.append((test, scores, p, m))

    rng = np.random.default_rng(0)
    ways = ["as_trained", *[f"estimated_prior_articles_{a:g}" for a in args.prior_articles]]
    runs: dict[str, dict[str, list]] = {}
    for size in args.sizes:
        for share in ("natural", *SHARES):
            key = f"{share}" + ("" if size == "full" else f", {size} documents")
            runs[key] = {w: [] for w in ways}
            for test, scores, p, m in folds:
                trained = m.trained_share
                yes, no = np.flatnonzero(narrative[test]), np.flatnonzero(~narrative[test])
                for _ in range(1 if share == "natural" and size == "full" else args.draws):
                    if share == "natural":
                        rows = np.arange(len(test))
                    elif share > trained:  # keep every narrative article, draw "Other" ones
                        rows = np.concatenate([yes, rng.choice(no, round(len(yes) * (1 - share) / share), False)])
                    else:
                        rows = np.concatenate([no, rng.choice(yes, round(len(no) * share / (1 - share)), False)])
                    if size != "full" and int(size) < len(rows):
                        rows = rng.choice(rows, int(size), False)
                    gold = [coarse[test[r]] for r in rows], [fine[test[r]] for r in rows]
                    folder_scores = scores.take(rows)
                    runs[key]["as_trained"].append(f1(m.decisions(folder_scores), *gold, tax))
                    for a in args.prior_articles:
                        share_estimate = estimate_narrative_share(p[rows], trained, a)
                        runs[key][f"estimated_prior_articles_{a:g}"].append(
                            f1(m.decisions(folder_scores, share_estimate), *gold, tax)
                        )

    def mean(values: list[float]) -> float:
        return round(float(np.mean(values)), 4)

    return {
        "held_out_fold": {k: mean(v) for k, v in held_out.items()},
        "unlabelled_test_folder": {k: mean(v) for k, v in folder.items()} | {"documents": len(unlabelled)}
        if unlabelled
        else None,
        "resampled_folds": {
            key: {
                way: {
                    "f1_samples_coarse": mean([c for c, _ in r]),
                    "f1_samples_fine": mean([f for _, f in r]),
                    "mean": mean([(c + f) / 2 for c, f in r]),
                }
                for way, r in by_way.items()
            }
            | {"folders_scored": len(by_way["as_trained"])}
            for key, by_way in runs.items()
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--model", default="minilm,mpnet", help=f"comma-separated: {', '.join(CONFIGS)}")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--repeats", type=int, default=5, help="CV splits, seeds --seed to --seed + repeats - 1")
    ap.add_argument("--draws", type=int, default=4, help="resamplings of each held-out fold per share")
    ap.add_argument(
        "--prior-articles",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[0.0, 5.0, SHARE_PRIOR_ARTICLES, 20.0, 40.0],
        help="comma-separated strengths of the training share in the estimate (the shipped one: "
        f"{SHARE_PRIOR_ARTICLES:g})",
    )
    ap.add_argument(
        "--sizes", type=lambda v: v.split(","), default=["full", "36", "10"], help="folder sizes: full (a fold), N"
    )
    args = ap.parse_args()

    tax = load_taxonomy()
    texts, coarse, fine = english_training_set(args.data, tax)
    folder = Path(args.data) / "test_unlabeled" / "EN" / "subtask-2-documents"
    unlabelled = list(read_documents(folder).values()) if folder.is_dir() else []
    seeds = list(range(args.seed, args.seed + args.repeats))
    save_per_model(
        OUT,
        args.model,
        lambda name: measure(texts, coarse, fine, unlabelled, CONFIGS[name], tax, seeds, args),
        "semeval2025_t10 EN train (labelled); EN test_unlabeled (no labels read)",
        f"5-fold CV by article, seeds {seeds[0]}-{seeds[-1]} (the folds of bench_narratives.py), "
        f"the decoder fitted inside each training fold; each held-out fold resampled {args.draws} times "
        "per share of narrative articles and folder size; figures are means over folds and draws",
    )


if __name__ == "__main__":
    main()
