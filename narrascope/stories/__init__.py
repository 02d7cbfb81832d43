"""Stories across outlets: threads (events and storylines) and side-by-side comparison.

>>> from narrascope.stories import thread_articles, thread_record, compare
>>> records = thread_articles(articles, store)         # one record per article, with its thread ids
>>> thread_record(store, records[0]["storyline_id"])   # a storyline, its events and their articles
>>> comparison = compare(articles)                     # shared facts, only-in facts, quotes, actors

``threading`` groups articles incrementally with stable ids, ``align`` matches sentences and quotes
across articles, ``contrast`` builds the comparison that ``narrascope.report.compare`` renders as HTML.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..document import Article
from .threading import Assignment, ThreadConfig, Threader

__all__ = [
    "compare_thread",
    "thread_articles",
    "thread_record",
    "list_threads",
    "compare",
    "Threader",
    "ThreadConfig",
    "Assignment",
]


def thread_articles(
    articles: Iterable[Article], store: Any = None, config: ThreadConfig | None = None
) -> list[dict[str, Any]]:
    """Assign articles to events and storylines and (with a ``store``) persist the assignments.

    Articles already threaded in the store keep their ids. Returns one record per article, in input
    order: id, title, url, source, published, event_id, storyline_id, duplicate_of.
    """
    arts = list(articles)
    threader = Threader.load(store, config) if store is not None else Threader(config)
    threader.add_many(arts)
    if store is not None:
        threader.save(store)
    return [threader.record(a.id) for a in arts]


def _record_columns() -> tuple[Any, ...]:
    from .tables import story_assignments as sa

    return (sa.c.article_id, sa.c.title, sa.c.url, sa.c.source, sa.c.published, sa.c.event_id, sa.c.storyline_id)


def list_threads(store: Any) -> list[dict[str, Any]]:
    """Every threaded article in the store, in arrival order, with its thread ids."""
    from sqlalchemy import select

    from .tables import metadata
    from .tables import story_assignments as sa
    from .tables import story_duplicates as sd

    metadata.create_all(store.engine)
    with store.engine.connect() as conn:
        dups = {r.article_id: r.duplicate_of for r in conn.execute(select(sd))}
        rows = conn.execute(
            select(*_record_columns()).order_by(sa.c.seq)
        ).all()
    return [_record(r._mapping, dups) for r in rows]


def thread_record(store: Any, thread_id: str) -> dict[str, Any]:
    """One event or storyline (by id or unique id prefix; an article id gives its event) with its articles.

    Raises ``LookupError`` when nothing (or more than one thread) matches.
    """
    from sqlalchemy import select

    from .tables import metadata
    from .tables import story_assignments as sa
    from .tables import story_duplicates as sd
    from .tables import story_events as se

    metadata.create_all(store.engine)
    with store.engine.connect() as conn:
        rows = conn.execute(select(se).where(se.c.id.like(f"{thread_id}%")).limit(2)).all()
        if not rows:
            art = conn.execute(
                select(sa.c.event_id).where(sa.c.article_id.like(f"{thread_id}%")).limit(2)
            ).all()
            if len(art) == 1:
                rows = conn.execute(select(se).where(se.c.id == art[0][0])).all()
        if len(rows) != 1:
            what = "no thread" if not rows else "more than one thread"
            raise LookupError(f"{what} matches {thread_id!r}; give an event (ev-…) or storyline (st-…) id")
        thread = rows[0]._mapping
        column = sa.c.event_id if thread["level"] == "event" else sa.c.storyline_id
        dups = {r.article_id: r.duplicate_of for r in conn.execute(select(sd))}
        members = conn.execute(
            select(*_record_columns())
            .where(column == thread["id"])
            .order_by(sa.c.seq)
        ).all()
    articles = sorted(
        (_record(r._mapping, dups) for r in members), key=lambda r: (r["published"] or "9999", r["id"])
    )
    dates = [r["published"] for r in articles if r["published"]]
    out: dict[str, Any] = {
        "id": thread["id"],
        "level": thread["level"],
        "storyline_id": thread["storyline_id"] if thread["level"] == "event" else thread["id"],
        "first_published": min(dates) if dates else None,
        "last_published": max(dates) if dates else None,
        "n_articles": len(articles),
        "n_distinct": sum(1 for r in articles if not r["duplicate_of"]),
        "sources": sorted({r["source"] for r in articles if r["source"]}),
        "articles": articles,
    }
    if thread["level"] == "storyline":
        events: dict[str, list[dict[str, Any]]] = {}
        for r in articles:
            events.setdefault(r["event_id"], []).append(r)
        out["events"] = [
            {
                "id": e,
                "first_published": min((r["published"] for r in rs if r["published"]), default=None),
                "n_distinct": sum(1 for r in rs if not r["duplicate_of"]),
                "article_ids": [r["id"] for r in rs],
            }
            for e, rs in events.items()
        ]
    return out


def _record(row: Any, dups: dict[str, str]) -> dict[str, Any]:
    return {
        "id": row["article_id"],
        "title": row["title"],
        "url": row["url"],
        "source": row["source"],
        "published": row["published"],
        "event_id": row["event_id"],
        "storyline_id": row["storyline_id"],
        "duplicate_of": dups.get(row["article_id"]),
    }


def compare(articles: list[Article]) -> dict[str, Any]:
    """Two or more articles side by side: shared facts, only-in facts, quotes, actors (JSON-able)."""
    from .contrast import compare as _compare

    return _compare(articles)


def compare_thread(store: Any, thread_id: str) -> dict[str, Any]:
    """Compare the distinct articles (duplicates left out) of a stored event or storyline."""
    record = thread_record(store, thread_id)
    articles = [store.get(r["id"]) for r in record["articles"] if not r["duplicate_of"]]
    found = [a for a in articles if a is not None]
    if len(found) < 2:
        raise LookupError(f"thread {record['id']} has fewer than two distinct stored articles to compare")
    result = compare(found)
    result["thread"] = {k: record[k] for k in ("id", "level", "storyline_id", "n_articles", "n_distinct")}
    return result
