"""The ``narrascope`` command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from . import __version__
from .document import Article
from .errors import InputError, NarrascopeError
from .settings import Settings, configure, get_settings

app = typer.Typer(
    help="narrascope: how online news tells a story (actors, quotes, narratives, framing, techniques).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True, highlight=False)
INPUT_ENCODING = "Text encoding of the inputs (default UTF-8; auto: each file's own, UTF-8 where it decodes)."
FORMATS = ("jsonl", "table", "html")
SINGLE_ARTICLE = {".txt", ".text", ".html", ".htm"}


def _settings(db: str | None, **kw: object) -> Settings:
    return get_settings().merged(db=db, **kw)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"narrascope {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """Run `narrascope analyze examples/` to try it on the bundled articles."""


@app.command()
def analyze(
    paths: list[str] = typer.Argument(..., help="Files, folders, globs, URLs, or - for stdin."),
    fmt: str = typer.Option("table", "--format", "-f", help="jsonl | table | html"),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write here instead of stdout (a folder: one HTML per article)."),
    db: str | None = typer.Option(None, "--db", help="Database: a SQLite file path or a SQLAlchemy URL."),
    no_store: bool = typer.Option(False, "--no-store", help="Do not write to the database."),
    force: bool = typer.Option(False, "--force", help="Re-analyse articles already stored with the same analysers."),
    source: str | None = typer.Option(None, "--source", help="Outlet name for inputs that do not say."),
    published: str | None = typer.Option(None, "--published", help="Publication date for inputs that do not say."),
    encoding: str | None = typer.Option(None, "--encoding", help=INPUT_ENCODING),
    analysers: str | None = typer.Option(None, "--analysers", help="Comma-separated analysers to run."),
    max_bytes: int | None = typer.Option(None, "--max-bytes", help="Largest input file, in bytes."),
) -> None:
    """Analyse articles (actors, quotes, narratives, techniques; --analysers adds roles), store and print."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}", param_hint="--format")
    settings = _settings(db, analysers=analysers, max_bytes=max_bytes)
    configure(settings)
    from .ingest import expand, read
    from .pipeline import Pipeline
    from .store import open_store

    items = list(expand(paths))
    pipeline = Pipeline(settings=settings)
    store = None if no_store else open_store(settings.db)
    failed = 0
    done: list[Article] = []
    seen: set[str] = set()
    # Files of one article each give the progress bar a total; tables and feeds do not.
    single = all(Path(i).suffix.lower() in SINGLE_ARTICLE for i in items)
    writer = _Writer(fmt, out)

    def fresh() -> Iterator[Article]:
        nonlocal failed
        for item in read(items, encoding=encoding, source=source, published=published):
            if isinstance(item, InputError):
                failed += 1
                err.print(f"[red]error[/red]: {item}", highlight=False, soft_wrap=True)
                progress.advance(task)
                continue
            if item.id in seen:
                err.print(f"[yellow]note[/yellow]: {item.path} is the same article as one already read "
                          f"({item.id}); analysed once")
                progress.advance(task)
                continue
            seen.add(item.id)
            stored = store.current(item.id, pipeline.versions) if store is not None and not force else None
            if stored is not None:
                emit(stored)
                continue
            yield item

    def emit(article: Article) -> None:
        done.append(article)
        writer.write(article)
        progress.advance(task)

    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), console=err, transient=True, disable=len(items) <= 3 and single)
    try:
        with progress:
            task = progress.add_task("analysing", total=len(items) if single else None)
            for article in pipeline.pipe(fresh()):
                if store is not None:
                    store.save(article)
                emit(article)
    except KeyboardInterrupt:
        writer.close(done)
        err.print(f"[yellow]interrupted[/yellow]: {len(done)} article(s) done and stored; "
                  "run the same command to resume")
        raise typer.Exit(130) from None
    writer.close(done)
    where = f" into {settings.db}" if store is not None else ""
    err.print(f"{len(done)} article(s) analysed{where}" + (f"; [red]{failed} input(s) failed[/red]" if failed else ""))
    if failed:
        raise typer.Exit(1)


