"""The inference-time TF-IDF agrees with scikit-learn's."""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from narrascope.textvec import TfidfTransform

TRAIN = [
    "The puppet regime in Kyiv is an instrument of the collective West.",
    "Café owners say the climate policy hurts small businesses; the policy is costly.",
    "Seoul weighs arms for Ukraine as Moscow warns of a very big mistake.",
    "Naïve hopes: the West says the regime will fall, the regime says the West will.",
]
TEST = ["The regime in Kyiv and the café policy", "Nothing known here", "West West West regime Ünïcode naïve"]


def test_same_vectors_as_scikit_learn():
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode", lowercase=True,
                          dtype=np.float32).fit(TRAIN)
    ours = TfidfTransform(vec.vocabulary_, vec.idf_, ngram_max=2)
    np.testing.assert_allclose(ours.transform(TEST).toarray(), vec.transform(TEST).toarray(), rtol=1e-5, atol=1e-6)
