"""The store: idempotent re-runs, resume after a kill, search, round trip."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import SEED_KREMLIN, SEED_RFA
from sqlalchemy import text

from narrascope.store import Store

ARTICLE = """Council votes on the {n} budget

Mayor Ines Dorado said on Monday that the {n} budget would protect libraries. "We will not close a single branch," Dorado told reporters.

The opposition leader, Karl Brandt, warned that the plan was unaffordable. According to the city auditor, the deficit will grow by {n} million.
"""


def _corpus(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"a{i:03d}.txt").write_text(ARTICLE.format(n=1000 + i), encoding="utf-8")
    return folder


def _counts(db: Path) -> dict[str, int]:
    s = Store(str(db))
    return {t: s.count(t) for t in ("articles", "quotes", "mentions", "article_actors")}


def test_save_twice_is_idempotent(tmp_path, seeds):
    store = Store(str(tmp_path / "s.db"))
    for art in seeds.values():
        store.save(art)
    first = {t: store.count(t) for t in ("articles", "quotes", "mentions", "actors")}
    for art in seeds.values():
        store.save(art)
    assert {t: store.count(t) for t in first} == first
    assert first["articles"] == 2


def test_round_trip_keeps_layers(tmp_path, seeds):
    store = Store(str(tmp_path / "s.db"))
    art = seeds["000"]
    store.save(art)
    back = store.get(art.id[:8])
    assert back is not None and back.text == art.text and back.title == art.title
    assert [(q.start, q.end, q.speaker, q.cue) for q in back.quotes] == [
        (q.start, q.end, q.speaker, q.cue) for q in sorted(art.quotes, key=lambda q: q.start)]
    assert {a.name: len(a.mentions) for a in back.actors} == {a.name: len(a.mentions) for a in art.actors}
    assert back.actors[0].mentions[0].text


def test_actors_are_shared_across_articles(tmp_path, seeds):
    store = Store(str(tmp_path / "s.db"))
    for art in seeds.values():
        store.save(art)
    index = {r["name"]: r["articles"] for r in store.actor_index(100)}
    assert index["South Korea"] == 2 and index["Russia"] == 2 and index["Ukraine"] == 2


def test_full_text_search(tmp_path, seeds):
    store = Store(str(tmp_path / "s.db"))
    for art in seeds.values():
        store.save(art)
    hits = store.search("puppet regime")
    assert [h["id"] for h in hits] == [seeds["000"].id]
    assert "[puppet]" in hits[0]["snippet"]
    assert {h["id"] for h in store.search("Korea")} == {a.id for a in seeds.values()}


def _open_at(db: str, start: float, results) -> None:
    while time.time() < start:  # all processes create the schema at the same moment
        pass
    try:
        Store(db)
        results.put("ok")
    except Exception as exc:  # reported to the test rather than lost in the child
        results.put(f"{type(exc).__name__}: {exc}")


def test_a_new_database_opened_by_several_processes_at_once(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    for round_ in range(3):
        results = ctx.Queue()
        start = time.time() + 3
        procs = [ctx.Process(target=_open_at, args=(str(tmp_path / f"new{round_}.db"), start, results))
                 for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert [results.get(timeout=5) for _ in procs] == ["ok"] * 4


def test_resume_after_kill_loses_nothing_and_doubles_nothing(tmp_path):
    corpus = _corpus(tmp_path / "corpus", 48)
    db = tmp_path / "killed.db"
    env = {**os.environ, "NARRASCOPE_BATCH_SIZE": "4"}
    cmd = [sys.executable, "-m", "narrascope.cli", "analyze", str(corpus), "--db", str(db), "--format", "jsonl"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            try:
                stored = Store(str(db)).count()
            except Exception:
                stored = 0
            if stored >= 4:
                break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial = _counts(db)
    assert 0 < partial["articles"] < 48, partial  # killed half way
    # Only whole articles were written: every stored article has its quotes.
    with Store(str(db)).engine.connect() as conn:
        orphans = conn.execute(text(
            "SELECT count(*) FROM articles a WHERE NOT EXISTS (SELECT 1 FROM quotes q WHERE q.article_id = a.id)"
        )).scalar_one()
    assert orphans == 0
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 48
    clean = tmp_path / "clean.db"
    subprocess.run(cmd[:-4] + [str(corpus), "--db", str(clean), "--format", "jsonl"], capture_output=True,
                   env=env, timeout=300, check=True)
    assert _counts(db) == _counts(clean)


def test_seeds_by_default_go_to_the_configured_db(tmp_path):
    from typer.testing import CliRunner

    from narrascope.cli import app

    res = CliRunner().invoke(app, ["analyze", str(SEED_KREMLIN), str(SEED_RFA), "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    assert Store(os.environ["NARRASCOPE_DB"]).count() == 2


def test_surname_alone_takes_the_full_name_stored_for_the_corpus(tmp_path, pipeline):
    store = Store(str(tmp_path / "s.db"))
    first = pipeline.analyze_text("Visit\n\nSouth Korean President Yoon Suk-yeol arrived in Washington on Monday.")
    store.save(first)
    later = pipeline.analyze_text('Talks\n\n"We will decide soon," Yoon told reporters on Friday.')
    assert later.quotes[0].speaker == "Yoon"
    store.save(later)
    assert later.quotes[0].speaker == "Yoon Suk-yeol" and later.quotes[0].speaker_id == "yoon-suk-yeol"
    assert {r["name"]: r["articles"] for r in store.actor_index()}["Yoon Suk-yeol"] == 2


def test_a_new_database_waits_for_another_writer_before_switching_to_wal(tmp_path):
    """SQLite refuses the switch to WAL at once (no busy wait) while another connection holds a write
    lock on a new database; opening the store waits for it instead of failing."""
    import sqlite3
    import threading

    db = tmp_path / "busy.db"
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    other.execute("PRAGMA user_version=1")  # the file exists, still in rollback-journal mode
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE elsewhere(a)")
    threading.Timer(0.5, lambda: other.execute("COMMIT")).start()
    store = Store(str(db))
    assert store.search("anything") == []
    other.close()
