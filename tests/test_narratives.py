"""Narratives: taxonomy, official metric, SemEval readers/writers, the model and the analyser.

Fixtures under tests/fixtures/narratives are made up; the seed articles are in examples/.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from narrascope.analysers import narratives as nar
from narrascope.analysers.narratives import (
    ExtraArticles,
    NarrativeAnalyser,
    NarrativeConfig,
    NarrativeModel,
    other_language_articles,
    predict_st2,
    predict_st3,
    reading_sentences,
    split_sentences,
)
from narrascope.document import Article, Sentence
from narrascope.errors import InputError
from narrascope.evaluate.semeval2025 import (
    NarrativeRecord,
    SemEvalFormatError,
    bertscore,
    f1_samples,
    load_dataset,
    per_label_prf,
    read_documents,
    read_st2,
    read_st3,
    score_st2,
    score_st3,
    write_st2,
    write_st3,
)
from narrascope.mpnet import installed
from narrascope.nlp import load_nlp
from narrascope.registry import analysers
from narrascope.taxonomy.narratives import TaxonomyError, load_taxonomy, taxonomy_from_dict

FIX = Path(__file__).parent / "fixtures" / "narratives"
TRAIN = FIX / "train"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PUPPET = "URW: Discrediting Ukraine: Ukraine is a puppet of the West"
AGGRESSORS = "URW: Blaming the war on others rather than the invader: The West are the aggressors"


# --- taxonomy ---------------------------------------------------------------------------------------


def test_shipped_taxonomy_has_the_official_labels() -> None:
    tax = load_taxonomy()
    assert len(tax.coarse_labels) == 22
    assert len(tax.official_fine_labels) == 91
    assert "Other" in tax.coarse_labels and "Other" in tax.fine_labels
    assert tax.parent(PUPPET) == "URW: Discrediting Ukraine"
    assert tax.domain_of(PUPPET) == "URW"
    assert "CC: Amplifying Climate Fears: Other" in tax.children("CC: Amplifying Climate Fears")
    assert tax.get(PUPPET).definition
    assert all(tax.parent(f) in tax.coarse_labels for f in tax.fine_labels)


def test_user_yaml_taxonomy() -> None:
    tax = load_taxonomy(str(FIX / "taxonomy.yaml"))
    assert tax.name == "food-prices"
    assert tax.coarse_labels == ["FOOD: Blaming retailers", "FOOD: Blaming farmers", "Other"]
    # every coarse label gets its catch-all
    assert "FOOD: Blaming farmers: Other" in tax.fine_labels
    assert tax.get("FOOD: Blaming retailers: Greedflation").examples == (
        "Prices rose twice as fast as costs.",
    )
    assert tax.domain_of("FOOD: Blaming farmers") == "FOOD"


def test_bad_taxonomy_errors() -> None:
    with pytest.raises(TaxonomyError, match="unknown coarse"):
        taxonomy_from_dict(
            {"coarse": [{"label": "A: x"}], "fine": [{"label": "A: x: y", "coarse": "B"}]}, "t.json"
        )
    with pytest.raises(TaxonomyError, match="'coarse' must be a non-empty list"):
        taxonomy_from_dict({"fine": []}, "t.json")
    with pytest.raises(TaxonomyError, match="not a shipped name"):
        load_taxonomy("no-such-taxonomy")


# --- metric -----------------------------------------------------------------------------------------


def test_f1_samples_hand_computed() -> None:
    classes = ["A", "B", "C", "Other"]
    gold = [["A", "B"], ["Other"], ["C"]]
    pred = [["A"], ["Other"], ["A", "B"]]
    # doc 1: tp=1, |g|=2, |p|=1 -> 2/3; doc 2: 1; doc 3: 0
    mean, std = f1_samples(gold, pred, classes)
    assert mean == pytest.approx((2 / 3 + 1 + 0) / 3)
    assert std == pytest.approx(np.std([2 / 3, 1, 0]))
    # labels outside the class list are ignored, like the official scorer's binarizer
    assert f1_samples([["A", "Z"]], [["A"]], classes)[0] == pytest.approx(1.0)


def test_f1_samples_matches_sklearn() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    classes = [f"L{i}" for i in range(6)]
    gold = [[c for c in classes if rng.random() < 0.3] or ["L0"] for _ in range(40)]
    pred = [[c for c in classes if rng.random() < 0.3] for _ in range(40)]
    onehot = lambda rows: np.array([[c in r for c in classes] for r in rows], dtype=int)  # noqa: E731
    expected = f1_score(onehot(gold), onehot(pred), average="samples", zero_division=0)
    assert f1_samples(gold, pred, classes)[0] == pytest.approx(expected)


def test_per_label_prf() -> None:
    out = per_label_prf([["A"], ["A", "B"], ["B"]], [["A"], ["B"], ["A"]], ["A", "B", "C"])
    assert out["A"] == pytest.approx(
        {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "predicted": 2}
    )
    assert out["B"]["precision"] == 1.0 and out["B"]["recall"] == 0.5
    assert "C" not in out


# --- readers, errors, writers -----------------------------------------------------------------------


def test_load_dataset_fixture() -> None:
    ds = load_dataset(TRAIN)
    assert len(ds.ids) == 8
    assert ds.labels["T_URW_1.txt"].fine == [PUPPET]
    assert ds.labels["T_CC_3.txt"].coarse == ["Other"]
    assert ds.explanations["T_URW_1.txt"].dominant_fine == PUPPET


def test_unknown_label_names_file_and_line() -> None:
    with pytest.raises(
        SemEvalFormatError, match=r"unknown_label\.txt:2: unknown fine label .*made of cheese"
    ):
        read_st2(FIX / "unknown_label.txt")


def test_missing_document_names_file_and_line() -> None:
    docs = {p.name: "" for p in (TRAIN / "raw-documents").glob("*.txt")}
    with pytest.raises(SemEvalFormatError, match=r"missing_doc\.txt:3: document 'T_URW_9\.txt' is missing"):
        read_st2(FIX / "missing_doc.txt", docs=docs, docs_dir="raw-documents")


def test_empty_training_set() -> None:
    with pytest.raises(SemEvalFormatError, match=r"empty\.txt: no annotations \(empty training set\)"):
        read_st2(FIX / "empty.txt")
    with pytest.raises(ValueError, match="empty training set"):
        NarrativeModel().fit([], [], [])


def test_submission_writers_round_trip(tmp_path: Path) -> None:
    recs = [
        NarrativeRecord("a.txt", ["URW: Discrediting Ukraine"], [PUPPET]),
        NarrativeRecord("b.txt", ["Other"], ["Other"]),
    ]
    out = tmp_path / "st2.txt"
    assert write_st2(out, recs) == 2
    assert out.read_text().splitlines()[0] == f"a.txt\tURW: Discrediting Ukraine\t{PUPPET}"
    back = read_st2(out)
    assert score_st2(back, back)["f1_samples_fine"] == 1.0
    st3 = tmp_path / "st3.txt"
    write_st3(
        st3,
        [
            NarrativeRecord(
                "a.txt",
                dominant="URW: Discrediting Ukraine",
                dominant_fine=None,
                explanation='It says\t"x".\nMore.',
            )
        ],
    )
    assert st3.read_text() == 'a.txt\tURW: Discrediting Ukraine\tnone\tIt says "x". More.\n'
    assert read_st3(st3)["a.txt"].explanation == 'It says "x". More.'


# --- model ------------------------------------------------------------------------------------------


def test_tiny_model_fit_save_load(tmp_path: Path) -> None:
    ds = load_dataset(TRAIN)
    texts = [ds.texts[i] for i in ds.ids]
    model = NarrativeModel(config=NarrativeConfig(min_df=1, inner_folds=2)).fit(
        texts, [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids]
    )
    model.save(tmp_path / "m")
    loaded = NarrativeModel.load(tmp_path / "m")
    a, b = model.scores(texts), loaded.scores(texts)
    assert np.allclose(a.coarse, b.coarse, atol=1e-2)
    preds = loaded.predict(texts)
    assert all(p.fine and p.coarse for p in preds)
    assert PUPPET in preds[ds.ids.index("T_URW_1.txt")].fine


def test_closeness_to_a_label_follows_its_definition_and_moves_its_score(tmp_path: Path) -> None:
    tax = load_taxonomy()
    space = nar.LabelSpace(tax)
    targets = nar.closeness_targets(tax, "minilm-int8")
    columns = [*space.coarse, *space.fine]
    assert targets.n_columns == len(columns)
    assert f"{tax.parent(PUPPET)}: Other" not in [columns[j] for j in targets.columns]  # catch-alls have no texts
    text = "Kyiv obeys Washington\n\nThe government in Kyiv is a puppet of the West, which pulls its strings."
    weather = "Weather\n\nRain is expected on Sunday in the north."
    closeness = nar.label_closeness([text, weather], targets, "minilm-int8")
    puppet = columns.index(PUPPET)
    assert closeness[0, puppet] > np.median(closeness[0, len(space.coarse) :])
    assert closeness[0, puppet] > closeness[1, puppet]
    ds = load_dataset(TRAIN)
    texts = [ds.texts[i] for i in ds.ids]
    cfg = NarrativeConfig(min_df=1, inner_folds=2, embeddings=True, doc_sentences=3, closeness_coarse=0.5,
                          closeness_fine=0.25)
    model = NarrativeModel(config=cfg).fit(
        texts, [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids]
    )
    model.save(tmp_path / "m")
    loaded = NarrativeModel.load(tmp_path / "m")
    assert loaded._closeness_vectors is not None  # the model carries its label texts' vectors: loading encodes none
    assert loaded._closeness_vectors.shape == targets.vectors.shape
    assert np.allclose(model.scores(texts).fine, loaded.scores(texts).fine, atol=1e-2)
    unmoved = NarrativeModel.load(tmp_path / "m")
    unmoved.config = replace(cfg, closeness_fine=0.0)
    assert not np.allclose(unmoved.scores(texts).fine, loaded.scores(texts).fine)
    other = [["Other"]] * len(texts)
    with pytest.raises(ValueError, match="one language"):
        NarrativeModel(config=replace(cfg, embeddings=False)).fit(texts, other, other)


def test_expected_f1_label_sets_hand_computed() -> None:
    # 2 * (top-k sum) / (sum + k): k=1 gives 1.8 / 2.5 = 0.72, k=2 gives 2.8 / 3.5 = 0.8, k=3 gives 3 / 4.5
    chosen, ef = nar._best_sets(np.array([[0.1, 0.9, 0.5], [0.0, 0.0, 0.95]]))
    assert chosen.tolist() == [[False, True, True], [False, False, True]]
    assert np.allclose(ef, [0.8, 2 * 0.95 / 1.95])


def test_expected_f1_decoder_chooses_other_when_it_is_the_better_bet() -> None:
    tax = load_taxonomy()
    space = nar.LabelSpace(tax)
    cfg = NarrativeConfig()
    identity = nar.Calibration()  # probabilities are the scores themselves
    n_c, n_f = len(space.coarse), len(space.fine)
    coarse = np.full((2, n_c), 0.01)
    fine = np.full((2, n_f), 0.01)
    j = space.coarse.index(tax.parent(PUPPET))
    coarse[:, j] = 0.9
    fine[:, space.fine.index(PUPPET)] = 0.9
    domain = np.zeros((2, len(space.domains)))
    domain[:, space.domains.index("URW")] = 1.0
    S = nar.ScoreMatrix(np.array([0.9, 0.3]), domain, coarse, fine)
    pc, pf = nar.choose_expected_f1(*nar.probabilities(S, identity, space, cfg))
    # Article 0: P(narrative) 0.9 times an expected F1 near 0.8 beats P(Other) 0.1.
    assert pc[0, j] and pf[0, space.fine.index(PUPPET)] and not pc[0, -1]
    # Article 1: P(Other) 0.7 beats 0.3 times the same sets' expected F1.
    assert pc[1, -1] and pf[1, -1] and pc[1].sum() == pf[1].sum() == 1


def test_a_batch_share_of_narrative_articles_is_estimated_and_reweights_the_gate() -> None:
    """Calibrated P(narrative) of a model trained where 57% of the articles carry a narrative, for batches where
    90% and 20% do: the estimate finds the batch's share; a lone article stays near the training share."""
    rng = np.random.default_rng(0)
    trained = 0.57

    def batch(share: float, n: int) -> np.ndarray:
        y = rng.random(n) < share
        x = rng.normal(np.where(y, 1.0, -1.0), 1.0)  # a score whose likelihood ratio is exp(2x)
        odds = trained / (1 - trained) * np.exp(2 * x)
        return odds / (1 + odds)

    for share in (0.9, 0.2):
        p = batch(share, 4000)
        assert nar.estimate_narrative_share(p, trained, prior_articles=0) == pytest.approx(share, abs=0.03)
        assert nar.estimate_narrative_share(p, trained) == pytest.approx(share, abs=0.03)  # 10 articles weigh little
    lone = nar.estimate_narrative_share(np.array([0.9]), trained)
    assert trained < lone < 0.65  # one article does not make a batch
    assert nar.estimate_narrative_share(np.array([0.9]), trained, prior_articles=0) > 0.99  # plain EM would
    p = np.array([0.2, 0.5, 0.8])
    assert np.allclose(nar.reweighted(p, trained, trained), p)
    assert (nar.reweighted(p, trained, 0.9) > p).all() and (nar.reweighted(p, trained, 0.2) < p).all()
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        nar.reweighted(p, trained, 1.0)


