"""Self-contained HTML report: the article text with actors, quotes and findings highlighted.

Everything from the article is escaped by Jinja2's autoescaping; links are kept only for
http(s) URLs, so a hostile page cannot inject markup or script into the report.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..document import Article
from .json import display_label, display_title

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["readable"] = display_label  # {{ f.label|readable(layer) }}


@dataclass
class Segment:
    text: str
    classes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def segments(text: str, spans: Iterable[tuple[int, int, str, str]]) -> list[Segment]:
    """Cut ``text`` at every span boundary; each piece carries the classes of the spans over it."""
    spans = [s for s in spans if 0 <= s[0] < s[1] <= len(text)]
    cuts = sorted({0, len(text), *(s[0] for s in spans), *(s[1] for s in spans)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        over = [s for s in spans if s[0] <= a and b <= s[1]]
        classes = sorted({s[2] for s in over})
        notes = list(dict.fromkeys(s[3] for s in over if s[3]))
        out.append(Segment(text[a:b], classes, notes))
    return out


def _spans(article: Article) -> list[tuple[int, int, str, str]]:
    spans: list[tuple[int, int, str, str]] = []
    for actor in article.actors:
        for m in actor.mentions:
            spans.append((m.start, m.end, f"actor actor-{actor.kind.lower()}", f"{actor.name} ({actor.kind.lower()})"))
    for q in article.quotes:
        spans.append((q.start, q.end, f"quote quote-{q.kind}", f"{q.kind} quote: {q.speaker or 'unresolved'}"
                      + (f", {q.cue}" if q.cue else "")))
        if q.cue_start is not None and q.cue_end is not None:
            spans.append((q.cue_start, q.cue_end, "cue", "reporting verb"))
    for f in article.findings:
        # Roles sit on mentions, and sentence/paragraph technique labels repeat their spans: not highlighted.
        if f.start is not None and f.end is not None and f.layer != "roles" and not f.layer.startswith("technique_"):
            note = f"{f.layer}: {display_label(f.label, f.layer)} ({f.score:.2f})"
            spans.append((f.start, f.end, f"finding finding-{f.layer}", note))
        for ev in f.attrs.get("evidence", []) if isinstance(f.attrs.get("evidence"), list) else []:
            if isinstance(ev, dict) and "start" in ev and "end" in ev:
                spans.append((ev["start"], ev["end"], f"evidence evidence-{f.layer}", f"{f.layer}: {f.label}"))
    return spans


def _safe_url(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _context(article: Article) -> dict[str, Any]:
    layers: dict[str, list[Any]] = {}
    for f in article.findings:
        layers.setdefault(f.layer, []).append(f)
    spans = _spans(article)
    return {
        "article": article,
        "title": display_title(article),
        "url": _safe_url(article.url),
        "segments": segments(article.text, spans),
        "evidence_shown": any(s[2].startswith("evidence ") for s in spans),
        "layers": {k: sorted(v, key=lambda f: -f.score) for k, v in layers.items()},
        "technique_counts": Counter(f.label for f in layers.get("techniques", [])).most_common(),
    }


def render_articles(articles: list[Article], heading: str = "narrascope report") -> str:
    return _env.get_template("report.html.j2").render(
        heading=heading, items=[_context(a) for a in articles]
    )
