"""Narratives: where the errors are. The same 5-fold CV as ``bench_narratives.py`` (same folds, the decoder's
calibration or thresholds fitted inside each training fold), broken down by stage of the cascade:

- the "no narrative" gate: its ROC AUC on out-of-fold scores, and how many narrative articles it calls
  "Other" and the reverse;
- an **oracle gate**: every article gets the model's labels with the gate open, except that gold "Other"
  articles get "Other". The F1-samples it reaches is the ceiling of a perfect gate over these heads;
- on the narrative articles with the gate open: F1-samples, domain accuracy (URW / CC), and how many
  coarse and fine labels are predicted per article against the gold count.

    python bench/bench_narratives_errors.py [--data ../shared/data/raw/semeval2025_t10] [--model minilm,tfidf,mpnet]

``mpnet`` needs the ``mpnet`` extra (its document vectors are cached in ``~/.cache/narrascope``,
numbers only). Writes ``bench/results/narratives_errors.json``.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np
from bench_narratives import doc_vectors, english_training_set, save_per_model
from sklearn.metrics import roc_auc_score

from narrascope.analysers.narratives import DEFAULT_CONFIG, MPNET_CONFIG, NarrativeConfig, NarrativeModel, kfold
from narrascope.evaluate.semeval2025 import f1_samples
from narrascope.taxonomy.narratives import Taxonomy, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "raw" / "semeval2025_t10"
OUT = ROOT / "bench" / "results" / "narratives_errors.json"
CONFIGS = {"minilm": DEFAULT_CONFIG, "tfidf": NarrativeConfig(), "mpnet": MPNET_CONFIG}


def breakdown(
    texts: list[str],
    coarse: list[list[str]],
    fine: list[list[str]],
    cfg: NarrativeConfig,
    tax: Taxonomy,
    folds: int,
    seed: int,
) -> dict:
    """Out-of-fold predictions with the gate as trained and with it open, and what they tell apart."""
    n = len(texts)
    vecs = doc_vectors(cfg, texts) if cfg.embeddings else None
    preds, opened, gate = [None] * n, [None] * n, np.zeros(n)
    for test in kfold(n, folds, seed):
        train = np.setdiff1d(np.arange(n), test)
        m = NarrativeModel(tax, cfg).fit(
            [texts[i] for i in train],
            [coarse[i] for i in train],
            [fine[i] for i in train],
            None if vecs is None else vecs[train],
        )
        scores = m.scores([texts[i] for i in test], None if vecs is None else vecs[test])
        gate[test] = scores.gate
        for i, p in zip(test, m.decisions(scores), strict=True):
            preds[i] = p
        m.config = replace(m.config, gate=False)  # the same heads, calibration and thresholds, gate open
        for i, p in zip(test, m.decisions(scores), strict=True):
            opened[i] = p

    def f1(gc: list, pc: list, gf: list, pf: list) -> dict[str, float]:
        return {
            "f1_samples_coarse": round(f1_samples(gc, pc, tax.coarse_labels)[0], 4),
            "f1_samples_fine": round(f1_samples(gf, pf, tax.official_fine_labels)[0], 4),
        }

    gold_other = np.array([c == [tax.other] for c in coarse])
    pred_other = np.array([p.coarse == [tax.other] for p in preds])
    narr = np.flatnonzero(~gold_other)
    oracle_c = [[tax.other] if gold_other[i] else opened[i].coarse for i in range(n)]
    oracle_f = [[tax.other] if gold_other[i] else opened[i].fine for i in range(n)]

    def domains(labels: list[str]) -> set[str]:
        return {tax.domain_of(c) for c in labels if c != tax.other}

    return {
        "model": f1(coarse, [p.coarse for p in preds], fine, [p.fine for p in preds]),
        "gate": {
            "roc_auc": round(float(roc_auc_score(~gold_other, gate)), 4),
            "narrative_articles": int(len(narr)),
            "narrative_called_other": int((~gold_other & pred_other).sum()),
            "other_articles": int(gold_other.sum()),
            "other_given_narratives": int((gold_other & ~pred_other).sum()),
        },
        "oracle_gate": f1(coarse, oracle_c, fine, oracle_f),
        "narrative_articles_gate_open": {
            **f1(
                [coarse[i] for i in narr],
                [opened[i].coarse for i in narr],
                [fine[i] for i in narr],
                [opened[i].fine for i in narr],
            ),
            "domain_accuracy": round(
                float(np.mean([domains(coarse[i]) == domains(opened[i].coarse) for i in narr])), 4
            ),
            "coarse_per_article": {
                "gold": round(float(np.mean([len(coarse[i]) for i in narr])), 2),
                "predicted": round(float(np.mean([len(opened[i].coarse) for i in narr])), 2),
            },
            "fine_per_article": {
                "gold": round(float(np.mean([len(fine[i]) for i in narr])), 2),
                "predicted": round(float(np.mean([len(opened[i].fine) for i in narr])), 2),
            },
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--model", default="minilm,mpnet", help=f"comma-separated: {', '.join(CONFIGS)}")
    args = ap.parse_args()

    tax = load_taxonomy()
    texts, coarse, fine = english_training_set(args.data, tax)
    save_per_model(
        OUT,
        args.model,
        lambda name: breakdown(texts, coarse, fine, CONFIGS[name], tax, args.folds, args.seed),
        "semeval2025_t10 EN train",
        f"{args.folds}-fold CV by article, seed {args.seed} (the folds of bench_narratives.py); "
        "the decoder (calibration or thresholds) fitted inside each training fold",
    )


if __name__ == "__main__":
    main()
