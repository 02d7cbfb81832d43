"""The protocol every analyser follows.

An analyser receives parsed articles (``article.doc`` holds the shared spaCy parse and
``article.sentences`` the sentence offsets) and adds layers to them in place. It reads no
files, calls no network and touches no database. Models load lazily, once per process.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from ..document import Article


@runtime_checkable
class Analyser(Protocol):
    name: str  # the layer it fills: "actors", "quotes", "narratives", ...
    version: str
    requires: tuple[str, ...]  # layers that must run first

    def __call__(self, article: Article) -> Article: ...


def run_all(analyser: Analyser, articles: Iterable[Article]) -> list[Article]:
    """Apply an analyser to many articles (an analyser may define a faster ``pipe``)."""
    pipe = getattr(analyser, "pipe", None)
    if pipe is not None:
        return list(pipe(articles))
    return [analyser(a) for a in articles]
