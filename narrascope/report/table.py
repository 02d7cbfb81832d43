"""Terminal output with rich: one panel per article with its actors and quotes."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..document import Article
from .json import display_title


def _clip(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


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
    for layer in sorted({f.layer for f in article.findings}):
        if layer == "explanation":
            f = article.findings_of(layer)[0]
            parts.append(Text(f"Explanation: {f.attrs.get('text', '')}"))
            continue
        tbl = Table(title=layer.capitalize(), show_edge=False, expand=True)
        tbl.add_column("label", overflow="fold")
        tbl.add_column("score")
        tbl.add_column("evidence", overflow="fold")
        for f in sorted(article.findings_of(layer), key=lambda f: -f.score)[:12]:
            ev = article.text[f.start : f.end] if f.start is not None and f.end is not None else ""
            tbl.add_row(f.label, f"{f.score:.2f}", _clip(ev, 80))
        parts.append(tbl)
    head = f"[bold]{display_title(article)}[/bold]\n[dim]{article.id} · {article.source or 'unknown source'}"
    head += f" · {article.published or 'undated'} · {article.path or ''}[/dim]"
    console.print(Panel(Group(Text.from_markup(head), *parts), expand=True))
