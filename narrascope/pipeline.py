"""The pipeline: parse once, then run analysers in dependency order.

>>> from narrascope import Pipeline
>>> nlp = Pipeline()                      # the default analysers (pipeline.BUILTIN)
>>> article = nlp.analyze_text("Title\\n\\nBody ...")
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .analysers.base import run_all
from .document import Article
from .nlp import parse
from .registry import analysers as registry
from .settings import Settings, get_settings

#: Analysers run by default, in order; importing a module registers its analyser.
BUILTIN = ("actors", "quotes", "narratives", "techniques")
#: Every analyser shipped with narrascope (``roles`` is opt-in: ``--analysers``).
_MODULES = {name: f"narrascope.analysers.{name}" for name in ("actors", "quotes", "narratives", "techniques", "roles")}


def _load(name: str) -> Any:
    if name in _MODULES:
        __import__(_MODULES[name])
    return registry.get(name)


class Pipeline:
    def __init__(self, analysers: Iterable[str] | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        names = list(analysers) if analysers is not None else (
            [n.strip() for n in self.settings.analysers.split(",") if n.strip()] or list(BUILTIN)
        )
        self.components = self._ordered(names)

    def _ordered(self, names: list[str]) -> list[Any]:
        done: list[str] = []
        comps: list[Any] = []

        def add(name: str, chain: tuple[str, ...] = ()) -> None:
            if name in done:
                return
            if name in chain:
                raise ValueError(f"analysers require each other in a cycle: {' -> '.join(chain + (name,))}")
            comp = _load(name)()
            for req in getattr(comp, "requires", ()):
                add(req, chain + (name,))
            done.append(name)
            comps.append(comp)

        for n in names:
            add(n)
        return comps

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.components]

    @property
    def versions(self) -> dict[str, str]:
        return {c.name: c.version for c in self.components}

    def pipe(self, articles: Iterable[Article], batch_size: int | None = None) -> Iterator[Article]:
        """Analyse articles lazily, in batches of the spaCy ``batch_size``."""
        size = batch_size or self.settings.batch_size
        batch: list[Article] = []
        for art in articles:
            batch.append(art)
            if len(batch) >= size:
                yield from self._run(batch)
                batch = []
        if batch:
            yield from self._run(batch)

    def _run(self, batch: list[Article]) -> list[Article]:
        parse(batch)
        for comp in self.components:
            batch = run_all(comp, batch)
        for art in batch:
            art.meta["versions"] = self.versions
        return batch

    def __call__(self, article: Article) -> Article:
        return self._run([article])[0]

    def analyze_text(self, text: str, **meta: Any) -> Article:
        from .ingest import read_text

        return self(read_text(text, **meta))
