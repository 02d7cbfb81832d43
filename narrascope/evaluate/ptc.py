"""SemEval-2020 Task 11 (Propaganda Techniques Corpus): readers, official scorers, writers.

Articles are ``article<ID>.txt`` files; offsets are character offsets into the file read exactly
(no newline translation). Label files are tab-separated, one span a line::

    SI (span identification):     <ID>  <start>  <end>
    TC (technique classification): <ID>  <technique>  <start>  <end>   ("?" in the test template)

``end`` is exclusive. The scorers re-implement the organisers' ones:

- SI: the partial-overlap F1 of the 2020 scorer. Spans are sets of character indices; overlapping
  spans of one article are merged first (gold as the scorer does, submissions as its ``-m`` option
  does). Precision sums ``|s & t| / |s|`` over all pairs of submitted span s and gold span t and
  divides by the number of submitted spans; recall sums ``|s & t| / |t|`` and divides by the number
  of gold spans.
- TC: micro-F1 over the gold spans. Submission and gold must list the same spans; a span that the
  gold lists k times with different techniques counts as the best alignment of the k labels.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..taxonomy.techniques import load_techniques

_ARTICLE = re.compile(r"^article(\d+)\.txt$")


class PTCFormatError(ValueError):
    """A PTC file does not follow the format; the message names the file and line."""


@dataclass(frozen=True)
class PTCSpan:
    article_id: str
    start: int
    end: int
    technique: str | None = None  # None for SI spans and unlabelled template rows


def read_text_exact(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def read_articles(folder: str | Path) -> dict[str, str]:
    """Read ``article<ID>.txt`` files, keyed by ``<ID>``, text kept byte-exact."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such articles folder (expected article<ID>.txt files)")
    out: dict[str, str] = {}
    for p in sorted(root.iterdir()):
        m = _ARTICLE.match(p.name)
        if m:
            out[m.group(1)] = read_text_exact(p)
    if not out:
        raise FileNotFoundError(f"{root}: no article<ID>.txt files found")
    return out


def read_si(path: str | Path, articles: dict[str, str] | None = None) -> list[PTCSpan]:
    """Read an SI file (``ID start end``)."""
    return _read(Path(path), with_technique=False, articles=articles)


def read_tc(path: str | Path, articles: dict[str, str] | None = None, *, template: bool = False) -> list[PTCSpan]:
    """Read a TC file (``ID technique start end``); ``template=True`` accepts ``?`` as technique."""
    return _read(Path(path), with_technique=True, articles=articles, template=template)


def _read(
    path: Path, *, with_technique: bool, articles: dict[str, str] | None, template: bool = False
) -> list[PTCSpan]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such labels file")
    known = set(load_techniques().ptc_names)
    ncols = 4 if with_technique else 3
    spans: list[PTCSpan] = []
    for n, line in enumerate(read_text_exact(path).splitlines(), 1):
        if not line.strip():
            continue
        cols = line.rstrip("\r").split("\t")
        where = f"{path}:{n}"
        if len(cols) != ncols:
            raise PTCFormatError(f"{where}: expected {ncols} tab-separated columns, got {len(cols)}: {line!r}")
        aid, tech = cols[0], (cols[1] if with_technique else None)
        try:
            start, end = int(cols[-2]), int(cols[-1])
        except ValueError:
            raise PTCFormatError(f"{where}: start and end must be integers: {line!r}") from None
        if not 0 <= start < end:
            raise PTCFormatError(f"{where}: need 0 <= start < end, got {start}..{end}")
        if tech is not None:
            if tech == "?" and template:
                tech = None
            elif tech not in known:
                raise PTCFormatError(f"{where}: unknown technique {tech!r}; known: {', '.join(sorted(known))}")
        if articles is not None:
            if aid not in articles:
                raise PTCFormatError(f"{where}: article {aid!r} is not in the articles folder")
            if end > len(articles[aid]):
                raise PTCFormatError(f"{where}: end {end} is past the end of article {aid} ({len(articles[aid])})")
        spans.append(PTCSpan(aid, start, end, tech))
    return spans


def write_si(spans: Iterable[PTCSpan], path: str | Path) -> None:
    lines = [f"{s.article_id}\t{s.start}\t{s.end}\n" for s in sorted(spans, key=_order)]
    Path(path).write_text("".join(lines), encoding="utf-8")


def write_tc(spans: Iterable[PTCSpan], path: str | Path) -> None:
    rows = []
    for s in spans:
        if s.technique is None:
            raise ValueError(f"span {s} has no technique; TC submissions need one per span")
        rows.append(f"{s.article_id}\t{s.technique}\t{s.start}\t{s.end}\n")
    Path(path).write_text("".join(rows), encoding="utf-8")


def _order(s: PTCSpan) -> tuple[str, int, int]:
    return (s.article_id, s.start, s.end)


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping (not merely touching) character spans."""
    out: list[list[int]] = []
    for s, e in sorted(spans):
        if out and s < out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _prf(p_num: float, p_den: int, r_num: float, r_den: int) -> dict[str, float]:
    p = p_num / p_den if p_den else 0.0
    r = r_num / r_den if r_den else 0.0
    f1 = 1.0 if p_den == 0 and r_den == 0 else (2 * p * r / (p + r) if p + r > 0 else 0.0)
    return {"precision": p, "recall": r, "f1": f1}


def score_si(gold: Iterable[PTCSpan], pred: Iterable[PTCSpan]) -> dict[str, float]:
    """The official SI partial-overlap precision, recall and F1."""
    g_by: dict[str, list[tuple[int, int]]] = defaultdict(list)
    p_by: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for s in gold:
        g_by[s.article_id].append((s.start, s.end))
    for s in pred:
        p_by[s.article_id].append((s.start, s.end))
    # An article without gold spans simply has none: its predictions only cost precision.
    g_m = {a: merge_spans(v) for a, v in g_by.items()}
    p_m = {a: merge_spans(v) for a, v in p_by.items()}
    p_num = r_num = 0.0
    for aid, preds in p_m.items():
        for ps, pe in preds:
            for gs, ge in g_m.get(aid, []):
                inter = min(pe, ge) - max(ps, gs)
                if inter > 0:
                    p_num += inter / (pe - ps)
                    r_num += inter / (ge - gs)
    return _prf(p_num, sum(map(len, p_m.values())), r_num, sum(map(len, g_m.values())))


def score_tc(gold: Iterable[PTCSpan], pred: Iterable[PTCSpan]) -> dict[str, float]:
    """The official TC micro precision, recall and F1 (with equal span lists, all three equal accuracy)."""
    g_by: dict[tuple[str, int, int], Counter[str]] = defaultdict(Counter)
    p_by: dict[tuple[str, int, int], Counter[str]] = defaultdict(Counter)
    n_gold = n_pred = 0
    for s in gold:
        g_by[_order(s)][s.technique or ""] += 1
        n_gold += 1
    for s in pred:
        if s.technique is None:
            raise ValueError(f"predicted span {s} has no technique")
        p_by[_order(s)][s.technique] += 1
        n_pred += 1
    missing = [k for k in g_by if sum(p_by.get(k, Counter()).values()) != sum(g_by[k].values())]
    if missing or n_gold != n_pred:
        k = missing[0] if missing else next(iter(set(p_by) - set(g_by)), None)
        raise ValueError(f"submission and gold must list the same spans (first mismatch: {k})")
    correct = sum(sum((g_by[k] & p_by[k]).values()) for k in g_by)
    return _prf(correct, n_pred, correct, n_gold)
