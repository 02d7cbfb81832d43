"""Technique spans from a frozen all-mpnet-base-v2 (``techniques_model = "mpnet"``).

A base-size encoder fine-tuned would be best, but a training step of all-mpnet-base-v2 runs at about
110 word pieces/s on two cores (hours per model); reading it runs ten times faster. So the encoder
stays frozen (:class:`narrascope.mpnet.Reader`, onnxruntime, weights from the ``mpnet`` extra) and
small heads learn on its states:

- span tagger: a learned softmax mix of layers 4, 6 and 8 (``FrozenParams.layers``; the lower layers
  find spans better than 8, 10 and 12), a 256-unit projection and a BiLSTM give P(word piece inside
  a technique span); ``FrozenParams.heads`` such heads (seeds) are averaged in one graph
  (``head.onnx``, about 2 MB a head), whose input is all the layers read (``LAYERS``);
- span classes: a logistic regression over a span's mean and first word-piece states of layers
  ``CLASS_LAYERS`` (``classes.npz``).

Articles are read in windows of up to ``WINDOW`` word pieces. :class:`FrozenTagger` has the
interface of :class:`~narrascope.analysers.technique_tagger.NeuralTagger`, so the technique model
mixes it with the CRF and the linear span classifier in the same way. Training the BiLSTM needs the
``train`` extra (torch); inference needs only onnxruntime.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import require_files
from ..finetune import cached, session, training_modules
from ..mpnet import Reader, default_cache
from .technique_tagger import Encoded, encode, inside_pieces, pieces_in, token_max

log = logging.getLogger(__name__)

LAYERS = (4, 6, 8, 10, 12)  # read by the encoder; the heads mix some, the span classifier others
CLASS_LAYERS = (8, 10, 12)  # the span classifier's features
WINDOW = 254  # word pieces per window (the encoder reads up to 512)
WHAT = "training the frozen-mpnet technique tagger"

Run = tuple[Encoded, np.ndarray, list[np.ndarray]]  # windows, P(inside) per word piece, states per window


@dataclass
class FrozenParams:
    epochs: int = 6
    lr: float = 1e-3
    batch_size: int = 16
    tc_C: float = 0.05  # inverse regularisation of the span-class logistic regression
    seed: int = 0
    heads: int = 1  # heads trained with seeds seed, seed + 100, ...; head.onnx averages their probabilities
    layers: tuple[int, ...] = (4, 6, 8)  # the layers (of LAYERS) the heads mix


_READER: list[Reader] = []


def reader() -> Reader:
    """The encoder (weights unpacked in the user cache directory), built once per process (about 5 s)."""
    if not _READER:
        _READER.append(Reader(default_cache(), LAYERS, "the 'mpnet' technique model"))
    return _READER[0]


_STATES: dict[str, tuple[Encoded, list[np.ndarray]]] = {}  # text hash -> states (training folds reuse them)


def read(text: str, keep: bool = False) -> tuple[Encoded, list[np.ndarray]]:
    """Windows of ``text`` and their float32 states (pieces, layers, 768); ``keep`` stores them as
    float16 for the rest of the process (cross-validation reads each article once)."""
    key = hashlib.sha1(text.encode()).hexdigest()
    if key in _STATES:
        enc, states = _STATES[key]
        return enc, [s.astype(np.float32) for s in states]
    r = reader()
    enc = encode(r.tokenizer, text, WINDOW)
    states = [r.states(enc.ids[a:b]) for a, b in enc.windows]
    if keep:
        _STATES[key] = (enc, [s.astype(np.float16) for s in states])
    return enc, states


def clear_states() -> None:
    """Forget the states kept by ``read(..., keep=True)`` (e.g. before timing the tagger on seen articles)."""
    _STATES.clear()


def span_vector(enc: Encoded, states: list[np.ndarray], start: int, end: int) -> np.ndarray:
    """Mean and first word-piece states of a character span, read in the window holding most of it."""
    best: tuple[int, list[int]] | None = None
    for wi, (a, b) in enumerate(enc.windows):
        toks = pieces_in(enc.offsets, a, b, start, end)
        if toks and (best is None or len(toks) > len(best[1])):
            best = (wi, [t - a for t in toks])
    if best is None:
        return np.zeros(2 * states[0].shape[1] * states[0].shape[2] if states else 0, np.float32)
    x = states[best[0]][best[1]]
    return np.concatenate([x.mean(0).ravel(), x[0].ravel()])


class FrozenTagger:
    """Inference: P(inside a span) per word piece and span-class probabilities."""

    def __init__(self, folder: str | Path) -> None:
        train = "narrascope train techniques --neural --encoder mpnet"
        self.folder = require_files(folder, ("head.onnx", "classes.npz", "frozen.json"), "frozen-mpnet tagger", train)
        self.meta = json.loads((self.folder / "frozen.json").read_text(encoding="utf-8"))
        self.classes: list[str] = self.meta["classes"]
        # the head's input layers and the classifier's, of those read (earlier artefacts: 8, 10, 12 for both)
        layers = self.meta.get("layers", LAYERS)
        self.head_layers = _pick(layers, LAYERS, self.folder)
        self.class_layers = _pick(self.meta.get("class_layers", layers), LAYERS, self.folder)
        with np.load(self.folder / "classes.npz") as arr:
            self.W, self.b, self.mean, self.scale = arr["W"], arr["b"], arr["mean"], arr["scale"]
        self.head = session(self.folder / "head.onnx")

    def run(self, text: str) -> Run:
        enc, states = read(text)
        probs = np.zeros(len(enc.ids), np.float32)
        for (a, b), s in zip(enc.windows, states, strict=True):
            probs[a:b] = self.head.run(None, {"states": s[None, :, self.head_layers]})[0][0]
        return enc, probs, [s[:, self.class_layers] for s in states]

    def token_probs(self, doc: Any, run: Run | None = None) -> np.ndarray:
        enc, probs, _ = run or self.run(doc.text)
        return token_max(doc, enc.offsets, probs)

    def span_proba(self, text: str, spans: Sequence[tuple[int, int]], run: Run | None = None) -> np.ndarray:
        enc, _, states = run or self.run(text)
        if not len(spans):
            return np.zeros((0, len(self.classes)), np.float32)
        X = (np.stack([span_vector(enc, states, s, e) for s, e in spans]) - self.mean) / self.scale
        z = X @ self.W.T + self.b
        z = np.exp(z - z.max(1, keepdims=True))
        return (z / z.sum(1, keepdims=True)).astype(np.float32)


def _pick(layers: Sequence[int], read: Sequence[int], folder: Path) -> list[int] | slice:
    """Indices of ``layers`` among the layers ``read`` (a whole slice when they are the same)."""
    if list(layers) == list(read):
        return slice(None)
    missing = sorted(set(layers) - set(read))
    if missing:
        raise ValueError(f"{folder}: the model reads mpnet layers {missing}, which this version does not read ({read})")
    return [list(read).index(x) for x in layers]


# --------------------------------------------------------------------------- training (torch)


def _head(torch: Any, nn: Any, layers: Sequence[int], dim: int) -> Any:
    pick = [LAYERS.index(x) for x in layers]

    class Head(nn.Module):
        """Softmax-weighted mix of its layers -> projection -> BiLSTM -> P(inside) per word piece."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("pick", torch.tensor(pick), persistent=False)
            self.mix = nn.Parameter(torch.zeros(len(pick)))
            self.drop = nn.Dropout(0.2)
            self.proj = nn.Linear(dim, 256)
            self.lstm = nn.LSTM(256, 128, batch_first=True, bidirectional=True)
            self.out = nn.Linear(256, 1)

        def forward(self, x: Any) -> Any:  # (batch, pieces, LAYERS, dim) -> logits (batch, pieces)
            h = (x.index_select(2, self.pick) * torch.softmax(self.mix, 0)[None, None, :, None]).sum(2)
            h, _ = self.lstm(self.drop(torch.relu(self.proj(self.drop(h)))))
            return self.out(self.drop(h)).squeeze(-1)

    return Head()


