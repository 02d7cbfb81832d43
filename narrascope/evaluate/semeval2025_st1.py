"""SemEval-2025 Task 10 subtask 1 (entity framing): reader, official scorer, submission writer.

File format (tab-separated, one mention a line)::

    article_id  mention  start  end  [main_role  fine_role  fine_role ...]

``start`` and ``end`` are character offsets into the raw document and ``end`` is *inclusive*
(``text[start:end + 1] == mention``). Inside narrascope every span is Python-style (end
exclusive): the reader adds one to ``end`` and the writer takes it away again.

The scorer re-implements the organisers' measures: exact match ratio (EMR) of the fine-role set
per mention (the official ranking score), micro precision/recall/F1 over fine roles, and
main-role accuracy, computed over the gold mentions matched by (article id, mention, start, end).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..taxonomy.roles import load_roles
from .semeval2025 import read_documents

#: How far (in characters) ``repair`` looks for a mention whose offsets are off.
REPAIR_WINDOW = 400


class ST1FormatError(ValueError):
    """A subtask-1 file does not follow the format, or its offsets do not match a document."""


@dataclass
class MentionRecord:
    doc_id: str
    mention: str
    start: int  # end-exclusive span into the document text
    end: int
    main_role: str | None = None
    fine_roles: list[str] = field(default_factory=list)
    source: str = ""  # "file:line" it was read from
    repaired: bool = False

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.doc_id, self.mention, self.start, self.end)


def read_mentions(
    path: str | Path,
    docs: dict[str, str] | None = None,
    *,
    labelled: bool | None = None,
    repair: bool = False,
) -> list[MentionRecord]:
    """Read an annotation file (with roles) or an entity-mentions file (without).

    ``labelled`` forces one of the two layouts (``None``: accept both). With ``docs``, every
    mention is checked against its document: a mismatch raises :class:`ST1FormatError` naming the
    file and line, unless ``repair`` is set, in which case the nearest occurrence of the mention
    text within ``REPAIR_WINDOW`` characters is taken (some official files are a few characters off).
    """
    path = Path(path)
    tax = load_roles()
    mains, fines = set(tax.main_names), set(tax.fine_names)
    out: list[MentionRecord] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            where = f"{path}:{lineno}"
            parts = line.split("\t")
            if len(parts) < 4:
                raise ST1FormatError(
                    f"{where}: expected 'id<TAB>mention<TAB>start<TAB>end[<TAB>main<TAB>fine...]', "
                    f"got {len(parts)} field(s)"
                )
            doc_id, mention, s_raw, e_raw, *roles = parts
            try:
                start, end = int(s_raw), int(e_raw) + 1
            except ValueError:
                raise ST1FormatError(
                    f"{where}: start/end must be integers, got {s_raw!r}, {e_raw!r}"
                ) from None
            if start < 0 or end <= start:
                raise ST1FormatError(f"{where}: bad span start={s_raw} end={e_raw} (end is inclusive)")
            roles = [r.strip() for r in roles if r.strip()]
            if labelled is True and len(roles) < 2:
                raise ST1FormatError(f"{where}: expected a main role and at least one fine role")
            if labelled is False and roles:
                raise ST1FormatError(f"{where}: an entity-mentions file has 4 fields, got {len(parts)}")
            rec = MentionRecord(doc_id, mention, start, end, source=where)
            if roles:
                rec.main_role, rec.fine_roles = roles[0], roles[1:]
                if rec.main_role not in mains:
                    raise ST1FormatError(
                        f"{where}: unknown main role {rec.main_role!r}; known: {sorted(mains)}"
                    )
                bad = [f for f in rec.fine_roles if f not in fines]
                if bad:
                    raise ST1FormatError(f"{where}: unknown fine role(s) {bad}; known: {sorted(fines)}")
            if docs is not None:
                _check_offsets(rec, docs, repair)
            out.append(rec)
    return out


def _check_offsets(rec: MentionRecord, docs: dict[str, str], repair: bool) -> None:
    text = docs.get(rec.doc_id)
    if text is None:
        raise ST1FormatError(f"{rec.source}: document {rec.doc_id!r} not found among {len(docs)} documents")
    if text[rec.start : rec.end] == rec.mention:
        return
    found = _nearest(text, rec.mention, rec.start) if repair else None
    if found is None:
        raise ST1FormatError(
            f"{rec.source}: offsets {rec.start}-{rec.end - 1} (end inclusive) cover "
            f"{text[rec.start : rec.end]!r} in {rec.doc_id}, not the mention {rec.mention!r}"
        )
    rec.start, rec.end, rec.repaired = found, found + len(rec.mention), True


def _nearest(text: str, mention: str, start: int) -> int | None:
    lo = max(0, start - REPAIR_WINDOW)
    hits: list[int] = []
    i = text.find(mention, lo)
    while i != -1 and i <= start + REPAIR_WINDOW:
        hits.append(i)
        i = text.find(mention, i + 1)
    return min(hits, key=lambda h: abs(h - start)) if hits else None


def load_split(lang_dir: str | Path, repair: bool = True) -> tuple[dict[str, str], list[MentionRecord]]:
    """Documents and gold mentions of one language folder of the official release."""
    folder = Path(lang_dir)
    docs_dir = next(
        (folder / d for d in ("raw-documents", "subtask-1-documents") if (folder / d).is_dir()), None
    )
    if docs_dir is None:
        raise FileNotFoundError(f"{folder}: no raw-documents/ or subtask-1-documents/ folder")
    docs = read_documents(docs_dir)
    return docs, read_mentions(folder / "subtask-1-annotations.txt", docs, labelled=True, repair=repair)


def write_submission(records: Iterable[MentionRecord], path: str | Path) -> None:
    """Write predictions in the official format (end offset inclusive)."""
    lines = []
    for r in records:
        if not r.main_role or not r.fine_roles:
            raise ValueError(f"{r.doc_id} {r.mention!r}: a prediction needs a main role and a fine role")
        fields = [r.doc_id, r.mention, str(r.start), str(r.end - 1), r.main_role, *r.fine_roles]
        lines.append("\t".join(fields) + "\n")
    Path(path).write_text("".join(lines), encoding="utf-8")


def score(gold: Sequence[MentionRecord], pred: Sequence[MentionRecord]) -> dict[str, float]:
    """The official subtask-1 measures over the gold mentions.

    Every gold mention must have a prediction with the same key; predictions of mentions that are
    not in the gold are ignored (as the organisers' merge on the key does).
    """
    by_key = {p.key: p for p in pred}
    missing = [g for g in gold if g.key not in by_key]
    if missing:
        g = missing[0]
        raise ST1FormatError(
            f"{len(missing)} gold mention(s) have no prediction, e.g. {g.doc_id} {g.mention!r} "
            f"{g.start}-{g.end - 1} ({g.source})"
        )
    n = len(gold)
    if n == 0:
        return {
            "emr": 0.0,
            "micro_precision": 0.0,
            "micro_recall": 0.0,
            "micro_f1": 0.0,
            "main_role_accuracy": 0.0,
            "n": 0,
        }
    exact = main_ok = tp = n_pred = n_gold = 0
    for g in gold:
        p = by_key[g.key]
        gs, ps = set(g.fine_roles), set(p.fine_roles)
        exact += gs == ps
        main_ok += g.main_role == p.main_role
        tp += len(gs & ps)
        n_pred += len(ps)
        n_gold += len(gs)
    prec = tp / n_pred if n_pred else 0.0
    rec = tp / n_gold if n_gold else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return {
        "emr": exact / n,
        "micro_precision": prec,
        "micro_recall": rec,
        "micro_f1": f1,
        "main_role_accuracy": main_ok / n,
        "n": n,
    }


def score_files(gold_path: str | Path, pred_path: str | Path) -> dict[str, float]:
    """Score a submission file against a gold annotation file."""
    return score(read_mentions(gold_path, labelled=True), read_mentions(pred_path, labelled=True))
