"""Incremental threading of articles into events and storylines.

Two levels: an *event* groups articles about the same happening (published a few days apart at most);
a *storyline* groups related events over months. Each new article is compared with its nearest
neighbours in an approximate nearest-neighbour index (hnswlib when installed, exact search otherwise),
so the cost per article stays about constant and threading a corpus grows about linearly with its size.

The same-story score of two articles is the cosine of their title+lead embeddings plus a bonus for shared
names (actor ids from the actors analyser, capitalised words otherwise). An article joins the event of
its best neighbour when the score passes the event threshold and the dates (when both are known) are
within ``event_days``; else it joins its best neighbour's storyline when the score passes the lower
storyline threshold, and opens a new event there; else it opens a storyline and an event.

Near-duplicates and wire copies are found with MinHash over word 4-grams and banded LSH; a copy is
marked ``duplicate_of`` its first-seen original, joins its threads and is not counted twice.

Ids are stable: a thread is named after the article that opened it (``ev-…``, ``st-…``) and never renamed.
A batch is threaded in a canonical order (date, then id), so the same articles give the same ids
whatever order they arrive in within one call.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..document import Article
from .text import name_keys, split_spans

__all__ = [
    "ThreadConfig",
    "Assignment",
    "Threader",
    "MinHasher",
    "article_vectors",
    "parse_day",
    "story_similarity",
    "entity_keys",
]


@dataclass
class ThreadConfig:
    event_threshold: float = 0.62  # score to join an event when both dates are known
    undated_threshold: float = 0.70  # score to join an event when a date is missing
    storyline_threshold: float = 0.50  # score to join a storyline
    entity_weight: float = 0.15  # weight of the shared-names overlap in the score
    event_days: int = 4  # largest date gap inside an event
    storyline_days: int = 730  # largest gap between an event and the storyline article it links to
    neighbours: int = 30
    duplicate_jaccard: float = 0.7  # estimated Jaccard of word 4-gram shingles that marks a copy
    num_perm: int = 64
    bands: int = 16


@dataclass
class Assignment:
    article_id: str
    event_id: str
    storyline_id: str
    duplicate_of: str | None = None
    score: float | None = None  # the score that decided the event; None when the article opened it
    similarity: float | None = None  # estimated Jaccard with the original, for duplicates


@dataclass
class _Item:
    article_id: str
    seq: int
    event_id: str
    storyline_id: str
    day: int | None
    entities: frozenset[str]
    meta: dict[str, Any] = field(default_factory=dict)  # title, url, source, published


@dataclass
class _Event:
    id: str
    storyline_id: str
    founder: str
    seq: int
    first: int | None = None
    last: int | None = None

    def admits(self, day: int | None, span: int) -> bool:
        if day is None or self.first is None or self.last is None:
            return True
        return max(self.last, day) - min(self.first, day) <= span

    def extend(self, day: int | None) -> None:
        if day is not None:
            self.first = day if self.first is None else min(self.first, day)
            self.last = day if self.last is None else max(self.last, day)


# ---- features ------------------------------------------------------------------------------


def parse_day(published: str | None) -> int | None:
    """Day number of an ISO date or datetime (also RFC 2822 dates); None when absent or unreadable."""
    if not published:
        return None
    value = str(published).strip()
    try:
        return dt.date.fromisoformat(value[:10]).toordinal()
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        return parsedate_to_datetime(value).date().toordinal()
    except (TypeError, ValueError, IndexError):
        return None


def _head_and_lead(article: Article, lead_chars: int = 600) -> tuple[str, str]:
    text = article.text
    body = article.body_start
    spans = split_spans(text, body, min(len(text), body + lead_chars + 400))
    title = article.title.strip()
    if not title and spans:
        title = text[spans[0][0] : spans[0][1]]
    lead, size = [], 0
    for a, b in spans:
        if size >= lead_chars:
            break
        lead.append(text[a:b])
        size += b - a
    return title or text[:200], " ".join(lead) or title or text[:lead_chars]


def article_vectors(articles: Sequence[Article]) -> np.ndarray:
    """One L2-normalised vector per article: the sum of its title and lead embeddings."""
    from ..embed import embed, unit_rows

    if not articles:
        return np.zeros((0, 384), dtype=np.float32)
    pieces = [p for a in articles for p in _head_and_lead(a)]
    emb = embed(pieces)
    vec = emb[0::2] + emb[1::2]
    return unit_rows(vec).astype(np.float32)


def entity_keys(article: Article) -> frozenset[str]:
    """Names an article is about: its actors' ids (split into words) and capitalised words of the
    title and lead, so analysed and unanalysed articles are comparable."""
    keys = name_keys(" ".join(_head_and_lead(article, 1200)))
    for actor in article.actors:
        keys.update(w for w in actor.id.split("-") if len(w) > 2)
    return frozenset(keys)


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient, damped for tiny sets so two one-name sets do not count as identical."""
    if not a or not b:
        return 0.0
    return len(a & b) / max(3, min(len(a), len(b)))


