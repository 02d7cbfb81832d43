"""Narratives: evidence sentences against a gold set of our own, cross-validated.

For every narrative an article pushes, narrascope cites up to three evidence sentences. The SemEval data
has no gold for them, so ``bench/gold/evidence_t10_en_30.jsonl`` (see ``bench/gold/README.md``) marks, in 30
English training articles, every sentence that carries each of the article's gold fine labels, and the one
that carries it best. The folds are those of ``bench_narratives.py`` (5 folds, seed 13): each fold's model is
trained on the other folds' articles and cites evidence for the held-out articles' gold labels (the label is
given, as in subtask 3, so the measure is of the evidence alone, not of the prediction).

Measures, mean over (article, label) pairs that have at least one gold sentence:

- ``p_at_1``: the first evidence sentence carries the label;
- ``p_at_3``: the share of the cited sentences (up to three) that carry it;
- ``best_in_3``: the annotators' best sentence is among them.

Systems: ``narrascope`` (the shipped ranking, ``NarrativeModel.evidence_many``; the model card says how it ranks),
``tfidf`` (the sentences of most TF-IDF weight for the label, ``NarrativeConfig.evidence_encoder = ""``), ``lead``
(the article's first three sentences, title included) and ``random`` (the expected precision of three sentences
drawn at random, computed, not sampled).

    python bench/bench_evidence.py [--data ../shared/data/raw/semeval2025_t10]

Writes ``bench/results/evidence.json``.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from narrascope.analysers.narratives import DEFAULT_CONFIG, NarrativeModel, kfold, reading_sentences
from narrascope.evaluate.semeval2025 import load_dataset
from narrascope.taxonomy.narratives import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "raw" / "semeval2025_t10"
GOLD = ROOT / "bench" / "gold" / "evidence_t10_en_30.jsonl"
OUT = ROOT / "bench" / "results" / "evidence.json"
K = 3
Span = tuple[int, int]


def load_gold(path: Path, labels: dict[str, list[str]]) -> dict[str, dict[str, dict]]:
    """doc -> label -> {"best": span or None, "sentences": [span, ...]}. The file holds no labels: its i-th
    evidence entry of a document belongs to the i-th of the document's gold fine labels, sorted, as read
    from the data (``labels``)."""
    out: dict[str, dict[str, dict]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        doc, entries = row["doc"], row["evidence"]
        if doc not in labels:
            raise SystemExit(f"{path}:{n}: {doc} is not in the data folder")
        names = sorted(set(labels[doc]))
        if len(names) != len(entries):
            raise SystemExit(f"{path}:{n}: {doc} has {len(names)} gold labels in the data but {len(entries)} entries")
        out[doc] = {
            label: {"best": tuple(g["best"]) if g["best"] else None, "sentences": [tuple(s) for s in g["sentences"]]}
            for label, g in zip(names, entries, strict=True)
        }
    return out


def same_sentence(a: Span, b: Span) -> bool:
    """Two sentence spans match when they overlap by at least half of the shorter one (the splitters agree
    on most sentences; this absorbs a sentence one of them cut in two)."""
    overlap = min(a[1], b[1]) - max(a[0], b[0])
    return overlap > 0 and overlap >= 0.5 * min(a[1] - a[0], b[1] - b[0])


def score_pair(cited: list[Span], gold: dict) -> dict[str, float]:
    hits = [any(same_sentence(c, g) for g in gold["sentences"]) for c in cited]
    best = gold["best"]
    return {
        "p_at_1": float(hits[0]) if hits else 0.0,
        "p_at_3": float(np.mean(hits)) if hits else 0.0,
        "best_in_3": float(best is not None and any(same_sentence(c, best) for c in cited)),
    }


def random_pair(sentences: list[Span], gold: dict) -> dict[str, float]:
    """Expected scores of K sentences drawn at random without replacement."""
    n = len(sentences)
    share = sum(any(same_sentence(s, g) for g in gold["sentences"]) for s in sentences) / n
    drawn = min(K, n)
    return {"p_at_1": share, "p_at_3": share, "best_in_3": drawn / n if gold["best"] else 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--gold", default=str(GOLD))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()

    tax = load_taxonomy()
    ds = load_dataset(args.data, "EN", tax)
    gold = load_gold(Path(args.gold), {d: ds.labels[d].fine for d in ds.ids})
    systems = ("narrascope", "tfidf", "lead", "random")
    scores: dict[str, list[dict[str, float]]] = {s: [] for s in systems}
    t0 = time.time()
    for test in kfold(len(ds.ids), args.folds, args.seed):
        fold = {ds.ids[i] for i in test}
        held = sorted(fold & set(gold))
        if not held:
            continue
        train = [d for d in ds.ids if d not in fold]
        model = NarrativeModel(tax, DEFAULT_CONFIG).fit(
            [ds.texts[d] for d in train], [ds.labels[d].coarse for d in train], [ds.labels[d].fine for d in train],
            tune=False,  # thresholds play no part in citing evidence for a given label
        )
        plain = copy.copy(model)
        plain.config = replace(model.config, evidence_encoder="")
        for d in held:
            text = ds.texts[d]
            sents = reading_sentences(text)
            spans = [(s.start, s.end) for s in sents]
            labels = [label for label, g in gold[d].items() if g["sentences"]]
            cited = {
                "narrascope": model.evidence_many(labels, text, sents, K),
                "tfidf": plain.evidence_many(labels, text, sents, K),
            }
            for label in labels:
                g = gold[d][label]
                for system in ("narrascope", "tfidf"):
                    scores[system].append(score_pair([(e["start"], e["end"]) for e in cited[system][label]], g))
                scores["lead"].append(score_pair(spans[:K], g))
                scores["random"].append(random_pair(spans, g))
    pairs = len(scores["narrascope"])
    result = {
        "task": "evidence sentences for a given gold narrative label (SemEval-2025 T10 English train)",
        "gold": Path(args.gold).name,
        "documents": len(gold),
        "pairs": pairs,
        "folds": args.folds,
        "seed": args.seed,
        "systems": {s: {m: round(float(np.mean([p[m] for p in scores[s]])), 3) for m in scores[s][0]} for s in systems},
        "seconds": round(time.time() - t0, 1),
    }
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
