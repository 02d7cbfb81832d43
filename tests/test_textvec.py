"""The inference-time TF-IDF agrees with scikit-learn's."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
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


@pytest.mark.parametrize(
    "params",
    [
        {"analyzer": "char_wb", "ngram_range": (2, 5)},  # the technique span classifier's character n-grams
        {"ngram_range": (1, 2)},  # scikit-learn's defaults otherwise: lowercase, accents kept
        {"ngram_range": (2, 3), "lowercase": False},
        {"token_pattern": r"\S+", "lowercase": False, "ngram_range": (1, 2)},
        {"ngram_range": (1, 1), "strip_accents": "unicode"},
    ],
)
def test_from_params_matches_scikit_learn(params):
    vec = TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **params).fit(TRAIN)
    ours = TfidfTransform.from_params(vec.vocabulary_, vec.idf_, {"sublinear_tf": True, "min_df": 1, **params})
    texts = [*TEST, "a", "", "  spaced   out\ttext  ", "Naïve Café"]
    np.testing.assert_allclose(ours.transform(texts).toarray(), vec.transform(texts).toarray(), rtol=1e-5, atol=1e-6)


def test_from_params_refuses_what_it_cannot_compute():
    with pytest.raises(ValueError, match="not supported"):
        TfidfTransform.from_params({"a": 0}, np.ones(1), {"analyzer": "char"})
    with pytest.raises(ValueError, match="not supported"):
        TfidfTransform.from_params({"a": 0}, np.ones(1), {"stop_words": "english"})


def test_loading_the_technique_model_does_not_import_scikit_learn():
    code = (
        "import sys; from narrascope.analysers.techniques import TechniqueModel; TechniqueModel.load(); "
        "print('sklearn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # scikit-learn costs one to two seconds of start-up