def story_similarity(
    vec_a: np.ndarray,
    vec_b: np.ndarray,
    ents_a: frozenset[str],
    ents_b: frozenset[str],
    entity_weight: float = ThreadConfig.entity_weight,
) -> float:
    """The same-story score used for threading (cosine + shared-names bonus)."""
    return float(np.dot(vec_a, vec_b)) + entity_weight * overlap(ents_a, ents_b)


# ---- MinHash -------------------------------------------------------------------------------

_MERSENNE = np.uint64((1 << 61) - 1)


class MinHasher:
    """MinHash signatures of word n-gram shingles (stable across processes: crc32 token hashes)."""

    def __init__(self, num_perm: int = 64, ngram: int = 4, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.ngram = ngram
        self.a = rng.integers(1, (1 << 61) - 1, size=num_perm, dtype=np.uint64) | np.uint64(1)
        self.b = rng.integers(0, (1 << 61) - 1, size=num_perm, dtype=np.uint64)
        self._mix = np.array(
            [
                0x9E3779B97F4A7C15,
                0xC2B2AE3D27D4EB4F,
                0x165667B19E3779F9,
                0x27D4EB2F165667C5,
                0x94D049BB133111EB,
            ][:ngram],
            dtype=np.uint64,
        )
        self._cache = _Crc32()

    def _token_ids(self, text: str) -> np.ndarray:
        if len(self._cache) > 500_000:
            self._cache.clear()
        tokens = _TOKEN.findall(text.lower().replace("’", "'"))
        return np.fromiter(map(self._cache.__getitem__, tokens), dtype=np.uint64, count=len(tokens))

    def signature(self, text: str) -> np.ndarray:
        tok = self._token_ids(text)
        n = self.ngram
        if len(tok) < n:
            tok = np.concatenate([tok, np.zeros(n - len(tok), dtype=np.uint64)])
        windows = np.lib.stride_tricks.sliding_window_view(tok, n)
        with np.errstate(over="ignore"):
            shingles = np.unique((windows * self._mix).sum(axis=1))  # wrap-around mixing is intended
            hashed = (self.a[:, None] * shingles[None, :] + self.b[:, None]) >> np.uint64(32)
        return hashed.min(axis=1).astype(np.uint32)


class _Crc32(dict[str, int]):
    """Token -> crc32, computed once per token."""

    def __missing__(self, key: str) -> int:
        value = self[key] = zlib.crc32(key.encode("utf-8"))
        return value


_TOKEN = re.compile(r"[a-z][a-z'\-]*|\d+(?:[.,]\d+)*")


def jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    return float(np.mean(sig_a == sig_b))


# ---- nearest neighbours --------------------------------------------------------------------


class _VectorIndex:
    """Cosine nearest neighbours: hnswlib's HNSW graph when installed, exact search otherwise."""

    def __init__(self, dim: int = 384, seed: int = 13) -> None:
        self.dim, self.n = dim, 0
        self.vectors = np.zeros((0, dim), dtype=np.float32)  # exact search only
        try:
            import hnswlib  # type: ignore[import-untyped]

            self.hnsw: Any = hnswlib.Index(space="ip", dim=dim)
            self.hnsw.init_index(max_elements=1024, ef_construction=100, M=16, random_seed=seed)
            self.hnsw.set_num_threads(1)  # deterministic insertion order
        except ImportError:
            self.hnsw = None

    def add(self, vec: np.ndarray) -> int:
        vec = np.asarray(vec, dtype=np.float32)
        if self.hnsw is not None:
            if self.n == self.hnsw.get_max_elements():
                self.hnsw.resize_index(2 * self.n)
            self.hnsw.add_items(vec[None, :], np.array([self.n]))
        else:
            if self.n == len(self.vectors):
                self.vectors = np.concatenate(
                    [self.vectors, np.zeros((max(1024, self.n), self.dim), np.float32)]
                )
            self.vectors[self.n] = vec
        self.n += 1
        return self.n - 1

    def query(self, vec: np.ndarray, k: int) -> list[tuple[int, float]]:
        k = min(k, self.n)
        if k == 0:
            return []
        vec = np.asarray(vec, dtype=np.float32)
        if self.hnsw is not None:
            self.hnsw.set_ef(max(64, 2 * k))  # ef above the index size makes small indexes exact
            labels, dist = self.hnsw.knn_query(vec[None, :], k=k)
            return [(int(i), 1.0 - float(d)) for i, d in zip(labels[0], dist[0], strict=True)]
        sims = self.vectors[: self.n] @ vec
        top = np.argpartition(-sims, k - 1)[:k] if k < self.n else np.arange(self.n)
        return sorted(((int(i), float(sims[i])) for i in top), key=lambda x: -x[1])


# ---- the threader --------------------------------------------------------------------------


class Threader:
    """Assigns articles to events and storylines, one at a time, with stable ids.

    >>> t = Threader()
    >>> assignments = t.add_many(articles)          # embeds titles and leads
    >>> t.add(article, vector=v)                    # or bring your own vector
    """

    def __init__(self, config: ThreadConfig | None = None) -> None:
        self.config = config or ThreadConfig()
        self.minhash = MinHasher(self.config.num_perm)
        self.index = _VectorIndex()
        self.items: list[_Item] = []  # index position -> item (originals only)
        self.assigned: dict[str, Assignment] = {}
        self.meta: dict[str, dict[str, Any]] = {}  # article id -> title/url/source/published
        self.events: dict[str, _Event] = {}
        self.storylines: dict[str, tuple[str, int]] = {}  # id -> (founder article, creation seq)
        self.seqs: dict[str, int] = {}  # article id -> arrival order
        self.signatures: dict[str, np.ndarray] = {}
        self._buckets: dict[tuple[int, bytes], list[str]] = defaultdict(list)
        self._features: dict[str, tuple[bytes, list[str]]] = {}  # for persistence: vector bytes, entities
        self._seq = 0
        self._new: list[str] = []  # assigned since the last save

    def __contains__(self, article_id: str) -> bool:
        return article_id in self.assigned

    # -- assigning --
    def add_many(self, articles: Iterable[Article], vectors: np.ndarray | None = None) -> list[Assignment]:
        """Thread a batch in canonical order (date, then id); returns assignments in input order."""
        arts = list(articles)
        todo = [i for i, a in enumerate(arts) if a.id not in self.assigned]
        if vectors is None:
            vecs = article_vectors([arts[i] for i in todo])
            by_pos = {i: vecs[j] for j, i in enumerate(todo)}
        else:
            by_pos = {i: vectors[i] for i in todo}
        order = sorted(todo, key=lambda i: (parse_day(arts[i].published) or 10**7, arts[i].id))
        for i in order:
            if arts[i].id not in self.assigned:  # the same text twice in one batch
                self.add(arts[i], by_pos[i])
        return [self.assigned[a.id] for a in arts]

    def add(
        self,
        article: Article,
        vector: np.ndarray | None = None,
        entities: frozenset[str] | None = None,
        signature: np.ndarray | None = None,
    ) -> Assignment:
        if article.id in self.assigned:
            return self.assigned[article.id]
        vec = article_vectors([article])[0] if vector is None else np.asarray(vector, dtype=np.float32)
        ents = entity_keys(article) if entities is None else entities
        sig = self.minhash.signature(article.text[article.body_start :]) if signature is None else signature
        day = parse_day(article.published)
        self._seq += 1
        meta = {
            "title": article.title or _display_title(article),
            "url": article.url,
            "source": article.source,
            "published": article.published,
        }

        dup = self._duplicate_of(sig)
        if dup is not None:
            original, sim = dup
            orig = self.assigned[original]
            a = Assignment(article.id, orig.event_id, orig.storyline_id, original, None, sim)
            self.events[orig.event_id].extend(day)
        else:
            a = self._assign(article.id, vec, ents, day)
            self.index.add(vec)
            self.items.append(_Item(article.id, self._seq, a.event_id, a.storyline_id, day, ents))
            self._index_signature(article.id, sig)
        self.assigned[article.id] = a
        self.meta[article.id] = meta
        self.signatures[article.id] = sig
        self._features[article.id] = (vec.astype(np.float16).tobytes(), sorted(ents))
        self.seqs[article.id] = self._seq
        self._new.append(article.id)
        return a

    def _assign(self, aid: str, vec: np.ndarray, ents: frozenset[str], day: int | None) -> Assignment:
        cfg = self.config
        best_event: tuple[float, _Item] | None = None
        best_story: tuple[float, _Item] | None = None
        for pos, sim in self.index.query(vec, cfg.neighbours):
            item = self.items[pos]
            score = sim + cfg.entity_weight * overlap(ents, item.entities)
            gap = None if day is None or item.day is None else abs(day - item.day)
            if gap is None:
                joins = score >= cfg.undated_threshold
            else:
                joins = score >= cfg.event_threshold and gap <= cfg.event_days
            if joins and self.events[item.event_id].admits(day, cfg.event_days * 2):
                if best_event is None or score > best_event[0]:
                    best_event = (score, item)
            if score >= cfg.storyline_threshold and (gap is None or gap <= cfg.storyline_days):
                if best_story is None or score > best_story[0]:
                    best_story = (score, item)
        if best_event is not None:
            score, item = best_event
            self.events[item.event_id].extend(day)
            return Assignment(aid, item.event_id, item.storyline_id, None, round(score, 4))
        if best_story is not None:
            storyline = best_story[1].storyline_id
        else:
            storyline = "st-" + aid[:12]
            self.storylines[storyline] = (aid, self._seq)
        event = _Event("ev-" + aid[:12], storyline, aid, self._seq)
        event.extend(day)
        self.events[event.id] = event
        return Assignment(aid, event.id, storyline)

    def _duplicate_of(self, sig: np.ndarray) -> tuple[str, float] | None:
        best: tuple[str, float] | None = None
        seen: set[str] = set()
        for key in self._band_keys(sig):
            for other in self._buckets.get(key, ()):
                if other in seen:
                    continue
                seen.add(other)
                sim = jaccard(sig, self.signatures[other])
                if sim >= self.config.duplicate_jaccard and (best is None or sim > best[1]):
                    best = (other, round(sim, 4))
        return best

    def _band_keys(self, sig: np.ndarray) -> list[tuple[int, bytes]]:
        rows = len(sig) // self.config.bands
        return [(b, sig[b * rows : (b + 1) * rows].tobytes()) for b in range(self.config.bands)]

    def _index_signature(self, aid: str, sig: np.ndarray) -> None:
        for key in self._band_keys(sig):
            self._buckets[key].append(aid)

    # -- reading --
    def record(self, article_id: str) -> dict[str, Any]:
        a = self.assigned[article_id]
        return {
            "id": article_id,
            **self.meta[article_id],
            "event_id": a.event_id,
            "storyline_id": a.storyline_id,
            "duplicate_of": a.duplicate_of,
        }

    def records(self) -> list[dict[str, Any]]:
        return [self.record(aid) for aid in self.assigned]

    # -- persistence --
    @classmethod
    def load(cls, store: Any, config: ThreadConfig | None = None) -> Threader:
        """Rebuild a threader from the assignments stored on ``store`` (a narrascope Store)."""
        from sqlalchemy import select

        from .tables import metadata
        from .tables import story_assignments as sa
        from .tables import story_duplicates as sd
        from .tables import story_events as se

        metadata.create_all(store.engine)
        t = cls(config)
        with store.engine.connect() as conn:
            dups = {r.article_id: (r.duplicate_of, r.similarity) for r in conn.execute(select(sd))}
            for r in conn.execute(select(se).order_by(se.c.created_seq)):
                if r.level == "storyline":
                    t.storylines[r.id] = (r.founder, r.created_seq)
                else:
                    t.events[r.id] = _Event(r.id, r.storyline_id, r.founder, r.created_seq)
            for r in conn.execute(select(sa).order_by(sa.c.seq)):
                t._seq = max(t._seq, r.seq)
                t.seqs[r.article_id] = r.seq
                day = parse_day(r.published)
                ents = frozenset(r.entities or [])
                vec = np.frombuffer(r.vector, dtype=np.float16).astype(np.float32)
                sig = np.frombuffer(r.minhash, dtype=np.uint32).copy()
                dup = dups.get(r.article_id)
                t.assigned[r.article_id] = Assignment(
                    r.article_id,
                    r.event_id,
                    r.storyline_id,
                    dup[0] if dup else None,
                    r.score,
                    dup[1] if dup else None,
                )
                t.meta[r.article_id] = {
                    "title": r.title,
                    "url": r.url,
                    "source": r.source,
                    "published": r.published,
                }
                t.signatures[r.article_id] = sig
                t._features[r.article_id] = (r.vector, sorted(ents))
                if r.event_id in t.events:
                    t.events[r.event_id].extend(day)
                if dup is None:
                    t.index.add(vec)
                    t.items.append(_Item(r.article_id, r.seq, r.event_id, r.storyline_id, day, ents))
                    t._index_signature(r.article_id, sig)
        return t

    def save(self, store: Any) -> None:
        """Write the assignments made since the last load/save (ids already stored are kept)."""
        from sqlalchemy import insert, select

        from .tables import metadata
        from .tables import story_assignments as sa
        from .tables import story_duplicates as sd
        from .tables import story_events as se

        metadata.create_all(store.engine)
        if not self._new:
            return
        with store.engine.begin() as conn:
            have = {r[0] for r in conn.execute(select(se.c.id))}
            rows = [
                dict(id=s, level="storyline", storyline_id=None, founder=founder, created_seq=seq)
                for s, (founder, seq) in self.storylines.items()
                if s not in have
            ]
            rows += [
                dict(
                    id=e.id, level="event", storyline_id=e.storyline_id, founder=e.founder, created_seq=e.seq
                )
                for e in self.events.values()
                if e.id not in have
            ]
            if rows:
                conn.execute(insert(se), rows)
            stored = {
                r[0] for r in conn.execute(select(sa.c.article_id).where(sa.c.article_id.in_(self._new)))
            }
            arows, drows = [], []
            for aid in self._new:
                if aid in stored:
                    continue
                a, meta = self.assigned[aid], self.meta[aid]
                vec, ents = self._features[aid]
                arows.append(
                    dict(
                        article_id=aid,
                        seq=self.seqs[aid],
                        event_id=a.event_id,
                        storyline_id=a.storyline_id,
                        score=a.score,
                        entities=ents,
                        vector=vec,
                        minhash=self.signatures[aid].astype(np.uint32).tobytes(),
                        **meta,
                    )
                )
                if a.duplicate_of:
                    drows.append(
                        dict(article_id=aid, duplicate_of=a.duplicate_of, similarity=a.similarity or 0.0)
                    )
            if arows:
                conn.execute(insert(sa), arows)
            if drows:
                conn.execute(insert(sd), drows)
        self._new = []


def _display_title(article: Article) -> str:
    from ..report.json import display_title

    return display_title(article)
