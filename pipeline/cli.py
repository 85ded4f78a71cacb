"""The `geowire` command: the nightly pipeline without Airflow."""

from __future__ import annotations

import csv
import json
import logging
import sys
from contextlib import nullcontext
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from pipeline.config import LOG_FORMAT, Settings
from pipeline.partition import parse_partition

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(stderr=True)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log one line per stage")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format=LOG_FORMAT)


@app.command()
def run(
    warehouse: Annotated[str, typer.Option(help="warehouse directory or s3://bucket/prefix")],
    date: Annotated[str, typer.Option(help="partition date, YYYY-MM-DD")],
    inputs: Annotated[
        list[str] | None, typer.Option("--input", "-i", help="input files or directories, or s3:// URLs")
    ] = None,
    more_inputs: Annotated[list[str] | None, typer.Argument(help="more inputs: `--input a b c` works too")] = None,
    sources_file: Annotated[
        Path | None,
        typer.Option("--sources", help="sources file (feeds and inboxes, YAML); default $GEOWIRE_SOURCES"),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="processes for the NLP stage")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON on stdout")] = False,
) -> None:
    """Run every stage (ingest -> normalize -> extract -> validate -> publish -> load) for one partition."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from pipeline import fs
    from pipeline.ingest.sources import SourcesError, load_sources
    from pipeline.runner import run_pipeline

    try:
        partition = parse_partition(date)
    except ValueError as exc:
        _fail(str(exc))
    inputs = [*(inputs or []), *(more_inputs or [])]
    missing = [p for p in inputs if not fs.location(p).exists()]
    if missing:
        _fail(f"input not found: {', '.join(missing)}")
    settings = Settings.from_env()
    sources_file = sources_file or settings.sources
    if not inputs and sources_file is None:
        _fail("nothing to ingest: give --input PATH and/or --sources FILE")
    sources = None
    if sources_file is not None:
        try:
            sources = load_sources(sources_file)
        except SourcesError as exc:
            _fail(str(exc))
    if workers is not None:
        settings = replace(settings, workers=workers)
    with Progress(
        TextColumn("extract"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("extract", total=None)
        try:
            summary = run_pipeline(
                inputs, warehouse, partition, settings, progress=lambda n: bar.advance(task, n), sources=sources
            )
        except Exception as exc:
            _fail(f"{type(exc).__name__}: {exc}")
    if as_json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    else:
        print_summary(summary)


def print_summary(summary: dict) -> None:
    out = Console()
    table = Table(title=f"geowire run {summary['date']}", show_header=False)
    table.add_row("inputs read", str(summary["inputs_read"]))
    table.add_row("articles published", str(summary["articles_published"]))
    table.add_row("duplicates", str(summary["duplicates"]))
    reasons = ", ".join(f"{k}={v}" for k, v in summary["quarantined_by_reason"].items())
    table.add_row("quarantined", f"{summary['quarantined']}" + (f" ({reasons})" if reasons else ""))
    table.add_row("counts balance", "yes" if summary["counts_balance"] else "NO")
    for source in summary.get("sources", []):
        status = f", feed {source['feed_status']}" if "feed_status" in source else ""
        counts = f"{source['records']} records, {source['quarantined']} quarantined{status}"
        table.add_row(f"source {source['name']}", counts)
    if summary.get("summary_fallbacks"):
        table.add_row("summary fallbacks", str(summary["summary_fallbacks"]))
    for name, n in summary["rows"].items():
        q = summary["quarantined_rows"].get(name, 0)
        table.add_row(f"rows {name}", f"{n}" + (f" (+{q} quarantined)" if q else ""))
    for stage, s in summary["seconds"].items():
        table.add_row(f"seconds {stage}", f"{s:.2f}")
    table.add_row("warehouse", summary["warehouse"])
    if "report" in summary:
        table.add_row("report", summary["report"])
    out.print(table)


def _fail(reason: str) -> None:
    console.print(f"geowire: error: {reason}", markup=False, highlight=False)
    raise typer.Exit(code=1)


@app.command()
def summary(
    warehouse: Annotated[str, typer.Option(help="warehouse directory or s3://bucket/prefix")],
    date: Annotated[str, typer.Option(help="partition date, YYYY-MM-DD")],
) -> None:
    """Print the summary of the run that published partition DATE."""
    from pipeline import fs

    path = fs.location(warehouse) / "runs" / f"date={date}" / "summary.json"
    if not path.exists():
        _fail(f"no run summary at {path}")
    print_summary(json.loads(path.read_text(encoding="utf-8")))


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL to run against the warehouse (read-only)")],
    warehouse: Annotated[Path, typer.Option(help="warehouse directory")],
    output_format: Annotated[OutputFormat, typer.Option("--format", help="how to write the result")] = (
        OutputFormat.table
    ),
    output: Annotated[Path | None, typer.Option(help="write to this file instead of stdout (parquet needs it)")] = None,
) -> None:
    """Run read-only SQL against `<warehouse>/geowire.duckdb`; print a table or write CSV, JSON or Parquet."""
    import duckdb

    from pipeline.warehouse import DATABASE_FILE, connect_read_only

    if output_format is OutputFormat.parquet and output is None:
        _fail("--format parquet writes a file: give --output FILE")
    if output_format is OutputFormat.table and output is not None:
        _fail("--output needs --format csv, json or parquet")
    if not (warehouse / DATABASE_FILE).exists():
        _fail(f"no warehouse database at {warehouse / DATABASE_FILE}")
    try:
        with connect_read_only(warehouse) as con:
            relation = con.sql(sql)
            if relation is None:
                _fail("the statement returned no rows to show")
            if output_format is OutputFormat.parquet:
                relation.to_parquet(str(output), compression="zstd")
                return
            columns = relation.columns
            rows = relation.fetchall()
    except duckdb.Error as exc:
        _fail(str(exc).splitlines()[0])
    if output_format is OutputFormat.table:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        Console().print(table)
        return
    with open(output, "w", encoding="utf-8", newline="") if output else nullcontext(sys.stdout) as out:
        if output_format is OutputFormat.json:
            json.dump([dict(zip(columns, row, strict=True)) for row in rows], out, default=_json_value)
            out.write("\n")
        else:
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(_csv_value(v) for v in row)


def _json_value(value: object) -> object:
    """Dates and times as ISO strings, decimals as numbers, anything else DuckDB returns as its text."""
    if isinstance(value, Decimal):
        return float(value)
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if isoformat else str(value)


def _csv_value(value: object) -> object:
    """Lists and structs as JSON text, so a CSV cell holds them whole."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=_json_value, ensure_ascii=False)
    return "" if value is None else value


