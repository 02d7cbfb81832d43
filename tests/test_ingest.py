"""Readers and cleaning."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import FIXTURES, SEED_KREMLIN, SEED_RFA

from narrascope.document import article_id
from narrascope.errors import InputError
from narrascope.ingest import read, read_text
from narrascope.ingest.clean import clean_body, clean_title


def _one(path: str | Path, **meta):
    items = list(read([str(path)], **meta))
    assert len(items) == 1, items
    return items[0]


def test_semeval_layout_title_and_body():
    art = _one(SEED_KREMLIN)
    assert art.title == "Russia slams S Korean suggestion to arm Kyiv as ‘anti-Russia’ move"
    assert art.text.startswith(art.title + "\n\nRussian Foreign Ministry Spokeswoman Maria Zakharova")
    assert art.body_start == len(art.title) + 2
    assert art.id == article_id(art.text)


def test_cleaning_cuts_seed_boilerplate_but_keeps_the_article_whole():
    art = _one(SEED_KREMLIN)
    for junk in ("Check Also", "Leave a Reply", "Required fields are marked", "Iraqi PM", "Al-Hamdaniyah"):
        assert junk not in art.text
    assert art.text.endswith("almost entirely Western-sponsored war against Russia.")
    # every paragraph of the article proper is still there
    raw = SEED_KREMLIN.read_text(encoding="utf-8")
    raw_paragraphs = raw[: raw.index("Check Also")].split("\n\n")[1:]
    assert len(raw_paragraphs) == 13
    for para in raw_paragraphs:
        assert para.strip() in art.text
    assert "Check Also" in art.original


def test_cleaning_drops_credit_line_of_rfa_seed():
    art = _one(SEED_RFA)
    assert "Edited by RFA Staff" not in art.text
    assert art.text.endswith("though both Russia and North Korea deny that.")
    assert art.title == ""  # this file has no title line: its first line is the lede
    assert art.text.startswith("Russian President Vladimir Putin warned South Korea")


def test_clean_body_drops_inline_prompts_and_keeps_mentions_of_them():
    body = (
        "The minister spoke on Monday.\n\nREAD MORE: Something else entirely\n\n"
        "Subscribe to our Telegram channel\n\nShe said related articles were wrong.\n\n"
        "Share this article\n\nThe talks continue.\n\nNote to readers: Please click the share button above. He is a "
        "regular contributor to Global Research.\n\nFeatured image is from The Daily Sceptic\n\n"
        "The original source of this article is Global Research\n\nMost read in News\n\nAnother story"
    )
    out = clean_body(body)
    assert "READ MORE" not in out and "Telegram" not in out and "Share this" not in out
    assert "Most read" not in out and "Another story" not in out
    assert "Note to readers" not in out and "Featured image" not in out and "original source" not in out
    bio = "Ben Bartee is a regular contributor to Global Research."
    kept = "Kennedy, a regular contributor to Fox News, said the war was lost."
    assert clean_body(f"The talks continue.\n\n{bio}\n\n{kept}") == f"The talks continue.\n\n{kept}"
    assert "She said related articles were wrong." in out and out.endswith("The talks continue.")


def test_a_scraped_time_stamp_leaves_the_title(tmp_path):
    """A stamp a scraper glued to the end of a headline goes, from the title and from the text's title line; a
    headline's own words about time stay."""
    assert clean_title("Corruption In Ukraine Remains A Major Problem Published 24 mins ago ") == (
        "Corruption In Ukraine Remains A Major Problem"
    )
    assert clean_title("Warmer winters bring earlier blooms, experts say. 3M ago") == (
        "Warmer winters bring earlier blooms, experts say."
    )
    assert clean_title("Israel to respond to genocide charges at UN’s top court06:35") == (
        "Israel to respond to genocide charges at UN’s top court"
    )
    assert clean_title("Young solar leaders learn skills Adria Iraheta 2:38 PM, Jun 14, 2024") == (
        "Young solar leaders learn skills Adria Iraheta"
    )
    for kept in ("Chernobyl disaster, 37 years ago", "John 3:16 and the war", "Attack at 10:30", "Updated 3 days ago"):
        assert clean_title(kept) == kept
    path = tmp_path / "stamped.txt"
    path.write_text("Brown bins urged for food waste 12 minutes ago\n\nThe council spoke on Monday.\n", encoding="utf-8")
    art = _one(path)
    assert art.title == "Brown bins urged for food waste"
    assert art.text == "Brown bins urged for food waste\n\nThe council spoke on Monday."


def test_a_tail_marker_early_in_the_text_is_not_a_tail():
    body = "Comments\n\n" + "Long article text. " * 40
    assert clean_body(body).endswith("Long article text.")


