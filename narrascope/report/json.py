"""The JSON record of an article (one line of ``--format jsonl``); see docs/output.md."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from typing import Any

from ..document import Article

SCHEMA_VERSION = "1"
# Layers whose findings become a single value rather than a list.
SINGLE = {"explanation"}


def article_record(article: Article, include_text: bool = True) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "id": article.id,
        "title": article.title or display_title(article),
        "source": article.source,
        "url": article.url,
        "published": article.published,
        "language": article.language,
        "path": article.path,
    }
    if include_text:
        rec["text"] = article.text
    rec["actors"] = [
        {"id": a.id, "name": a.name, "kind": a.kind, "titles": a.titles, "affiliation": a.affiliation,
         "mentions": [{"start": m.start, "end": m.end, "text": m.text, "kind": m.kind} for m in a.mentions]}
        for a in article.actors
    ]
    rec["quotes"] = [asdict(q) for q in article.quotes]
    layers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in article.findings:
        layers[f.layer].append({"label": f.label, "start": f.start, "end": f.end, "score": round(f.score, 4),
                                **f.attrs, "analyser": f.analyser, "version": f.version})
    for layer, items in layers.items():
        if layer in SINGLE:
            rec[layer] = items[0].get("text")
            rec[f"{layer}_label"] = items[0]["label"]
        else:
            rec[layer] = items
    if "technique_density" in article.meta:
        rec["technique_density"] = article.meta["technique_density"]
    rec["versions"] = article.meta.get("versions", {})
    return rec


_TECHNIQUE_LAYERS = ("techniques", "technique_sentences", "technique_paragraphs")


def display_label(label: str, layer: str) -> str:
    """A finding's label for people: technique names become the taxonomy's readable labels ("Name calling /
    labeling"; sentence labels list several, comma-separated). Other labels, and the JSON, keep their names."""
    if layer not in _TECHNIQUE_LAYERS:
        return label
    from ..taxonomy.techniques import load_techniques

    tax = load_techniques()
    return ", ".join(tax.get(n).label if n in tax.names else n for n in label.split(","))


def display_title(article: Article, width: int = 90) -> str:
    """The title, or the first line of the text when the article has none."""
    if article.title:
        return article.title
    first = article.text.strip().split("\n", 1)[0]
    return first if len(first) <= width else first[: width - 1].rsplit(" ", 1)[0] + "…"
