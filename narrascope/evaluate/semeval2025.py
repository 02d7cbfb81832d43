"""SemEval-2025 Task 10 subtasks 2 and 3 (narratives): readers, official metric, submission writers.

Subtask 2 files are tab-separated, one document a line::

    article_id  coarse;coarse;...  fine;fine;...

(the coarse column usually repeats the parent of each fine label). Subtask 3 files add the dominant
narrative and an explanation: ``article_id  narrative  subnarrative  explanation`` (the dominant-
narrative input file has the first three columns only; ``none`` is allowed as subnarrative).

The metric re-implements the organisers' subtask-2 scorer: labels become one-hot vectors over the
official class list (labels outside it are ignored, as ``MultiLabelBinarizer`` does), a binary F1 is
computed per document and averaged ("F1 samples"), for fine labels and for coarse labels. This is
``sklearn.metrics.f1_score(y_true, y_pred, average="samples", zero_division=0)``; the std over
documents is reported too. Subtask 3 is scored, as officially, by BERTScore between the produced and the
gold explanation (:func:`score_st3`), over whichever encoder's token states the caller passes.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError
from ..ingest.decode import AUTO, decode
from ..taxonomy.narratives import Taxonomy, load_taxonomy

NONE = "none"


class SemEvalFormatError(ValueError):
    """A SemEval file is malformed, names an unknown label or an unknown document."""


@dataclass
class NarrativeRecord:
    """Gold or predicted labels of one document (subtask 2), and its dominant narrative (subtask 3)."""

    doc_id: str
    coarse: list[str] = field(default_factory=list)
    fine: list[str] = field(default_factory=list)
    dominant: str | None = None
    dominant_fine: str | None = None
    explanation: str = ""
    source: str = ""  # "file:line"


@dataclass
class Dataset:
    """Documents (id -> exact text) with their subtask-2 labels and optional subtask-3 explanations."""

    texts: dict[str, str]
    labels: dict[str, NarrativeRecord]
    explanations: dict[str, NarrativeRecord] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return list(self.labels)


def read_documents(docs_dir: str | Path, encoding: str = "utf-8") -> dict[str, str]:
    """Every ``*.txt`` of a folder keyed by file name (the task's article id), text kept exact (the task's
    offsets index it; a blank document reads as empty). A binary or wrongly encoded file stops the read, and
    the error names every such file at once."""
    folder = Path(docs_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such documents folder")
    try:
        codecs.lookup("utf-8" if encoding == AUTO else encoding)
    except LookupError:
        raise InputError(str(folder), f"unknown encoding {encoding!r}", "give a Python codec name") from None
    docs, unreadable = {}, []
    paths = sorted(folder.glob("*.txt"))
    for path in paths:
        data = path.read_bytes()
        try:
            docs[path.name] = decode(data, str(path), encoding) if data.strip() else ""
        except InputError as exc:
            unreadable.append(str(exc))
    if unreadable:
        shown = "; ".join(unreadable[:5]) + (f"; and {len(unreadable) - 5} more" if len(unreadable) > 5 else "")
        raise InputError(
            str(folder), f"{len(unreadable)} of {len(paths)} documents cannot be read: {shown}", "fix or remove them"
        )
    return docs


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such annotation file")
    rows = []
    for no, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
        if line.strip():
            rows.append((no, [c.strip() for c in line.rstrip("\r\n").split("\t")]))
    if not rows:
        raise SemEvalFormatError(f"{path}: no annotations (empty training set)")
    return rows


def _check(label: str, ok: bool, level: str, where: str, tax: Taxonomy) -> None:
    if not ok:
        raise SemEvalFormatError(
            f"{where}: unknown {level} label {label!r} (not in the {tax.name!r} taxonomy; "
            "check the spelling or pass the taxonomy the file was annotated with)"
        )


def _check_doc(doc_id: str, docs: Mapping[str, str] | None, where: str, docs_dir: str) -> None:
    if docs is not None and doc_id not in docs:
        raise SemEvalFormatError(
            f"{where}: document {doc_id!r} is missing from the documents folder {docs_dir}"
        )


def read_st2(
    path: str | Path,
    taxonomy: Taxonomy | None = None,
    docs: Mapping[str, str] | None = None,
    docs_dir: str = "",
) -> dict[str, NarrativeRecord]:
    """Read a subtask-2 file; every label must be in ``taxonomy`` and every id in ``docs`` (when given)."""
    tax = taxonomy or load_taxonomy()
    path = Path(path)
    out: dict[str, NarrativeRecord] = {}
    for no, cols in _lines(path):
        where = f"{path}:{no}"
        if len(cols) != 3:
            raise SemEvalFormatError(
                f"{where}: expected 3 tab-separated columns (id, narratives, subnarratives), got {len(cols)}"
            )
        doc_id, coarse_col, fine_col = cols
        _check_doc(doc_id, docs, where, docs_dir)
        coarse = [c.strip() for c in coarse_col.split(";") if c.strip()]
        fine = [f.strip() for f in fine_col.split(";") if f.strip() and f.strip().lower() != NONE]
        for c in coarse:
            _check(c, tax.is_coarse(c), "coarse", where, tax)
        for f in fine:
            _check(f, tax.is_fine(f), "fine", where, tax)
        coarse = list(dict.fromkeys([*coarse, *(tax.parent(f) for f in fine)]))
        if not coarse:
            raise SemEvalFormatError(f"{where}: document {doc_id!r} has no label (use {tax.other!r})")
        out[doc_id] = NarrativeRecord(doc_id, coarse, list(dict.fromkeys(fine)), source=where)
    return out


def read_st3(
    path: str | Path,
    taxonomy: Taxonomy | None = None,
    docs: Mapping[str, str] | None = None,
    docs_dir: str = "",
    explanations: bool = True,
) -> dict[str, NarrativeRecord]:
    """Read a subtask-3 file (``explanations=False`` for the dominant-narrative input file)."""
    tax = taxonomy or load_taxonomy()
    path = Path(path)
    want = 4 if explanations else 3
    out: dict[str, NarrativeRecord] = {}
    for no, cols in _lines(path):
        where = f"{path}:{no}"
        if len(cols) < want:
            raise SemEvalFormatError(
                f"{where}: expected {want} tab-separated columns (id, narrative, subnarrative"
                f"{', explanation' if explanations else ''}), got {len(cols)}"
            )
        doc_id, coarse, fine = cols[:3]
        _check_doc(doc_id, docs, where, docs_dir)
        _check(coarse, tax.is_coarse(coarse), "coarse", where, tax)
        sub = None if fine.lower() == NONE else fine
        if sub is not None:
            _check(sub, tax.is_fine(sub), "fine", where, tax)
        text = "\t".join(cols[3:]) if explanations else ""
        out[doc_id] = NarrativeRecord(doc_id, [coarse], [sub] if sub else [], coarse, sub, text, source=where)
    return out


def find_dataset(data_dir: str | Path, lang: str = "EN") -> tuple[Path, Path, Path | None]:
    """Locate ``raw-documents/``, ``subtask-2-annotations.txt`` and (optional) the subtask-3 file.

    ``data_dir`` may be the language folder itself, a release folder holding ``EN/``, or the task folder
    holding ``train_target_4_December_release/EN``.
    """
    root = Path(data_dir)
    for cand in (root, root / lang, root / "train_target_4_December_release" / lang):
        docs = next((cand / d for d in ("raw-documents", "subtask-2-documents") if (cand / d).is_dir()), None)
        st2 = cand / "subtask-2-annotations.txt"
        if docs is not None and st2.is_file():
            st3 = cand / "subtask-3-annotations.txt"
            return docs, st2, st3 if st3.is_file() else None
    raise FileNotFoundError(
        f"{root}: no SemEval-2025 T10 data found (expected raw-documents/ and subtask-2-annotations.txt "
        f"in it, in {lang}/ or in train_target_4_December_release/{lang}/)"
    )


def load_dataset(data_dir: str | Path, lang: str = "EN", taxonomy: Taxonomy | None = None) -> Dataset:
    """Read the documents and their labels; errors name the file and line."""
    docs_dir, st2, st3 = find_dataset(data_dir, lang)
    texts = read_documents(docs_dir)
    labels = read_st2(st2, taxonomy, texts, str(docs_dir))
    expl = read_st3(st3, taxonomy, texts, str(docs_dir)) if st3 is not None else {}
    return Dataset({k: texts[k] for k in labels}, labels, expl)


# --- metric -------------------------------------------------------------------------------------


def _onehot(rows: Sequence[Iterable[str]], classes: Sequence[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(rows), len(classes)), dtype=bool)
    for r, labels in enumerate(rows):
        for lab in labels:
            if lab in index:  # unknown labels are ignored, like MultiLabelBinarizer(classes=...)
                out[r, index[lab]] = True
    return out


def f1_samples(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]], classes: Sequence[str]
) -> tuple[float, float]:
    """Mean and std over documents of the per-document binary F1 (the official ranking score)."""
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold rows but {len(pred)} predicted rows")
    if not gold:
        raise ValueError("no documents to score")
    g, p = _onehot(gold, classes), _onehot(pred, classes)
    tp = (g & p).sum(1)
    denom = g.sum(1) + p.sum(1)
    f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
    return float(f1.mean()), float(f1.std())


def per_label_prf(
    gold: Sequence[Iterable[str]], pred: Sequence[Iterable[str]], classes: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and support of every class that occurs in gold or predictions."""
    g, p = _onehot(gold, classes), _onehot(pred, classes)
    out: dict[str, dict[str, float]] = {}
    for i, c in enumerate(classes):
        tp, np_, ng = int((g[:, i] & p[:, i]).sum()), int(p[:, i].sum()), int(g[:, i].sum())
        if np_ == 0 and ng == 0:
            continue
        prec = tp / np_ if np_ else 0.0
        rec = tp / ng if ng else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[c] = {"precision": prec, "recall": rec, "f1": f1, "support": ng, "predicted": np_}
    return out


