"""Slant: how much of an article reads as biased, from a sentence classifier trained on BABE.

BABE ("Bias Annotations By Experts") labels news sentences biased or non-biased. A logistic
regression over an encoder's sentence vectors learns it; an article's slant pools its sentences'
probabilities (share above 0.5, mean of the three highest, mean). It never sees a narrative label:
the narratives gate uses it as evidence, since an article that pushes a narrative is mostly written
in loaded words where a report or a fact check on the same topic is not.

    model = train_slant(load_babe(folder), encoder="mpnet")
    model.article_features([sentence_vectors_of_article, ...])  # (articles, 3)
"""

from __future__ import annotations

import ast
import csv
import json
import re
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..embed import unit_rows
from ..errors import require_files

MODELS = Path(__file__).resolve().parent.parent / "models"
FEATURES = ("share_biased", "top3_mean", "mean")
BABE_FILES = ("final_labels_SG2.csv", "final_labels_SG1.csv")  # expert-labelled subgroups; MBIC is crowd-labelled
BIAS_LABELS = ("Biased", "Non-biased")
LEXICON_WORD = re.compile(r"[a-z][a-z'-]*")  # how BABE's marked words are written: lower case, hyphens kept


@dataclass
class SlantModel:
    """``P(biased) = sigmoid(w . v + b)`` for an L2-normalised sentence vector ``v`` of ``encoder``."""

    encoder: str
    w: np.ndarray
    b: float
    meta: dict[str, Any] = field(default_factory=dict)

    def sentence_proba(self, vectors: np.ndarray) -> np.ndarray:
        v = unit_rows(vectors)
        return 1.0 / (1.0 + np.exp(-np.clip(v @ self.w + self.b, -30, 30)))

    def article_features(self, sentence_vectors: Sequence[np.ndarray]) -> np.ndarray:
        """(articles, len(FEATURES)) from each article's (sentences, dim) vectors; zeros without sentences."""
        out = np.zeros((len(sentence_vectors), len(FEATURES)), np.float32)
        for r, vecs in enumerate(sentence_vectors):
            if len(vecs):
                p = self.sentence_proba(np.asarray(vecs, np.float32))
                out[r] = [(p > 0.5).mean(), np.sort(p)[-3:].mean(), p.mean()]
        return out

    def save(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(folder / "slant.npz", w=self.w.astype(np.float32), b=np.float32(self.b))
        meta = {"format": "narrascope-slant/1", "encoder": self.encoder, "meta": self.meta}
        (folder / "slant.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        return folder


def slant_path(name: str) -> Path:
    """A folder, or the shipped slant model of an encoder by its name (``mpnet``: ``models/slant-mpnet``)."""
    path = Path(name)
    return path if path.is_dir() or len(path.parts) > 1 else MODELS / f"slant-{name}"


def load_slant(name: str) -> SlantModel:
    folder = require_files(
        slant_path(name), ("slant.json", "slant.npz"), "slant model", "narrascope train slant --data BABE_DIR"
    )
    meta = json.loads((folder / "slant.json").read_text(encoding="utf-8"))
    arrays = np.load(folder / "slant.npz")
    return SlantModel(meta["encoder"], arrays["w"].astype(np.float32), float(arrays["b"]), meta.get("meta", {}))


def _babe_rows(folder: str | Path) -> Iterator[dict[str, str]]:
    """BABE's expert-labelled rows, text stripped (a sentence may come more than once)."""
    folder = Path(folder)
    found = [folder / name for name in BABE_FILES if (folder / name).is_file()]
    if not found:
        raise FileNotFoundError(f"{folder}: no BABE files ({', '.join(BABE_FILES)})")
    for path in found:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh, delimiter=";")
            missing = {"text", "label_bias"} - set(reader.fieldnames or [])
            if missing:
                raise ValueError(f"{path}: not a BABE file, no column {', '.join(sorted(missing))}")
            for row in reader:
                text = (row["text"] or "").strip()
                if text:
                    yield {**row, "text": text}


def load_babe(folder: str | Path) -> tuple[list[str], np.ndarray]:
    """BABE's expert-labelled sentences with an agreed bias label: (texts, biased?), duplicates dropped."""
    labels: dict[str, bool] = {}
    for row in _babe_rows(folder):
        if row["text"] not in labels and row["label_bias"] in BIAS_LABELS:
            labels[row["text"]] = row["label_bias"] == "Biased"
    if not labels:
        raise ValueError(f"{folder}: no sentence labelled 'Biased' or 'Non-biased'")
    return list(labels), np.array(list(labels.values()))


def biased_word_rates(folder: str | Path, min_marks: int = 2) -> dict[str, float]:
    """BABE's biased words: for each lower-cased word the experts marked in at least ``min_marks``
    sentences, the share of the sentences containing it where it was marked (smoothed: marks / (n + 2))."""
    marks: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    sentences: set[str] = set()
    for row in _babe_rows(folder):
        if row["text"] in sentences:
            continue
        sentences.add(row["text"])
        seen.update(set(LEXICON_WORD.findall(row["text"].lower())))
        try:
            words = ast.literal_eval(row.get("biased_words") or "[]")
        except (ValueError, SyntaxError):
            words = []
        marks.update({w.strip().strip("\"'“”").lower() for w in words if isinstance(w, str)} - {""})
    if not seen:
        raise ValueError(f"{folder}: no BABE sentences")
    return {w: round(m / (seen[w] + 2), 4) for w, m in sorted(marks.items()) if m >= min_marks}


def _encode(encoder: str, texts: Sequence[str]) -> np.ndarray:
    from ..embed import get_encoder

    return get_encoder(encoder)([t[:1000] for t in texts])


def fit_slant(vectors: np.ndarray, biased: np.ndarray, encoder: str, C: float = 1.0) -> SlantModel:
    from sklearn.linear_model import LogisticRegression

    v = unit_rows(vectors)
    clf = LogisticRegression(C=C, max_iter=3000).fit(v, biased)
    return SlantModel(encoder, clf.coef_[0].astype(np.float32), float(clf.intercept_[0]))


def train(data_dir: str | Path, out: str | Path, encoder: str = "mpnet", folds: int = 5, seed: int = 13) -> dict:
    """Train on BABE (SG1 + SG2) and save; reports the k-fold CV accuracy and macro-F1 first."""
    from sklearn.metrics import accuracy_score, f1_score

    texts, biased = load_babe(data_dir)
    t0 = time.time()
    vectors = _encode(encoder, texts)
    order = np.random.default_rng(seed).permutation(len(texts))
    pred = np.zeros(len(texts), bool)
    for k in range(folds):
        test = order[k::folds]
        train_rows = np.setdiff1d(order, test)
        pred[test] = fit_slant(vectors[train_rows], biased[train_rows], encoder).sentence_proba(vectors[test]) > 0.5
    cv = {
        "folds": folds,
        "accuracy": round(float(accuracy_score(biased, pred)), 4),
        "macro_f1": round(float(f1_score(biased, pred, average="macro")), 4),
    }
    model = fit_slant(vectors, biased, encoder)
    model.meta = {"trained_on": "BABE SG1 + SG2", "sentences": len(texts), "biased": int(biased.sum()), "cv": cv}
    model.save(out)
    return {"model": str(out), **model.meta, "seconds": round(time.time() - t0, 1)}