@app.command()
def report(
    warehouse: Annotated[Path, typer.Option(help="warehouse directory")],
    date: Annotated[str, typer.Option(help="partition date, YYYY-MM-DD")],
) -> None:
    """Write the run report of partition DATE to `<warehouse>/reports/DATE.html` and print its path."""
    import duckdb

    from pipeline.report import write_report

    try:
        path = write_report(warehouse, parse_partition(date))
    except (ValueError, LookupError, FileNotFoundError, duckdb.Error) as exc:
        _fail(str(exc))
    print(path)


@app.command()
def verify(
    warehouse: Annotated[str, typer.Option(help="warehouse directory or s3://bucket/prefix")],
    date: Annotated[str, typer.Option(help="partition date, YYYY-MM-DD")],
) -> None:
    """Check partition DATE against its manifest (files, sha256, rows, schema_version): exit 0 when it is safe
    to read, 1 with the problems when it is not."""
    from pipeline.manifest import verify_manifest

    problems = verify_manifest(warehouse, date)
    if problems:
        for problem in problems:
            console.print(f"geowire: {problem}", markup=False, highlight=False)
        _fail(f"partition {date} does not match its manifest ({len(problems)} problems)")
    print(f"partition {date}: ok")


@app.command()
def docs(
    check: Annotated[bool, typer.Option("--check", help="exit 1 if the committed card is not current")] = False,
) -> None:
    """Generate the dataset card, schemas/DATASET.md and schemas/DATASET.html, from schemas/*.yaml."""
    from pipeline import docs as card

    if check:
        stale = card.stale_files()
        for name, diff in stale.items():
            console.print(diff, markup=False, highlight=False)
            console.print(f"geowire: {name} is not current with schemas/", markup=False, highlight=False)
        if stale:
            _fail("the dataset card is stale: run `geowire docs` and commit schemas/DATASET.md and DATASET.html")
        print("dataset card is current")
        return
    for path in card.write():
        print(f"wrote {path}")


@app.command(name="eval")
def evaluate(
    gold: Annotated[Path, typer.Argument(help="gold JSONL (the ../shared/eval format)")],
    warehouse: Annotated[Path | None, typer.Option(help="warehouse to run into (default: a temporary one)")] = None,
    misses: Annotated[
        bool, typer.Option("--misses", help="list missed and spurious items with their sentences")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the scores as JSON")] = False,
) -> None:
    """Run the pipeline on GOLD and print precision/recall/F1 for actors, events and commitments."""
    import tempfile

    from pipeline.evaluate import score
    from pipeline.runner import run_pipeline

    if not gold.exists():
        _fail(f"gold file not found: {gold}")
    with tempfile.TemporaryDirectory(prefix="geowire-eval-") as tmp:
        target = warehouse or Path(tmp) / "warehouse"
        inbox = Path(tmp) / "inbox.jsonl"
        with open(inbox, "w", encoding="utf-8") as inbox_file:
            for line in gold.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    rec = json.loads(line)
                    fields = ("id", "title", "text", "published", "source", "url")
                    inbox_file.write(json.dumps({k: rec.get(k) for k in fields}, ensure_ascii=False) + "\n")
        run_pipeline([inbox], target, "2000-01-01", Settings.from_env())
        report = score(gold, target)
    if as_json:
        print(json.dumps({"scores": report.scores, "by_type": report.by_type}, indent=2))
        return
    out = Console()
    for name in ("actors", "events", "commitments"):
        if name in report.scores:
            out.print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in report.scores[name].items()))
    table = Table("event type", "gold", "system", "matched", "recall", title="events by type")
    for event_type, c in report.by_type.items():
        recall = f"{c['tp'] / c['gold']:.2f}" if c["gold"] else "-"
        table.add_row(event_type, str(c["gold"]), str(c["system"]), str(c["tp"]), recall)
    out.print(table)
    if misses:
        for m in report.misses:
            detail = {k: v for k, v in m.items() if k not in ("record", "kind", "evidence")}
            out.print(f"[bold]{m['kind']}[/bold] {m['record']}: {detail}\n    {m.get('evidence', '')}", highlight=False)


if __name__ == "__main__":
    app()
