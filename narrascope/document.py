"""The data model that travels through the pipeline.

An :class:`Article` is created by a reader (``narrascope.ingest``), parsed once
(``narrascope.nlp``), then analysers add layers to it: actors and their mentions,
quotes, and general :class:`Finding` objects (narratives, roles, techniques...).
Every offset is a character offset into ``Article.text``, the *cleaned* text.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any


def article_id(text: str) -> str:
    """Stable id of an article: a short hash of its cleaned text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class Sentence:
    start: int
    end: int


@dataclass
class Mention:
    """A span of text that refers to an actor."""

    start: int
    end: int
    text: str
    actor: str  # Actor.id
    kind: str = "name"  # name | title | pronoun | nominal


@dataclass
class Actor:
    """A person, state, organisation or group, with one canonical name."""

    id: str  # slug of the canonical name, stable across articles
    name: str
    kind: str  # PERSON | STATE | ORG | GROUP
    titles: list[str] = field(default_factory=list)  # "Russian Foreign Ministry Spokeswoman"
    affiliation: str | None = None  # canonical name of the state/org a person speaks for
    mentions: list[Mention] = field(default_factory=list)


@dataclass
class Quote:
    """Something an actor is reported to have said."""

    start: int  # the quoted (or reported) content
    end: int
    text: str
    kind: str  # direct | indirect | partial
    speaker: str | None  # canonical actor name, None when unresolved
    speaker_id: str | None = None
    speaker_start: int | None = None  # the mention that names the speaker
    speaker_end: int | None = None
    cue: str | None = None  # the reporting verb or phrase: "insisted", "according to"
    cue_start: int | None = None
    cue_end: int | None = None
    score: float = 1.0


@dataclass
class Finding:
    """A general analyser result with evidence, e.g. a narrative or a technique."""

    layer: str  # narratives | roles | techniques | ...
    label: str
    start: int | None = None
    end: int | None = None
    score: float = 1.0
    analyser: str = ""
    version: str = ""
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Article:
    """One news article. ``text`` is the cleaned text in the SemEval layout:
    title line, blank line, body; ``original`` is what the reader received."""

    text: str
    title: str = ""
    source: str | None = None  # outlet
    url: str | None = None
    published: str | None = None  # ISO date or datetime
    language: str = "en"
    path: str | None = None  # where it was read from
    original: str | None = None
    id: str = ""
    sentences: list[Sentence] = field(default_factory=list)
    actors: list[Actor] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = article_id(self.text)
        # The shared spaCy parse; never serialised.
        self.doc: Any = None

    @property
    def body_start(self) -> int:
        """Offset where the body begins (after the title line and blank line)."""
        if self.title and self.text.startswith(self.title):
            rest = self.text[len(self.title) :]
            return len(self.title) + (len(rest) - len(rest.lstrip("\n")))
        return 0

    def findings_of(self, layer: str) -> list[Finding]:
        return [f for f in self.findings if f.layer == layer]

    def sentence_at(self, offset: int) -> Sentence | None:
        for s in self.sentences:
            if s.start <= offset < s.end:
                return s
        return None

    def to_dict(self, include_original: bool = False) -> dict[str, Any]:
        data = asdict(self)
        if not include_original:
            data.pop("original", None)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        data = dict(data)
        actors = [
            Actor(**{**a, "mentions": [Mention(**m) for m in a.get("mentions", [])]})
            for a in data.pop("actors", [])
        ]
        art = cls(
            **{k: v for k, v in data.items() if k in _SCALAR_FIELDS},
            sentences=[Sentence(**s) for s in data.get("sentences", [])],
            actors=actors,
            quotes=[Quote(**q) for q in data.get("quotes", [])],
            findings=[Finding(**f) for f in data.get("findings", [])],
        )
        return art


_SCALAR_FIELDS = {
    "text", "title", "source", "url", "published", "language", "path", "original", "id", "meta",
}
