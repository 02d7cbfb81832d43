"""SemEval-2023 Task 3 subtask 3 (persuasion techniques, English): readers, official scorer, writer.

Layout of the task folder (``en/``)::

    train-articles-subtask-3/article<ID>.txt       title line, blank line, paragraphs (one a line)
    train-labels-subtask-3.txt                     <ID> <line> <technique,technique,...>
    train-labels-subtask-3.template                <ID> <line> <paragraph text>
    train-labels-subtask-3-spans/article<ID>-labels-subtask-3.txt   <ID> <technique> <start> <end>

A paragraph is a non-empty line of the article; ``line`` is its 1-based line number in the file.
The scorer re-implements the official one: every gold (ID, line) needs a prediction, labels are
binarised over the 23 classes (a gold label outside them is ignored, as scikit-learn's
MultiLabelBinarizer does in the official script; a predicted one is an error), and the score is
micro-F1 (macro-F1 also reported), both with ``zero_division=1``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..taxonomy.techniques import load_techniques
from .ptc import read_text_exact

_ARTICLE = re.compile(r"^article(\d+)\.txt$")
_SPANS = re.compile(r"^article(\d+)-labels-subtask-3\.txt$")

ParagraphKey = tuple[str, int]  # (article id, 1-based line)


class SemEval2023FormatError(ValueError):
    """A SemEval-2023 T3 file does not follow the format; the message names the file and line."""


@dataclass(frozen=True)
class Paragraph:
    article_id: str
    line: int
    start: int  # character offsets of the paragraph in the article text
    end: int


@dataclass(frozen=True)
class TechniqueSpan:
    article_id: str
    technique: str
    start: int
    end: int


def read_articles(folder: str | Path) -> dict[str, str]:
    """Read ``article<ID>.txt`` files keyed by ``<ID>``, text kept exact."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such articles folder (expected article<ID>.txt files)")
    out = {m.group(1): read_text_exact(p) for p in sorted(root.iterdir()) if (m := _ARTICLE.match(p.name))}
    if not out:
        raise FileNotFoundError(f"{root}: no article<ID>.txt files found")
    return out


def paragraphs(article_id: str, text: str) -> list[Paragraph]:
    """The non-empty lines of an article with their 1-based line numbers and offsets."""
    out, pos = [], 0
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            out.append(Paragraph(article_id, n, pos, pos + len(line.rstrip("\r"))))
        pos += len(line) + 1
    return out


def read_paragraph_labels(path: str | Path, *, strict_labels: bool = False) -> dict[ParagraphKey, list[str]]:
    """Read ``<ID> <line> <labels>``; with ``strict_labels`` an unknown technique is an error."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such labels file")
    known = set(load_techniques().names)
    out: dict[ParagraphKey, list[str]] = {}
    for n, raw in enumerate(read_text_exact(p).splitlines(), 1):
        if not raw.strip():
            continue
        cols = raw.rstrip("\r").split("\t")
        if len(cols) not in (2, 3):
            raise SemEval2023FormatError(f"{p}:{n}: expected 'ID<TAB>line<TAB>labels', got {raw!r}")
        try:
            key = (cols[0], int(cols[1]))
        except ValueError:
            raise SemEval2023FormatError(f"{p}:{n}: the line number must be an integer: {raw!r}") from None
        labels = [x.strip() for x in (cols[2] if len(cols) == 3 else "").split(",") if x.strip()]
        bad = [x for x in labels if x not in known]
        if bad and strict_labels:
            raise SemEval2023FormatError(f"{p}:{n}: unknown technique {bad[0]!r}; known: {', '.join(sorted(known))}")
        if key in out:
            raise SemEval2023FormatError(f"{p}:{n}: paragraph {key[0]} line {key[1]} is listed twice")
        out[key] = labels
    return out


def read_template(path: str | Path) -> list[ParagraphKey]:
    """The (ID, line) keys of a template file (``<ID> <line> <text>``), in file order."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such template file")
    keys = []
    for n, raw in enumerate(read_text_exact(p).splitlines(), 1):
        cols = raw.split("\t")
        if not raw.strip():
            continue
        if len(cols) < 2 or not cols[1].strip().isdigit():
            raise SemEval2023FormatError(f"{p}:{n}: expected 'ID<TAB>line<TAB>text', got {raw[:80]!r}")
        keys.append((cols[0], int(cols[1])))
    return keys


