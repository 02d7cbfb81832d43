"""The command line: formats, show, search, and hostile input in the HTML report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import EXAMPLES, SEED_KREMLIN
from typer.testing import CliRunner

from narrascope.cli import app
from narrascope.report.json import display_label

runner = CliRunner()
KEYS = {"id", "title", "text", "source", "actors", "quotes", "published", "url"}


def test_jsonl_has_documented_keys():
    res = runner.invoke(app, ["analyze", str(EXAMPLES), "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(recs) == 2
    for rec in recs:
        assert KEYS <= set(rec)
        for q in rec["quotes"]:
            assert {"speaker", "text", "start", "end", "kind", "cue"} <= set(q)
            assert rec["text"][q["start"] : q["end"]] == q["text"]
        for a in rec["actors"]:
            for m in a["mentions"]:
                assert rec["text"][m["start"] : m["end"]] == m["text"]


def test_table_output_and_show_and_search(tmp_path):
    db = str(tmp_path / "c.db")
    res = runner.invoke(app, ["analyze", str(SEED_KREMLIN), "--db", db])
    assert res.exit_code == 0 and "Maria Zakharova" in res.stdout
    # techniques by default; their sentence and paragraph labels are summed up, not listed
    assert "Persuasion techniques" in res.stdout and "spans per 100 sentences" in res.stdout
    assert "Technique_paragraphs" not in res.stdout and "paragraphs: " in res.stdout
    assert "Name calling / labeling" in res.stdout and "Name_Calling-Labeling" not in res.stdout  # readable labels
    res = runner.invoke(app, ["search", "puppet", "--db", db, "--json"])
    hit = json.loads(res.stdout.splitlines()[0])
    res = runner.invoke(app, ["show", hit["id"][:6], "--db", db, "--format", "jsonl"])
    assert json.loads(res.stdout)["id"] == hit["id"]
    res = runner.invoke(app, ["show", "ffffffff", "--db", db])
    assert res.exit_code == 1 and "no stored article" in res.stderr
    res = runner.invoke(app, ["actors", "--db", db])
    assert "Maria Zakharova" in res.stdout


def test_stdin_input():
    res = runner.invoke(app, ["analyze", "-", "--format", "jsonl", "--no-store"],
                        input='Talks\n\n"We will meet again," the envoy said.\n')
    rec = json.loads(res.stdout)
    assert rec["quotes"][0]["text"] == "We will meet again,"


def test_html_report_is_self_contained_and_escapes_hostile_input(tmp_path):
    page = tmp_path / "evil.html"
    page.write_text(
        "<html><head><title>Bad &lt;script&gt;</title>"
        '<link rel="canonical" href="javascript:alert(1)"></head><body><article><h1>Evil page</h1>'
        "<p>The minister said the &lt;script&gt;alert('x')&lt;/script&gt; plan would work. "
        + "This is the text of a real news paragraph about the plan. " * 5
        + '</p><p>"We are ready &lt;img src=x onerror=alert(2)&gt;," the minister told parliament.</p>'
        "</article></body></html>",
        encoding="utf-8",
    )
    out = tmp_path / "report.html"
    res = runner.invoke(app, ["analyze", str(page), "--format", "html", "--out", str(out), "--no-store"])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript:' not in html
    assert "<link" not in html and "src=" not in html.replace("&lt;img src=x", "")  # nothing loaded from outside
    assert 'class="quote quote-direct"' in html
    assert "narrative evidence" not in html  # no narrative here, so no evidence in the legend


def test_html_report_per_article_folder(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    res = runner.invoke(app, ["analyze", str(EXAMPLES), "--format", "html", "--out", str(out), "--no-store"])
    assert res.exit_code == 0
    files = sorted(out.glob("*.html"))
    assert len(files) == 2
    pages = "".join(f.read_text(encoding="utf-8") for f in files)
    assert "Maria Zakharova" in pages and 'class="evidence">narrative evidence' in pages  # the Kremlin seed's
    assert ">probability</span></th>" in pages  # the narratives' scores are calibrated probabilities


def test_threads_thread_and_compare_commands(tmp_path):
    db = str(tmp_path / "t.db")
    res = runner.invoke(app, ["threads", str(EXAMPLES), "--db", db, "--format", "jsonl"])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in res.stdout.splitlines()]
    assert len(recs) == 2 and len({r["storyline_id"] for r in recs}) == 1 and len({r["event_id"] for r in recs}) == 2
    res = runner.invoke(app, ["thread", recs[0]["storyline_id"], "--db", db])
    assert res.exit_code == 0 and json.loads(res.stdout)
    res = runner.invoke(app, ["thread", "st-nonexistent", "--db", db])
    assert res.exit_code == 1
    out = tmp_path / "cmp.html"
    res = runner.invoke(app, ["compare", recs[0]["id"], recs[1]["id"], "--db", db, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "Radio Free Asia" in out.read_text(encoding="utf-8")
    res = runner.invoke(app, ["compare", recs[0]["id"], "--db", db])
    assert res.exit_code == 1 and "two or more" in res.stderr
    # a seed re-saved in cp1252 beside the other in UTF-8: read in one run with --encoding auto
    seeds = sorted(EXAMPLES.glob("*.txt"))
    legacy = tmp_path / "legacy.txt"
    legacy.write_bytes(seeds[0].read_text(encoding="utf-8").encode("cp1252", errors="replace"))
    res = runner.invoke(app, ["compare", str(legacy), str(seeds[1]), "--no-store", "--format", "json"])
    assert res.exit_code == 1 and "--encoding" in res.stderr
    res = runner.invoke(app, ["compare", str(legacy), str(seeds[1]), "--no-store", "--format", "json", "--encoding",
                              "auto"])
    assert res.exit_code == 0, res.output


def test_predict_semeval2025_st1_and_its_errors(tmp_path):
    fixtures = EXAMPLES.parent / "tests" / "fixtures" / "roles"
    out = tmp_path / "st1.txt"
    res = runner.invoke(app, ["predict", "semeval2025-st1", str(fixtures / "docs"), "--mentions",
                              str(fixtures / "mentions.txt"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    rows = [line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows and all(r[4] in ("Protagonist", "Antagonist", "Innocent") for r in rows)
    res = runner.invoke(app, ["predict", "semeval2025-st1", str(fixtures / "docs"), "--mentions",
                              str(fixtures / "bad_offsets.txt"), "--out", str(tmp_path / "x.txt")])
    assert res.exit_code == 2 and "bad_offsets.txt:" in res.stderr
    for dest, problem in ((tmp_path / "missing" / "x.txt", "no such folder"), (tmp_path, "is a folder")):
        res = runner.invoke(app, ["predict", "semeval2025-st1", str(fixtures / "docs"), "--mentions",
                                  str(fixtures / "mentions.txt"), "--out", str(dest)])
        said = " ".join(res.output.replace("\u2502", " ").split())  # unwrap rich's error box
        assert res.exit_code == 2 and problem in said and "--out" in said


def test_predict_semeval2025_st2_with_a_chosen_model(tmp_path):
    from narrascope.analysers.narratives import NarrativeConfig, NarrativeModel
    from narrascope.evaluate.semeval2025 import load_dataset

    train = EXAMPLES.parent / "tests" / "fixtures" / "narratives" / "train"
    ds = load_dataset(train)
    NarrativeModel(config=NarrativeConfig(min_df=1, inner_folds=2)).fit(
        [ds.texts[i] for i in ds.ids], [ds.labels[i].coarse for i in ds.ids], [ds.labels[i].fine for i in ds.ids]
    ).save(tmp_path / "tiny")
    out = tmp_path / "st2.txt"
    res = runner.invoke(app, ["predict", "semeval2025-st2", str(train / "raw-documents"), "--out", str(out),
                              "--model", str(tmp_path / "tiny")])
    assert res.exit_code == 0, res.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(ds.ids)
    assert "share of documents with a narrative" in res.stderr and "estimated from the folder" in res.stderr
    res = runner.invoke(app, ["predict", "semeval2025-st2", str(train / "raw-documents"), "--out", str(out),
                              "--narrative-share", "trained"])
    assert res.exit_code == 0 and "share of documents" not in res.stderr
    res = runner.invoke(app, ["predict", "semeval2025-st2", str(train / "raw-documents"), "--out", str(out),
                              "--narrative-share", "1.5"])
    assert res.exit_code == 2 and "between 0 and 1" in res.output
    res = runner.invoke(app, ["predict", "semeval2025-st2", str(train / "raw-documents"), "--out", str(out),
                              "--model", str(tmp_path / "nowhere")])
    assert res.exit_code == 2 and "not a narratives model" in res.stderr and "narrascope train narratives" in res.stderr


def test_cast_in_json_and_html_when_roles_run(tmp_path):
    out = tmp_path / "r.html"
    res = runner.invoke(app, ["analyze", str(SEED_KREMLIN), "--analysers", "actors,quotes,roles", "--no-store",
                              "--format", "html", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "<h3>Cast</h3>" in out.read_text(encoding="utf-8")


def test_techniques_in_json_and_html_with_density(tmp_path):
    out = tmp_path / "t.html"
    res = runner.invoke(app, ["analyze", str(SEED_KREMLIN), "--analysers", "actors,quotes,techniques", "--no-store",
                              "--format", "html", "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "technique spans per 100 sentences" in html and 'class="finding finding-techniques"' in html
    assert "narrative evidence" not in html  # narratives did not run
    assert "Name calling / labeling" in html and ">Name_Calling-Labeling<" not in html
    res = runner.invoke(app, ["analyze", str(SEED_KREMLIN), "--analysers", "techniques", "--no-store", "--format", "jsonl"])
    rec = json.loads(res.stdout)
    assert rec["techniques"] and all(rec["text"][t["start"]:t["end"]] for t in rec["techniques"])
    assert rec["technique_density"] > 0


def test_display_label_gives_readable_technique_names():
    assert display_label("Name_Calling-Labeling", "techniques") == "Name calling / labeling"
    assert display_label("Doubt,Loaded_Language", "technique_sentences") == "Doubt, Loaded language"
    assert display_label("Not_In_The_Taxonomy", "techniques") == "Not_In_The_Taxonomy"
    assert display_label("URW: Discrediting Ukraine", "narratives") == "URW: Discrediting Ukraine"


def test_predict_ptc_formats(tmp_path):
    fixtures = EXAMPLES.parent / "tests" / "fixtures" / "techniques"
    out = tmp_path / "si.txt"
    res = runner.invoke(app, ["predict", "ptc-si", str(fixtures / "ptc" / "train-articles"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    for line in out.read_text(encoding="utf-8").splitlines():
        art, start, end = line.split("\t")
        assert int(start) < int(end)


def test_unknown_or_misplaced_encoder_is_refused(tmp_path):
    res = runner.invoke(app, ["evaluate", "narratives", "--data", str(tmp_path), "--encoder", "bert"])
    assert res.exit_code == 2 and "unknown encoder 'bert'" in res.output
    args = ["train", "techniques", "--ptc", str(tmp_path), "--semeval2023", str(tmp_path), "--encoder", "mpnet"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "--encoder mpnet needs --neural" in res.output


@pytest.mark.parametrize(
    ("flags", "folder"),
    [
        ([], "techniques"),
        (["--neural"], "techniques-neural"),
        (["--neural", "--encoder", "mpnet"], "techniques-mpnet"),
    ],
)
def test_train_techniques_writes_the_shipped_folder_of_its_kind(monkeypatch, tmp_path, flags, folder):
    from narrascope.analysers import techniques

    seen = []
    monkeypatch.setattr(techniques, "train", lambda ptc, st3, out, **kw: seen.append(Path(out)) or Path(out))
    res = runner.invoke(app, ["train", "techniques", "--ptc", str(tmp_path), "--semeval2023", str(tmp_path), *flags])
    assert res.exit_code == 0, res.output
    assert seen == [techniques.MODEL_DIR.with_name(folder)]
