"""The fine-tuned technique tagger: windows, training examples, and (with the ``train`` extra) a
one-epoch fine-tune exported to ONNX and read back, alone and inside the technique model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from conftest import seed_through_techniques

from narrascope.analysers import technique_tagger as tt
from narrascope.analysers import techniques as tech
from narrascope.finetune import load_tokenizer

FIX = Path(__file__).parent / "fixtures" / "techniques"
TOKENIZER = Path(tech.__file__).parent.parent / "models" / "minilm" / "tokenizer.json"
HAS_TRAIN_EXTRA = all(importlib.util.find_spec(m) for m in ("torch", "transformers", "onnx", tt.BASE_PACKAGE))


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    return load_tokenizer(TOKENIZER)


def test_windows_cover_every_piece_once_and_end_at_line_breaks(tokenizer) -> None:  # type: ignore[no-untyped-def]
    lines = [f"Line {i} says the regime in Kyiv is a puppet of its masters, again and again." for i in range(40)]
    text = "\n".join(lines)
    enc = tt.encode(tokenizer, text)
    assert enc.windows[0][0] == 0 and enc.windows[-1][1] == len(enc.ids)
    assert all(b0 == a1 for (_, b0), (a1, _) in zip(enc.windows, enc.windows[1:], strict=False))
    assert all(0 < b - a <= tt.WINDOW for a, b in enc.windows)
    for _, b in enc.windows[:-1]:  # every cut falls at the start of a line
        assert text[enc.offsets[b][0] - 1] == "\n"
    one_long_line = " ".join(["word"] * 400)
    enc = tt.encode(tokenizer, one_long_line)  # no line break: cut at the window size
    assert [b - a for a, b in enc.windows] == [tt.WINDOW, tt.WINDOW, tt.WINDOW, 400 - 3 * tt.WINDOW]


def test_examples_mark_the_pieces_inside_spans(tokenizer) -> None:  # type: ignore[no-untyped-def]
    text = "They call it the puppet regime in Kyiv.\nNothing else here."
    s = text.index("puppet regime")
    spans = [(s, s + len("puppet regime"), "Name_Calling,Labeling")]
    (ids, labels, held), *rest = tt._examples(tokenizer, text, spans, ["Name_Calling,Labeling"])
    assert not rest and ids[0] == tokenizer.token_to_id("[CLS]") and ids[-1] == tokenizer.token_to_id("[SEP]")
    inside = [tokenizer.id_to_token(i) for i, y in zip(ids, labels, strict=True) if y]
    assert inside == ["puppet", "regime"]
    assert len(held) == 1 and [tokenizer.id_to_token(i) for i in ids[held[0][0] : held[0][1]]] == inside


def test_missing_artefact_names_the_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="encoder.onnx"):
        tt.NeuralTagger(tmp_path)


@pytest.mark.skipif(not HAS_TRAIN_EXTRA, reason="needs the 'train' extra (torch, transformers, base weights)")
def test_fine_tune_export_and_read_back(tmp_path: Path) -> None:
    docs = tech.load_corpora(FIX / "ptc", FIX / "en")
    ptc_docs = [(d.id, d.text, d.spans) for d in docs if d.scheme == "ptc"]
    folder = tt.train_cached(ptc_docs, tmp_path, tt.TrainParams(epochs=1))
    assert tt.train_cached(ptc_docs, tmp_path, tt.TrainParams(epochs=1)) == folder  # reused, not retrained
    tagger = tt.NeuralTagger(folder)
    assert tagger.classes == sorted({lab for _, _, spans in ptc_docs for _, _, lab in spans})
    _, text, spans = ptc_docs[0]
    enc, probs, hidden = tagger.run(text)
    assert probs.shape == (len(enc.ids),) and ((probs >= 0) & (probs <= 1)).all()
    long_text = "\n".join([text] * 6)  # windows of different lengths, padded in one batch
    padded, alone = tagger.run(long_text)[1], tagger.run(long_text, batch_size=1)[1]
    # int8 dynamic quantisation scales activations per batch, so batching moves probabilities a little;
    # padding that leaked into attention would move them a lot
    assert np.abs(padded - alone).mean() < 0.02
    proba = tagger.span_proba(text, [(s, e) for s, e, _ in spans], (enc, probs, hidden))
    assert proba.shape == (len(spans), len(tagger.classes)) and np.allclose(proba.sum(1), 1, atol=1e-4)

    # inside the technique model: the tagger alone finds spans (no CRF), its classes mix with the linear model's
    tech.parse_docs(docs)
    params = tech.Params(neural=True, neural_epochs=1, neural_weight=1.0, neural_tc_weight=0.5)
    model = tech.TechniqueModel(params, cache_dir=tmp_path).fit(docs)
    assert model.neural is not None and model.neural.folder == folder and model.crf_path is None
    saved = model.save(tmp_path / "model")
    assert {p.name for p in saved.iterdir()} == {"arrays.npz", "model.json", "neural"}
    loaded = tech.TechniqueModel.load(saved)
    doc = next(d.doc for d in docs if d.scheme == "ptc")
    assert loaded.predict_spans(doc, threshold=0.0)  # every token passes: at least one span
    p = loaded.classify(doc, [(s, e) for s, e, _ in spans], "ptc")
    assert np.allclose(p.sum(1), 1, atol=1e-4)

    # mixed with the CRF: both taggers are trained and saved, P(inside) is their weighted average
    mixed = tech.Params(neural=True, neural_epochs=1, neural_weight=0.5, clusters=4, crf_iterations=30)
    model = tech.TechniqueModel(mixed, cache_dir=tmp_path).fit(docs)
    saved = model.save(tmp_path / "mixed")
    assert {"tagger.crfsuite", "neural"} <= {p.name for p in saved.iterdir()}
    loaded = tech.TechniqueModel.load(saved)
    crf_only = tech.TechniqueModel.load(saved)
    crf_only.neural = None
    p_nn = loaded.neural.token_probs(doc)  # type: ignore[union-attr]
    for (a, mix), (_, crf) in zip(loaded.marginals(doc), crf_only.marginals(doc), strict=True):
        assert np.allclose(mix[:, 0], 0.5 * crf[:, 0] + 0.5 * p_nn[a : a + len(mix)], atol=1e-6)


def test_the_setting_picks_the_model_folder(tmp_path: Path) -> None:
    assert tech.default_model_path("crf") == tech.MODEL_DIR
    assert tech.default_model_path("neural") == tech.NEURAL_MODEL_DIR
    assert tech.default_model_path(str(tmp_path)) == tmp_path


def test_shipped_neural_model_on_seed_article() -> None:
    analyser, art = seed_through_techniques("neural")
    # the shipped model averages the tagger's P(inside) with the CRF's (Params.neural_weight = 0.5)
    assert analyser.model.neural is not None and analyser.model.crf_path is not None
    spans = art.findings_of("techniques")
    assert spans and all(art.text[f.start : f.end] == f.attrs["text"] for f in spans)  # type: ignore[index]
    # the tagger alone flags "massacre" but not "the puppet regime in Kyiv" (P(inside) about 0.2 on
    # "puppet"); with the CRF's probabilities both are inside spans
    assert any(f.label == "Loaded_Language" and "massacre" in f.attrs["text"] for f in spans)
    assert any("puppet regime in Kyiv" in f.attrs["text"] for f in spans)