def _train_head(chunks: list[tuple[np.ndarray, np.ndarray]], p: FrozenParams, layers: Sequence[int]) -> Any:
    """A head over ``layers`` trained on windows of (states of LAYERS, inside labels per piece)."""
    torch, nn, _ = training_modules(WHAT)
    torch.manual_seed(p.seed)
    net = _head(torch, nn, layers, chunks[0][0].shape[2])
    opt = torch.optim.AdamW(net.parameters(), p.lr, weight_decay=0.01)
    rng = np.random.default_rng(p.seed)
    for _ in range(p.epochs):
        net.train()
        order = rng.permutation(len(chunks))
        for i in range(0, len(order), p.batch_size):
            batch = [chunks[j] for j in order[i : i + p.batch_size]]
            width = max(len(y) for _, y in batch)
            x = torch.zeros(len(batch), width, *batch[0][0].shape[1:])
            y, mask = torch.zeros(len(batch), width), torch.zeros(len(batch), width)
            for r, (xs, ys) in enumerate(batch):
                x[r, : len(ys)], y[r, : len(ys)], mask[r, : len(ys)] = torch.from_numpy(xs), torch.from_numpy(ys), 1
            loss = nn.functional.binary_cross_entropy_with_logits(net(x), y, reduction="none")
            loss = (loss * mask).sum() / mask.sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    return net.eval()