def score_st2(
    gold: Mapping[str, NarrativeRecord], pred: Mapping[str, NarrativeRecord], taxonomy: Taxonomy | None = None
) -> dict[str, object]:
    """Official subtask-2 scores of predictions against gold (every gold id must be predicted)."""
    tax = taxonomy or load_taxonomy()
    missing = [d for d in gold if d not in pred]
    if missing:
        raise SemEvalFormatError(f"{len(missing)} gold documents have no prediction, e.g. {missing[0]!r}")
    ids = list(gold)
    gc, pc = [gold[d].coarse for d in ids], [pred[d].coarse for d in ids]
    gf, pf = [gold[d].fine for d in ids], [pred[d].fine for d in ids]
    coarse, fine = tax.coarse_labels, tax.official_fine_labels
    fc, fc_sd = f1_samples(gc, pc, coarse)
    ff, ff_sd = f1_samples(gf, pf, fine)
    return {
        "documents": len(ids),
        "f1_samples_coarse": fc,
        "f1_samples_coarse_std": fc_sd,
        "f1_samples_fine": ff,
        "f1_samples_fine_std": ff_sd,
        "per_label_coarse": per_label_prf(gc, pc, coarse),
        "per_label_fine": per_label_prf(gf, pf, fine),
    }


def bertscore(candidate: np.ndarray, reference: np.ndarray) -> tuple[float, float, float]:
    """BERTScore precision, recall and F1 of two texts given their L2-normalised token states: each
    token matched to its most similar token in the other text (no idf weights, no rescaling)."""
    if not len(candidate) or not len(reference):
        return 0.0, 0.0, 0.0
    sim = candidate @ reference.T
    p, r = float(sim.max(1).mean()), float(sim.max(0).mean())
    return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)


