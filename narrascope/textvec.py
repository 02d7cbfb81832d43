"""TF-IDF at inference without importing scikit-learn (which costs one to two seconds of start-up).

Computes what a fitted ``sklearn.feature_extraction.text.TfidfVectorizer`` computes with ``norm="l2"``
and idf weights, for its ``word`` analyser (token pattern, word n-grams) and its ``char_wb`` analyser
(character n-grams inside word boundaries), with or without lowercasing, accent stripping and
``sublinear_tf``. Training still uses scikit-learn, and tests check that both agree.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

_TOKEN = r"(?u)\b\w\w+\b"  # scikit-learn's default token pattern
_WHITE_SPACES = re.compile(r"\s\s+")
# TfidfVectorizer parameters that only matter when fitting (the vocabulary and idf are given here)
_FIT_ONLY = ("min_df", "max_df", "max_features", "dtype", "vocabulary", "smooth_idf")
_SUPPORTED = ("ngram_range", "sublinear_tf", "analyzer", "lowercase", "strip_accents", "token_pattern")


def _strip_accents(text: str) -> str:
    try:
        text.encode("ascii")
        return text
    except UnicodeEncodeError:
        decomposed = unicodedata.normalize("NFKD", text)
        return "".join(c for c in decomposed if not unicodedata.combining(c))


class TfidfTransform:
    def __init__(
        self,
        vocabulary: Mapping[str, int],
        idf: np.ndarray,
        ngram_max: int = 1,
        sublinear_tf: bool = True,
        dtype: type = np.float32,
        *,
        ngram_min: int = 1,
        analyzer: str = "word",
        lowercase: bool = True,
        strip_accents: bool = True,
        token_pattern: str = _TOKEN,
    ) -> None:
        if analyzer not in ("word", "char_wb"):
            raise ValueError(f"analyzer {analyzer!r} is not supported (only 'word' and 'char_wb')")
        self.vocabulary_ = vocabulary
        self.idf_: np.ndarray = np.asarray(idf, dtype=dtype)
        self.ngram_min, self.ngram_max = ngram_min, ngram_max
        self.sublinear_tf = sublinear_tf
        self.dtype = dtype
        self.analyzer, self.lowercase, self.strip_accents = analyzer, lowercase, strip_accents
        self.token = re.compile(token_pattern)

    @classmethod
    def from_params(cls, vocabulary: Mapping[str, int], idf: np.ndarray, params: Mapping[str, Any]) -> TfidfTransform:
        """From the keyword arguments a ``TfidfVectorizer`` was built with (its defaults where absent)."""
        unsupported = set(params) - set(_FIT_ONLY) - set(_SUPPORTED)
        if unsupported or params.get("strip_accents") not in (None, "unicode"):
            raise ValueError(f"TF-IDF parameters not supported at inference: {sorted(unsupported) or params}")
        lo, hi = params.get("ngram_range", (1, 1))
        return cls(
            vocabulary,
            idf,
            ngram_max=hi,
            sublinear_tf=params.get("sublinear_tf", False),
            ngram_min=lo,
            analyzer=params.get("analyzer", "word"),
            lowercase=params.get("lowercase", True),
            strip_accents=params.get("strip_accents") == "unicode",
            token_pattern=params.get("token_pattern", _TOKEN),
        )

    def _terms(self, text: str) -> list[str]:
        if self.lowercase:
            text = text.lower()
        if self.strip_accents:
            text = _strip_accents(text)
        if self.analyzer == "char_wb":
            return self._char_wb(text)
        tokens = self.token.findall(text)
        terms = list(tokens) if self.ngram_min == 1 else []
        for n in range(max(2, self.ngram_min), min(self.ngram_max, len(tokens)) + 1):
            terms += [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
        return terms

    def _char_wb(self, text: str) -> list[str]:
        """Character n-grams of each word padded with a space (a word shorter than n counts once)."""
        grams: list[str] = []
        for word in _WHITE_SPACES.sub(" ", text).split():
            w = f" {word} "
            for n in range(self.ngram_min, self.ngram_max + 1):
                grams += [w[i : i + n] for i in range(max(1, len(w) - n + 1))]
                if len(w) <= n:
                    break
        return grams

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