def test_a_fine_label_every_article_of_its_parent_has_gets_a_constant_head() -> None:
    """In this made-up training set each coarse label comes with one fine label only (for "Blaming farmers",
    its catch-all), so no logistic head can be fitted for them: they get constant heads, and the decoder
    picks them (never a label that cannot apply)."""
    tax = load_taxonomy(str(FIX / "taxonomy.yaml"))
    words = {
        "retailers": "prices shops supermarket greed profits margins".split(),
        "farmers": "farmers subsidies harvest fertiliser tractors rain".split(),
        "other": "today sports match score team stadium".split(),
    }
    labels = {
        "retailers": ("FOOD: Blaming retailers", "FOOD: Blaming retailers: Greedflation"),
        "farmers": ("FOOD: Blaming farmers", "FOOD: Blaming farmers: Other"),
        "other": ("Other", "Other"),
    }
    rng = np.random.default_rng(0)
    kinds = ["retailers", "farmers", "other"] * 14
    texts = [" ".join(rng.choice(words[k], 30)) for k in kinds]
    model = NarrativeModel(tax, NarrativeConfig(min_df=1, inner_folds=2, definitions=False)).fit(
        texts, [[labels[k][0]] for k in kinds], [[labels[k][1]] for k in kinds]
    )
    fine = model.heads["fine"]
    assert fine.labels == ["FOOD: Blaming retailers: Greedflation", "FOOD: Blaming farmers: Other"]
    assert not fine.W.any() and np.allclose(fine.b, np.log(14))  # logit of 14 / 15 articles
    for kind, pred in zip(kinds[:3], model.predict(texts[:3]), strict=True):
        assert (pred.coarse, pred.fine) == ([labels[kind][0]], [labels[kind][1]])
        assert all(v > 0.5 for v in pred.scores.values())