def read_spans(folder: str | Path, articles: Mapping[str, str] | None = None) -> list[TechniqueSpan]:
    """Read every ``article<ID>-labels-subtask-3.txt`` of a folder (``ID technique start end``)."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such spans folder")
    out: list[TechniqueSpan] = []
    for p in sorted(root.iterdir()):
        if not _SPANS.match(p.name):
            continue
        for n, raw in enumerate(read_text_exact(p).splitlines(), 1):
            if not raw.strip():
                continue
            cols = raw.rstrip("\r").split("\t")
            if len(cols) != 4:
                raise SemEval2023FormatError(f"{p}:{n}: expected 'ID technique start end', got {raw!r}")
            try:
                start, end = int(cols[2]), int(cols[3])
            except ValueError:
                raise SemEval2023FormatError(f"{p}:{n}: start and end must be integers: {raw!r}") from None
            if not 0 <= start < end:
                raise SemEval2023FormatError(f"{p}:{n}: need 0 <= start < end, got {start}..{end}")
            if articles is not None and (cols[0] not in articles or end > len(articles[cols[0]])):
                raise SemEval2023FormatError(f"{p}:{n}: span {start}..{end} does not fit article {cols[0]!r}")
            out.append(TechniqueSpan(cols[0], cols[1], start, end))
    return out


def write_paragraph_labels(preds: Mapping[ParagraphKey, Iterable[str]], path: str | Path) -> None:
    """Write a subtask-3 submission: ``ID<TAB>line<TAB>label,label``, sorted by article and line."""
    known = set(load_techniques().names)
    rows = []
    for (aid, line), labels in sorted(preds.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        labs = sorted(set(labels))
        bad = [x for x in labs if x not in known]
        if bad:
            raise ValueError(f"paragraph {aid}:{line}: unknown technique {bad[0]!r}")
        rows.append(f"{aid}\t{line}\t{','.join(labs)}\n")
    Path(path).write_text("".join(rows), encoding="utf-8")


def score_st3(
    gold: Mapping[ParagraphKey, Iterable[str]], pred: Mapping[ParagraphKey, Iterable[str]]
) -> dict[str, float]:
    """Official subtask-3 micro-F1 (the ranking score) and macro-F1 over the 23 classes."""
    classes = load_techniques().names
    missing = [k for k in gold if k not in pred]
    if missing:
        raise ValueError(f"no prediction for paragraph {missing[0][0]} line {missing[0][1]} ({len(missing)} missing)")
    tp = dict.fromkeys(classes, 0)
    fp, fn = dict(tp), dict(tp)
    for k, g_labels in gold.items():
        g = {x for x in g_labels if x in tp}
        p = set(pred[k])
        bad = p - set(classes)
        if bad:
            raise ValueError(f"paragraph {k[0]} line {k[1]}: unknown predicted technique {min(bad)!r}")
        for c in g & p:
            tp[c] += 1
        for c in p - g:
            fp[c] += 1
        for c in g - p:
            fn[c] += 1

    def f1(t: int, f_p: int, f_n: int) -> float:
        return 1.0 if t + f_p + f_n == 0 else 2 * t / (2 * t + f_p + f_n)

    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    return {
        "micro_f1": f1(TP, FP, FN),
        "macro_f1": sum(f1(tp[c], fp[c], fn[c]) for c in classes) / len(classes),
        "precision": TP / (TP + FP) if TP + FP else 1.0,
        "recall": TP / (TP + FN) if TP + FN else 1.0,
    }
