"""The persuasion-technique taxonomy (SemEval-2023 Task 3), shipped as data.

23 techniques in 6 categories, each with a definition, plus the mapping of the 14 classes of the
Propaganda Techniques Corpus (SemEval-2020 Task 11) onto them. A PTC class that merged several
techniques (``Whataboutism,Straw_Men,Red_Herring``) maps onto each of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..registry import taxonomies

DATA = Path(__file__).parent / "data" / "techniques.json"


@dataclass(frozen=True)
class Technique:
    name: str  # the SemEval-2023 class name, e.g. "Name_Calling-Labeling"
    label: str  # a human-readable name for reports
    category: str
    definition: str


@dataclass(frozen=True)
class TechniqueTaxonomy:
    name: str
    techniques: tuple[Technique, ...]
    categories: tuple[tuple[str, str], ...]  # (name, definition)
    ptc_mapping: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def names(self) -> list[str]:
        """The 23 SemEval-2023 technique names, in taxonomy order."""
        return [t.name for t in self.techniques]

    @property
    def ptc_names(self) -> list[str]:
        """The 14 PTC class names."""
        return [p for p, _ in self.ptc_mapping]

    def get(self, name: str) -> Technique:
        for t in self.techniques:
            if t.name == name:
                return t
        raise KeyError(f"unknown technique {name!r}; known: {', '.join(self.names)}")

    def from_ptc(self, ptc_class: str) -> list[str]:
        """The SemEval-2023 techniques a PTC class maps onto."""
        for p, targets in self.ptc_mapping:
            if p == ptc_class:
                return list(targets)
        raise KeyError(f"unknown PTC class {ptc_class!r}; known: {', '.join(self.ptc_names)}")

    def to_ptc(self, name: str) -> str | None:
        """The PTC class that covers a SemEval-2023 technique (None for techniques new in 2023)."""
        self.get(name)
        return next((p for p, targets in self.ptc_mapping if name in targets), None)

    def category_of(self, name: str) -> str:
        return self.get(name).category


@taxonomies.register("techniques")
@lru_cache(maxsize=4)
def load_techniques(path: str | Path | None = None) -> TechniqueTaxonomy:
    """Load the technique taxonomy (the shipped one by default), checking it is consistent."""
    src = Path(path or DATA)
    data = json.loads(src.read_text(encoding="utf-8"))
    cats = tuple((c["name"], c.get("definition", "")) for c in data.get("categories", []))
    techs = tuple(
        Technique(t["name"], t.get("label", t["name"]), t.get("category", ""), t.get("definition", ""))
        for t in data["techniques"]
    )
    known, cat_names = {t.name for t in techs}, {c for c, _ in cats}
    for t in techs:
        if cat_names and t.category not in cat_names:
            raise ValueError(f"{src}: technique {t.name!r} has unknown category {t.category!r}")
    mapping = tuple((p, tuple(ts)) for p, ts in data.get("ptc_mapping", {}).items())
    for p, ts in mapping:
        for t in ts:
            if t not in known:
                raise ValueError(f"{src}: PTC class {p!r} maps onto unknown technique {t!r}")
    return TechniqueTaxonomy(data.get("name", src.stem), techs, cats, mapping)