def test_calibration_recovers_the_scaling_it_was_drawn_from() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(0.02, 0.98, 20000)
    x = nar._logit(scores)
    gold = rng.uniform(size=len(scores)) < 1 / (1 + np.exp(-(2.0 * x - 1.0)))
    a, c, b = nar._platt(np.stack([x, np.zeros_like(x)], 1), gold)
    assert abs(a - 2.0) < 0.15 and abs(b + 1.0) < 0.15 and c == 0.0


def test_models_saved_before_calibration_keep_their_thresholds(tmp_path: Path) -> None:
    import json

    ds = load_dataset(TRAIN)
    texts = [ds.texts[i] for i in ds.ids]
    model = NarrativeModel(config=NarrativeConfig(min_df=1, inner_folds=2)).fit(
        texts, [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids]
    )
    assert model.calibration != nar.Calibration()  # fitted on the inner folds' scores
    meta_file = model.save(tmp_path / "m") / "model.json"
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
    assert NarrativeModel.load(tmp_path / "m").calibration == model.calibration
    del meta["calibration"], meta["config"]["decoder"]
    meta["thresholds"] = {"gate": 0.4, "coarse": 0.3, "fine": 0.2, "relative": 0.5}
    meta_file.write_text(json.dumps(meta), encoding="utf-8")
    old = NarrativeModel.load(tmp_path / "m")
    assert old.config.decoder == "thresholds" and old.thresholds == nar.Thresholds(0.4, 0.3, 0.2, 0.5)
    assert old.predict(texts)
    with pytest.raises(ValueError, match="unknown narratives decoder 'best'.*expected_f1"):
        NarrativeModel(config=NarrativeConfig(decoder="best"))


def test_other_language_articles_train_only_the_document_vector_heads(tmp_path: Path) -> None:
    import shutil

    shutil.copytree(TRAIN, tmp_path / "train_target_4_December_release" / "BG")
    shutil.copytree(TRAIN, tmp_path / "dev_gold" / "PT")
    o_texts, o_coarse, o_fine = other_language_articles(tmp_path, "EN", load_taxonomy())
    ds = load_dataset(TRAIN)
    assert len(o_texts) == 2 * len(ds.ids) and len(o_coarse) == len(o_fine) == len(o_texts)
    assert other_language_articles(TRAIN, "EN", load_taxonomy()) == ([], [], [])  # a language folder alone

    texts = [ds.texts[i] for i in ds.ids]
    coarse, fine = [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids]
    rng = np.random.default_rng(0)
    V = rng.normal(size=(len(texts), 8)).astype(np.float32)
    extra = ExtraArticles(rng.normal(size=(len(o_texts), 8)).astype(np.float32), o_coarse, o_fine)
    cfg = NarrativeConfig(min_df=1, embeddings=True, definitions=False)
    base = NarrativeModel(config=cfg).fit(texts, coarse, fine, V, tune=False)
    more = NarrativeModel(config=cfg).fit(texts, coarse, fine, V, tune=False, extra=extra)
    assert more.meta["other_language_articles"] == len(o_texts)
    assert np.array_equal(base.heads["coarse"].W, more.heads["coarse"].W)  # TF-IDF heads: main language only
    assert np.array_equal(base.emb_heads["gate"].W, more.emb_heads["gate"].W)  # so is the gate
    assert not np.allclose(base.emb_heads["coarse"].W, more.emb_heads["coarse"].W)
    with pytest.raises(ValueError, match="document-vector heads"):
        NarrativeModel(config=NarrativeConfig(min_df=1)).fit(texts, coarse, fine, tune=False, extra=extra)


