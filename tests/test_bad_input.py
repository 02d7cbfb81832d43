"""Bad input: one clear line per bad input, a non-zero exit, and every good input still stored."""

from __future__ import annotations

import json

from conftest import SEED_RFA
from typer.testing import CliRunner

from narrascope.cli import app
from narrascope.errors import InputError
from narrascope.ingest import read

runner = CliRunner()


def _errors(path) -> list[InputError]:
    return [x for x in read([str(path)]) if isinstance(x, InputError)]


def test_empty_file(tmp_path):
    p = tmp_path / "empty.txt"
    p.write_text("  \n", encoding="utf-8")
    (e,) = _errors(p)
    assert "empty input" in str(e) and "empty.txt" in str(e)


def test_binary_file(tmp_path):
    p = tmp_path / "photo.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (e,) = _errors(p)
    assert "binary" in str(e)


def test_wrong_encoding_names_the_fix(tmp_path):
    p = tmp_path / "latin.txt"
    p.write_bytes("Título\n\nO ministro disse que a situação é grave e que não há acordo.".encode("cp1252"))
    (e,) = _errors(p)
    assert "not valid UTF-8" in str(e) and "--encoding" in str(e)
    (art,) = list(read([str(p)], encoding="cp1252"))
    assert "situação" in art.text


def test_auto_encoding_reads_each_file_in_its_own(tmp_path):
    sentence = "Título\n\nO ministro disse que a situação é grave e que não há acordo."
    (tmp_path / "latin.txt").write_bytes(sentence.encode("cp1252"))
    (tmp_path / "utf8.txt").write_text(sentence + " Até já.", encoding="utf-8")
    (e,) = _errors(tmp_path / "latin.txt")
    assert "--encoding auto" in str(e)  # the hint names the way to read a mixed folder
    arts = list(read([str(tmp_path / "latin.txt"), str(tmp_path / "utf8.txt")], encoding="auto"))
    assert [a.text.count("situação") for a in arts] == [1, 1] and arts[1].text.endswith("Até já.")
    (tmp_path / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    (e,) = list(read([str(tmp_path / "photo.txt")], encoding="auto"))
    assert isinstance(e, InputError) and "binary" in str(e)  # auto does not read anything as text


def test_huge_file(tmp_path):
    p = tmp_path / "huge.txt"
    with p.open("wb") as fh:
        fh.write(b"Title\n\n")
        fh.write(b"word " * (50 * 1024 * 1024 // 5))
    (e,) = _errors(p)
    assert "MB" in str(e) and "limit" in str(e)


def test_broken_html(tmp_path):
    p = tmp_path / "broken.html"
    p.write_text("<html><head><title>x</title></head><body><div><script>var a = 1;</script><div", encoding="utf-8")
    (e,) = _errors(p)
    assert "no article text" in str(e)


def test_missing_path(tmp_path):
    (e,) = _errors(tmp_path / "nope.txt")
    assert "no such file" in str(e)


def test_cli_reports_each_bad_input_and_stores_the_good_ones(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    db = tmp_path / "n.db"
    res = runner.invoke(app, ["analyze", str(empty), str(SEED_RFA), str(binary), str(tmp_path / "missing.txt"),
                              "--format", "jsonl", "--db", str(db)])
    assert res.exit_code == 1
    lines = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == 1 and lines[0]["source"] == "Radio Free Asia (RFA)"
    err = res.stderr
    assert "empty.txt: empty input" in err and "bin.txt: binary" in err and "missing.txt: no such file" in err
    assert "3 input(s) failed" in err
    from narrascope.store import Store

    assert Store(str(db)).count() == 1


def test_unknown_format_is_refused(tmp_path):
    res = runner.invoke(app, ["analyze", str(SEED_RFA), "--format", "pdf", "--no-store"])
    assert res.exit_code != 0 and "unknown format" in res.output