def train(
    span_docs: Sequence[tuple[str, Sequence[tuple[int, int, str]]]],
    class_docs: Sequence[tuple[str, Sequence[tuple[int, int, str]]]],
    out: str | Path,
    params: FrozenParams | None = None,
) -> Path:
    """Train the span head on ``span_docs`` and the span classifier on ``class_docs`` (each
    ``(text, [(start, end, class), ...])``) and write the artefact folder ``out``."""
    from sklearn.linear_model import LogisticRegression

    torch, _, _ = training_modules(WHAT)
    p = params or FrozenParams()
    t0 = time.time()
    chunks = []
    for text, spans in span_docs:
        enc, states = read(text, keep=True)
        y = inside_pieces(enc.offsets, spans)
        # float16 halves the memory of five layers (about 4 GB for the shipped corpus); batches cast back
        chunks += [(s.astype(np.float16), y[a:b]) for (a, b), s in zip(enc.windows, states, strict=True)]
    if not any(y.any() for _, y in chunks):
        raise ValueError("no technique spans to train the frozen-mpnet tagger on")
    log.info("frozen tagger: states of %d articles read in %.0fs", len(span_docs), time.time() - t0)
    nets = [_train_head(chunks, replace(p, seed=p.seed + 100 * h), p.layers) for h in range(p.heads)]
    X, labels = [], []
    pick = _pick(CLASS_LAYERS, LAYERS, Path(out))
    for text, spans in class_docs:
        enc, states = read(text, keep=True)
        states = [s[:, pick] for s in states]
        X += [span_vector(enc, states, start, end) for start, end, _ in spans]
        labels += [lab for _, _, lab in spans]
    X_arr = np.stack(X)
    mean, scale = X_arr.mean(0), X_arr.std(0) + 1e-6
    clf = LogisticRegression(C=p.tc_C, max_iter=300).fit((X_arr - mean) / scale, labels)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)

    class Probs(torch.nn.Module):  # type: ignore[name-defined]  # torch is imported lazily
        def __init__(self) -> None:
            super().__init__()
            self.nets = torch.nn.ModuleList(nets)

        def forward(self, states: Any) -> Any:
            return torch.stack([torch.sigmoid(net(states)) for net in self.nets]).mean(0)

    example = torch.zeros(1, 7, len(LAYERS), chunks[0][0].shape[2])
    torch.onnx.export(
        Probs().eval(),
        (example,),
        str(folder / "head.onnx"),
        input_names=["states"],
        output_names=["prob"],
        dynamic_axes={"states": {1: "pieces"}, "prob": {1: "pieces"}},
        opset_version=17,
        dynamo=False,
    )
    np.savez_compressed(
        folder / "classes.npz",
        W=clf.coef_.astype(np.float32),
        b=clf.intercept_.astype(np.float32),
        mean=mean.astype(np.float32),
        scale=scale.astype(np.float32),
    )
    meta = {
        "encoder": "all-mpnet-base-v2 (frozen)",
        "layers": list(LAYERS),
        "class_layers": list(CLASS_LAYERS),
        "window": WINDOW,
        "classes": [str(c) for c in clf.classes_],
        "params": asdict(p),
        "span_articles": len(span_docs),
        "class_articles": len(class_docs),
        "seconds": round(time.time() - t0),
        "trained": time.strftime("%Y-%m-%d"),
    }
    (folder / "frozen.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return folder


def train_cached(
    span_docs: Sequence[tuple[str, str, Sequence[tuple[int, int, str]]]],
    class_docs: Sequence[tuple[str, str, Sequence[tuple[int, int, str]]]],
    work_dir: str | Path,
    params: FrozenParams | None = None,
) -> Path:
    """``train`` on ``(id, text, spans)`` articles, reusing the artefact of an identical run in ``work_dir``."""
    p = params or FrozenParams()
    key = [json.dumps(asdict(p)).encode()]
    for part in (span_docs, class_docs):
        key += [b"\x01"] + [f"\x00{i}\x00{len(t)}\x00{sorted(s)}".encode() for i, t, s in sorted(part)]
    return cached(
        work_dir,
        "technique-frozen",
        key,
        "frozen.json",
        lambda tmp: train([d[1:] for d in span_docs], [d[1:] for d in class_docs], tmp, p),
    )