def test_split_sentences_offsets() -> None:
    text = "Title here\n\nFirst sentence. Second one! Third?\nNew line."
    spans = [text[s.start : s.end] for s in split_sentences(text)]
    assert spans == ["Title here", "First sentence.", "Second one!", "Third?", "New line."]


# --- the analyser on a seed article -----------------------------------------------------------------


def test_analyser_on_pro_kremlin_seed() -> None:
    assert analysers.get("narratives") is NarrativeAnalyser
    text = next(EXAMPLES.glob("000_*.txt")).read_text(encoding="utf-8")
    art = Article(text=text, title=text.split("\n", 1)[0])
    NarrativeAnalyser()(art)
    found = art.findings_of("narratives")
    assert found and all(f.analyser == "narratives" and f.version for f in found)
    urw = [f for f in found if f.label.startswith("URW: ")]
    assert urw, [f.label for f in found]
    sentences = {(s.start, s.end) for s in reading_sentences(text)}  # what the analyser reads without a parse
    for f in urw:
        assert f.attrs["coarse"] == load_taxonomy().parent(f.label)
        assert 0 <= f.score <= 1
        for ev in f.attrs["evidence"]:
            assert (ev["start"], ev["end"]) in sentences
    assert any(f.attrs["evidence"] for f in urw)
    (expl,) = art.findings_of("explanation")
    words = expl.attrs["text"].split()
    assert len(words) <= 80
    quotes = re.findall(r'"([^"]+)"', expl.attrs["text"].split("It says:", 1)[-1])
    assert quotes and all(q in text.replace('"', "'") for q in quotes)
    assert expl.label in {f.label for f in found}


def test_explanation_quotes_are_whole_clauses() -> None:
    """A quoted clause starts and ends where a clause does, not mid-phrase, even without commas; it drops an
    opening "and" (or the "that" of a reported claim) and keeps the closing mark of a quotation it opened; a long
    clause is not passed over for a short one beside it, and one ending inside a list weighs less."""
    model = nar.load_model(str(nar.MODEL_DIR))
    text = (
        "US president Joe Biden says the coming shortages and the ensuing global food crisis could be resolved "
        "if over 20 million tons of Ukrainian grain is exported from the country."
    )
    a, b = model.quote("URW: Negative Consequences for the West", text, 0, len(text))
    clauses = {
        "US president Joe Biden says the coming shortages",
        "the ensuing global food crisis could be resolved",  # its "and" dropped
        "if over 20 million tons of Ukrainian grain is exported from the country",
        "US president Joe Biden says the coming shortages and the ensuing global food crisis could be resolved",
    }
    assert text[a:b] in clauses
    clause = text.index("and the ensuing"), text.index(" if over")
    assert text[slice(*nar._tidy_quote(text, clause))] == "the ensuing global food crisis could be resolved"
    stamped = "Corruption In Ukraine Remains A Major Problem Published 24 mins ago \n\nIt was 2 hours ago."
    title, line = stamped.index("Published"), stamped.index("It was")
    assert stamped[slice(*nar._tidy_quote(stamped, (0, title + 21)))] == "Corruption In Ukraine Remains A Major Problem"
    assert stamped[slice(*nar._tidy_quote(stamped, (line, len(stamped) - 1)))] == "It was 2 hours ago"  # a body's words
    for warned, quoted in (
        ("It could cause a \u201cfood crisis\u201d here.", "It could cause a \u201cfood crisis\u201d"),
        ("It could cause a \u201cfood crisis.\u201d", "It could cause a \u201cfood crisis.\u201d"),
    ):
        end = warned.index("crisis") + len("crisis")
        assert warned[slice(*nar._tidy_quote(warned, (0, end)))] == quoted
    said = (
        "The puppet regime, officials said on Monday, in a statement read out to reporters outside the ministry "
        "building in the capital city of the country."
    )
    a, b = model.quote(PUPPET, said, 0, len(said))  # not the three-word clause alone
    assert said[a:b] == "The puppet regime, officials said on Monday"
    # A clause too long to quote whole is cut before its conjunctions and relatives, so that its words can win
    # over the short clause beside it; no quote ends on the bare conjunction of the next clause.
    example = (
        "For one of many examples, the puppet regime in Kyiv keeps asking its Western masters for more weapons "
        "while the people of Ukraine pay the price of a war that the puppet regime cannot win."
    )
    a, b = model.quote(PUPPET, example, 0, len(example))
    assert example[a:b] != "For one of many examples" and "puppet regime" in example[a:b], example[a:b]
    assert example[a:b].split()[-1] not in ("while", "that", "and")
    listed = (
        "As officials said on Monday in a statement read to reporters outside the ministry, the puppet regime in Kyiv "
        "got billions in military, financial, and humanitarian aid."
    )
    a, b = model.quote(PUPPET, listed, 0, len(listed))  # a quote ending inside a list weighs less
    assert listed[a:b] == "the puppet regime in Kyiv got billions in military, financial, and humanitarian aid"
    aside = "Cars with internal combustion engines (ICEs) to electric vehicles was never more than a dream"
    cut = (aside.index("ICEs"), len(aside))
    assert aside[slice(*nar._tidy_quote(aside, cut))] == "to electric vehicles was never more than a dream"
    caption = "Putin might not know if the US blames them for war crimes (Image: SPUTNIK/AFP via Getty Images)"
    cut = (0, caption.index("Image") + len("Image"))
    assert caption[slice(*nar._tidy_quote(caption, cut))] == "Putin might not know if the US blames them for war crimes"
    assert nar._tidy_quote(caption, (0, len(caption))) == (0, len(caption))  # a closed bracket stays
    squared = "In 2015-16, after the SDGs [UN goals] and the COP21 [Paris Agreement"
    assert squared[slice(*nar._tidy_quote(squared, (0, len(squared))))] == "In 2015-16, after the SDGs [UN goals] and the COP21"
    # A reported claim is quoted without its "that"; a relative clause keeps its pronoun (dropping it would leave
    # a fragment); amounts keep their signs.
    claim = "Officials say that Kiev was destined to lose the war, which costs $31,000 a day and 7.5% of output."
    for quoted, tidied in (
        ("that Kiev was destined to lose the war", "Kiev was destined to lose the war"),
        ("31,000 a day and 7.5", "$31,000 a day and 7.5%"),
    ):
        start = claim.index(quoted)
        assert claim[slice(*nar._tidy_quote(claim, (start, start + len(quoted))))] == tidied
    for quoted, tidied in (  # "so" is dropped as a conjunction, not from "So far"
        ("so the regime in Kyiv fell", "the regime in Kyiv fell"),
        ("So far, the regime in Kyiv stood", "So far, the regime in Kyiv stood"),
    ):
        assert quoted[slice(*nar._tidy_quote(quoted, (0, len(quoted))))] == tidied
    # In a sentence quoting someone at length, the quoted words are quoted, not the attribution around them.
    attributed = (
        "\u201cIf we look at the complicity of Western countries in the sabotage of the pipelines, then we have no "
        "choice left,\u201d Medvedev, a former Russian president who is now deputy chairman of the Security Council, "
        "said on Telegram."
    )
    a, b = model.quote(AGGRESSORS, attributed, 0, len(attributed))
    assert attributed[a:b] == "If we look at the complicity of Western countries in the sabotage of the pipelines"
    # A span cut mid-clause does not end on a preposition; a clause that ends on one keeps it.
    period = "the entities were responsible for half of the emissions in that same period, or what it is all about."
    cut = (0, period.index(" that same"))
    assert period[slice(*nar._tidy_quote(period, cut))] == "the entities were responsible for half of the emissions"
    whole = (period.index("what"), period.index("about") + len("about"))
    assert nar._tidy_quote(period, whole) == whole
    # ... nor, read from the parse, on an adverb that singles out the clause it was cut from.
    especially = "Critics see how pointless this proposal is, especially since its authors fly in private jets."
    tokens, offset = nar._sentence_parse(especially, 0, len(especially))
    cut = (0, nar._without_dangling_end(tokens, offset, 0, especially.index(" since")))
    assert especially[slice(*nar._tidy_quote(especially, cut))] == "Critics see how pointless this proposal is"
    outlets = "the outlets that run its stories every day"
    start = outlets.index("that")
    assert nar._tidy_quote(outlets, (start, len(outlets))) == (start, len(outlets))
    # A subordinate clause weighs less than the main clause it hangs on (a quote opening on "since ..." or "who ..."
    # reads as half a thought), unless it holds someone's quoted words, as in the Medvedev case above.
    since = (
        "The regime in Kyiv has lost its independence to Western masters, since the puppet government of the country "
        "took power with their help in the year 2014."
    )
    a, b = model.quote(PUPPET, since, 0, len(since))
    assert since[a:b] == "The regime in Kyiv has lost its independence to Western masters"
    # A sentence at most five words over the limit is quoted whole rather than cut mid-clause before an "and".
    failed = (
        "Moreover, the strategy of arming and training the puppet regime in Kyiv and pushing it into a major attack "
        "on its own people has failed."
    )
    a, b = model.quote(PUPPET, failed, 0, len(failed))
    assert failed[a:b] == failed[: -len(".")]
    # A quote does not begin inside a quotation (here a report's title) and go on past it with more than an
    # attribution: that reads the title and the sentence around it as one voice.
    titled = (
        "The report, \u201cThe collapse of the economy is certain, with terrible costs for the puppet regime in Kyiv, "
        "experts warn,\u201d argues that the government of the country will fall."
    )
    a, b = model.quote(PUPPET, titled, 0, len(titled))
    assert "puppet regime" in titled[a:b] and "argues" not in titled[a:b], titled[a:b]
    # A headline and its standfirst run together without a stop are two sentences: no quote spans both.
    run_in = (
        "Kyiv is weak, experts say The puppet regime in Kyiv takes its orders from its Western masters and their "
        "generals, experts say."
    )
    a, b = model.quote(PUPPET, run_in, 0, len(run_in))
    assert "puppet regime" in run_in[a:b] and "say The" not in run_in[a:b], run_in[a:b]
    assert not nar._RUN_IN.search("the court in The Hague said what I think of We the People")


