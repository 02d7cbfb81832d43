"""Stories: threading into events and storylines, near-duplicates, stable ids, compare and its HTML."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES, SEED_KREMLIN, SEED_RFA

STORIES = FIXTURES / "stories"


@pytest.fixture(scope="module")
def corpus():
    """The two seeds, a made-up wire story on the RFA seed's event, an unrelated story, and a wire copy
    of the RFA seed (new headline line, one edited sentence, a credit line)."""
    from narrascope.document import Article
    from narrascope.ingest import read

    arts = {
        a.path.split("/")[-1].split(".")[0][:12]: a
        for a in read(
            [
                str(SEED_KREMLIN),
                str(SEED_RFA),
                str(STORIES / "seoul_wire.txt"),
                str(STORIES / "harbour_flood.txt"),
            ]
        )
    }
    rfa = arts["004_7c6e6fce"]
    body = rfa.text.replace("press conference on Thursday", "news conference on Thursday")
    copy = Article(
        text="Putin warns Seoul over arms for Ukraine\n\n" + body + "\nReporting by a wire service.",
        title="Putin warns Seoul over arms for Ukraine",
        source="Syndicating site (fictional)",
        published="2024-06-20",
    )
    return {
        "kremlin": arts["000_32c6785b"],
        "rfa": rfa,
        "wire": arts["seoul_wire"],
        "flood": arts["harbour_floo"],
        "copy": copy,
    }


def _by_id(records):
    return {r["id"]: r for r in records}


def test_seeds_one_storyline_two_events(corpus):
    from narrascope.stories import thread_articles

    recs = _by_id(thread_articles(list(corpus.values())))
    k, r = recs[corpus["kremlin"].id], recs[corpus["rfa"].id]
    assert k["storyline_id"] == r["storyline_id"]
    assert k["event_id"] != r["event_id"]
    wire, flood = recs[corpus["wire"].id], recs[corpus["flood"].id]
    assert wire["event_id"] == r["event_id"]  # same happening, a day apart
    assert flood["storyline_id"] != k["storyline_id"]
    assert set(recs[corpus["rfa"].id]) >= {
        "id",
        "title",
        "url",
        "source",
        "published",
        "event_id",
        "storyline_id",
        "duplicate_of",
    }


def test_near_duplicate_is_marked(corpus):
    from narrascope.stories import thread_articles

    recs = _by_id(thread_articles(list(corpus.values())))
    copy, rfa = recs[corpus["copy"].id], recs[corpus["rfa"].id]
    assert copy["duplicate_of"] == corpus["rfa"].id
    assert copy["event_id"] == rfa["event_id"]
    assert sum(1 for r in recs.values() if r["duplicate_of"]) == 1


def test_ids_stable_across_order_and_arrival(corpus, tmp_path):
    from narrascope.store import open_store
    from narrascope.stories import thread_articles, thread_record

    arts = list(corpus.values())
    forward = _by_id(thread_articles(arts))
    backward = _by_id(thread_articles(arts[::-1]))
    assert forward == backward

    store = open_store(str(tmp_path / "threads.db"))
    first = _by_id(thread_articles([corpus["kremlin"], corpus["flood"]], store))
    later = _by_id(thread_articles([corpus["rfa"], corpus["copy"], corpus["wire"], corpus["kremlin"]], store))
    for aid, rec in first.items():
        if aid in later:
            assert later[aid] == rec
    assert later[corpus["rfa"].id]["storyline_id"] == first[corpus["kremlin"].id]["storyline_id"]
    # a new session sees the stored threads
    again = _by_id(thread_articles([corpus["flood"], corpus["rfa"]], store))
    assert again[corpus["rfa"].id] == later[corpus["rfa"].id]

    story = thread_record(store, first[corpus["kremlin"].id]["storyline_id"])
    assert story["level"] == "storyline" and len(story["events"]) == 2
    assert story["n_articles"] == 4 and story["n_distinct"] == 3
    event = thread_record(store, later[corpus["rfa"].id]["event_id"])
    assert event["level"] == "event" and {a["id"] for a in event["articles"]} >= {corpus["rfa"].id}
    with pytest.raises(LookupError):
        thread_record(store, "ev-nothing")


def test_compare_seeds(seeds):
    from narrascope.stories import compare

    result = compare([seeds["000"], seeds["004"]])
    json.dumps(result)
    pairs = [{s["article"]: s["text"] for s in g["sentences"]} for g in result["facts"]["shared"]]
    k, r = seeds["000"].id, seeds["004"].id
    assert any(
        "non-lethal and humanitarian assistance" in p.get(k, "") and "first-aid kits" in p.get(r, "")
        for p in pairs
    )
    for g in result["facts"]["shared"]:  # offsets point at the sentences
        for s in g["sentences"]:
            art = seeds["000"] if s["article"] == k else seeds["004"]
            assert art.text[s["start"] : s["end"]] == s["text"]
    only_k = {q["speaker"] for q in result["quotes"]["only_in"][k]}
    only_r = {q["speaker"] for q in result["quotes"]["only_in"][r]}
    assert "Maria Zakharova" in only_k and "Vladimir Putin" in only_r
    shared_speakers = {x["speaker"] for g in result["quotes"]["shared"] for x in g["renderings"]}
    assert not shared_speakers & {"Maria Zakharova", "Vladimir Putin"}
    actors = {a["id"]: a for a in result["actors"]}
    assert actors["south-korea"]["shared"] and not actors["maria-zakharova"]["shared"]


def test_compare_quote_renderings():
    from narrascope.document import Article, Quote
    from narrascope.stories.align import match_quotes

    t1 = 'Minister Ana Ruiz said: "We will open the bridge in May and not a day later."'
    t2 = 'The bridge will open in May, officials said. "We will open the bridge in May," Ruiz said.'
    q1 = t1.index("We")
    q2 = t2.index("We")
    a = Article(text=t1, quotes=[Quote(q1, q1 + 54, t1[q1 : q1 + 54], "direct", "Ana Ruiz", "ana-ruiz")])
    b = Article(text=t2, quotes=[Quote(q2, q2 + 30, t2[q2 : q2 + 30], "direct", "Ana Ruiz", "ana-ruiz")])
    out = match_quotes([a, b])
    assert len(out["shared"]) == 1
    assert out["shared"][0]["wording"] == "cut" and out["shared"][0]["attribution"] == "same"


def test_html_escapes_hostile_text():
    from narrascope.document import Article
    from narrascope.report.compare import render_compare
    from narrascope.stories import compare

    evil = Article(
        text="<script>alert(1)</script>\n\nThe council <img src=x onerror=alert(2)> approved the budget "
        "for the new bridge on Monday.",
        title="<script>alert(1)</script>",
        source="<b>Evil</b>",
        url="javascript:alert(3)",
        published="2024-01-02",
    )
    good = Article(
        text="Council approves bridge budget\n\nThe city council approved the budget for the new "
        "bridge on Monday after a long debate.",
        title="Council approves bridge budget",
    )
    html = render_compare(compare([evil, good]))
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>Evil" not in html
    assert "javascript:" not in html
    assert "&lt;script&gt;" in html
    assert "http://" not in html.split("</style>")[0]  # no external resources


def test_compare_thread_from_store(corpus, tmp_path):
    from narrascope.store import open_store
    from narrascope.stories import compare_thread, thread_articles

    store = open_store(str(tmp_path / "cmp.db"))
    arts = [corpus["rfa"], corpus["wire"], corpus["copy"]]
    for a in arts:
        store.save(a)
    recs = thread_articles(arts, store)
    result = compare_thread(store, recs[0]["event_id"])
    assert {a["id"] for a in result["articles"]} == {corpus["rfa"].id, corpus["wire"].id}  # copy left out
    assert result["thread"]["n_distinct"] == 2 and result["facts"]["shared"]
