"""The entity-framing role taxonomy (SemEval-2025 Task 10 subtask 1), shipped as data.

Three main roles (Protagonist, Antagonist, Innocent), each with its own fine roles; every fine
role belongs to exactly one main role. Definitions come from the task's taxonomy file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..registry import taxonomies

DATA = Path(__file__).parent / "data" / "entity_roles.json"


@dataclass(frozen=True)
class Role:
    name: str
    definition: str
    main: str | None = None  # the main role a fine role belongs to; None for main roles


@dataclass(frozen=True)
class RoleTaxonomy:
    name: str
    main_roles: tuple[Role, ...]
    fine_roles: tuple[Role, ...]

    @property
    def main_names(self) -> list[str]:
        return [r.name for r in self.main_roles]

    @property
    def fine_names(self) -> list[str]:
        return [r.name for r in self.fine_roles]

    def main_of(self, fine: str) -> str:
        """The main role a fine role belongs to."""
        for r in self.fine_roles:
            if r.name == fine:
                assert r.main is not None
                return r.main
        raise KeyError(f"unknown fine role {fine!r}; known: {', '.join(self.fine_names)}")

    def fine_of(self, main: str) -> list[str]:
        """The fine roles of a main role, in taxonomy order."""
        if main not in self.main_names:
            raise KeyError(f"unknown main role {main!r}; known: {', '.join(self.main_names)}")
        return [r.name for r in self.fine_roles if r.main == main]

    def definition(self, name: str) -> str:
        for r in (*self.main_roles, *self.fine_roles):
            if r.name == name:
                return r.definition
        raise KeyError(f"unknown role {name!r}")


@taxonomies.register("entity_roles")
@lru_cache(maxsize=4)
def load_roles(path: str | Path | None = None) -> RoleTaxonomy:
    """Load the role taxonomy (the shipped one by default)."""
    data = json.loads(Path(path or DATA).read_text(encoding="utf-8"))
    mains: list[Role] = []
    fines: list[Role] = []
    for m in data["main_roles"]:
        mains.append(Role(m["name"], m.get("definition", "")))
        fines.extend(Role(f["name"], f.get("definition", ""), m["name"]) for f in m["fine_roles"])
    return RoleTaxonomy(data.get("name", "entity roles"), tuple(mains), tuple(fines))