class _Writer:
    """Streams JSON Lines and tables as articles finish; HTML is written at the end."""

    def __init__(self, fmt: str, out: Path | None) -> None:
        self.fmt, self.out = fmt, out
        self.fh = None
        if fmt == "jsonl":
            self.fh = open(out, "w", encoding="utf-8") if out else sys.stdout
        self.console = Console(file=open(out, "w", encoding="utf-8") if out and fmt == "table" else None)

    def write(self, article: Article) -> None:
        if self.fmt == "jsonl" and self.fh is not None:
            from .report.json import article_record

            self.fh.write(json.dumps(article_record(article), ensure_ascii=False) + "\n")
            self.fh.flush()
        elif self.fmt == "table":
            from .report.table import render

            render(article, self.console)

    def close(self, articles: list[Article]) -> None:
        if self.fmt == "html":
            _write_html(articles, self.out)
        if self.fh is not None and self.fh is not sys.stdout:
            self.fh.close()


def _write_html(articles: list[Article], out: Path | None) -> None:
    from .report.html import render_articles

    if out is not None and (out.is_dir() or str(out).endswith("/")):
        out.mkdir(parents=True, exist_ok=True)
        for a in articles:
            (out / f"{a.id}.html").write_text(render_articles([a], heading="narrascope"), encoding="utf-8")
        err.print(f"wrote {len(articles)} report(s) to {out}/")
        return
    page = render_articles(articles)
    if out is None:
        sys.stdout.write(page)
    else:
        out.write_text(page, encoding="utf-8")
        err.print(f"wrote {out}")


