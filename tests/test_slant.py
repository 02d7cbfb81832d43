"""Slant: the BABE reader, the sentence classifier, and the narratives gate that reads it.

The BABE rows below are made up, in the corpus's format (semicolon-separated, BOM in SG1)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from narrascope.analysers import narratives as nar
from narrascope.analysers.narratives import NarrativeConfig, NarrativeModel, document_vectors
from narrascope.analysers.slant import (
    FEATURES,
    SlantModel,
    biased_word_rates,
    fit_slant,
    load_babe,
    load_slant,
    slant_path,
)
from narrascope.evaluate.semeval2025 import load_dataset

TRAIN = Path(__file__).parent / "fixtures" / "narratives" / "train"
HEADER = "text;news_link;outlet;topic;type;label_bias;label_opinion;biased_words\n"


def _babe(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [
        ("The council approved the budget on Tuesday.", "Non-biased"),
        ("The reckless regime keeps wrecking the economy.", "Biased"),
        ("Officials said the bridge will reopen in May.", "Non-biased"),
        ("The scheming elites lied to everyone again.", "Biased"),
        ("Nobody agreed on this one.", "No agreement"),
    ]
    body = "".join(f'"{t}";http://x;Outlet;topic;left;{lab};Entirely factual;[]\n' for t, lab in rows)
    (folder / "final_labels_SG2.csv").write_text(HEADER + body, encoding="utf-8")
    dup = f'"{rows[0][0]}";http://y;Other;topic;right;Biased;Entirely factual;[]\n'  # a repeat: first label kept
    (folder / "final_labels_SG1.csv").write_text(HEADER + dup, encoding="utf-8-sig")
    return folder


def test_load_babe_keeps_agreed_labels_once(tmp_path: Path) -> None:
    texts, biased = load_babe(_babe(tmp_path / "babe"))
    assert len(texts) == 4 and "Nobody agreed on this one." not in texts
    assert biased.tolist() == [False, True, False, True]


def test_biased_word_rates_count_marks_per_sentence_once(tmp_path: Path) -> None:
    rows = [
        ("The reckless regime keeps wrecking the economy.", "['reckless', 'wrecking']"),
        ("A reckless plan, and a reckless vote.", "['reckless', '\"Reckless\"']"),  # one sentence, one mark
        ("Nobody called the plan reckless.", "[]"),
        ("The scheming elites lied.", "['scheming']"),
        ("Broken row.", "not a list"),
    ]
    folder = tmp_path / "babe"
    folder.mkdir()
    for name, part in (("final_labels_SG2.csv", rows), ("final_labels_SG1.csv", rows[:1])):  # SG1 repeats a row
        with open(folder / name, "w", encoding="utf-8", newline="") as fh:
            out = csv.writer(fh, delimiter=";")
            out.writerow(HEADER.strip().split(";"))
            out.writerows([text, "u", "o", "t", "l", "Biased", "Opinionated", words] for text, words in part)
    # "reckless": marked in 2 of the 3 distinct sentences that contain it, smoothed: 2 / (3 + 2)
    assert biased_word_rates(folder) == {"reckless": 0.4}
    assert biased_word_rates(folder, min_marks=1) == {"reckless": 0.4, "scheming": 0.3333, "wrecking": 0.3333}


def test_load_babe_errors_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no BABE files"):
        load_babe(tmp_path)
    (tmp_path / "final_labels_SG2.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="final_labels_SG2.csv: not a BABE file"):
        load_babe(tmp_path)
    (tmp_path / "final_labels_SG2.csv").write_text(HEADER + '"x";u;o;t;l;No agreement;;[]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="no sentence labelled"):
        load_babe(tmp_path)


def _toy_slant(dim: int = 8) -> SlantModel:
    rng = np.random.default_rng(0)
    direction = np.eye(dim)[0]
    vecs = rng.normal(size=(200, dim)) + np.outer(np.repeat([1.5, -1.5], 100), direction)
    return fit_slant(vecs, np.repeat([True, False], 100), encoder="toy")


def test_slant_features_and_round_trip(tmp_path: Path) -> None:
    model = _toy_slant()
    assert model.w[0] > 0 and model.sentence_proba(np.eye(8)[:1])[0] > 0.5
    articles = [np.eye(8)[[0, 0, 0]] * [[1], [1], [-1]], -np.eye(8)[[0, 0]], np.zeros((0, 8))]
    F = model.article_features(articles)
    assert F.shape == (3, len(FEATURES))
    assert F[0, 0] == pytest.approx(2 / 3) and F[1, 0] == 0.0 and not F[2].any()
    assert F[0, 2] > F[1, 2]
    loaded = load_slant(str(model.save(tmp_path / "s")))
    assert loaded.encoder == "toy" and np.allclose(loaded.article_features(articles), F)
    with pytest.raises(FileNotFoundError, match="narrascope train slant"):
        load_slant(str(tmp_path / "nothing" / "here"))
    assert slant_path("mpnet").name == "slant-mpnet" and slant_path(str(tmp_path)) == tmp_path


def test_the_gate_alone_reads_the_slant(tmp_path: Path) -> None:
    ds = load_dataset(TRAIN)
    texts = [ds.texts[i] for i in ds.ids]
    coarse, fine = [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids]
    rng = np.random.default_rng(1)
    V = np.hstack([rng.normal(size=(len(texts), 8)), rng.uniform(size=(len(texts), len(FEATURES)))]).astype(np.float32)
    cfg = NarrativeConfig(min_df=1, embeddings=True, definitions=False, slant=str(tmp_path / "unused"))
    model = NarrativeModel(config=cfg).fit(texts, coarse, fine, V, tune=False)
    assert model.emb_heads["gate"].W.shape[1] == 8 + len(FEATURES)  # vector + slant
    assert model.emb_heads["coarse"].W.shape[1] == 8  # vector only
    shifted = V.copy()
    shifted[:, -len(FEATURES) :] += 1.0
    a, b = model.scores(texts, V), model.scores(texts, shifted)
    assert not np.allclose(a.gate, b.gate) and np.allclose(a.coarse, b.coarse)
    model.save(tmp_path / "m")
    loaded = NarrativeModel.load(tmp_path / "m")
    assert loaded.config.slant == cfg.slant and loaded.slant_norm is not None
    assert np.allclose(loaded.scores(texts, V).gate, a.gate, atol=1e-3)
    loaded.slant_norm = None
    with pytest.raises(ValueError, match="not trained with it"):
        loaded.scores(texts, V)


def test_document_vectors_with_a_slant_model(tmp_path: Path) -> None:
    from narrascope.embed import get_encoder

    texts, biased = load_babe(_babe(tmp_path / "babe"))
    folder = fit_slant(get_encoder("minilm-int8")(texts), biased, encoder="minilm-int8").save(tmp_path / "s")
    docs = ["The reckless regime lied. It keeps wrecking things.", "The council met on Tuesday."]
    plain = document_vectors(docs, encoder="minilm-int8", max_sentences=1)
    both = document_vectors(docs, encoder="minilm-int8", max_sentences=1, slant=str(folder))
    assert both.shape == (2, plain.shape[1] + len(FEATURES))
    assert np.allclose(both[:, : plain.shape[1]], plain, atol=1e-5)  # the document vector is unchanged
    with pytest.raises(ValueError, match="reads minilm-int8 vectors"):
        nar._slant_model(str(folder), "mpnet")
