"""Registries of analysers, readers and taxonomies, extendable through entry points.

A third-party package adds an analyser by declaring, in its pyproject::

    [project.entry-points."narrascope.analysers"]
    sentiment = "my_pkg.sentiment:SentimentAnalyser"

Built-ins register themselves with the same decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, group: str) -> None:
        self.group = group
        self._items: dict[str, T] = {}
        self._loaded_entry_points = False

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self._items[name] = obj
            return obj

        return deco

    def _load_entry_points(self) -> None:
        if self._loaded_entry_points:
            return
        self._loaded_entry_points = True
        for ep in entry_points(group=f"narrascope.{self.group}"):
            self._items.setdefault(ep.name, ep.load())

    def get(self, name: str) -> T:
        self._load_entry_points()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise KeyError(f"unknown {self.group[:-1]} {name!r}; known: {known}") from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return list(self._items)


analysers: Registry[Any] = Registry("analysers")
readers: Registry[Any] = Registry("readers")
taxonomies: Registry[Any] = Registry("taxonomies")
