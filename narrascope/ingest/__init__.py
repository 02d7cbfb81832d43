"""Readers: anything a user points at -> :class:`~narrascope.document.Article` objects.

``read(inputs)`` takes paths, folders, globs, URLs and ``-`` (stdin) and yields an Article or
an :class:`~narrascope.errors.InputError` per input, so one bad file never stops the others.
"""

from __future__ import annotations

import glob
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..document import Article
from ..errors import InputError
from ..settings import get_settings
from .decode import decode, read_bytes
from .feeds import articles_from_feed, looks_like_feed
from .html import article_from_html, looks_like_html
from .tables import article_from_row, csv_rows, jsonl_rows, parquet_rows
from .text import article_from_text, sidecar_meta

__all__ = ["read", "read_text", "expand", "article_from_text", "article_from_html", "SUFFIXES"]

SUFFIXES = {".txt", ".text", ".html", ".htm", ".jsonl", ".ndjson", ".csv", ".tsv", ".parquet",
            ".rss", ".atom", ".xml"}


def expand(inputs: Iterable[str]) -> Iterator[str]:
    """Folders (recursively) and globs to files; other inputs pass through as given."""
    for item in inputs:
        if item == "-" or item.startswith(("http://", "https://")):
            yield item
            continue
        path = Path(item)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _wanted(p))
            if not files:
                yield str(path)  # reported as an error by read()
            yield from (str(p) for p in files)
        elif any(ch in item for ch in "*?[") and not path.exists():
            matches = sorted(glob.glob(item, recursive=True))
            if not matches:
                yield item
            yield from (m for m in matches if Path(m).is_file() and _wanted(Path(m)))
        else:
            yield item


def _wanted(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES and not path.name.endswith(".meta.json") and not path.name.startswith(".")


def read(inputs: Iterable[str], encoding: str | None = None, **meta: Any) -> Iterator[Article | InputError]:
    """Yield an Article (or an InputError) for every article in ``inputs``.

    ``meta`` (source, url, published, language) fills what the input itself does not say.
    """
    for item in expand(inputs):
        try:
            yield from _read_one(item, encoding, meta)
        except InputError as err:
            yield err
        except OSError as exc:
            yield InputError(item, f"cannot read: {exc.strerror or exc}")


def read_text(text: str, name: str = "<text>", **meta: Any) -> Article:
    """One article from a string (plain text in the SemEval layout, or HTML)."""
    if looks_like_html(text):
        return article_from_html(text, name, meta)
    return article_from_text(text, name, meta)


def _read_one(item: str, encoding: str | None, meta: dict[str, Any]) -> Iterator[Article | InputError]:
    limit = get_settings().max_bytes
    if item.startswith(("http://", "https://")):
        yield _fetch(item, meta)
        return
    if item == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise InputError("<stdin>", f"input over the {limit / 1e6:.0f} MB limit")
        name, suffix = "<stdin>", ""
    else:
        path = Path(item)
        if path.is_dir():
            raise InputError(item, "folder has no files narrascope reads", f"expected {', '.join(sorted(SUFFIXES))}")
        data = read_bytes(path, limit)
        name, suffix = item, path.suffix.lower()
        meta = {**meta, **sidecar_meta(path)}
    if suffix == ".parquet":
        yield from _rows(parquet_rows(name), name, meta)
        return
    text = decode(data, name, encoding)
    if suffix in (".jsonl", ".ndjson") or (not suffix and text.lstrip().startswith("{")):
        yield from _rows(jsonl_rows(text, name), name, meta)
    elif suffix in (".csv", ".tsv"):
        yield from _rows(csv_rows(text, name, "\t" if suffix == ".tsv" else ","), name, meta)
    elif suffix in (".rss", ".atom", ".xml") or looks_like_feed(text):
        yield from articles_from_feed(text, name)
    elif suffix in (".html", ".htm") or looks_like_html(text):
        yield article_from_html(text, name, meta)
    else:
        yield article_from_text(text, name, meta)


def _rows(rows: Iterable[Any], name: str, meta: dict[str, Any]) -> Iterator[Article | InputError]:
    for item in rows:
        if isinstance(item, InputError):
            yield item
            continue
        n, row = item
        try:
            yield article_from_row({**meta, **{k: v for k, v in row.items() if v not in (None, "")}}, f"{name}:{n}")
        except InputError as err:
            yield err


def _fetch(url: str, meta: dict[str, Any]) -> Article:
    import urllib.error
    import urllib.request

    limit = get_settings().max_bytes
    request = urllib.request.Request(url, headers={"User-Agent": "narrascope (+https://pypi.org/project/narrascope)"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - the user asked for this URL
            data = resp.read(limit + 1)
            charset = resp.headers.get_content_charset()
    except (urllib.error.URLError, TimeoutError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise InputError(url, f"could not download the page: {reason}",
                         "check the URL and your network, or save the page and pass the file") from None
    if len(data) > limit:
        raise InputError(url, f"page over the {limit / 1e6:.0f} MB limit")
    return article_from_html(decode(data, url, charset), url, {**meta, "url": url})
