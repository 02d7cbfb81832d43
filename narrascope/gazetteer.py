"""The actor gazetteer: states (aliases, capital, demonyms, state bodies), organisations, groups.

Shipped as ``narrascope/data/gazetteer.yaml``; users extend it with YAML files of the same shape
(setting ``gazetteer``). Lookups are case-insensitive on a normalised surface form.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from .errors import DataError
from .settings import get_settings

SHIPPED = Path(__file__).parent / "data" / "gazetteer.yaml"


@dataclass(frozen=True)
class Entry:
    name: str  # canonical name
    kind: str  # STATE | ORG | GROUP
    form: str  # how the surface relates to it: name | alias | capital | demonym | plural | body
    state: str | None = None  # for organisations that belong to a state


def normalise_surface(text: str) -> str:
    text = text.replace("’", "'").replace("‘", "'").replace("\u2010", "-").replace("\u2011", "-")
    text = re.sub(r"'s$|'$", "", text.strip())
    text = re.sub(r"^the\s+", "", text, flags=re.IGNORECASE)
    return " ".join(text.lower().split())


class Gazetteer:
    def __init__(self, entries: dict[str, Entry], lowercase: set[str] | None = None) -> None:
        self.entries = entries
        #: Where a surface can start: its first word (and the part before a hyphen or apostrophe, as the
        #: tokenizer splits "al-Qaeda" and "Dockers' Union") -> the most tokens a surface from it can take.
        self.starts: dict[str, int] = {}
        for key in entries:
            words = key.split()
            if not words:
                continue
            longest = 3 * len(words) + 2
            for first in {words[0], re.split(r"[-']", words[0])[0]}:
                if first:
                    self.starts[first] = max(self.starts.get(first, 0), longest)
        #: Surfaces written in lower case in the gazetteer ("collective West"): they match in any case.
        self.lowercase = lowercase or set()
        self.states = {e.name for e in entries.values() if e.kind == "STATE"}
        self.capitals = {k for k, e in entries.items() if e.form == "capital"}

    def lookup(self, surface: str) -> Entry | None:
        return self.entries.get(normalise_surface(surface))

    def lookup_plain(self, lowered: str) -> Entry | None:
        """Lookup of text already lower-cased with straight apostrophes and single spaces (hot path)."""
        return self.entries.get(lowered)

    @classmethod
    def from_files(cls, paths: list[Path]) -> Gazetteer:
        entries: dict[str, Entry] = {}
        lowercase: set[str] = set()
        for path in paths:
            _load_into(entries, lowercase, path)
        return cls(entries, lowercase)


def _plural_of(demonym: str) -> bool:
    return demonym.endswith("s") and not demonym.endswith(("ss", "ese", "is"))


def _load_into(entries: dict[str, Entry], lowercase: set[str], path: Path) -> None:
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(str(path), None, f"cannot read gazetteer: {exc}") from None
    for section, kind in (("states", "STATE"), ("organisations", "ORG"), ("groups", "GROUP")):
        for n, item in enumerate(data.get(section) or [], 1):
            if not isinstance(item, dict) or not item.get("name"):
                raise DataError(str(path), None, f"{section} entry {n} has no name")
            name = str(item["name"])
            k = str(item.get("kind", kind))
            state = item.get("state")
            forms: list[tuple[str, str]] = [(name, "name")]
            forms += [(a, "alias") for a in item.get("aliases") or []]
            if item.get("capital"):
                forms.append((str(item["capital"]), "capital"))
            forms += [(d, "plural" if _plural_of(d) else "demonym") for d in item.get("demonyms") or []]
            forms += [(b, "body") for b in item.get("bodies") or []]
            for surface, form in forms:
                key = normalise_surface(str(surface))
                if key and str(surface)[:1].islower():
                    lowercase.add(key)
                if key:
                    # Later files override earlier ones: a user's file wins over the shipped one.
                    entries[key] = Entry(name=name, kind=k, form=form, state=state)


@lru_cache(maxsize=4)
def _cached(extra: str) -> Gazetteer:
    paths = [SHIPPED] + [Path(p) for p in extra.split(os.pathsep) if p]
    return Gazetteer.from_files(paths)


def load_gazetteer() -> Gazetteer:
    return _cached(get_settings().gazetteer)
