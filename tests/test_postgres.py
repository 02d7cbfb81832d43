"""The store on PostgreSQL (the team set-up). .ci/run starts a server on loopback and sets
NARRASCOPE_TEST_PG_URL; without it these tests are skipped."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from narrascope.store import Store

URL = os.environ.get("NARRASCOPE_TEST_PG_URL")
pytestmark = pytest.mark.skipif(not URL, reason="set NARRASCOPE_TEST_PG_URL to a PostgreSQL database to run")


@pytest.fixture()
def pg_url():
    """A fresh schema-less database per test: create it, hand out its URL, drop it."""
    assert URL
    name = f"ns_{uuid.uuid4().hex[:10]}"
    admin = create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_postgres_store_round_trip_idempotent_and_search(pg_url, seeds):
    store = Store(pg_url)
    assert not store.is_sqlite
    for _ in range(2):
        for art in seeds.values():
            store.save(art)
    assert store.count() == 2
    assert store.count("quotes") == sum(len(a.quotes) for a in seeds.values())
    art = seeds["000"]
    back = store.get(art.id)
    assert back is not None and back.text == art.text
    assert [q.speaker for q in back.quotes] == [q.speaker for q in sorted(art.quotes, key=lambda q: q.start)]
    hits = store.search("puppet regime")
    assert [h["id"] for h in hits] == [art.id]
    assert {r["name"]: r["articles"] for r in store.actor_index()}["South Korea"] == 2
    store.engine.dispose()


def test_cli_with_a_postgres_url(pg_url):
    from conftest import SEED_RFA
    from typer.testing import CliRunner

    from narrascope.cli import app

    res = CliRunner().invoke(app, ["analyze", str(SEED_RFA), "--db", pg_url, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["search", "Kirby", "--db", pg_url, "--json"])
    assert res.exit_code == 0 and "Kirby" not in (res.stderr or "")
    assert res.stdout.strip()
