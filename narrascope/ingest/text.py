"""Plain text in the SemEval layout: title line, blank line, body.

A file whose second line is not blank has no title line: all of it is body. Metadata can sit
beside the file as ``NAME.meta.json`` (keys: title, source, url, published, language).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..document import Article
from ..errors import InputError
from .clean import clean_body, clean_title, compose, normalise


def article_from_text(raw: str, source_name: str, meta: dict[str, Any] | None = None) -> Article:
    meta = dict(meta or {})
    text = normalise(raw).lstrip("\n")
    lines = text.split("\n", 2)
    if len(lines) >= 3 and lines[1].strip() == "" and len(lines[0]) < 300:
        title, body = lines[0].strip(), lines[2]
    else:
        title, body = "", text
    title = clean_title(meta.pop("title", None) or title)
    cleaned = clean_body(body)
    if not cleaned:
        raise InputError(source_name, "no article text left after removing boilerplate")
    return Article(
        text=compose(title, cleaned),
        title=title,
        original=raw,
        path=source_name,
        **{k: v for k, v in meta.items() if k in ("source", "url", "published", "language") and v},
    )


def sidecar_meta(path: Path) -> dict[str, Any]:
    side = path.with_name(path.stem + ".meta.json")
    if not side.is_file():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(str(side), f"unreadable metadata: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(str(side), "metadata must be a JSON object")
    return data