def test_an_explanation_quote_makes_a_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    """A clause of most weight for the label is not quoted when it is a bare noun phrase or an attribution and
    the sentence has a clause that makes a claim; a verb of speech with what it reports is a claim."""
    model = nar.load_model(str(nar.MODEL_DIR))
    text = (
        "One of the puppet regime's leading Western masters, and the man the press dubbed the Einstein of energy "
        "efficiency, has debunked claims that nuclear energy is essential to meet the climate goals of the country."
    )
    claim = "has debunked claims that nuclear energy is essential to meet the climate goals of the country"
    a, b = model.quote(PUPPET, text, 0, len(text))
    assert text[a:b] == claim
    framed = f"Title\n\n{text}"  # read from the article's own parse, as the pipeline gives it
    a, b = model.quote(PUPPET, framed, 7, len(framed), doc=load_nlp()(framed))
    assert framed[a:b] == claim
    monkeypatch.setattr(nar, "_makes_claim", lambda tokens, offset, spans: np.zeros(len(spans), dtype=bool))
    a, b = model.quote(PUPPET, text, 0, len(text))  # the noun phrase weighs most
    assert text[a:b].startswith("One of the puppet regime's leading Western masters")
    monkeypatch.undo()
    said = (
        "One of the world's leading energy experts has said that nuclear power will make the crisis worse, he told "
        "the news outlet. Let's survey Kiev's empty coffers."
    )
    for clause, claims in (
        ("One of the world's leading energy experts", False),
        ("has said that nuclear power will make the crisis worse", True),
        ("he told the news outlet", False),
        ("Let's survey Kiev's empty coffers", True),  # an imperative
    ):
        start = said.index(clause)
        tokens, offset = nar._sentence_parse(said, 0, len(said))
        assert nar._makes_claim(tokens, offset, [(start, start + len(clause))]).tolist() == [claims], clause
    # When no clause short enough to quote makes a claim, the first words of a longer one that does are quoted.
    long_quote = (
        "\u201cIt would be useful to think about the reasons for the stubborn refusal of the puppet regime in Kyiv to "
        "launch any kind of inquiry under the auspices of the United Nations,\u201d said Ivan Petrov, a counsellor "
        "at the embassy in Washington."
    )
    a, b = model.quote(PUPPET, long_quote, 0, len(long_quote))
    assert long_quote[a:b].startswith("It would be useful to think about the reasons"), long_quote[a:b]
    # "that" as a determiner and "since" as a preposition open no clause.
    portion = (
        "The puppet regime in Kyiv did not quote from that portion of the study, and seemingly ignored its role in "
        "the Western masters' plan for the whole region."
    )
    a, b = model.quote(PUPPET, portion, 0, len(portion))
    assert not portion[a:b].startswith("that"), portion[a:b]
    since = "The report backs this up, stating increases in greenhouse gases since the 18th century are due to us."
    cut = since.index("since")
    words = [m.span() for m in nar._WORD.finditer(since)]
    for in_phrase, cut_there in (((), True), ((cut,), False)):
        spans = nar._quotable_clauses(since, 0, len(since), words, 10, in_phrase)[0]
        assert any(a == cut for a, _ in spans) is cut_there

    # A quote does not end on words that modify a head after its end, nor on a subject whose verb comes after it,
    # nor on a word whose object it leaves out ("backed" without "by ..."); unless that would cut off half its words.
    def tidied(sentence: str, cut: str) -> str:
        tokens, offset = nar._sentence_parse(sentence, 0, len(sentence))
        end = nar._without_dangling_end(tokens, offset, 0, sentence.index(cut))
        return sentence[slice(*nar._tidy_quote(sentence, (0, end)))]

    backed = "Russia humbles the war machine backed by the entire financial and military might of the US."
    assert tidied(backed, " and military") == "Russia humbles the war machine"
    tokens, offset = nar._sentence_parse(backed, 0, len(backed))
    whole = len(backed) - 1
    assert nar._without_dangling_end(tokens, offset, 0, whole) == whole
    vehicles = "We were told they would be the future of clean transport, but electric vehicles have been a disaster."
    assert tidied(vehicles, " have been") == "We were told they would be the future of clean transport"
    bears = "Is it a coincidence that a report on the results of a study of polar bears came out before the summit?"
    assert tidied(bears, " came out") == bears[: bears.index(" came out")]


