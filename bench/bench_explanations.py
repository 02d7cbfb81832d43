"""Narratives: explanations of the dominant narrative (SemEval-2025 T10 subtask 3), cross-validated.

Subtask 3 gives the article and its gold dominant narrative and asks why, in at most 80 words. The 179
English training articles with a gold explanation are scored over the 5 folds of ``bench_narratives.py``
(seed 13): each fold's model is trained on the other folds' articles (labels only; the explanations
are never trained on) and explains the held-out articles' gold dominant narrative.

The official measure is BERTScore F1 between the produced and the gold explanation. Its scorer's
encoder cannot be downloaded here, so BERTScore runs on the shipped MiniLM encoder's last-layer
word-piece states (no idf, no rescaling): the figures rank systems under one encoder and are not
comparable with the leaderboard. Reference systems give the scale:

- ``definition``: the label's name and definition, quoting nothing (what the model says without
  evidence);
- ``lead``: the article's first 80 words;
- ``narrascope``: the shipped explanation (the label, its definition and two quoted clauses from the
  evidence sentences, chosen among the label's best TF-IDF sentences by closeness to its definition);
- ``narrascope_tfidf_evidence``: the same with the evidence ranked by TF-IDF weight alone
  (``NarrativeConfig.evidence_encoder = ""``).

The evidence is ranked with MiniLM too, so ``--mpnet`` (the ``mpnet`` extra) also scores every system
with all-mpnet-base-v2 (layer 10): a gain that holds under an encoder the system never used is not an
artefact of sharing one.

    python bench/bench_explanations.py [--data ../shared/data/raw/semeval2025_t10] [--mpnet]

Writes ``bench/results/explanations.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from narrascope.analysers.narratives import (
    DEFAULT_CONFIG,
    MAX_EXPLANATION_WORDS,
    NarrativeModel,
    kfold,
    reading_sentences,
)
from narrascope.embed import load_encoder
from narrascope.evaluate.semeval2025 import NarrativeRecord, load_dataset, score_st3
from narrascope.taxonomy.narratives import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "raw" / "semeval2025_t10"
OUT = ROOT / "bench" / "results" / "explanations.json"
SYSTEMS = ("narrascope", "narrascope_tfidf_evidence", "definition", "lead")
MPNET_LAYER = 10  # BERTScore reads a middle-upper layer of a base-size encoder


def explanations(model: NarrativeModel, label: str, text: str) -> dict[str, str]:
    """Each system's explanation of ``label`` in ``text``."""
    sents = reading_sentences(text)
    plain = copy.copy(model)
    plain.config = replace(model.config, evidence_encoder="")
    return {
        "narrascope": model.explain(label, text, sents)[0],
        "narrascope_tfidf_evidence": plain.explain(label, text, sents)[0],
        "definition": model.explain(label, text, sents, evidence=[])[0],
        "lead": " ".join(text.split()[:MAX_EXPLANATION_WORDS]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--mpnet", action="store_true", help="also score with all-mpnet-base-v2 (the mpnet extra)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()

    tax = load_taxonomy()
    ds = load_dataset(args.data, "EN", tax)
    ids = ds.ids
    gold = ds.explanations
    pred: dict[str, dict[str, NarrativeRecord]] = {s: {} for s in SYSTEMS}
    t0 = time.time()
    for test in kfold(len(ids), args.folds, args.seed):
        held = {ids[i] for i in test}
        train = [d for d in ids if d not in held]
        model = NarrativeModel(tax, DEFAULT_CONFIG).fit(
            [ds.texts[d] for d in train], [ds.labels[d].coarse for d in train], [ds.labels[d].fine for d in train],
            tune=False,  # thresholds play no part in explaining a given label
        )
        for d in sorted(held & set(gold)):
            label = gold[d].dominant_fine or gold[d].dominant or tax.other
            for system, text in explanations(model, label, ds.texts[d]).items():
                pred[system][d] = NarrativeRecord(d, explanation=text)
    fit_s = time.time() - t0
    scorers = {"minilm": load_encoder("minilm-int8").token_states}
    if args.mpnet:
        from narrascope.mpnet import Reader, default_cache

        scorers["mpnet"] = Reader(default_cache(), [MPNET_LAYER], "bench_explanations --mpnet").token_states
    scores = {s: {enc: score_st3(gold, pred[s], states) for enc, states in scorers.items()} for s in SYSTEMS}
    words = {s: float(np.mean([len(r.explanation.split()) for r in pred[s].values()])) for s in SYSTEMS}
    result = {
        "task": "SemEval-2025 T10 subtask 3 (English train, gold dominant narrative given)",
        "documents": len(gold),
        "folds": args.folds,
        "seed": args.seed,
        "measure": "BERTScore P/R/F1, mean over documents, over MiniLM-L6 (int8) last-layer states"
        + (f" and all-mpnet-base-v2 layer {MPNET_LAYER} states" if args.mpnet else ""),
        "systems": {
            s: {
                **{enc: {k: round(v, 4) for k, v in sc.items() if k != "documents"} for enc, sc in scores[s].items()},
                "mean_words": round(words[s], 1),
            }
            for s in SYSTEMS
        },
        "seconds": round(fit_s, 1),
    }
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
