"""The comparison of two or more articles' coverage, as JSON-able data.

``compare(articles)`` gathers: the facts they share and the facts only each reports (``align``), each
shared quote as each renders it, each actor's presence and role in each article (roles from findings of
layer ``roles`` when that analyser ran), each article's narratives and techniques (layers ``narratives``,
``explanation`` and ``techniques``), and the pairwise same-story scores used for threading.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..document import Actor, Article, Finding
from .align import AlignConfig, align_sentences, match_quotes
from .threading import article_vectors, entity_keys, parse_day, story_similarity

SCHEMA_VERSION = "1"
_ROLE_ATTRS: tuple[str, ...] = ("main", "fine", "main_role", "fine_roles")


def compare(articles: Sequence[Article], config: AlignConfig | None = None) -> dict[str, Any]:
    arts = _unique(articles)
    if len(arts) < 2:
        raise ValueError("compare needs at least two different articles")
    return {
        "schema": SCHEMA_VERSION,
        "articles": [_header(a) for a in arts],
        "similarity": _similarity(arts),
        "facts": align_sentences(arts, config),
        "quotes": match_quotes(arts, config),
        "actors": _actors(arts),
        "layers": {a.id: _layers(a) for a in arts},
    }


def _unique(articles: Sequence[Article]) -> list[Article]:
    seen: dict[str, Article] = {}
    for a in articles:
        seen.setdefault(a.id, a)
    return list(seen.values())


def _header(a: Article) -> dict[str, Any]:
    from ..report.json import display_title

    return {
        "id": a.id,
        "title": a.title or display_title(a),
        "source": a.source,
        "url": a.url,
        "published": a.published,
        "text": a.text,
    }


def _similarity(arts: list[Article]) -> list[dict[str, Any]]:
    vecs = article_vectors(arts)
    ents = [entity_keys(a) for a in arts]
    out = []
    for i in range(len(arts)):
        for j in range(i + 1, len(arts)):
            di, dj = parse_day(arts[i].published), parse_day(arts[j].published)
            out.append(
                {
                    "a": arts[i].id,
                    "b": arts[j].id,
                    "score": round(story_similarity(vecs[i], vecs[j], ents[i], ents[j]), 4),
                    "cosine": round(float(np.dot(vecs[i], vecs[j])), 4),
                    "days_apart": abs(di - dj) if di is not None and dj is not None else None,
                }
            )
    return out


def _roles_of(article: Article, actor: Actor) -> list[dict[str, Any]]:
    spans = {(m.start, m.end) for m in actor.mentions}
    roles: list[dict[str, Any]] = []
    for f in article.findings_of("roles"):
        aid = f.attrs.get("actor_id")
        if aid == actor.id or (aid is None and (f.start, f.end) in spans):
            roles.append(
                {
                    "label": f.label,
                    "score": round(f.score, 4),
                    **{k: f.attrs[k] for k in _ROLE_ATTRS if k in f.attrs},
                }
            )
    return roles


def _actors(arts: list[Article]) -> list[dict[str, Any]]:
    table: dict[str, dict[str, Any]] = {}
    for art in arts:
        speaks = Counter(q.speaker_id for q in art.quotes if q.speaker_id)
        for actor in art.actors:
            row = table.setdefault(
                actor.id, {"id": actor.id, "name": actor.name, "kind": actor.kind, "in": {}}
            )
            row["in"][art.id] = {
                "mentions": len(actor.mentions),
                "quotes": speaks.get(actor.id, 0),
                "titles": actor.titles,
                "first_mention": min((m.start for m in actor.mentions), default=None),
                "roles": _roles_of(art, actor),
            }
    rows = list(table.values())
    for row in rows:
        row["shared"] = len(row["in"]) > 1
    return sorted(
        rows, key=lambda r: (-len(r["in"]), -sum(v["mentions"] for v in r["in"].values()), r["name"])
    )


def _finding(f: Finding) -> dict[str, Any]:
    return {"label": f.label, "score": round(f.score, 4), "start": f.start, "end": f.end}


def _layers(art: Article) -> dict[str, Any]:
    out: dict[str, Any] = {}
    narratives = sorted(art.findings_of("narratives"), key=lambda f: -f.score)
    if narratives:
        out["narratives"] = [_finding(f) for f in narratives]
    explanation = art.findings_of("explanation")
    if explanation:
        out["dominant_narrative"] = {
            "label": explanation[0].label,
            "text": explanation[0].attrs.get("text", ""),
        }
    techniques = art.findings_of("techniques")
    if techniques:
        counts = Counter(f.label for f in techniques)
        out["techniques"] = [{"label": k, "count": n} for k, n in counts.most_common()]
        out["technique_spans"] = [_finding(f) for f in sorted(techniques, key=lambda f: f.start or 0)]
    return out
