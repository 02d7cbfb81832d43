"""Tables of articles: JSON Lines, CSV/TSV and Parquet with text/title/url/outlet/published columns."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from ..document import Article
from ..errors import InputError
from .html import article_from_html, looks_like_html
from .text import article_from_text

TEXT_KEYS = ("text", "body", "content", "article")
FIELD_ALIASES = {"outlet": "source", "site": "source", "date": "published", "published_at": "published"}

Row = tuple[int, dict[str, Any]]


def article_from_row(row: dict[str, Any], where: str) -> Article:
    row = {FIELD_ALIASES.get(k.lower(), k.lower()): v for k, v in row.items() if k}
    text = next((row[k] for k in TEXT_KEYS if isinstance(row.get(k), str) and row[k].strip()), None)
    if text is None:
        raise InputError(where, f"no text: expected a non-empty column among {', '.join(TEXT_KEYS)}")
    meta = {k: str(row[k]) for k in ("title", "source", "url", "published", "language") if row.get(k)}
    if looks_like_html(text):
        return article_from_html(text, where, meta)
    title = meta.pop("title", "")
    # A row's text is the body; the title comes from its own column.
    raw = f"{title}\n\n{text}" if title else text
    return article_from_text(raw, where, meta)


def jsonl_rows(text: str, name: str) -> Iterator[Row | InputError]:
    for n, line in enumerate(io.StringIO(text), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            yield InputError(f"{name}:{n}", f"invalid JSON: {exc}")
            continue
        if not isinstance(row, dict):
            yield InputError(f"{name}:{n}", "each line must be a JSON object")
            continue
        yield n, row


def csv_rows(text: str, name: str, delimiter: str = ",") -> Iterator[Row | InputError]:
    csv.field_size_limit(50_000_000)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames or not {f.lower() for f in reader.fieldnames} & set(TEXT_KEYS):
        yield InputError(name, f"no text column: the header must have one of {', '.join(TEXT_KEYS)}")
        return
    for row in reader:
        yield reader.line_num, row


def parquet_rows(path: str) -> Iterator[Row | InputError]:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        yield InputError(path, "reading Parquet needs pyarrow", "pip install 'narrascope[parquet]'")
        return
    yield from enumerate(pq.read_table(path).to_pylist(), 1)
