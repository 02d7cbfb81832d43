"""narrascope: how online news tells a story.

>>> import narrascope
>>> article = narrascope.analyze("examples/000_32c6785b4f59bc36.txt")
>>> [(q.speaker, q.text[:30]) for q in article.quotes][:1]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .document import Actor, Article, Finding, Mention, Quote, Sentence
from .errors import DataError, InputError, NarrascopeError
from .pipeline import Pipeline

__version__ = "0.1.0"
__all__ = [
    "analyze", "Pipeline", "Article", "Actor", "Mention", "Quote", "Finding", "Sentence",
    "NarrascopeError", "InputError", "DataError", "__version__",
]

_default: Pipeline | None = None


def analyze(text_or_path: str | Path, encoding: str | None = None, **meta: Any) -> Article:
    """Analyse one article given as text or as a path to a file (txt, html, ...).

    ``encoding`` is a file's codec (default UTF-8; ``"auto"``: UTF-8 where it decodes, else its likeliest);
    ``meta`` (title, source, url, published) fills what the input does not say.
    """
    global _default
    from .ingest import read, read_text

    if _default is None:
        _default = Pipeline()
    value = str(text_or_path)
    is_path = isinstance(text_or_path, Path) or ("\n" not in value and len(value) < 4096 and Path(value).is_file())
    if is_path:
        results = list(read([value], encoding=encoding, **meta))
        if not results:
            raise InputError(value, "no article found")
        first = results[0]
        if isinstance(first, InputError):
            raise first
        return _default(first)
    return _default(read_text(value, **meta))
