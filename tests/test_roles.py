"""Entity framing (roles): taxonomy, SemEval-2025 ST1 reader/scorer/writer, the analyser on the seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from narrascope.document import Actor, Article, Mention
from narrascope.evaluate.semeval2025_st1 import (
    MentionRecord,
    ST1FormatError,
    read_documents,
    read_mentions,
    score,
    score_files,
    write_submission,
)
from narrascope.taxonomy.roles import load_roles

FIX = Path(__file__).parent / "fixtures" / "roles"
SEED = Path(__file__).parent.parent / "examples" / "000_32c6785b4f59bc36.txt"


def test_taxonomy() -> None:
    tax = load_roles()
    assert tax.main_names == ["Protagonist", "Antagonist", "Innocent"]
    assert len(tax.fine_names) == 22
    assert tax.fine_of("Innocent") == ["Forgotten", "Exploited", "Victim", "Scapegoat"]
    assert tax.main_of("Foreign Adversary") == "Antagonist"
    assert "guardian" in tax.definition("Guardian").lower()
    with pytest.raises(KeyError, match="unknown fine role"):
        tax.main_of("Hero")


def test_reader_end_offset_is_inclusive() -> None:
    docs = read_documents(FIX / "docs")
    recs = read_mentions(FIX / "gold.txt", docs, labelled=True)
    assert len(recs) == 4
    for r in recs:
        assert docs[r.doc_id][r.start : r.end] == r.mention
    assert recs[1].fine_roles == ["Guardian", "Virtuous"]


def test_offset_mismatch_names_the_line() -> None:
    docs = read_documents(FIX / "docs")
    with pytest.raises(ST1FormatError, match=r"bad_offsets\.txt:3: .*'Villagers'"):
        read_mentions(FIX / "bad_offsets.txt", docs)
    repaired = read_mentions(FIX / "bad_offsets.txt", docs, repair=True)
    assert repaired[2].repaired and docs["T_001.txt"][repaired[2].start : repaired[2].end] == "Villagers"


def test_format_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("T_001.txt\tMarlovia\t86\t93\tAntagonist\tHero\n", encoding="utf-8")
    with pytest.raises(ST1FormatError, match=r"bad\.txt:1: unknown fine role"):
        read_mentions(bad)
    bad.write_text("T_001.txt\tMarlovia\t86\n", encoding="utf-8")
    with pytest.raises(ST1FormatError, match=r"bad\.txt:1: expected"):
        read_mentions(bad)


def test_scorer_hand_computed() -> None:
    s = score_files(FIX / "gold.txt", FIX / "pred.txt")
    # exact: 1 of 4; main: 3 of 4; fine TP 3, predicted 6, gold 5
    assert s["emr"] == pytest.approx(0.25)
    assert s["main_role_accuracy"] == pytest.approx(0.75)
    assert s["micro_precision"] == pytest.approx(0.5)
    assert s["micro_recall"] == pytest.approx(0.6)
    assert s["micro_f1"] == pytest.approx(2 * 0.5 * 0.6 / 1.1)


def test_scorer_needs_every_gold_mention() -> None:
    gold = read_mentions(FIX / "gold.txt")
    with pytest.raises(ST1FormatError, match="no prediction"):
        score(gold, gold[:2])


def test_submission_round_trip(tmp_path: Path) -> None:
    recs = read_mentions(FIX / "pred.txt")
    out = tmp_path / "sub.txt"
    write_submission(recs, out)
    assert out.read_text(encoding="utf-8") == (FIX / "pred.txt").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="needs a main role"):
        write_submission([MentionRecord("x.txt", "X", 0, 1)], out)


# ----------------------------------------------------------------------------- the analyser


@pytest.fixture(scope="module")
def seed() -> Article:
    from narrascope.nlp import parse

    text = SEED.read_text(encoding="utf-8")
    return parse([Article(text=text, title=text.split("\n", 1)[0])])[0]


def _span(art: Article, phrase: str) -> tuple[int, int]:
    i = art.text.index(phrase)
    return i, i + len(phrase)


def test_given_mentions_of_the_seed(seed: Article) -> None:
    from narrascope.analysers.roles import RoleAnalyser

    analyser = RoleAnalyser()
    phrases = ["the collective West", "the puppet regime in Kyiv", "Russia"]
    found = analyser.predict_mentions(seed, [_span(seed, p) for p in phrases])
    roles = {f.attrs["text"]: f for f in found}
    assert roles["the collective West"].label == "Antagonist"
    assert roles["the puppet regime in Kyiv"].label == "Antagonist"
    tax = load_roles()
    for f in found:
        assert f.layer == "roles" and f.analyser == "roles" and f.attrs["scope"] == "mention"
        assert f.label in tax.main_names and 0 < f.score <= 1
        assert f.attrs["fine_roles"] and all(tax.main_of(r) == f.label for r in f.attrs["fine_roles"])
        ev = f.attrs["evidence"][0]
        assert ev["start"] <= f.start < f.end <= ev["end"]


def test_mismatched_span_is_an_error(seed: Article) -> None:
    from narrascope.analysers.roles import MentionSpan, RoleAnalyser

    with pytest.raises(ValueError, match="does not match"):
        RoleAnalyser().predict_mentions(seed, [MentionSpan(0, 6, "Moscow")])


def test_cast_from_actor_layer(seed: Article) -> None:
    from narrascope.analysers.roles import RoleAnalyser

    def actor(name: str, kind: str, phrase: str) -> Actor:
        starts = [i for i in range(len(seed.text)) if seed.text.startswith(phrase, i)][:3]
        slug = name.lower().replace(" ", "-")
        return Actor(slug, name, kind, mentions=[Mention(s, s + len(phrase), phrase, slug) for s in starts])

    seed.actors = [
        actor("South Korea", "STATE", "South Korea"),
        actor("Maria Zakharova", "PERSON", "Zakharova"),
    ]
    RoleAnalyser()(seed)
    cast = [f for f in seed.findings_of("roles") if f.attrs["scope"] == "actor"]
    assert {f.attrs["actor"] for f in cast} == {"South Korea", "Maria Zakharova"}
    korea = next(f for f in cast if f.attrs["actor"] == "South Korea")
    assert korea.attrs["mentions"] == 3 and korea.attrs["summary"].startswith("South Korea: ")
    mentions = [f for f in seed.findings_of("roles") if f.attrs["scope"] == "mention"]
    assert len(mentions) == 3 + 3
    assert all(f.attrs["actor_id"] in {"south-korea", "maria-zakharova"} for f in mentions)


def test_registered_and_saved(tmp_path: Path) -> None:
    import numpy as np

    from narrascope.analysers.roles import RoleAnalyser, RoleModel
    from narrascope.registry import analysers

    assert analysers.get("roles") is RoleAnalyser
    model = RoleModel.load()
    model.save(tmp_path / "m")
    again = RoleModel.load(tmp_path / "m")
    X = np.random.RandomState(0).normal(size=(2, model.arrays["mean"].shape[0])).astype(np.float32)
    assert [p.main for p in model.predict(X)] == [p.main for p in again.predict(X)]


def test_predict_st1_writes_the_official_format(tmp_path: Path) -> None:
    from narrascope.analysers.roles import predict_st1

    out = tmp_path / "pred.txt"
    assert predict_st1(FIX / "docs", FIX / "mentions.txt", out) == 4
    preds = read_mentions(out, read_documents(FIX / "docs"), labelled=True)
    gold = read_mentions(FIX / "gold.txt")
    assert [p.key for p in preds] == [g.key for g in gold]
    assert 0 <= score(gold, preds)["emr"] <= 1
    with pytest.raises(ST1FormatError, match=r"bad_offsets\.txt:3"):
        predict_st1(FIX / "docs", FIX / "bad_offsets.txt", out)


def test_cross_validation_trains_on_extra_mentions_without_testing_them() -> None:
    """Other languages' annotations join every training fold; only the given mentions are scored."""
    import numpy as np

    from narrascope.analysers.roles import cross_validate

    rng = np.random.RandomState(0)
    fine = {"Antagonist": ["Instigator"], "Protagonist": ["Guardian"], "Innocent": ["Victim"]}

    def mentions(mains: list[str], prefix: str) -> tuple[np.ndarray, list[MentionRecord]]:
        X = rng.normal(size=(len(mains), 8)).astype(np.float32)
        X[:, 0] = [{"Antagonist": 3.0, "Protagonist": -3.0, "Innocent": 0.0}[m] for m in mains]
        recs = [MentionRecord(f"{prefix}{i // 2}.txt", "X", i, i + 1, m, fine[m]) for i, m in enumerate(mains)]
        return X, recs

    X, recs = mentions(["Antagonist" if i % 3 else "Protagonist" for i in range(30)], "EN_")
    params = {"c_main": 1.0, "c_fine": 1.0}
    alone = cross_validate(X, recs, folds=3, **params)
    assert alone["n"] == 30 and alone["main_role_accuracy"] == 1.0
    # the same features labelled otherwise elsewhere, with more weight: they now decide the English test rows
    X_extra, _ = mentions([r.main_role for r in recs] * 10, "BG_")
    flipped = [MentionRecord(f"BG_{i}.txt", "X", i, i + 1, "Innocent", ["Victim"]) for i in range(300)]
    swayed = cross_validate(X, recs, folds=3, extra=(X_extra, flipped, 5.0), **params)
    assert swayed["n"] == 30
    assert swayed["main_role_accuracy"] < 0.5
