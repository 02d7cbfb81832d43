"""Self-contained side-by-side HTML for a comparison made by ``narrascope.stories.compare``.

One column per article with its text: each shared fact is highlighted in the colour of its group (the same
colour in every column), facts only that article reports are marked, quotes are underlined. Tables follow:
shared facts, only-in facts, quotes as each renders them, actors with their roles, narratives and techniques.
Everything from the articles is escaped by Jinja2's autoescaping; only http(s) links are kept.
"""

from __future__ import annotations

from typing import Any

from .html import _env, _safe_url, segments

_PALETTE = 8  # fact colours, cycled


def _columns(comparison: dict[str, Any]) -> list[dict[str, Any]]:
    facts = comparison["facts"]
    cols = []
    for art in comparison["articles"]:
        aid, text = art["id"], art.get("text") or ""
        spans: list[tuple[int, int, str, str]] = []
        for k, group in enumerate(facts["shared"], 1):
            others = [a for a in group["articles"] if a != aid]
            for s in group["sentences"]:
                if s["article"] == aid:
                    spans.append(
                        (
                            s["start"],
                            s["end"],
                            f"fact f{k % _PALETTE}",
                            f"fact {k}: shared with " + ", ".join(_label(comparison, o) for o in others),
                        )
                    )
        for s in facts["only_in"].get(aid, []):
            spans.append((s["start"], s["end"], "only", "only in this article"))
        quotes = comparison["quotes"]
        for k, group in enumerate(quotes["shared"], 1):
            for r in group["renderings"]:
                if r["article"] == aid:
                    spans.append(
                        (
                            r["start"],
                            r["end"],
                            "quote shared-quote",
                            f"quote {k} ({group['wording']}, attribution {group['attribution']}): "
                            f"{r['speaker'] or 'unresolved'}",
                        )
                    )
        for r in quotes["only_in"].get(aid, []):
            spans.append((r["start"], r["end"], "quote", f"quote only here: {r['speaker'] or 'unresolved'}"))
        cols.append(
            {
                **art,
                "safe_url": _safe_url(art.get("url")),
                "label": _label(comparison, aid),
                "segments": segments(text, spans),
                "layers": comparison.get("layers", {}).get(aid, {}),
            }
        )
    return cols


def _label(comparison: dict[str, Any], aid: str) -> str:
    for i, art in enumerate(comparison["articles"]):
        if art["id"] == aid:
            return f"{chr(65 + i) if i < 26 else i + 1}: {art.get('source') or aid[:8]}"
    return aid[:8]


def render_compare(comparison: dict[str, Any], heading: str | None = None) -> str:
    """The HTML page (a string) for a comparison dict."""
    cols = _columns(comparison)
    ids = [a["id"] for a in comparison["articles"]]
    shared_rows = []
    for k, group in enumerate(comparison["facts"]["shared"], 1):
        by_art = {s["article"]: s for s in group["sentences"]}
        shared_rows.append(
            {
                "n": k,
                "colour": f"f{k % _PALETTE}",
                "score": group["score"],
                "cells": [by_art.get(a) for a in ids],
            }
        )
    quote_rows = []
    for group in comparison["quotes"]["shared"]:
        by_art = {r["article"]: r for r in group["renderings"]}
        quote_rows.append({**group, "cells": [by_art.get(a) for a in ids]})
    return _env.get_template("compare.html.j2").render(
        heading=heading or "Side by side: " + " · ".join(c["label"] for c in cols),
        columns=cols,
        ids=ids,
        labels={a: _label(comparison, a) for a in ids},
        similarity=comparison.get("similarity", []),
        shared_rows=shared_rows,
        quote_rows=quote_rows,
        only_in=comparison["facts"]["only_in"],
        only_quotes=comparison["quotes"]["only_in"],
        actors=comparison.get("actors", []),
    )
