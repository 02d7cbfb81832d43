"""Errors that tell the user what is wrong with which input, and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class NarrascopeError(Exception):
    """Base class: ``str(error)`` is one line fit for the terminal."""


class InputError(NarrascopeError):
    """An input that cannot be read as an article."""

    def __init__(self, source: str, problem: str, hint: str = "") -> None:
        self.source, self.problem, self.hint = source, problem, hint
        super().__init__(f"{source}: {problem}" + (f" ({hint})" if hint else ""))


class DataError(NarrascopeError):
    """A malformed training or evaluation file; names the file and line."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path, self.line, self.problem = path, line, problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")


class MissingExtraError(NarrascopeError, RuntimeError):
    """An optional dependency group is needed; says which one to install."""

    def __init__(self, what: str, extra: str, packages: str) -> None:
        self.extra = extra
        super().__init__(f"{what} needs the '{extra}' extra: pip install -e '.[{extra}]' ({packages})")


class MissingModelError(NarrascopeError, FileNotFoundError):
    """A model folder lacks files; names them and the command that trains such a model."""


def require_files(folder: str | Path, names: Iterable[str], kind: str, train_command: str) -> Path:
    """Return ``folder`` as a Path if it holds every file in ``names``; otherwise raise
    :class:`MissingModelError`, e.g. "models/x: not a narratives model (missing model.npz); train one with `…`"."""
    folder = Path(folder)
    missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise MissingModelError(
            f"{folder}: not a {kind} (missing {', '.join(missing)}); train one with `{train_command}`"
        )
    return folder
