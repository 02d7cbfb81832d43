"""Persuasion techniques: taxonomy, official scorers, formats, errors and the analyser.

Fixtures under tests/fixtures/techniques/ are made-up articles in the PTC and SemEval-2023 layouts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from narrascope.analysers import techniques as tech
from narrascope.document import Article
from narrascope.errors import MissingModelError
from narrascope.evaluate import ptc
from narrascope.evaluate import semeval2023 as st3
from narrascope.taxonomy.techniques import load_techniques

FIX = Path(__file__).parent / "fixtures" / "techniques"
SEED_000 = Path(__file__).parent.parent / "examples" / "000_32c6785b4f59bc36.txt"


# --------------------------------------------------------------------------- taxonomy


def test_taxonomy_has_23_techniques_6_categories_and_maps_the_14_ptc_classes() -> None:
    tax = load_techniques()
    assert len(tax.names) == 23 and len(set(tax.names)) == 23
    assert len(tax.categories) == 6
    assert len(tax.ptc_names) == 14
    assert all(tax.get(n).definition for n in tax.names)
    assert tax.from_ptc("Name_Calling,Labeling") == ["Name_Calling-Labeling"]
    assert tax.from_ptc("Whataboutism,Straw_Men,Red_Herring") == ["Whataboutism", "Straw_Man", "Red_Herring"]
    assert tax.to_ptc("Conversation_Killer") == "Thought-terminating_Cliches"
    assert tax.to_ptc("Appeal_to_Values") is None
    assert tax.category_of("Loaded_Language") == "Manipulative_Wording"
    with pytest.raises(KeyError, match="unknown technique"):
        tax.get("Nonsense")


# --------------------------------------------------------------------------- PTC scorers


def S(a: str, s: int, e: int, t: str | None = None) -> ptc.PTCSpan:
    return ptc.PTCSpan(a, s, e, t)


def test_si_partial_overlap_by_hand() -> None:
    gold = [S("1", 0, 10), S("1", 20, 30), S("2", 0, 4)]
    # pred A covers half of gold 0..10; pred B covers 20..30 plus 10 chars outside.
    pred = [S("1", 5, 10), S("1", 20, 40)]
    r = ptc.score_si(gold, pred)
    # precision: (5/5 + 10/20) / 2 = 0.75 ; recall: (5/10 + 10/10 + 0) / 3 = 0.5
    assert r["precision"] == pytest.approx(0.75)
    assert r["recall"] == pytest.approx(0.5)
    assert r["f1"] == pytest.approx(2 * 0.75 * 0.5 / 1.25)


def test_si_merges_overlapping_spans_and_handles_empty() -> None:
    gold = [S("1", 0, 10), S("1", 5, 20)]  # merged to 0..20
    assert ptc.score_si(gold, [S("1", 0, 20)])["f1"] == pytest.approx(1.0)
    assert ptc.score_si(gold, [])["f1"] == 0.0
    assert ptc.score_si([], [])["f1"] == 1.0
    # predictions in an article without gold spans cost precision only
    assert ptc.score_si(gold, [S("1", 0, 20), S("9", 0, 3)])["precision"] == pytest.approx(0.5)


def test_tc_micro_f1_with_a_doubly_labelled_span() -> None:
    gold = [
        S("1", 0, 5, "Doubt"),
        S("1", 0, 5, "Loaded_Language"),
        S("1", 8, 9, "Slogans"),
        S("2", 1, 3, "Repetition"),
    ]
    pred = [
        S("1", 0, 5, "Loaded_Language"),
        S("1", 0, 5, "Doubt"),
        S("1", 8, 9, "Doubt"),
        S("2", 1, 3, "Repetition"),
    ]
    assert ptc.score_tc(gold, pred)["f1"] == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match="same spans"):
        ptc.score_tc(gold, pred[:3])


def test_ptc_readers_writers_roundtrip(tmp_path: Path) -> None:
    arts = ptc.read_articles(FIX / "ptc" / "train-articles")
    assert set(arts) == {"1001", "1002"}
    tc = ptc.read_tc(FIX / "ptc" / "train-task-flc-tc.labels", arts)
    assert arts["1001"][tc[0].start : tc[0].end] == "corrupt bureaucrats"
    ptc.write_tc(tc, tmp_path / "tc.txt")
    assert ptc.read_tc(tmp_path / "tc.txt") == tc
    si = ptc.read_si(FIX / "ptc" / "train-task-si.labels", arts)
    ptc.write_si(si, tmp_path / "si.txt")
    assert ptc.read_si(tmp_path / "si.txt") == sorted(si, key=lambda s: (s.article_id, s.start))
    assert ptc.score_si(si, si)["f1"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1001\tLoaded_Language\t5\n", "expected 4"),
        ("1001\tLoaded_Language\tx\t5\n", "integers"),
        ("1001\tNot_A_Technique\t1\t5\n", "unknown technique"),
        ("1001\tLoaded_Language\t9\t5\n", "start < end"),
        ("4242\tLoaded_Language\t1\t5\n", "not in the articles"),
        ("1001\tLoaded_Language\t1\t99999\n", "past the end"),
    ],
)
def test_ptc_errors_name_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    f = tmp_path / "bad.labels"
    f.write_text("1001\tDoubt\t0\t4\n" + line)
    with pytest.raises(ptc.PTCFormatError, match=message) as err:
        ptc.read_tc(f, ptc.read_articles(FIX / "ptc" / "train-articles"))
    assert f"{f}:2" in str(err.value)


def test_tc_template_accepts_question_marks(tmp_path: Path) -> None:
    f = tmp_path / "t.out"
    f.write_text("1001\t?\t0\t4\n")
    assert ptc.read_tc(f, template=True)[0].technique is None
    with pytest.raises(ptc.PTCFormatError):
        ptc.read_tc(f)


# --------------------------------------------------------------------------- SemEval-2023 subtask 3


def test_st3_micro_f1_by_hand() -> None:
    gold = {("1", 1): ["Doubt", "Loaded_Language"], ("1", 3): [], ("2", 1): ["Slogans", "Not_In_Taxonomy"]}
    pred = {("1", 1): ["Doubt"], ("1", 3): ["Repetition"], ("2", 1): ["Slogans"]}
    r = st3.score_st3(gold, pred)
    # tp = 2 (Doubt, Slogans), fp = 1 (Repetition), fn = 1 (Loaded_Language); unknown gold label ignored
    assert r["micro_f1"] == pytest.approx(2 * 2 / (2 * 2 + 1 + 1))
    with pytest.raises(ValueError, match="no prediction"):
        st3.score_st3(gold, {("1", 1): []})
    with pytest.raises(ValueError, match="unknown predicted"):
        st3.score_st3(gold, {**pred, ("1", 3): ["Bogus"]})


def test_st3_readers_writer_and_paragraph_offsets(tmp_path: Path) -> None:
    en = FIX / "en"
    arts = st3.read_articles(en / "train-articles-subtask-3")
    labels = st3.read_paragraph_labels(en / "train-labels-subtask-3.txt")
    keys = st3.read_template(en / "train-labels-subtask-3.template")
    assert set(keys) == set(labels)
    paras = st3.paragraphs("1001", arts["1001"])
    assert [p.line for p in paras] == [1, 3, 5, 7]
    assert arts["1001"][paras[0].start : paras[0].end] == "Council plans new park"
    spans = st3.read_spans(en / "train-labels-subtask-3-spans", arts)
    assert {s.technique for s in spans} >= {"Flag_Waving", "Loaded_Language"}
    st3.write_paragraph_labels(labels, tmp_path / "p.txt")
    assert st3.read_paragraph_labels(tmp_path / "p.txt") == labels
    assert st3.score_st3(labels, labels)["micro_f1"] == 1.0


def test_st3_errors_name_file_and_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("1\t1\tDoubt\n1\tx\tDoubt\n")
    with pytest.raises(st3.SemEval2023FormatError, match=f"{f}:2"):
        st3.read_paragraph_labels(f)
    f.write_text("1\t1\tBogus\n")
    with pytest.raises(st3.SemEval2023FormatError, match="unknown technique"):
        st3.read_paragraph_labels(f, strict_labels=True)
    with pytest.raises(FileNotFoundError):
        st3.read_articles(tmp_path / "missing")


# --------------------------------------------------------------------------- model pieces


def test_target_encoding_smooths_and_drops_rare_keys() -> None:
    from collections import Counter

    tot = Counter({(0, "evil"): 4, (1, "evil"): 4, (2, "the|evil"): 1, (1, "the"): 6})
    pos = Counter({(0, "evil"): 4, (1, "evil"): 4, (2, "the|evil"): 1})
    te = tech.TargetEncoding.from_counters(pos, tot)
    assert "the|evil" not in te.counts["b"]  # seen once: below the minimum count
    assert te.base == pytest.approx(4 / 10)  # over the word keys
    lemma, word, bigram = te.rates(("evil", "evil", "the|evil"))
    assert lemma == word == pytest.approx((4 + tech.TE_SMOOTH * 0.4) / (4 + tech.TE_SMOOTH))
    assert bigram == pytest.approx(0.4)  # unknown key -> the overall rate
    assert tech.TargetEncoding(te.counts).rates(("evil", "the", "x")) == te.rates(("evil", "the", "x"))


def test_decode_spans_thresholds_splits_and_trims() -> None:
    import numpy as np
    import spacy

    doc = spacy.blank("en")("They are evil , corrupt traitors .")
    m = np.array([[0.1, 0], [0.2, 0], [0.9, 0.9], [0.5, 0.0], [0.8, 0.7], [0.7, 0.1], [0.6, 0.0]])
    spans = tech.decode_spans(doc, [(0, m)], 0.45)
    # "evil ," then a new span at "corrupt" (B dominates); trailing punctuation trimmed
    assert [doc.text[s:e] for s, e, _ in spans] == ["evil", "corrupt traitors"]
    # At 0.15 "are" would be a span of its own (B opens a new one at "evil"): a stop word alone is dropped.
    low = tech.decode_spans(doc, [(0, m)], 0.15)
    assert [doc.text[s:e] for s, e, _ in low] == ["evil", "corrupt traitors"]
    both = np.array([[0.9, 0.9], [0.9, 0.0], [0.9, 0.0], [0.1, 0], [0.1, 0], [0.1, 0], [0.1, 0]])
    assert [doc.text[s:e] for s, e, _ in tech.decode_spans(doc, [(0, both)], 0.45)] == ["They are evil"]


def test_length_buckets_are_one_hot() -> None:
    for n in (1, 2, 4, 9, 50):
        b = tech._len_buckets(n)
        assert sum(b) == 1 and len(b) == len(tech.LEN_BUCKETS) + 1
    assert tech._len_buckets(50)[-1] == 1


def test_parse_cache_keeps_the_tensors(tmp_path: Path) -> None:
    import numpy as np

    docs = tech.load_corpora(FIX / "ptc", None)
    tech.parse_docs(docs, tmp_path)
    again = tech.load_corpora(FIX / "ptc", None)
    tech.parse_docs(again, tmp_path)  # from the cache
    for a, b in zip(docs, again, strict=True):
        assert np.allclose(tech._tensor(a.doc), tech._tensor(b.doc))


# --------------------------------------------------------------------------- the model and analyser


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> tech.TechniqueModel:
    docs = tech.load_corpora(FIX / "ptc", FIX / "en")
    tech.parse_docs(docs)
    model = tech.TechniqueModel(tech.Params(clusters=4, crf_iterations=30)).fit(docs)
    return tech.TechniqueModel.load(model.save(tmp_path_factory.mktemp("model")))


def test_tiny_model_fits_saves_loads_and_writes_submissions(tiny_model: tech.TechniqueModel, tmp_path: Path) -> None:
    path = tmp_path / "m"
    tiny_model.save(path)
    assert {p.name for p in path.iterdir()} == {"tagger.crfsuite", "arrays.npz", "model.json"}
    n = tech.predict_ptc_si(FIX / "ptc" / "train-articles", tmp_path / "si.txt", model_path=path)
    assert n == len(ptc.read_si(tmp_path / "si.txt"))
    tech.predict_ptc_tc(
        FIX / "ptc" / "train-articles",
        FIX / "ptc" / "train-task-flc-tc.labels",
        tmp_path / "tc.txt",
        model_path=path,
    )
    gold = ptc.read_tc(FIX / "ptc" / "train-task-flc-tc.labels")
    assert ptc.score_tc(gold, ptc.read_tc(tmp_path / "tc.txt"))["f1"] >= 0.0  # same spans, valid labels
    tech.predict_semeval2023_st3(FIX / "en" / "train-articles-subtask-3", tmp_path / "st3.txt", model_path=path)
    pred = st3.read_paragraph_labels(tmp_path / "st3.txt", strict_labels=True)
    assert set(pred) == set(st3.read_paragraph_labels(FIX / "en" / "train-labels-subtask-3.txt"))


def test_bias_lexicon_features_train_save_and_load(tmp_path: Path) -> None:
    docs = tech.load_corpora(FIX / "ptc", FIX / "en")
    tech.parse_docs(docs)
    params = tech.Params(clusters=4, crf_iterations=10, bias_lexicon="crf+span")
    with pytest.raises(ValueError, match="--babe"):  # the params read a lexicon nobody gave
        tech.TechniqueModel(params).fit(docs)
    with pytest.raises(ValueError, match="choose one of"):
        tech.TechniqueModel(tech.Params(bias_lexicon="tokens"), lexicon={"x": 1.0}).fit(docs)
    lexicon = {"corrupt": 0.65, "traitors": 0.5, "disaster": 0.25}
    model = tech.TechniqueModel.load(tech.TechniqueModel(params, lexicon=lexicon).fit(docs).save(tmp_path / "m"))
    assert model.lexicon == lexicon
    doc = docs[0].doc
    sents = tech._sentences(doc)
    feats = [f for seq in tech._token_features(doc, sents, model._clusters(doc), np.zeros(len(sents)), None, lexicon) for f in seq]
    words = [t.lower_ for a, b in sents for t in doc[a:b]]
    marked = [f["bw"] for f, w in zip(feats, words, strict=True) if w in lexicon]
    assert marked and all(f.get("bw", 0.0) == lexicon.get(w, 0.0) for f, w in zip(feats, words, strict=True))
    assert marked[0] in lexicon.values()
    span_inputs = tech._span_inputs(doc, [(0, len(doc.text))], lexicon=lexicon)
    assert span_inputs[0].dense[-3] == max(marked)  # highest rate, mean rate, log count
    assert model.predict_spans(doc) is not None and model.classify(doc, [(0, 10)]).shape[0] == 1


def test_load_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(MissingModelError, match="missing model.json, arrays.npz.*`narrascope train techniques`"):
        tech.TechniqueModel.load(tmp_path)
    # a CRF model without its tagger file
    for name in ("model.json", "arrays.npz"):
        shutil.copy(tech.MODEL_DIR / name, tmp_path / name)
    with pytest.raises(MissingModelError, match="not a technique model \\(missing tagger.crfsuite\\)"):
        tech.TechniqueModel.load(tmp_path)


def test_shipped_analyser_on_seed_article() -> None:
    analyser = tech.TechniqueAnalyser()
    assert analyser.name == "techniques" and analyser.requires == ()
    art = analyser(Article(SEED_000.read_text(encoding="utf-8")))
    spans = art.findings_of("techniques")
    assert spans, "the pro-Kremlin seed article should show techniques"
    for f in spans:
        assert f.start is not None and f.end is not None and art.text[f.start : f.end] == f.attrs["text"]
        assert f.label in load_techniques().names and 0 <= f.score <= 1
        assert f.analyser == "techniques" and f.version == tech.VERSION
    # "the puppet regime in Kyiv": a name-calling / loaded-language phrase (the shipped model tags the
    # whole clause and may rank another technique first, so alternatives count too)
    puppet = art.text.index("puppet regime")
    hits = [f for f in spans if f.start <= puppet + 7 and puppet < f.end]  # type: ignore[operator]
    assert hits
    named = {f.label for f in hits} | {alt for f in hits for alt in f.attrs["alternatives"]}
    assert named & {"Name_Calling-Labeling", "Loaded_Language"}
    assert any(f.label in {"Name_Calling-Labeling", "Loaded_Language"} for f in spans)
    assert art.meta["technique_density"] > 0
    assert art.findings_of("technique_paragraphs") and art.findings_of("technique_sentences")
    analyser(art)  # idempotent: findings are replaced, not duplicated
    assert len(art.findings_of("techniques")) == len(spans)


def test_registered() -> None:
    from narrascope.registry import analysers

    assert analysers.get("techniques") is tech.TechniqueAnalyser
