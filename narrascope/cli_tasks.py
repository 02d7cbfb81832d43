"""``narrascope train | evaluate | predict``: the shared-task side of the product.

Each command only parses arguments and prints; the work is done by the analyser modules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from .errors import NarrascopeError

train_app = typer.Typer(help="Train a shipped model again from the research corpora.", no_args_is_help=True)
evaluate_app = typer.Typer(help="Cross-validated official metrics on the research corpora.", no_args_is_help=True)
predict_app = typer.Typer(help="Write shared-task submission files for a folder of documents.", no_args_is_help=True)
out = Console()
err = Console(stderr=True, soft_wrap=True, highlight=False)

DATA_T10 = "SemEval-2025 T10 folder (e.g. …/semeval2025_t10/train_target_4_December_release)"


def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except (NarrascopeError, FileNotFoundError, ValueError) as exc:
        err.print(f"[red]error[/red]: {exc}")
        raise typer.Exit(2) from None


def _print_report(report: dict[str, Any], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    table = Table(title=title, show_edge=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    per_label: dict[str, Any] = {}
    for key, value in report.items():
        if key.startswith("per_label") and isinstance(value, dict):
            per_label[key] = value
        elif isinstance(value, (int, float)):
            table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
        elif isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values()) and len(value) <= 8:
            for k, v in value.items():
                table.add_row(f"{key} {k}", f"{v:.4f}" if isinstance(v, float) else str(v))
    out.print(table)
    for key, labels in per_label.items():
        rows = [(name, m) for name, m in labels.items() if isinstance(m, dict)]
        if not rows:
            continue
        cols = [c for c in ("precision", "recall", "f1", "support") if c in rows[0][1]]
        tbl = Table(title=key.replace("_", " "), show_edge=False)
        tbl.add_column("label", overflow="fold")
        for c in cols:
            tbl.add_column(c, justify="right")
        for name, m in sorted(rows, key=lambda r: -float(r[1].get("support", 0) or 0)):
            tbl.add_row(name, *(f"{m[c]:.3f}" if isinstance(m[c], float) else str(m[c]) for c in cols))
        out.print(tbl)


def _output_file(path: Path) -> Path:
    """Refuse an output path that cannot be written before any work is done."""
    if path.is_dir():
        raise typer.BadParameter(f"{path} is a folder: give a file name")
    if not path.parent.is_dir():
        raise typer.BadParameter(f"{path.parent}: no such folder (create it first)")
    return path


def _done(n: int, path: Path, what: str = "document") -> None:
    err.print(f"wrote {n} {what}(s) to {path}")


# ---- narratives (SemEval-2025 T10 subtasks 2 and 3) ----------------------------------------------
NARRATIVE_ENCODER = (
    "'minilm': TF-IDF heads averaged with heads over MiniLM vectors of the article's first 3 sentences (the "
    "shipped default model); 'tfidf': the TF-IDF heads alone; 'mpnet': TF-IDF and heads over all-mpnet-base-v2 "
    "document vectors (the shipped 'mpnet' model; needs the 'mpnet' extra)."
)


def _narrative_config(encoder: str) -> Any:
    from .analysers import narratives

    configs = {
        "minilm": narratives.DEFAULT_CONFIG,
        "tfidf": narratives.NarrativeConfig(),
        "mpnet": narratives.MPNET_CONFIG,
    }
    if encoder not in configs:
        raise typer.BadParameter(
            f"unknown encoder {encoder!r}; choose one of {', '.join(configs)}", param_hint="--encoder"
        )
    return configs[encoder]


NARRATIVE_MODEL = (
    "'minilm' (the default), 'mpnet' (better, slower; needs the 'mpnet' extra) or a trained model folder; "
    "default: the narratives_model setting."
)
DOCS_ENCODING = (
    "Encoding of the documents: a Python codec name, such as cp1252, or auto (UTF-8 where it decodes, else each "
    "file's likeliest)."
)


NARRATIVE_SHARE = (
    "Share of the folder's documents that carry a narrative: 'auto' estimates it from the folder (the training "
    "articles' 57% rarely holds elsewhere), 'trained' keeps the training share, or a number such as 0.85."
)


def _narrative_share(value: str) -> float | str | None:
    if value in ("auto", "trained"):
        return None if value == "trained" else value
    try:
        share = float(value)
    except ValueError:
        share = -1.0
    if not 0 < share < 1:
        raise typer.BadParameter(
            f"{value!r}: give 'auto', 'trained' or a number between 0 and 1", param_hint="--narrative-share"
        )
    return share


def _narrative_model(name: str | None) -> Path | None:
    from .analysers import narratives

    return narratives.default_model_path(name) if name else None


@train_app.command("narratives")
def train_narratives(
    data: Path = typer.Option(..., "--data", help=DATA_T10),
    model_out: Path | None = typer.Option(None, "--out", help="Model folder (default: the shipped one)."),
    lang: str = typer.Option("EN", "--lang"),
    encoder: str = typer.Option("minilm", "--encoder", help=NARRATIVE_ENCODER),
) -> None:
    """Train the narratives model (reproduces the shipped one)."""
    from .analysers import narratives

    config = _narrative_config(encoder)
    if encoder == "tfidf" and model_out is None:  # it would replace the shipped default, which reads MiniLM too
        raise typer.BadParameter("--encoder tfidf trains the TF-IDF heads alone, not a shipped model: give --out DIR")
    out = model_out or narratives.default_model_path(encoder)
    report = _run(narratives.train, data, out, lang=lang, config=config)
    typer.echo(json.dumps(report, indent=2, default=str))


@evaluate_app.command("narratives")
def evaluate_narratives(
    data: Path = typer.Option(..., "--data", help=DATA_T10),
    folds: int = typer.Option(5, "--folds"),
    lang: str = typer.Option("EN", "--lang"),
    encoder: str = typer.Option("minilm", "--encoder", help=NARRATIVE_ENCODER),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """F1-samples (fine and coarse) and per-label P/R/F1 in k-fold cross-validation."""
    from .analysers import narratives

    report = _run(narratives.evaluate, data, folds=folds, lang=lang, config=_narrative_config(encoder))
    _print_report(report, as_json, "narratives, cross-validated")


@train_app.command("slant")
def train_slant(
    data: Path = typer.Option(..., "--data", help="BABE folder (final_labels_SG1.csv, final_labels_SG2.csv)."),
    model_out: Path | None = typer.Option(None, "--out", help="Model folder (default: the shipped one)."),
    encoder: str = typer.Option("mpnet", "--encoder", help="Sentence encoder: 'mpnet' (the shipped one) or another."),
) -> None:
    """Train the sentence slant classifier the 'mpnet' narratives gate reads (reproduces the shipped one)."""
    from .analysers import slant

    report = _run(slant.train, data, model_out or slant.slant_path(encoder), encoder=encoder)
    typer.echo(json.dumps(report, indent=2, default=str))


@predict_app.command("semeval2025-st2")
def predict_st2(
    docs: Path = typer.Argument(..., help="Folder of documents (title line, blank line, body)."),
    dest: Path = typer.Option(..., "--out", help="Submission file.", callback=_output_file),
    model: str | None = typer.Option(None, "--model", help=NARRATIVE_MODEL),
    encoding: str = typer.Option("utf-8", "--encoding", help=DOCS_ENCODING),
    narrative_share: str = typer.Option("auto", "--narrative-share", help=NARRATIVE_SHARE),
) -> None:
    """Subtask 2: narratives and subnarratives per document."""
    from .analysers import narratives

    share = _narrative_share(narrative_share)
    report = _run(narratives.predict_st2, docs, dest, _narrative_model(model), encoding, share)
    _done(report["documents"], dest)
    if report["narrative_share"] is not None:
        how = "estimated from the folder" if report["estimated"] else "as given"
        err.print(
            f"share of documents with a narrative: {report['narrative_share']:.2f} {how} "
            f"(training articles: {report['trained_share']:.2f}); --narrative-share trained keeps the training share"
        )


@predict_app.command("semeval2025-st3")
def predict_st3(
    docs: Path = typer.Argument(..., help="Folder of documents."),
    dominant: Path = typer.Option(..., "--dominant", help="The task's dominant-narratives file."),
    dest: Path = typer.Option(..., "--out", help="Submission file.", callback=_output_file),
    model: str | None = typer.Option(None, "--model", help=NARRATIVE_MODEL),
    encoding: str = typer.Option("utf-8", "--encoding", help=DOCS_ENCODING),
) -> None:
    """Subtask 3: an explanation of each document's given dominant narrative."""
    from .analysers import narratives

    _done(_run(narratives.predict_st3, docs, dominant, dest, _narrative_model(model), encoding), dest)