def _gather(paths: list[str], settings: Settings, store: Any, encoding: str | None = None,
            source: str | None = None, published: str | None = None) -> tuple[list[Article], int]:
    """Articles for ``paths``: files, folders, globs, URLs, stdin, or ids of stored articles.
    New ones are analysed and stored; stored ones are read back. Returns (articles, failures)."""
    from .ingest import expand, read
    from .pipeline import Pipeline

    pipeline = Pipeline(settings=settings)
    found: list[Article] = []
    fresh: list[Article] = []
    failed = 0
    for item in paths:
        stored = store.get(item) if store is not None and not Path(item).exists() and "*" not in item else None
        if stored is not None:
            found.append(stored)
            continue
        for got in read(list(expand([item])), encoding=encoding, source=source, published=published):
            if isinstance(got, InputError):
                failed += 1
                err.print(f"[red]error[/red]: {got}")
            else:
                stored = store.current(got.id, pipeline.versions) if store is not None else None
                (found if stored is not None else fresh).append(stored or got)
    with Progress(SpinnerColumn(), TextColumn("analysing"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True, disable=len(fresh) <= 3) as progress:
        task = progress.add_task("analysing", total=len(fresh))
        for art in pipeline.pipe(fresh):
            if store is not None:
                store.save(art)
            found.append(art)
            progress.advance(task)
    unique = {a.id: a for a in found}
    return list(unique.values()), failed


@app.command()
def threads(
    paths: list[str] = typer.Argument(
        None, help="Articles to add first (files, folders, globs); none: list the store."),
    fmt: str = typer.Option("table", "--format", "-f", help="jsonl | table"),
    db: str | None = typer.Option(None, "--db"),
    published: str | None = typer.Option(None, "--published", help="Publication date for inputs that do not say."),
    source: str | None = typer.Option(None, "--source", help="Outlet name for inputs that do not say."),
    encoding: str | None = typer.Option(None, "--encoding", help=INPUT_ENCODING),
) -> None:
    """Group articles into events and storylines; list each article with its thread ids."""
    from .store import open_store
    from .stories import list_threads, thread_articles

    settings = _settings(db)
    configure(settings)
    store = open_store(settings.db)
    failed = 0
    if paths:
        arts, failed = _gather(paths, settings, store, encoding, source=source, published=published)
        thread_articles(arts, store)
    records = list_threads(store)
    if fmt == "jsonl":
        for rec in records:
            typer.echo(json.dumps(rec, ensure_ascii=False, default=str))
    else:
        from rich.table import Table

        table = Table("storyline", "event", "published", "source", "title", "id", "duplicate of")
        for r in sorted(records, key=lambda r: (r["storyline_id"], r["event_id"], r.get("published") or "")):
            table.add_row(r["storyline_id"], r["event_id"], str(r.get("published") or ""), r.get("source") or "",
                          r.get("title") or "", r["id"], r.get("duplicate_of") or "")
        Console().print(table)
    if failed:
        raise typer.Exit(1)


@app.command()
def thread(
    thread_id: str = typer.Argument(..., help="An event (ev-…) or storyline (st-…) id, or an article id."),
    db: str | None = typer.Option(None, "--db"),
    fmt: str = typer.Option("json", "--format", "-f", help="json | html (side by side)"),
    out: Path | None = typer.Option(None, "--out", "-o"),
) -> None:
    """Show one thread; `--format html` compares its articles side by side."""
    from .store import open_store
    from .stories import compare_thread, thread_record

    store = open_store(_settings(db).db)
    try:
        record = compare_thread(store, thread_id) if fmt == "html" else thread_record(store, thread_id)
    except LookupError as exc:
        err.print(f"[red]error[/red]: {exc.args[0] if exc.args else exc} (see `narrascope threads`)")
        raise typer.Exit(1) from None
    _emit_comparison(record, fmt, out)


@app.command()
def compare(
    items: list[str] = typer.Argument(..., help="Two or more files or stored article ids."),
    fmt: str = typer.Option("html", "--format", "-f", help="html | json"),
    out: Path | None = typer.Option(None, "--out", "-o"),
    db: str | None = typer.Option(None, "--db"),
    no_store: bool = typer.Option(False, "--no-store", help="Do not write to the database."),
    encoding: str | None = typer.Option(None, "--encoding", help=INPUT_ENCODING),
) -> None:
    """Compare how articles cover the same story: shared facts, only-in facts, quotes, actors."""
    from .store import open_store
    from .stories import compare as compare_articles

    settings = _settings(db)
    configure(settings)
    store = None if no_store else open_store(settings.db)
    arts, failed = _gather(items, settings, store, encoding)
    if len(arts) < 2:
        err.print(f"[red]error[/red]: compare needs two or more distinct articles, got {len(arts)}")
        raise typer.Exit(1)
    _emit_comparison(compare_articles(arts), fmt, out)
    if failed:
        raise typer.Exit(1)


def _emit_comparison(data: dict[str, Any], fmt: str, out: Path | None) -> None:
    if fmt == "html":
        from .report.compare import render_compare

        text = render_compare(data)
    else:
        text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        err.print(f"wrote {out}")


@app.command()
def show(
    article_id: str = typer.Argument(..., help="An article id (or a unique prefix)."),
    fmt: str = typer.Option("table", "--format", "-f", help="jsonl | table | html"),
    out: Path | None = typer.Option(None, "--out", "-o"),
    db: str | None = typer.Option(None, "--db"),
) -> None:
    """Show a stored article with its layers."""
    from .store import open_store

    store = open_store(_settings(db).db)
    art = store.get(article_id)
    if art is None:
        err.print(f"[red]error[/red]: no stored article with id {article_id!r} (see `narrascope search`)")
        raise typer.Exit(1)
    writer = _Writer(fmt, out)
    writer.write(art)
    writer.close([art])


@app.command()
def search(
    query: str = typer.Argument(..., help="Words to find (SQLite FTS5 syntax allowed)."),
    limit: int = typer.Option(20, "--limit", "-n"),
    db: str | None = typer.Option(None, "--db"),
    as_json: bool = typer.Option(False, "--json", help="JSON Lines instead of a table."),
) -> None:
    """Full-text search over stored articles."""
    from rich.table import Table

    from .store import open_store

    try:
        rows = open_store(_settings(db).db).search(query, limit)
    except Exception as exc:  # an FTS5 syntax error is the user's to fix
        err.print(f"[red]error[/red]: cannot search for {query!r}: {exc.__cause__ or exc}")
        raise typer.Exit(2) from None
    if as_json:
        for r in rows:
            typer.echo(json.dumps(r, ensure_ascii=False))
        return
    table = Table("id", "title", "source", "match")
    for r in rows:
        table.add_row(r["id"], r["title"], r["source"] or "", r["snippet"])
    Console().print(table)
    if not rows:
        err.print("no match")


@app.command()
def actors(
    limit: int = typer.Option(30, "--limit", "-n"),
    db: str | None = typer.Option(None, "--db"),
) -> None:
    """Actors across the stored corpus, by the number of articles they appear in."""
    from rich.table import Table

    from .store import open_store

    table = Table("actor", "kind", "articles", "id")
    for r in open_store(_settings(db).db).actor_index(limit):
        table.add_row(r["name"], r["kind"], str(r["articles"]), r["id"])
    Console().print(table)


from .cli_tasks import evaluate_app, predict_app, train_app  # noqa: E402

app.add_typer(train_app, name="train")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(predict_app, name="predict")


def run() -> None:
    try:
        app()
    except NarrascopeError as exc:
        err.print(f"[red]error[/red]: {exc}")
        sys.exit(2)


if __name__ == "__main__":
    run()
