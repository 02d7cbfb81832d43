"""Terminal output with rich: one panel per article with its actors, quotes and findings."""

from __future__ import annotations

from collections import Counter

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..document import Article
from .json import display_label, display_title


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


_ROWS = 12  # findings shown per layer; the JSON and HTML outputs have them all
_ORDER = ("narratives", "roles", "techniques")
_TITLES = {"roles": "Roles (entity framing)", "techniques": "Persuasion techniques"}
# Sentence and paragraph labels derived from the technique spans: summed up under the spans' table.
_DERIVED = ("technique_sentences", "technique_paragraphs")


def _caption(article: Article, layer: str, n: int) -> str | None:
    notes = [f"{_ROWS} of {n} shown (--format html or jsonl: all)"] if n > _ROWS else []
    if layer == "techniques":
        density = article.meta.get("technique_density")
        if density is not None:
            notes.append(f"{density:.1f} spans per 100 sentences")
        paragraphs = Counter(f.label for f in article.findings_of("technique_paragraphs")).most_common(3)
        if paragraphs:
            notes.append("paragraphs: " + ", ".join(f"{display_label(lab, layer)} ×{k}" for lab, k in paragraphs))
    return "; ".join(notes) or None


def render(article: Article, console: Console) -> None:
    actors = Table(title="Actors", show_edge=False, expand=True)
    for col in ("actor", "kind", "titles / affiliation", "mentions"):
        actors.add_column(col, overflow="fold")
    for a in article.actors[:15]:
        extra = "; ".join(a.titles) + (f" [{a.affiliation}]" if a.affiliation else "")
        actors.add_row(a.name, a.kind, _clip(extra, 60), str(len(a.mentions)))
    quotes = Table(title="Quotes", show_edge=False, expand=True)
    for col in ("speaker", "cue", "kind", "quote"):
        quotes.add_column(col, overflow="fold")
    for q in article.quotes:
        quotes.add_row(q.speaker or "[dim]unresolved[/dim]", q.cue or "", q.kind, _clip(q.text, 110))
    parts: list = [actors, quotes]
    for explanation in article.findings_of("explanation")[:1]:
        parts.append(Text(f"Explanation: {explanation.attrs.get('text', '')}"))
    layers = {f.layer for f in article.findings} - {"explanation", *_DERIVED}
    for layer in sorted(layers, key=lambda name: (_ORDER.index(name) if name in _ORDER else len(_ORDER), name)):
        found = sorted(article.findings_of(layer), key=lambda f: -f.score)
        title = _TITLES.get(layer, layer.replace("_", " ").capitalize())
        tbl = Table(title=title, caption=_caption(article, layer, len(found)), show_edge=False, expand=True)
        tbl.add_column("label", overflow="fold")
        tbl.add_column("score")
        tbl.add_column("evidence", overflow="fold")
        for f in found[:_ROWS]:
            ev = article.text[f.start : f.end] if f.start is not None and f.end is not None else ""
            tbl.add_row(display_label(f.label, layer), f"{f.score:.2f}", _clip(ev, 80))
        parts.append(tbl)
    head = f"[bold]{display_title(article)}[/bold]\n[dim]{article.id} · {article.source or 'unknown source'}"
    head += f" · {article.published or 'undated'} · {article.path or ''}[/dim]"
    console.print(Panel(Group(Text.from_markup(head), *parts), expand=True))
