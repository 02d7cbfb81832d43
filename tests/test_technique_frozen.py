"""The frozen-mpnet technique tagger's glue: windows read once, the ONNX head's probabilities per
word piece and spaCy token, span vectors from the window holding most of a span, and the linear
span classifier. A fake reader stands in for all-mpnet-base-v2 (the ``mpnet`` extra); the encoder
graph itself is checked in ``test_mpnet.py``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import seed_through_techniques

from narrascope.analysers import technique_frozen as tf
from narrascope.finetune import load_tokenizer
from narrascope.mpnet import installed

TOKENIZER = Path(tf.__file__).parent.parent / "models" / "minilm" / "tokenizer.json"
DIM = 4
pytestmark = pytest.mark.skipif(not importlib.util.find_spec("onnx"), reason="needs the onnx package")


class FakeReader:
    """States whose every value is the word-piece id (so tests can tell pieces apart)."""

    def __init__(self) -> None:
        self.tokenizer = load_tokenizer(TOKENIZER)
        self.calls = 0

    def states(self, ids: list[int]) -> np.ndarray:
        self.calls += 1
        return np.repeat(np.asarray(ids, np.float32)[:, None, None], len(tf.LAYERS), 1).repeat(DIM, 2) / 1000


def _artefact(folder: Path, layers: tuple[int, ...] = tf.LAYERS) -> Path:
    """A head that outputs sigmoid(mean of the states of ``layers``), and a two-class span classifier."""
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("ReduceMean", ["states"], ["m"], axes=[2, 3], keepdims=0),
        helper.make_node("Sigmoid", ["m"], ["prob"]),
    ]
    graph = helper.make_graph(
        nodes,
        "head",
        [helper.make_tensor_value_info("states", TensorProto.FLOAT, [1, "pieces", len(layers), DIM])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, "pieces"])],
    )
    folder.mkdir()
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    (folder / "head.onnx").write_bytes(model.SerializeToString())
    n = 2 * len(layers) * DIM
    W = np.zeros((2, n), np.float32)
    W[1, 0] = 1.0  # class "B" grows with the span's mean state
    np.savez(folder / "classes.npz", W=W, b=np.zeros(2, np.float32), mean=np.zeros(n), scale=np.ones(n))
    meta = {"classes": ["A", "B"]} if layers == tf.LAYERS else {"classes": ["A", "B"], "layers": list(layers)}
    (folder / "frozen.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


@pytest.fixture()
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeReader:
    r = FakeReader()
    monkeypatch.setattr(tf, "reader", lambda: r)
    monkeypatch.setattr(tf, "_STATES", {})
    return r


def test_head_probabilities_reach_pieces_and_tokens(fake: FakeReader, tmp_path: Path) -> None:
    import spacy

    tagger = tf.FrozenTagger(_artefact(tmp_path / "m"))
    text = "Seoul weighs arms for Ukraine.\n" * 150  # more than one window
    enc, probs, states = tagger.run(text)
    assert len(enc.windows) > 1 and len(states) == len(enc.windows)
    assert np.allclose(probs, 1 / (1 + np.exp(-np.asarray(enc.ids) / 1000)), atol=1e-5)
    doc = spacy.blank("en")(text)
    tok = tagger.token_probs(doc, (enc, probs, states))
    assert tok.shape == (len(doc),) and tok[0] == pytest.approx(probs[0])


def test_span_classes_come_from_the_span_states(fake: FakeReader, tmp_path: Path) -> None:
    tagger = tf.FrozenTagger(_artefact(tmp_path / "m"))
    text = "a the massacre"
    run = tagger.run(text)
    p = tagger.span_proba(text, [(0, 1), (6, 14)], run)
    assert p.shape == (2, 2) and np.allclose(p.sum(1), 1)
    ids = fake.tokenizer.encode(text, add_special_tokens=False).ids
    assert p[1, 1] / p[1, 0] == pytest.approx(np.exp(ids[-1] / 1000), rel=1e-4)  # "massacre" is one piece
    assert tagger.span_proba(text, [], run).shape == (0, 2)


def test_an_artefact_reading_fewer_layers_gets_only_those(fake: FakeReader, tmp_path: Path) -> None:
    # artefacts trained before the encoder read five layers: head and classifier over 8, 10 and 12 only
    fake.states = lambda ids: np.broadcast_to(  # type: ignore[method-assign]
        np.asarray(tf.LAYERS, np.float32)[None, :, None] / 100, (len(ids), len(tf.LAYERS), DIM)
    ).copy()
    tagger = tf.FrozenTagger(_artefact(tmp_path / "m", (8, 10, 12)))
    _, probs, states = tagger.run("Seoul weighs arms.")
    assert np.allclose(probs, 1 / (1 + np.exp(-0.10)))  # the mean of layers 8, 10 and 12, not of all five
    assert states[0].shape[1:] == (3, DIM) and tagger.span_proba("Seoul weighs arms.", [(0, 5)]).shape == (1, 2)
    (tmp_path / "m" / "frozen.json").write_text(json.dumps({"classes": ["A", "B"], "layers": [3, 8]}))
    with pytest.raises(ValueError, match=r"reads mpnet layers \[3\]"):
        tf.FrozenTagger(tmp_path / "m")


def test_states_are_kept_for_training_only_when_asked(fake: FakeReader) -> None:
    tf.read("one two", keep=False)
    tf.read("one two", keep=False)
    assert fake.calls == 2
    enc, states = tf.read("one two", keep=True)
    again, kept = tf.read("one two", keep=True)
    assert fake.calls == 3 and kept[0].dtype == np.float32 and np.allclose(kept[0], states[0], atol=1e-3)


def test_a_span_is_read_in_the_window_holding_most_of_it() -> None:
    enc = tf.Encoded(ids=[1, 2, 3, 4], offsets=[(0, 2), (3, 5), (6, 8), (9, 11)], windows=[(0, 1), (1, 4)])
    states = [np.full((1, 1, 1), 10.0), np.arange(3, dtype=np.float32).reshape(3, 1, 1)]
    assert tf.span_vector(enc, states, 1, 7).tolist() == [0.5, 0.0]  # pieces 1-2 of window 2: mean, first
    assert tf.span_vector(enc, states, 20, 30).tolist() == [0.0, 0.0]


def test_missing_artefact_names_the_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing head\.onnx, classes\.npz, frozen\.json.*--encoder mpnet"):
        tf.FrozenTagger(tmp_path)


@pytest.mark.skipif(installed(), reason="checks the message shown without the mpnet extra")
def test_shipped_mpnet_model_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from narrascope import mpnet
    from narrascope.analysers import techniques as tech
    from narrascope.errors import MissingExtraError

    monkeypatch.setattr(tf, "default_cache", lambda: tmp_path)  # no weights unpacked from an earlier run
    monkeypatch.setattr(tf, "_READER", [])
    assert mpnet.MPNET_PARTS[0] in mpnet.MPNET_PACKAGES
    tagger = tf.FrozenTagger(tech.MPNET_MODEL_DIR / "neural")
    with pytest.raises(MissingExtraError, match="'mpnet' extra"):
        tagger.run("Seoul weighs arms for Ukraine.")


@pytest.mark.skipif(not installed(), reason="needs the mpnet extra")
def test_shipped_mpnet_model_on_seed_article() -> None:
    analyser, art = seed_through_techniques("mpnet")
    # the heads' P(inside) is mixed with the CRF's, whose P(B) splits adjacent spans
    assert isinstance(analyser.model.neural, tf.FrozenTagger) and analyser.model.crf_path is not None
    spans = art.findings_of("techniques")
    assert spans and all(art.text[f.start : f.end] == f.attrs["text"] for f in spans)  # type: ignore[index]


@pytest.mark.skipif(not importlib.util.find_spec("torch"), reason="training needs the train extra")
@pytest.mark.parametrize("heads, layers", [(1, (4, 6, 8)), (2, (10, 12))])
def test_trained_heads_are_averaged_in_one_graph(fake: FakeReader, tmp_path: Path, heads: int, layers) -> None:
    import onnx
    from onnx import numpy_helper

    text = "They are evil, corrupt traitors. The minister spoke on Monday."
    docs = [(text, [(9, 13, "Name_Calling"), (15, 31, "Loaded_Language")]), ("The weather was mild.", [])]
    folder = tf.train(docs, docs[:1], tmp_path / "m", tf.FrozenParams(epochs=1, heads=heads, layers=layers))
    graph = onnx.load(str(folder / "head.onnx")).graph
    assert sum(n.op_type == "LSTM" for n in graph.node) == heads
    # the heads take their layers out of the five read
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in graph.node if n.op_type == "Constant"}
    picks = [consts[n.input[1]].tolist() for n in graph.node if n.op_type == "Gather" and n.input[0] == "states"]
    assert picks and all(p == [tf.LAYERS.index(x) for x in layers] for p in picks)
    meta = json.loads((folder / "frozen.json").read_text(encoding="utf-8"))
    assert meta["params"]["heads"] == heads and meta["layers"] == list(tf.LAYERS)
    assert meta["class_layers"] == list(tf.CLASS_LAYERS)
    _, probs, _ = tf.FrozenTagger(folder).run(text)
    assert probs.shape == (len(fake.tokenizer.encode(text, add_special_tokens=False).ids),)
    assert ((probs > 0) & (probs < 1)).all()
