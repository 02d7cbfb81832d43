"""HTML pages: main text and metadata through trafilatura."""

from __future__ import annotations

from typing import Any

from ..document import Article
from ..errors import InputError
from .clean import clean_body, clean_title, compose


def article_from_html(html: str, source_name: str, meta: dict[str, Any] | None = None) -> Article:
    import trafilatura

    meta = dict(meta or {})
    try:
        doc = trafilatura.bare_extraction(
            html, url=meta.get("url"), with_metadata=True, include_comments=False, favor_precision=True
        )
    except Exception as exc:  # trafilatura raises a variety of parser errors on broken pages
        raise InputError(source_name, f"could not parse HTML: {exc}") from None
    if doc is None:
        raise InputError(source_name, "no article text found in this HTML page", "is it an article page?")
    data = doc if isinstance(doc, dict) else doc.as_dict()
    body = clean_body(data.get("text") or "")
    if not body:
        raise InputError(source_name, "no article text found in this HTML page", "is it an article page?")
    title = clean_title(meta.get("title") or data.get("title") or "")
    first, _, rest = body.partition("\n")
    if title and clean_title(first) == title and rest.strip():
        body = rest.lstrip("\n")  # trafilatura often repeats the headline as the first line
    return Article(
        text=compose(title, body),
        title=title,
        source=meta.get("source") or data.get("sitename") or data.get("hostname"),
        url=meta.get("url") or data.get("url"),
        published=meta.get("published") or data.get("date"),
        language=meta.get("language") or data.get("language") or "en",
        original=html,
        path=source_name,
    )


def looks_like_html(text: str) -> bool:
    head = text[:2048].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)
