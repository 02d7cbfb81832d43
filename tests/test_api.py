"""The Python API."""

from __future__ import annotations

import pytest
from conftest import SEED_RFA

import narrascope


def test_analyze_path_and_text():
    art = narrascope.analyze(str(SEED_RFA))
    assert art.source == "Radio Free Asia (RFA)"
    assert any(q.speaker == "Vladimir Putin" for q in art.quotes)
    # the default analysers: everything but roles
    assert art.findings_of("narratives") and art.findings_of("techniques") and not art.findings_of("roles")
    art2 = narrascope.analyze('Talks\n\n"It is over," the envoy said, according to Reuters.')
    assert art2.title == "Talks" and art2.quotes


def test_analyze_a_file_in_another_encoding(tmp_path):
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes('Caf\u00e9 talks\n\n"It is over," the envoy said at the caf\u00e9.'.encode("cp1252"))
    with pytest.raises(narrascope.InputError, match="--encoding"):
        narrascope.analyze(legacy)
    assert narrascope.analyze(legacy, encoding="auto").title == "Caf\u00e9 talks"


def test_analyze_missing_path_is_text_not_a_crash():
    art = narrascope.analyze("nope-not-a-file.txt")
    assert art.text == "nope-not-a-file.txt"


def test_analyze_bad_file_raises_input_error(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("", encoding="utf-8")
    with pytest.raises(narrascope.InputError, match="empty input"):
        narrascope.analyze(p)


def test_record_round_trip():
    from narrascope.document import Article

    art = narrascope.analyze(str(SEED_RFA))
    back = Article.from_dict(art.to_dict())
    assert back.id == art.id and back.quotes == art.quotes and back.actors == art.actors


def test_pipeline_runs_requirements_first():
    nlp = narrascope.Pipeline(["quotes"])
    assert nlp.names == ["actors", "quotes"]
    with pytest.raises(KeyError, match="unknown analyser"):
        narrascope.Pipeline(["nonsense"])