def score_st3(
    gold: Mapping[str, NarrativeRecord],
    pred: Mapping[str, NarrativeRecord],
    token_states: Callable[[Sequence[str]], list[np.ndarray]],
) -> dict[str, object]:
    """Subtask-3 scores: BERTScore of each predicted explanation against the gold one, averaged over
    documents. ``token_states`` gives the encoder's normalised token states of texts (the official
    scorer's encoder is not available offline, so figures compare systems under one encoder only)."""
    missing = [d for d in gold if d not in pred]
    if missing:
        raise SemEvalFormatError(f"{len(missing)} gold documents have no explanation, e.g. {missing[0]!r}")
    ids = list(gold)
    states = token_states([pred[d].explanation for d in ids] + [gold[d].explanation for d in ids])
    prf = np.array([bertscore(states[i], states[len(ids) + i]) for i in range(len(ids))]).reshape(-1, 3)
    p, r, f = prf.mean(0) if len(ids) else (0.0, 0.0, 0.0)
    return {"documents": len(ids), "precision": float(p), "recall": float(r), "f1": float(f)}


# --- submission writers ---------------------------------------------------------------------------


def _clean(cell: str) -> str:
    return " ".join(cell.replace("\t", " ").split())


def write_st2(path: str | Path, records: Iterable[NarrativeRecord]) -> int:
    """Write a subtask-2 submission: ``id<TAB>coarse;...<TAB>fine;...``. Returns the number of lines."""
    lines = [f"{r.doc_id}\t{';'.join(r.coarse)}\t{';'.join(r.fine)}" for r in records]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def write_st3(path: str | Path, records: Iterable[NarrativeRecord]) -> int:
    """Write a subtask-3 submission: ``id<TAB>narrative<TAB>subnarrative<TAB>explanation``."""
    lines = [
        f"{r.doc_id}\t{r.dominant or ''}\t{r.dominant_fine or NONE}\t{_clean(r.explanation)}" for r in records
    ]
    Path(path).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return len(lines)
