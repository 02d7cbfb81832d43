"""Narrative taxonomies as data: two levels (coarse narratives, fine sub-narratives) with definitions.

The shipped taxonomy is SemEval-2025 Task 10 (Ukraine-Russia war ``URW`` and climate change ``CC``):
22 coarse labels and 91 official fine labels including ``Other`` and every ``X: Other``, plus four
sub-narratives that the task's taxonomy and training data use but its official class list omits
(marked ``"official": false``). A user taxonomy for another domain is a YAML or JSON file of the
same shape::

    name: my-domain
    other: Other                     # the label used when nothing applies
    coarse:
      - {label: "ECO: Inflation blame", domain: ECO, definition: "...", examples: ["..."]}
    fine:
      - {label: "ECO: Inflation blame: Central bank is to blame", coarse: "ECO: Inflation blame",
         definition: "...", examples: ["..."]}

Every coarse label gets a ``<coarse>: Other`` fine label when the file does not list one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..registry import taxonomies

DATA_DIR = Path(__file__).parent / "data"
SHIPPED = {"semeval2025": DATA_DIR / "semeval2025_narratives.json"}


class TaxonomyError(ValueError):
    """A taxonomy file is malformed."""


@dataclass(frozen=True)
class NarrativeLabel:
    label: str
    definition: str = ""
    examples: tuple[str, ...] = ()
    coarse: str | None = None  # parent of a fine label; None for coarse labels
    domain: str = ""
    official: bool = True


@dataclass
class Taxonomy:
    name: str
    other: str
    coarse: tuple[NarrativeLabel, ...]
    fine: tuple[NarrativeLabel, ...]
    domains: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._coarse = {c.label: c for c in self.coarse}
        self._fine = {f.label: f for f in self.fine}

    @property
    def coarse_labels(self) -> list[str]:
        """Coarse labels, ``other`` last."""
        return [c.label for c in self.coarse] + [self.other]

    @property
    def fine_labels(self) -> list[str]:
        """Fine labels, ``other`` last."""
        return [f.label for f in self.fine] + [self.other]

    @property
    def official_fine_labels(self) -> list[str]:
        return [f.label for f in self.fine if f.official] + [self.other]

    def parent(self, fine: str) -> str:
        """The coarse label of a fine label (``other`` for ``other``)."""
        if fine == self.other:
            return self.other
        return self._fine[fine].coarse or self.other

    def children(self, coarse: str) -> list[str]:
        return [f.label for f in self.fine if f.coarse == coarse]

    def other_of(self, coarse: str) -> str:
        """The catch-all fine label of a coarse label."""
        return self.other if coarse == self.other else f"{coarse}: Other"

    def domain_of(self, label: str) -> str:
        if label == self.other:
            return ""
        coarse = self.parent(label) if label in self._fine else label
        return self._coarse[coarse].domain

    def get(self, label: str) -> NarrativeLabel:
        if label == self.other:
            return NarrativeLabel(self.other, "Nothing in the taxonomy applies.")
        return self._fine.get(label) or self._coarse[label]

    def is_coarse(self, label: str) -> bool:
        return label == self.other or label in self._coarse

    def is_fine(self, label: str) -> bool:
        return label == self.other or label in self._fine


def _read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise TaxonomyError(f"{path}: expected a mapping with 'coarse' and 'fine' lists")
    return data


def taxonomy_from_dict(data: dict[str, Any], source: str = "<dict>") -> Taxonomy:
    """Build a :class:`Taxonomy` from the file shape described in the module docstring."""
    for key in ("coarse", "fine"):
        if not isinstance(data.get(key), list) or not data[key]:
            raise TaxonomyError(f"{source}: '{key}' must be a non-empty list of labels")
    other = str(data.get("other", "Other"))
    coarse: list[NarrativeLabel] = []
    for i, c in enumerate(data["coarse"]):
        if not isinstance(c, dict) or not c.get("label"):
            raise TaxonomyError(f"{source}: coarse[{i}] needs a 'label'")
        label = str(c["label"])
        domain = str(c.get("domain") or label.split(":")[0].strip())
        coarse.append(NarrativeLabel(label, str(c.get("definition", "")), _examples(c), None, domain))
    known = {c.label for c in coarse}
    fine: list[NarrativeLabel] = []
    for i, f in enumerate(data["fine"]):
        if not isinstance(f, dict) or not f.get("label") or not f.get("coarse"):
            raise TaxonomyError(f"{source}: fine[{i}] needs a 'label' and its 'coarse' parent")
        if f["coarse"] not in known:
            raise TaxonomyError(f"{source}: fine[{i}] {f['label']!r} has unknown coarse {f['coarse']!r}")
        dom = next(c.domain for c in coarse if c.label == f["coarse"])
        fine.append(
            NarrativeLabel(
                str(f["label"]),
                str(f.get("definition", "")),
                _examples(f),
                str(f["coarse"]),
                dom,
                bool(f.get("official", True)),
            )
        )
    have = {f.label for f in fine}
    for c in coarse:  # every coarse label has its catch-all
        if f"{c.label}: Other" not in have:
            fine.append(
                NarrativeLabel(f"{c.label}: Other", f"Other forms of: {c.definition}", (), c.label, c.domain)
            )
    names = [*(c.label for c in coarse), *(f.label for f in fine)]
    dup = {x for x in names if names.count(x) > 1}
    if dup:
        raise TaxonomyError(f"{source}: duplicate labels {sorted(dup)}")
    return Taxonomy(
        str(data.get("name", source)), other, tuple(coarse), tuple(fine), dict(data.get("domains", {}))
    )


def _examples(item: dict[str, Any]) -> tuple[str, ...]:
    ex = item.get("examples", [])
    return (ex,) if isinstance(ex, str) else tuple(str(e) for e in ex)


@taxonomies.register("narratives")
@lru_cache(maxsize=8)
def load_taxonomy(path_or_name: str | Path = "semeval2025") -> Taxonomy:
    """Load a shipped taxonomy by name (``"semeval2025"``) or a user file (``.json``, ``.yaml``)."""
    key = str(path_or_name)
    path = SHIPPED.get(key, Path(key))
    if not path.is_file():
        raise TaxonomyError(
            f"narrative taxonomy {key!r}: not a shipped name ({', '.join(SHIPPED)}) nor a YAML/JSON file"
        )
    return taxonomy_from_dict(_read(path), str(path))
