"""Quotes on the seeds and on small fixtures: every direct quote with its speaker."""

from __future__ import annotations

from conftest import FIXTURES

from narrascope.ingest import read

# (start of the quoted words, speaker) for every direct or partial quote in the seeds.
SEED_000 = [
    ("an openly hostile anti-Russian move", "Maria Zakharova", "partial", "slamming"),
    ("Russia is conducting defensive military operations", "Maria Zakharova", "direct", "insisted"),
    ("Such steps will negatively impact", "Maria Zakharova", "direct", "emphasized"),
    ("As for South Korea, it might be", "Maria Zakharova", "direct", "noting"),
    ("a large-scale civilian attack by Russia", "Yoon Suk-yeol", "partial", "speculated"),
    ("If there is a situation the international community", "Yoon Suk-yeol", "direct", "inferred"),
    ("Unfortunately Seoul has taken a rather unfriendly stance", "Dmitry Peskov", "direct", "saying"),
    ("I wonder what the residents of this nation", "Dmitry Medvedev", "direct", "wrote"),
]
SEED_004 = [
    ("very big mistake", "Vladimir Putin", "partial", "warned"),
    ("As for the supply of lethal weapons", "Vladimir Putin", "direct", "told"),
    ("We plan to reconsider the issue of arms support", "Chang Ho-jin", "direct", "said"),
    ("The government expresses grave concern", "Chang Ho-jin", "direct", "said"),
    ("no surprise", "John Kirby", "partial", "said"),
    ("Our view is that this agreement", "John Kirby", "direct", "added"),
    ("I mean, they’re reaching out to North Korea", "John Kirby", "direct", None),
]


def _check(article, expected):
    quoted = [q for q in article.quotes if q.kind in ("direct", "partial")]
    for prefix, speaker, kind, cue in expected:
        hits = [q for q in quoted if q.text.startswith(prefix)]
        assert hits, f"no quote starting {prefix!r}"
        q = hits[0]
        assert (q.speaker, q.kind, q.cue) == (speaker, kind, cue), (prefix, q)
        assert article.text[q.start : q.end] == q.text
        if q.cue_start is not None:
            assert article.text[q.cue_start : q.cue_end] == q.cue
    return quoted


def test_seed_kremlin_quotes(seeds):
    quoted = _check(seeds["000"], SEED_000)
    texts = [q.text for q in quoted]
    assert not any("special military operation" in t for t in texts)  # a scare quote
    assert not any(t.startswith("loaning") for t in texts)
    assert not any("anti-Russia’ move" in t or t == "anti-Russia" for t in texts)  # the headline's marks
    assert len(quoted) == len(SEED_000)


def test_seed_kremlin_speaker_of_pronoun_is_zakharova(seeds):
    art = seeds["000"]
    q = next(q for q in art.quotes if q.text.startswith("Such steps"))
    assert art.text[q.speaker_start : q.speaker_end] == "she"
    assert q.speaker_id == "maria-zakharova"


def test_seed_rfa_quotes(seeds):
    quoted = _check(seeds["004"], SEED_004)
    assert len([q for q in quoted if q.kind == "direct"]) == 5


def test_indirect_quotes_on_seeds(seeds):
    ind = {(q.speaker, q.cue): q.text for q in seeds["004"].quotes if q.kind == "indirect"}
    assert ind[("Vladimir Putin", "warned")].startswith("sending weapons to Ukraine would be")
    assert ind[("Chang Ho-jin", "added")].startswith("any cooperation that directly or indirectly")
    assert ind[("South Korea", "announced")].startswith("it would reconsider its stance")
    ind0 = {(q.speaker, q.cue): q.text for q in seeds["000"].quotes if q.kind == "indirect"}
    assert ind0[("Maria Zakharova", "clarify")].startswith("Russian forces deliver high-precision strikes")


def test_quotes_across_paragraphs_and_continuations(pipeline):
    (art,) = list(read([str(FIXTURES / "continuation.txt")]))
    art = pipeline(art)
    by_text = {q.text.split()[0:3].__str__(): q for q in art.quotes}
    direct = [q for q in art.quotes if q.kind == "direct"]
    starts = [q.text[:20] for q in direct]
    assert starts == ["We have waited two y", "We are asking to be ", "Nobody here wanted t", "The offer on the tab"]
    assert [q.speaker for q in direct] == ["Martha Kowalski"] * 3 + ["Daniel Reyes"]
    assert direct[1].cue == "said" and direct[3].cue == "insisted"
    partial = [q for q in art.quotes if q.kind == "partial"]
    assert partial and partial[0].text.startswith("an insult") and partial[0].speaker == "Workers"
    assert by_text


def test_html_article_quotes_and_according_to(pipeline):
    (art,) = list(read([str(FIXTURES / "analyst_note.html")]))
    art = pipeline(art)
    direct = [q for q in art.quotes if q.kind == "direct"]
    assert [q.speaker for q in direct] == ["Hakan Fidan", "Hakan Fidan"]
    acc = [q for q in art.quotes if q.cue == "according to"]
    assert acc and acc[0].speaker == "United Nations" and acc[0].text.startswith("the corridor carried")
    kremlin = [q for q in art.quotes if q.kind == "indirect" and q.speaker == "Russia"]
    assert kremlin and kremlin[0].text.startswith("the agreement could only return")


def test_straight_quotes_and_no_speaker(pipeline):
    art = pipeline.analyze_text(
        'Debate\n\nThe minister said on Monday that "the plan is dead". Critics call it a "so-called reform".\n\n'
        '"Nobody will sign this," the minister told parliament.'
    )
    q = [x for x in art.quotes if x.kind == "direct"]
    assert q and q[0].text == "Nobody will sign this," and q[0].cue == "told"
    assert not any(x.text == "so-called reform" and x.speaker is None for x in art.quotes if x.kind != "indirect")