def test_the_shipped_mpnet_model_is_the_mpnet_configuration() -> None:
    """What ``train narratives --encoder mpnet`` reproduces is what ships (the file is read without the extra)."""
    meta = json.loads((nar.default_model_path("mpnet") / "model.json").read_text(encoding="utf-8"))
    assert meta["config"] == asdict(nar.MPNET_CONFIG)
    assert nar.MPNET_CONFIG.closeness and nar.MPNET_CONFIG.slant == "mpnet"


def test_shipped_model_reads_the_lead_as_trained() -> None:
    """The default model averages its TF-IDF heads with heads over MiniLM vectors of the first three
    sentences, cut by ``split_sentences`` as in training, and reads its closeness to the labels from
    ``reading_sentences``, whatever sentences the parse gave the article."""
    model = nar.load_model(str(nar.MODEL_DIR))
    assert model.config == nar.DEFAULT_CONFIG and model.emb_heads
    assert nar.default_model_path("minilm") == nar.default_model_path("tfidf") == nar.MODEL_DIR
    text = next(EXAMPLES.glob("000_*.txt")).read_text(encoding="utf-8")
    plain = Article(text=text)
    parsed = Article(text=text, sentences=[Sentence(0, len(text))])  # a parse that did not split at all
    NarrativeAnalyser()(plain)
    NarrativeAnalyser()(parsed)
    scores = [{(f.label, f.score) for f in a.findings_of("narratives")} for a in (plain, parsed)]
    assert scores[0] and scores[0] == scores[1]


