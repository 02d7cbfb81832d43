"""RSS/Atom feeds: one article per entry (full content where the feed carries it, else summary)."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator

from ..document import Article
from ..errors import InputError
from .text import article_from_text

_TAG = re.compile(r"<[^>]+>")


def looks_like_feed(text: str) -> bool:
    head = text[:1024].lower()
    return "<rss" in head or "<feed" in head or "<rdf:rdf" in head


def articles_from_feed(text: str, name: str) -> Iterator[Article | InputError]:
    import feedparser

    feed = feedparser.parse(text)
    if not feed.entries:
        yield InputError(name, "feed has no entries" + (f": {feed.bozo_exception}" if feed.bozo else ""))
        return
    outlet = feed.feed.get("title")
    for n, entry in enumerate(feed.entries, 1):
        content = entry.get("content", [{}])[0].get("value") or entry.get("summary") or ""
        body = html_lib.unescape(_TAG.sub("\n", content))
        body = "\n".join(line.strip() for line in body.splitlines() if line.strip())
        where = f"{name}#entry{n}"
        if not body:
            yield InputError(where, "feed entry has no text")
            continue
        meta = {"source": outlet, "url": entry.get("link"), "published": entry.get("published")}
        try:
            yield article_from_text(f"{entry.get('title', '')}\n\n{body}", where, meta)
        except InputError as err:
            yield err
