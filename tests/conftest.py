from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED_KREMLIN = EXAMPLES / "000_32c6785b4f59bc36.txt"
SEED_RFA = EXAMPLES / "004_7c6e6fce870f2b8e.txt"


def seed_through_techniques(model: str):
    """The pro-Kremlin seed through the technique analyser of ``techniques_model = model`` (the
    autouse fixture below resets the setting); returns the analyser and the analysed article."""
    from narrascope.analysers.techniques import TechniqueAnalyser
    from narrascope.document import Article
    from narrascope.settings import Settings, configure

    configure(Settings(techniques_model=model))
    analyser = TechniqueAnalyser()
    return analyser, analyser(Article(SEED_KREMLIN.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def pipeline():
    from narrascope import Pipeline

    return Pipeline(["actors", "quotes"])


@pytest.fixture(scope="session")
def seeds(pipeline):
    from narrascope.ingest import read

    arts = [a for a in read([str(SEED_KREMLIN), str(SEED_RFA)])]
    return {a.path.split("/")[-1][:3]: pipeline(a) for a in arts}


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Every test gets its own database and no user config."""
    from narrascope import settings

    monkeypatch.setenv("NARRASCOPE_DB", str(tmp_path / "test.db"))
    monkeypatch.setenv("NARRASCOPE_CONFIG", str(tmp_path / "none.toml"))
    settings._from_environment.cache_clear()
    settings.configure(None)
    yield
    settings._from_environment.cache_clear()
    settings.configure(None)