def test_evidence_ranked_by_closeness_to_the_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an encoder, evidence is the sentences of most TF-IDF weight for the label. With one, any sentence
    may be evidence: the one closest in meaning to the label's definition comes first even when its words carry
    no TF-IDF weight. The article's sentences are encoded once for all labels, a label's definition once per
    model."""
    ds = load_dataset(TRAIN)
    texts = [ds.texts[i] for i in ds.ids]
    model = NarrativeModel(config=NarrativeConfig(min_df=1, inner_folds=2, evidence_encoder="")).fit(
        texts, [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids], tune=False
    )
    close = "The weather stayed mild all week."
    text = f"{ds.texts['T_URW_1.txt'].rstrip()} {close}"
    sents = split_sentences(text)
    plain = model.evidence(PUPPET, text, sents, k=10)
    assert plain and plain[0]["score"] == 1.0 and [e["score"] for e in plain] == sorted(
        [e["score"] for e in plain], reverse=True
    )
    assert close not in [text[e["start"] : e["end"]] for e in plain]  # no TF-IDF weight for the label
    calls: list[list[str]] = []
    definition = "Discrediting Ukraine: Ukraine is a puppet of the West. "

    def fake_encoder(name: str):  # a sentence with no TF-IDF weight for the label reads closest to its definition
        def encode(batch: list[str]) -> np.ndarray:
            calls.append(list(batch))
            return np.array([[1.0, 0.0] if t == close or t.startswith(definition) else [0.0, 1.0] for t in batch])

        return encode

    monkeypatch.setattr(nar, "get_encoder", fake_encoder)
    model.config = NarrativeConfig(min_df=1, inner_folds=2, evidence_encoder="fake")
    other = "URW: Discrediting the West, Diplomacy: The West does not care about Ukraine, only about its interests"
    found = model.evidence_many([PUPPET, other], text, sents, k=3)
    assert text[found[PUPPET][0]["start"] : found[PUPPET][0]["end"]] == close and found[PUPPET][0]["score"] == 1.0
    assert len(found[PUPPET]) == 3 and found[other]
    sentence_calls = [c for c in calls if len(c) > 1]  # a definition is encoded alone
    assert len(sentence_calls) == 1  # the article's sentences: encoded once, for both labels
    model.evidence(PUPPET, text, sents)
    assert sum(len(c) == 1 and c[0].startswith(definition) for c in calls) == 1  # the definition: encoded once
    monkeypatch.setattr(nar, "EVIDENCE_POOL", 2)  # a long article: only its sentences of most TF-IDF weight are read
    calls.clear()
    capped = model.evidence(PUPPET, text, sents)
    assert [len(c) for c in calls] == [2]
    assert {(e["start"], e["end"]) for e in capped} == {(e["start"], e["end"]) for e in plain[:2]}


def test_reading_sentences_keep_titles_and_initials() -> None:
    """Quotes come from sentences not cut after "Dr." or an initial; "U.S." may end one, but not before a name; lines
    do, unless they cut a sentence in two; a quotation closed after a comma goes on with its attribution."""
    text = (
        "Meteorologist Dr. Anthony Watts said so. John F. Kennedy spoke. It was in the U.S. The end came. "
        "It was the U.S. Energy Information Administration.\nDr.\nNext."
    )
    assert [text[s.start : s.end] for s in nar.reading_sentences(text)] == [
        "Meteorologist Dr. Anthony Watts said so.",
        "John F. Kennedy spoke.",
        "It was in the U.S.",
        "The end came.",
        "It was the U.S. Energy Information Administration.",
        "Dr.",
        "Next.",
    ]
    broken = (
        "Kyiv Loses Ground\n\nThe lawmaker suggests that Western support\n\nfor the regime may end. This means that\n"
        "Vladimir Putin could act. \u201cNot for peace,\u201d Mettan remarks.\nLive Updates\nBy the way, it ended."
    )
    assert [" ".join(broken[s.start : s.end].split()) for s in nar.reading_sentences(broken)] == [
        "Kyiv Loses Ground",
        "The lawmaker suggests that Western support for the regime may end.",
        "This means that Vladimir Putin could act.",
        "\u201cNot for peace,\u201d Mettan remarks.",
        "Live Updates",
        "By the way, it ended.",
    ]


def test_evidence_skips_repeats_fragments_and_page_furniture() -> None:
    """A headline repeated as the article's first line is one piece of evidence, at its first place; a one-word
    fragment or a "READ MORE" line is none."""
    ds = load_dataset(TRAIN)
    texts = [ds.texts[i] for i in ds.ids]
    model = NarrativeModel(config=NarrativeConfig(min_df=1, inner_folds=2, evidence_encoder="")).fit(
        texts, [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids], tune=False
    )
    text = ds.texts["T_URW_1.txt"]
    best = model.evidence(PUPPET, text, split_sentences(text), k=1)[0]
    line = text[best["start"] : best["end"]]
    doubled = f"{line} \n\n {line}\n\n{text}"
    found = model.evidence(PUPPET, doubled, split_sentences(doubled), k=10)
    quoted = [" ".join(doubled[e["start"] : e["end"]].split()) for e in found]
    assert quoted.count(" ".join(line.split())) == 1 and found[0]["start"] == doubled.index(line)
    furnished = (
        text + "\nREAD MORE: Kyiv puppet regime takes orders from Washington, its Western handlers say\n"
        "Note to readers: Please share. The puppet regime in Kyiv takes orders from Washington.\n"
    )
    found = model.evidence(PUPPET, furnished, split_sentences(furnished), k=10)
    assert found and all("READ MORE" not in furnished[e["start"] : e["end"]] for e in found)
    assert all(e["start"] < furnished.index("Note to readers") for e in found)  # no sentence of a furniture line
    # A link to another article set inside a sentence is cut out of it; the sentence's own words stay evidence.
    linked = (
        text + "\nThe regime takes its orders from Washington, he said. (Related: Kyiv puppet regime takes orders "
        "from Washington, its Western handlers say.) The talks ended.\n"
    )
    found = model.evidence(PUPPET, linked, split_sentences(linked), k=len(split_sentences(linked)))
    link = linked.index("(Related")
    assert all(e["end"] <= link or e["start"] >= linked.index(")", link) for e in found)
    assert any(linked[e["start"] : e["end"]] == "The regime takes its orders from Washington, he said." for e in found)
    headed = "Puppet regime\n\n" + text  # a parse that cut the headline into one-word fragments
    split = [Sentence(0, 6), Sentence(7, 13), *(Sentence(s.start + 15, s.end + 15) for s in split_sentences(text))]
    found = model.evidence(PUPPET, headed, split, k=10)
    assert found and all(e["start"] >= 15 for e in found)


def test_bertscore_hand_computed() -> None:
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert bertscore(a, a) == pytest.approx((1.0, 1.0, 1.0))
    b = np.array([[1.0, 0.0]])  # matches the first of a's two tokens only
    p, r, f = bertscore(b, a)
    assert (p, r) == pytest.approx((1.0, 0.5)) and f == pytest.approx(2 / 3)
    assert bertscore(np.zeros((0, 2)), a) == (0.0, 0.0, 0.0)


def test_encoder_token_states_drop_the_special_tokens() -> None:
    from narrascope.embed import load_encoder

    enc = load_encoder("minilm-int8")
    text = "Kyiv is a puppet of the West."
    states = enc.token_states([text, "", "short"])
    assert states[0].shape == (len(enc.tokenizer.encode(text).ids) - 2, enc.dim)
    assert states[1].shape == (0, enc.dim)
    assert np.allclose(np.linalg.norm(states[0], axis=1), 1.0, atol=1e-5)
    assert bertscore(states[0], states[0])[2] == pytest.approx(1.0)
    assert bertscore(states[2], states[0])[2] < 0.9


def test_score_st3_needs_every_gold_explanation() -> None:
    gold = {"d1": NarrativeRecord("d1", explanation="x"), "d2": NarrativeRecord("d2", explanation="y")}

    def states(texts: list[str]) -> list[np.ndarray]:
        return [np.array([[1.0, 0.0]]) if t == "x" else np.array([[0.0, 1.0]]) for t in texts]

    scores = score_st3(gold, {"d1": NarrativeRecord("d1", explanation="x"), "d2": NarrativeRecord("d2", explanation="x")},
                       states)
    assert scores["documents"] == 2 and scores["f1"] == pytest.approx(0.5)
    with pytest.raises(SemEvalFormatError, match="no explanation"):
        score_st3(gold, {"d1": gold["d1"]}, states)


def test_analyser_uses_parsed_sentences() -> None:
    text = next(EXAMPLES.glob("000_*.txt")).read_text(encoding="utf-8")
    art = Article(text=text)
    art.sentences = split_sentences(text)[:5]  # as if the shared parse had found only these
    NarrativeAnalyser()(art)
    allowed = {(s.start, s.end) for s in art.sentences}
    for f in art.findings_of("narratives"):
        assert all((e["start"], e["end"]) in allowed for e in f.attrs["evidence"])


def test_predict_submissions(tmp_path: Path) -> None:
    report = predict_st2(TRAIN / "raw-documents", tmp_path / "st2.txt")
    lines = (tmp_path / "st2.txt").read_text().splitlines()
    assert report["documents"] == len(lines) == 8
    assert report["estimated"] and report["trained_share"] == 0.571 and 0 < report["narrative_share"] < 1
    tax = load_taxonomy()
    for line in lines:
        doc, coarse, fine = line.split("\t")
        assert all(c in tax.coarse_labels for c in coarse.split(";"))
        assert [tax.parent(f) for f in fine.split(";")] == coarse.split(";")
    predict_st3(TRAIN / "raw-documents", FIX / "dominant.txt", tmp_path / "st3.txt")
    rows = [line.split("\t") for line in (tmp_path / "st3.txt").read_text().splitlines()]
    assert [r[0] for r in rows] == ["T_URW_1.txt", "T_CC_1.txt"]
    assert rows[1][2] == "none"
    assert all(len(r) == 4 and 0 < len(r[3].split()) <= 80 for r in rows)


def test_predict_decodes_for_the_share_of_narrative_articles_it_is_given(tmp_path: Path) -> None:
    def others(share: float | None) -> int:
        report = predict_st2(TRAIN / "raw-documents", tmp_path / "st2.txt", narrative_share=share)
        assert report["narrative_share"] == share and not report["estimated"]
        return sum(line.endswith("\tOther\tOther") for line in (tmp_path / "st2.txt").read_text().splitlines())

    assert others(0.001) == 8  # next to no article carries a narrative: all are "Other"
    assert 8 > others(0.2) >= others(None) >= others(0.9) >= others(0.999)
    assert others(0.999) < others(None)
    model = nar.load_model()
    S = model.scores(["Kyiv\n\nThe puppet regime in Kyiv."])
    with pytest.raises(ValueError, match="unknown share of narrative articles 'most'"):
        model.resolve_share(S, "most")  # type: ignore[arg-type]
    old = NarrativeModel.load(nar.MODEL_DIR)
    old.meta.pop("narrative_share")
    with pytest.raises(ValueError, match="retrain it"):
        old.predict(["Kyiv"], narrative_share="auto")
    assert old.predict(["Kyiv"])  # a model saved before the share was recorded predicts as trained
    thresholds = NarrativeModel.load(nar.MODEL_DIR)
    thresholds.config = NarrativeConfig(decoder="thresholds", embeddings=True, doc_sentences=3, embed_C=1.0)
    with pytest.raises(ValueError, match="expected_f1 decoder"):
        thresholds.predict(["Kyiv"], narrative_share=0.9)


def test_predict_names_every_unreadable_document_and_reads_other_encodings(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_bytes("Kyiv\n\nThe puppet regime in Kyiv, caf\u00e9 talk.".encode("cp1252"))
    (docs / "b.txt").write_bytes(b"%PDF-1.4 \x00\x01")
    (docs / "c.txt").write_text("", encoding="utf-8")
    with pytest.raises(InputError, match=r"2 of 3 documents cannot be read: .*a\.txt: not valid utf-8.*b\.txt: binary"):
        predict_st2(docs, tmp_path / "st2.txt")
    assert not (tmp_path / "st2.txt").exists()
    (docs / "b.txt").unlink()
    assert predict_st2(docs, tmp_path / "st2.txt", encoding="cp1252")["documents"] == 2
    rows = dict(line.split("\t", 1) for line in (tmp_path / "st2.txt").read_text().splitlines())
    assert rows["c.txt"] == "Other\tOther"  # an empty document is kept, and has no narrative
    assert read_documents(docs, "cp1252")["a.txt"].endswith("caf\u00e9 talk.")
    (docs / "d.txt").write_text("Kyiv\n\nThe puppet regime in Kyiv, na\u00efve talk.", encoding="utf-8")
    mixed = read_documents(docs, "auto")  # a folder of mixed encodings, each file read in its own
    assert mixed["a.txt"].endswith("caf\u00e9 talk.") and mixed["d.txt"].endswith("na\u00efve talk.")


def test_the_setting_picks_the_model_folder(tmp_path: Path) -> None:
    from narrascope.settings import Settings, configure

    assert nar.default_model_path("tfidf") == nar.MODEL_DIR
    assert nar.default_model_path("mpnet") == nar.MPNET_MODEL_DIR
    ds = load_dataset(TRAIN)
    texts = [ds.texts[i] for i in ds.ids]
    NarrativeModel(config=NarrativeConfig(min_df=1, inner_folds=2)).fit(
        texts, [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids]
    ).save(tmp_path / "mine")
    configure(Settings(narratives_model=str(tmp_path / "mine")))
    try:
        assert nar.load_model().config.min_df == 1  # the folder of the setting, not the shipped model
    finally:
        configure(None)
    assert nar.load_model().config.min_df == nar.NarrativeConfig().min_df


HAS_MPNET = installed()


@pytest.mark.skipif(HAS_MPNET, reason="checks the message shown without the mpnet extra")
def test_mpnet_model_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from narrascope import mpnet
    from narrascope.errors import MissingExtraError

    monkeypatch.setattr(mpnet, "default_cache", lambda: tmp_path)  # no weights unpacked from an earlier run
    text = next(EXAMPLES.glob("000_*.txt")).read_text(encoding="utf-8")
    with pytest.raises(MissingExtraError, match="'mpnet' extra"):
        NarrativeAnalyser(nar.MPNET_MODEL_DIR)(Article(text=text))


@pytest.mark.skipif(not HAS_MPNET, reason="needs the mpnet extra")
def test_shipped_mpnet_model_on_pro_kremlin_seed() -> None:
    model = NarrativeModel.load(nar.MPNET_MODEL_DIR)
    assert model.config.encoder == "mpnet" and model.emb_heads
    assert model.config.slant == "mpnet" and model.slant_norm is not None  # the gate reads the article's slant
    text = next(EXAMPLES.glob("000_*.txt")).read_text(encoding="utf-8")
    tfidf_only = model._score(model.vectorizer.transform([text]), None, model.heads, model.emb_heads)
    both = model.scores([text])
    assert not np.allclose(both.coarse, tfidf_only.coarse)  # the mpnet vector heads take part
    art = NarrativeAnalyser(model)(Article(text=text, title=text.split("\n", 1)[0]))
    # P(narrative) is about 0.5 for this article, too low for the expected F1 of its label sets ("Other"),
    # so only the output's shape is asserted here.
    assert art.findings_of("narratives") and len(art.findings_of("explanation")) == 1