CACHE = "Folder that keeps the corpora's parse and the fine-tuned models between runs."


# ---- roles (SemEval-2025 T10 subtask 1) ----------------------------------------------------------
@train_app.command("roles")
def train_roles(
    data: Path = typer.Option(..., "--data", help=DATA_T10 + " or its EN folder"),
    model_out: Path | None = typer.Option(None, "--out", help="Model folder (default: the shipped one)."),
    neural: bool = typer.Option(
        False,
        "--neural/--linear",
        help="Also fine-tune the role cross-encoder into the model (needs the 'train' extra, ~15 minutes on two "
        "cores). The shipped model is linear: in CV the encoder does not beat it (see the README).",
    ),
    cache: Path | None = typer.Option(None, "--cache", help=CACHE),
) -> None:
    """Train the entity-framing model (reproduces the shipped one)."""
    from .analysers import roles

    _run(roles.train, data, model_out or roles.MODEL_DIR, neural=neural, cache_dir=cache)
    err.print(f"saved the roles model to {model_out or roles.MODEL_DIR}")


@evaluate_app.command("roles")
def evaluate_roles(
    data: Path = typer.Option(..., "--data", help=DATA_T10 + " or its EN folder"),
    folds: int = typer.Option(5, "--folds"),
    neural: bool = typer.Option(
        False, "--neural/--linear", help="Also fine-tune the cross-encoder per fold (~12 minutes a fold)."
    ),
    cache: Path | None = typer.Option(None, "--cache", help=CACHE),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Exact match ratio of fine roles, main-role accuracy and micro P/R/F1 in cross-validation by article."""
    from .analysers import roles

    report = _run(roles.evaluate, data, folds=folds, neural=neural, cache_dir=cache)
    _print_report(report, as_json, "roles, cross-validated by article")


@predict_app.command("semeval2025-st1")
def predict_st1(
    docs: Path = typer.Argument(..., help="Folder of documents."),
    mentions: Path = typer.Option(..., "--mentions", help="The task's entity-mentions file."),
    dest: Path = typer.Option(..., "--out", help="Submission file.", callback=_output_file),
    encoding: str = typer.Option("utf-8", "--encoding", help=DOCS_ENCODING),
) -> None:
    """Subtask 1: main and fine roles of each given entity mention."""
    from .analysers import roles

    _done(_run(roles.predict_st1, docs, mentions, dest, encoding=encoding), dest, "mention")


# ---- persuasion techniques (PTC / SemEval-2020 T11, SemEval-2023 T3) ---------------------------------
PTC = "PTC folder holding train-articles/ and train-task-flc-tc.labels"
ST3 = "SemEval-2023 T3 English folder (…/semeval2023_t3/en)"
ENCODER = (
    "With --neural: 'minilm' fine-tunes MiniLM (the shipped 'neural' model); 'mpnet' reads all-mpnet-base-v2 "
    "frozen (the shipped 'mpnet' model; needs the 'mpnet' and 'train' extras)."
)


TAGGER_MODELS = {"minilm": "neural", "mpnet": "mpnet"}  # --encoder -> the shipped model it trains


def _technique_params(neural: bool, encoder: str) -> Any:
    from .analysers import techniques

    if encoder not in TAGGER_MODELS:
        raise typer.BadParameter(f"unknown encoder {encoder!r}; choose 'minilm' or 'mpnet'", param_hint="--encoder")
    if encoder == "mpnet" and not neural:
        raise typer.BadParameter("--encoder mpnet needs --neural", param_hint="--encoder")
    return techniques.MPNET_PARAMS if encoder == "mpnet" else techniques.Params(neural=neural)


@train_app.command("techniques")
def train_techniques(
    ptc: Path = typer.Option(..., "--ptc", help=PTC),
    semeval2023: Path = typer.Option(..., "--semeval2023", help=ST3),
    model_out: Path | None = typer.Option(None, "--out", help="Model folder (default: the shipped one of its kind)."),
    neural: bool = typer.Option(
        False,
        "--neural/--crf",
        help="Fine-tune the transformer tagger (the shipped 'neural' model; needs the 'train' extra, ~25 minutes "
        "on two cores) instead of the CRF (the shipped 'crf' model).",
    ),
    encoder: str = typer.Option("minilm", "--encoder", help=ENCODER),
    cache: Path | None = typer.Option(None, "--cache", help=CACHE),
) -> None:
    """Train the technique tagger and classifiers (reproduces the shipped model)."""
    from .analysers import techniques

    params = _technique_params(neural, encoder)
    default_out = techniques.default_model_path(TAGGER_MODELS[encoder] if neural else "crf")
    path = _run(techniques.train, ptc, semeval2023, model_out or default_out, cache_dir=cache, params=params)
    err.print(f"saved the techniques model to {path}")


@evaluate_app.command("techniques")
def evaluate_techniques(
    ptc: Path = typer.Option(..., "--ptc", help=PTC),
    semeval2023: Path = typer.Option(..., "--semeval2023", help=ST3),
    folds: int = typer.Option(5, "--folds"),
    neural: bool = typer.Option(False, "--neural/--crf", help="The transformer tagger (one per fold) or the CRF."),
    encoder: str = typer.Option("minilm", "--encoder", help=ENCODER),
    cache: Path | None = typer.Option(None, "--cache", help=CACHE),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """PTC span F1 and technique micro-F1, SemEval-2023 T3 paragraph micro-F1, cross-validated by article."""
    from .analysers import techniques

    params = _technique_params(neural, encoder)
    report = _run(techniques.evaluate, ptc, semeval2023, folds=folds, cache_dir=cache, params=params)
    _print_report(report, as_json, "techniques, cross-validated by article")


@predict_app.command("ptc-si")
def predict_ptc_si(
    articles: Path = typer.Argument(..., help="Folder of PTC articles (articleNNN.txt)."),
    dest: Path = typer.Option(..., "--out", help="Submission file.", callback=_output_file),
) -> None:
    """PTC span identification: propaganda spans per article."""
    from .analysers import techniques

    _done(_run(techniques.predict_ptc_si, articles, dest), dest, "span")


@predict_app.command("ptc-tc")
def predict_ptc_tc(
    articles: Path = typer.Argument(..., help="Folder of PTC articles."),
    spans: Path = typer.Option(..., "--spans", help="The task's span file (technique column may be '?')."),
    dest: Path = typer.Option(..., "--out", help="Submission file.", callback=_output_file),
) -> None:
    """PTC technique classification of given spans."""
    from .analysers import techniques

    _done(_run(techniques.predict_ptc_tc, articles, spans, dest), dest, "span")


@predict_app.command("semeval2023-st3")
def predict_semeval2023_st3(
    articles: Path = typer.Argument(..., help="Folder of SemEval-2023 T3 articles (articleNNN.txt)."),
    dest: Path = typer.Option(..., "--out", help="Submission file.", callback=_output_file),
) -> None:
    """SemEval-2023 T3 subtask 3: techniques per paragraph."""
    from .analysers import techniques

    _done(_run(techniques.predict_semeval2023_st3, articles, dest), dest, "paragraph")
