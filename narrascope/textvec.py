"""TF-IDF at inference without importing scikit-learn (which costs about a second of start-up).

Computes what a fitted ``sklearn.feature_extraction.text.TfidfVectorizer`` with the default word
analyser, ``lowercase=True``, ``strip_accents="unicode"``, ``sublinear_tf`` and ``norm="l2"`` computes:
training still uses scikit-learn, and a test checks that both agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

import numpy as np

_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def _strip_accents(text: str) -> str:
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c))


class TfidfTransform:
    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray, ngram_max: int = 1,
                 sublinear_tf: bool = True, dtype: type = np.float32) -> None:
        self.vocabulary_ = vocabulary
        self.idf_ = np.asarray(idf, dtype=dtype)
        self.ngram_max = ngram_max
        self.sublinear_tf = sublinear_tf
        self.dtype = dtype

    def _terms(self, text: str) -> list[str]:
        tokens = _TOKEN.findall(_strip_accents(text.lower()))
        terms = list(tokens)
        for n in range(2, min(self.ngram_max, len(tokens)) + 1):
            terms += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return terms

    def transform(self, texts: Sequence[str]):  # type: ignore[no-untyped-def]  # scipy.sparse.csr_matrix
        from scipy.sparse import csr_matrix

        indptr, indices, values = [0], [], []
        for text in texts:
            counts = Counter(self.vocabulary_[t] for t in self._terms(text) if t in self.vocabulary_)
            cols = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
            if self.sublinear_tf:
                tf = 1.0 + np.log(tf)
            row = tf * self.idf_[cols]
            norm = np.sqrt((row * row).sum())
            if norm > 0:
                row = row / norm
            order = np.argsort(cols)
            indices.extend(cols[order].tolist())
            values.extend(row[order].tolist())
            indptr.append(len(indices))
        return csr_matrix((np.asarray(values, dtype=self.dtype), np.asarray(indices, dtype=np.int64), indptr),
                          shape=(len(texts), len(self.idf_)))
