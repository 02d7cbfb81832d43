"""Tables: articles, actors (corpus-wide canonical), per-article actor titles, mentions, quotes,
and a general findings table that analysers fill (narratives, roles, techniques, ...)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table, Text

SCHEMA_VERSION = 1
metadata = MetaData()

articles = Table(
    "articles", metadata,
    Column("id", String(32), primary_key=True),
    Column("title", Text, nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("original", Text),
    Column("source", Text),
    Column("url", Text),
    Column("published", String(40)),
    Column("language", String(12)),
    Column("path", Text),
    Column("meta", JSON),
    Column("analysed_at", String(40)),
)
actors = Table(
    "actors", metadata,
    Column("id", String(200), primary_key=True),
    Column("name", Text, nullable=False),
    Column("kind", String(12), nullable=False),
)
article_actors = Table(
    "article_actors", metadata,
    Column("article_id", String(32), ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("actor_id", String(200), ForeignKey("actors.id"), primary_key=True),
    Column("name", Text, nullable=False),
    Column("titles", JSON),
    Column("affiliation", Text),
)
mentions = Table(
    "mentions", metadata,
    Column("article_id", String(32), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("actor_id", String(200), ForeignKey("actors.id"), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text),
    Column("kind", String(12)),
    Index("ix_mentions_article", "article_id"),
    Index("ix_mentions_actor", "actor_id"),
)
quotes = Table(
    "quotes", metadata,
    Column("article_id", String(32), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("speaker", Text),
    Column("speaker_id", String(200)),
    Column("speaker_start", Integer),
    Column("speaker_end", Integer),
    Column("cue", Text),
    Column("cue_start", Integer),
    Column("cue_end", Integer),
    Column("score", Float),
    Index("ix_quotes_article", "article_id"),
    Index("ix_quotes_speaker", "speaker_id"),
)
findings = Table(
    "findings", metadata,
    Column("article_id", String(32), ForeignKey("articles.id", ondelete="CASCADE"), nullable=False),
    Column("layer", String(40), nullable=False),
    Column("label", Text, nullable=False),
    Column("start", Integer),
    Column("end", Integer),
    Column("score", Float),
    Column("analyser", String(60)),
    Column("version", String(40)),
    Column("attrs", JSON),
    Index("ix_findings_article", "article_id"),
    Index("ix_findings_layer_label", "layer", "label"),
)
info = Table(
    "narrascope_info", metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text),
)
