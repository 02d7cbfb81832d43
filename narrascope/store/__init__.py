"""Storage: SQLite by default (a file in the user's data dir), PostgreSQL by URL.

Each article is written in one transaction (delete its old layers, insert the new ones), so a
re-run is idempotent and a run killed half way leaves only whole articles behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, text

from ..document import Actor, Article, Finding, Mention, Quote
from . import schema as t

__all__ = ["Store", "open_store"]


def _url(db: str) -> str:
    if "://" in db:
        return db
    path = Path(db).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class Store:
    def __init__(self, db: str) -> None:
        self.url = _url(db)
        self.engine: Engine = create_engine(self.url, future=True)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._create_schema()

    def _create_schema(self) -> None:
        # One process at a time: two runs opening a new database together would otherwise both
        # see a table missing and the second CREATE TABLE would fail.
        with self.engine.connect() as conn:
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif self.engine.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(4726110)"))
            t.metadata.create_all(conn)
            if self.is_sqlite:
                conn.execute(text(
                    "CREATE VIRTUAL TABLE IF NOT EXISTS articles_fts USING fts5("
                    "id UNINDEXED, title, text, tokenize='porter unicode61')"
                ))
            if conn.execute(select(t.info.c.value).where(t.info.c.key == "schema")).first() is None:
                conn.execute(insert(t.info).values(key="schema", value=str(t.SCHEMA_VERSION)))
            conn.commit()

    # ---- writing -------------------------------------------------------------------------
    def save(self, article: Article) -> None:
        """Write an article and all its layers, replacing what was stored for it before."""
        aid = article.id
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self.engine.begin() as conn:
            self._corpus_names(conn, article)
            for table in (t.mentions, t.quotes, t.findings, t.article_actors):
                conn.execute(delete(table).where(table.c.article_id == aid))
            conn.execute(delete(t.articles).where(t.articles.c.id == aid))
            conn.execute(insert(t.articles).values(
                id=aid, title=article.title, text=article.text, original=article.original,
                source=article.source, url=article.url, published=article.published,
                language=article.language, path=article.path, meta=article.meta, analysed_at=now,
            ))
            for actor in article.actors:
                self._upsert_actor(conn, actor)
                conn.execute(insert(t.article_actors).values(
                    article_id=aid, actor_id=actor.id, name=actor.name, titles=actor.titles,
                    affiliation=actor.affiliation,
                ))
            rows = [dict(article_id=aid, actor_id=m.actor, start=m.start, end=m.end, text=m.text, kind=m.kind)
                    for a in article.actors for m in a.mentions]
            if rows:
                conn.execute(insert(t.mentions), rows)
            if article.quotes:
                conn.execute(insert(t.quotes), [dict(article_id=aid, **vars(q)) for q in article.quotes])
            if article.findings:
                conn.execute(insert(t.findings), [dict(article_id=aid, **vars(f)) for f in article.findings])
            if self.is_sqlite:
                conn.execute(text("DELETE FROM articles_fts WHERE id = :id"), {"id": aid})
                conn.execute(text("INSERT INTO articles_fts(id, title, text) VALUES (:id, :title, :text)"),
                             {"id": aid, "title": article.title, "text": article.text})

    def _corpus_names(self, conn: Any, article: Article) -> None:
        """A person named by surname alone ('Yoon') takes the corpus's full name ('Yoon Suk-yeol')
        when exactly one stored person carries that name."""
        for actor in article.actors:
            if actor.kind != "PERSON" or "-" in actor.id:
                continue
            rows = conn.execute(select(t.actors.c.id, t.actors.c.name).where(
                t.actors.c.kind == "PERSON", t.actors.c.id.like(f"%{actor.id}%"))).all()
            full = [r for r in rows if actor.id in r[0].split("-") and r[0] != actor.id]
            if len(full) != 1:
                continue
            old, new_id, new_name = actor.id, full[0][0], full[0][1]
            actor.id, actor.name = new_id, new_name
            for m in actor.mentions:
                m.actor = new_id
            for q in article.quotes:
                if q.speaker_id == old:
                    q.speaker_id, q.speaker = new_id, new_name
            for f in article.findings:
                if f.attrs.get("actor_id") == old:
                    f.attrs["actor_id"], f.attrs["actor"] = new_id, new_name

    def _upsert_actor(self, conn: Any, actor: Actor) -> None:
        row = conn.execute(select(t.actors.c.name).where(t.actors.c.id == actor.id)).first()
        if row is None:
            conn.execute(insert(t.actors).values(id=actor.id, name=actor.name, kind=actor.kind))

    # ---- reading -------------------------------------------------------------------------
    def current(self, article_id: str, versions: dict[str, str]) -> Article | None:
        """The stored article if the same analyser versions produced it, else None (analyse it again)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(t.articles.c.meta).where(t.articles.c.id == article_id)).first()
        if row is None or (row[0] or {}).get("versions") != versions:
            return None
        return self.get(article_id)

    def get(self, article_id: str) -> Article | None:
        """An article by id, or by a unique id prefix."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(t.articles).where(t.articles.c.id.like(f"{article_id}%")).limit(2)).all()
            if len(rows) != 1:
                return None
            a = rows[0]._mapping
            art = Article(text=a["text"], title=a["title"], source=a["source"], url=a["url"],
                          published=a["published"], language=a["language"] or "en", path=a["path"],
                          original=a["original"], id=a["id"], meta=a["meta"] or {})
            aid = art.id
            by_actor: dict[str, Actor] = {}
            for r in conn.execute(select(t.article_actors, t.actors.c.kind).join(t.actors)
                                  .where(t.article_actors.c.article_id == aid)):
                m = r._mapping
                by_actor[m["actor_id"]] = Actor(id=m["actor_id"], name=m["name"], kind=m["kind"],
                                                titles=m["titles"] or [], affiliation=m["affiliation"])
            for r in conn.execute(select(t.mentions).where(t.mentions.c.article_id == aid)
                                  .order_by(t.mentions.c.start)):
                m = r._mapping
                if m["actor_id"] in by_actor:
                    by_actor[m["actor_id"]].mentions.append(
                        Mention(m["start"], m["end"], m["text"], m["actor_id"], m["kind"]))
            art.actors = sorted(by_actor.values(), key=lambda x: (-len(x.mentions), x.name))
            qcols = [c for c in t.quotes.c if c.name != "article_id"]
            art.quotes = [Quote(**dict(r._mapping)) for r in conn.execute(
                select(*qcols).where(t.quotes.c.article_id == aid).order_by(t.quotes.c.start))]
            fcols = [c for c in t.findings.c if c.name != "article_id"]
            art.findings = [Finding(**{**dict(r._mapping), "attrs": r._mapping["attrs"] or {}}) for r in conn.execute(
                select(*fcols).where(t.findings.c.article_id == aid))]
        return art

    def ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(t.articles.c.id).order_by(t.articles.c.id))]

    def iter_articles(self) -> Iterator[Article]:
        for aid in self.ids():
            art = self.get(aid)
            if art is not None:
                yield art

    def count(self, table: str = "articles") -> int:
        tbl = t.metadata.tables[table]
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(tbl)).scalar_one())

    def search(self, query: str, limit: int = 20) -> list[dict[str, Any]]:
        """Full-text search: FTS5 on SQLite (with snippets), full-text search on PostgreSQL."""
        with self.engine.connect() as conn:
            if self.is_sqlite:
                sql = text(
                    "SELECT f.id, a.title, a.source, snippet(articles_fts, 2, '[', ']', ' … ', 12) AS snippet, "
                    "bm25(articles_fts) AS rank FROM articles_fts f JOIN articles a ON a.id = f.id "
                    "WHERE articles_fts MATCH :q ORDER BY rank LIMIT :n"
                )
                rows = conn.execute(sql, {"q": _fts_query(query), "n": limit})
            else:
                doc, query_ = "to_tsvector('english', title || ' ' || text)", "plainto_tsquery('english', :q)"
                sql = text(
                    f"SELECT id, title, source, ts_headline('english', text, {query_}) AS snippet, "
                    f"ts_rank({doc}, {query_}) AS rank FROM articles WHERE {doc} @@ {query_} "
                    "ORDER BY rank DESC LIMIT :n"
                )
                rows = conn.execute(sql, {"q": query, "n": limit})
            return [dict(r._mapping) for r in rows]

    def actor_index(self, limit: int = 50) -> list[dict[str, Any]]:
        """Actors across the corpus with the number of articles and quotes."""
        with self.engine.connect() as conn:
            q = (select(t.actors.c.id, t.actors.c.name, t.actors.c.kind,
                        func.count(func.distinct(t.article_actors.c.article_id)).label("articles"))
                 .join(t.article_actors, t.article_actors.c.actor_id == t.actors.c.id)
                 .group_by(t.actors.c.id, t.actors.c.name, t.actors.c.kind)
                 .order_by(func.count(func.distinct(t.article_actors.c.article_id)).desc(), t.actors.c.name)
                 .limit(limit))
            return [dict(r._mapping) for r in conn.execute(q)]


def _fts_query(query: str) -> str:
    """Treat the user's words as terms (quoted), keeping explicit FTS5 syntax when present."""
    if any(op in query for op in ('"', " OR ", " AND ", " NOT ", "*", "NEAR(")):
        return query
    return " ".join('"' + w.replace('"', "") + '"' for w in query.split())


def _sqlite_pragmas(dbapi_conn: Any, _: Any) -> None:
    import sqlite3
    import time

    cur = dbapi_conn.cursor()
    # Switching a new database to WAL needs an exclusive lock. When another process holds a write lock
    # (creating the schema), SQLite answers "locked" at once instead of waiting (it would deadlock),
    # so wait here; once a database is in WAL mode the pragma needs no lock.
    for attempt in range(100):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05 + 0.01 * attempt)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def open_store(db: str | None = None) -> Store:
    from ..settings import get_settings

    return Store(db or get_settings().db)
