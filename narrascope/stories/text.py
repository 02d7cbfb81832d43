"""Small text helpers shared by threading and alignment: sentence spans, content words, names."""

from __future__ import annotations

import re
from functools import lru_cache

from ..document import Article

_ABBREV = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "gen",
    "gov",
    "sen",
    "rep",
    "lt",
    "col",
    "sgt",
    "jr",
    "sr",
    "prof",
    "inc",
    "corp",
    "co",
    "ltd",
    "vs",
    "no",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "etc",
    "approx",
    "dept",
    "est",
    "fig",
}
# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before whitespace and
# a capital, digit or opening quote; or at a line break.
_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])|\n+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’\-]*|\d+(?:[.,]\d+)*")
_WORD_LOWER = re.compile(r"[a-z][a-z'\-]*|\d+(?:[.,]\d+)*")
_NAME = re.compile(r"\b[A-Z][a-zA-Z’'\-]+(?:\s+[A-Z][a-zA-Z’'\-]+)*")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
below between both but by can could did do does doing down during each few for from further had has
have having he her here hers herself him himself his how i if in into is it its itself just me more
most my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves said says say told would could may might must shall one two
new also like last first year years mr mrs ms""".split()
)
# Capitalised words that start sentences or are not names.
_NOT_NAMES = STOPWORDS | frozenset(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december".split()
)


def split_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans (character offsets into ``text``) between ``start`` and ``end``."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _END.finditer(text, start, end):
        cut = m.end() if m.group(0)[0] in ".!?" else m.start()
        if text[m.start()] == "." and _is_abbreviation(text, m.start()):
            continue
        _add(text, pos, cut, spans)
        pos = m.end()
    _add(text, pos, end, spans)
    return spans


def _is_abbreviation(text: str, dot: int) -> bool:
    m = re.search(r"([A-Za-z]+)$", text[max(0, dot - 12) : dot])
    if not m:
        return False
    word = m.group(1)
    # "U.S." / "U.N." (single letters) and titles like "Mr."
    return len(word) == 1 or word.lower() in _ABBREV


def _add(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b - a >= 2:
        spans.append((a, b))


def sentence_spans(article: Article) -> list[tuple[int, int]]:
    """The article's sentences: the title, then the body's sentences (the parse's when present)."""
    text, body = article.text, article.body_start
    out: list[tuple[int, int]] = []
    if body > 0:
        out.append((0, len(article.title) if article.text.startswith(article.title) else body))
    if article.sentences:
        for s in article.sentences:
            a, b = max(s.start, body), s.end
            # the parse may keep several lines in one sentence; cut them at line breaks
            out.extend(split_spans(text, a, b) if "\n" in text[a:b] else ([(a, b)] if b > a else []))
        return _dedupe(out)
    out.extend(split_spans(text, body))
    return _dedupe(out)


def _dedupe(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    seen: set[tuple[int, int]] = set()
    res = []
    for s in sorted(spans):
        if s not in seen and s[1] > s[0]:
            seen.add(s)
            res.append(s)
    return res


def words(text: str) -> list[str]:
    return _WORD_LOWER.findall(text.lower().replace("’", "'"))


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    for suf in ("ing", "ed", "es", "s", "ly"):
        if len(word) > len(suf) + 3 and word.endswith(suf):
            return word[: -len(suf)]
    return word


def content_words(text: str) -> set[str]:
    """Lower-cased, crudely stemmed words minus stopwords: the lexical side of similarity."""
    return {_stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1}


def name_keys(text: str) -> set[str]:
    """Capitalised words not at the start of a sentence-like position: a cheap stand-in for entities."""
    keys: set[str] = set()
    for m in _NAME.finditer(text):
        for w in m.group(0).split():
            w = w.lower().strip("’'-").removesuffix("’s").removesuffix("'s")
            if len(w) > 2 and w not in _NOT_NAMES:
                keys.add(w)
    return keys
