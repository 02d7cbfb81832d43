"""The stories layer's own tables, created on the Store's engine (separate MetaData, so the core
schema in ``narrascope.store`` is untouched).

``story_events`` holds both levels: events (``level='event'``, with their storyline) and
storylines (``level='storyline'``). ``story_assignments`` keeps, per article, its thread ids and the
features the threader needs to resume (vector, entities, date, MinHash signature), so threading
can continue without re-embedding the corpus.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, LargeBinary, MetaData, String, Table, Text
from sqlalchemy.types import JSON

metadata = MetaData()

story_events = Table(
    "story_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("level", String(12), nullable=False),  # event | storyline
    Column("storyline_id", String(40)),  # for events
    Column("founder", String(32), nullable=False),  # the article that opened it
    Column("created_seq", Integer, nullable=False),
)
story_assignments = Table(
    "story_assignments",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("seq", Integer, nullable=False),  # arrival order
    Column("event_id", String(40), nullable=False),
    Column("storyline_id", String(40), nullable=False),
    Column("title", Text),
    Column("url", Text),
    Column("source", Text),
    Column("published", String(40)),
    Column("score", Float),  # similarity that decided the event (None when it opened one)
    Column("entities", JSON),
    Column("vector", LargeBinary),  # float16, L2-normalised
    Column("minhash", LargeBinary),  # uint32 signature
    Index("ix_story_assignments_event", "event_id"),
    Index("ix_story_assignments_storyline", "storyline_id"),
)
story_duplicates = Table(
    "story_duplicates",
    metadata,
    Column("article_id", String(32), primary_key=True),
    Column("duplicate_of", String(32), nullable=False),
    Column("similarity", Float, nullable=False),  # estimated Jaccard of word shingles
)