def test_sidecar_metadata_names_the_outlet():
    art = _one(SEED_RFA)
    assert art.source == "Radio Free Asia (RFA)"
    assert art.published == "2024-06-20"


def test_html_reader_takes_main_text_and_metadata():
    art = _one(FIXTURES / "analyst_note.html")
    assert art.title == "Ministers clash over grain corridor"
    assert art.source == "Harbour Ledger"
    assert art.published == "2023-07-18"
    assert art.url == "https://harbourledger.example/2023/07/grain-corridor"
    assert "Hakan Fidan said on Tuesday" in art.text
    assert art.text.count("Ministers clash over grain corridor") == 1
    for junk in ("READ MORE", "Most read", "Telegram", "Subscribe"):
        assert junk not in art.text


def test_jsonl_and_csv_tables(tmp_path):
    rows = [
        {"title": "One", "text": "First body. It has words.", "outlet": "Outlet A", "published": "2024-01-02",
         "url": "https://a.example/1"},
        {"title": "Two", "text": "Second body, also words.", "source": "Outlet B"},
    ]
    jl = tmp_path / "corpus.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    arts = list(read([str(jl)]))
    assert [a.title for a in arts] == ["One", "Two"]
    assert arts[0].source == "Outlet A" and arts[0].published == "2024-01-02" and arts[0].url.endswith("/1")
    assert arts[0].text == "One\n\nFirst body. It has words."
    csv = tmp_path / "corpus.csv"
    csv.write_text('title,text,outlet\nOne,"First body, with a comma.",X\nEmpty,,X\n', encoding="utf-8")
    got = list(read([str(csv)]))
    assert got[0].title == "One" and got[0].source == "X"
    assert isinstance(got[1], InputError) and "corpus.csv:3" in str(got[1])


def test_jsonl_bad_line_is_reported_with_its_line_number(tmp_path):
    jl = tmp_path / "c.jsonl"
    jl.write_text('{"text": "Fine article body here."}\n{not json\n', encoding="utf-8")
    got = list(read([str(jl)]))
    assert got[0].text == "Fine article body here."
    assert isinstance(got[1], InputError) and "c.jsonl:2" in str(got[1])


def test_feed_reader(tmp_path):
    feed = tmp_path / "news.rss"
    feed.write_text(
        """<?xml version="1.0"?><rss version="2.0"><channel><title>Feed Outlet</title>
        <item><title>Headline one</title><link>https://f.example/1</link>
        <description>&lt;p&gt;The council said it would meet again.&lt;/p&gt;</description>
        <pubDate>Tue, 18 Jul 2023 09:30:00 GMT</pubDate></item></channel></rss>""",
        encoding="utf-8",
    )
    (art,) = list(read([str(feed)]))
    assert art.title == "Headline one" and art.source == "Feed Outlet" and art.url == "https://f.example/1"
    assert "The council said it would meet again." in art.text


def test_folders_and_globs_expand(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.txt").write_text("T1\n\nBody one.", encoding="utf-8")
    (tmp_path / "a" / "y.txt").write_text("T2\n\nBody two.", encoding="utf-8")
    (tmp_path / "a" / "notes.pdf").write_bytes(b"%PDF-1.4")
    assert {a.title for a in read([str(tmp_path / "a")])} == {"T1", "T2"}
    assert {a.title for a in read([str(tmp_path / "a" / "*.txt")])} == {"T1", "T2"}


def test_same_article_twice_has_one_id(tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("Title\n\nSame body.\n", encoding="utf-8")
    b.write_text("Title\r\n\r\nSame body.\r\n\r\nShare this article\r\n", encoding="utf-8")
    ids = {x.id for x in read([str(a), str(b)])}
    assert len(ids) == 1


def test_read_text_accepts_html_strings():
    paragraph = "A real paragraph of news text here. " * 8
    html = f"<html><body><article><h1>Head</h1><p>{paragraph}</p></article></body></html>"
    art = read_text(html)
    assert "A real paragraph of news text here." in art.text


def test_url_reader_on_a_local_server():
    import functools
    import http.server
    import threading

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(FIXTURES))
    handler.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/analyst_note.html"
        (art,) = list(read([url]))
        assert art.title == "Ministers clash over grain corridor" and "Hakan Fidan" in art.text
        (bad,) = list(read([f"http://127.0.0.1:{server.server_port}/missing.html"]))
        assert isinstance(bad, InputError) and "could not download" in str(bad)
    finally:
        server.shutdown()


def test_parquet_reader(tmp_path):
    pa = __import__("pytest").importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"title": ["P1"], "text": ["Parquet body text."], "outlet": ["Q"]})
    pq.write_table(table, tmp_path / "c.parquet")
    (art,) = list(read([str(tmp_path / "c.parquet")]))
    assert art.title == "P1" and art.source == "Q"
