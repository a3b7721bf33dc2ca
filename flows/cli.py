"""The ``minsheng`` command line. Each command is a few lines over the flows and the core;
heavy imports happen inside commands so that ``--help`` is instant."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="minsheng 民生: needs sensing and demand matching for a sub-district.",
                  no_args_is_help=True, add_completion=False)
console = Console()
err = Console(stderr=True)

DbOpt = Annotated[Optional[Path], typer.Option("--db", help="warehouse file (default: MINSHENG_DB or data/minsheng.duckdb)")]


def _prepare_env() -> None:
    """Run-time environment: offline model loading, and a Prefect home of our own so that
    parallel processes never share ~/.prefect."""
    import logging

    logging.getLogger("jieba").setLevel(logging.WARNING)  # it announces every dictionary load
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("PREFECT_HOME", str(Path("data/.prefect").resolve()))
    # Prefect creates its home without parents and then cannot open its database
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # the first start in a fresh PREFECT_HOME migrates its database: 20 s is too short on 2 cores
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def _db_arg(db: Path | None) -> str | None:
    return str(db) if db else None


@app.command()
def demo(
    out: Annotated[Optional[Path], typer.Option(help="where to write the generated inputs")] = None,
    weeks: Annotated[Optional[int], typer.Option(help="weeks to generate")] = None,
    seed: Annotated[Optional[int], typer.Option(help="generator seed")] = None,
    db: DbOpt = None,
) -> None:
    """Generate the demo district and run the whole pipeline as one Prefect flow."""
    from flows.pipeline import demo_flow

    with console.status("running the demo flow (generate → ingest → process → match → report)"):
        s = demo_flow(str(out) if out else None, weeks, seed, _db_arg(db))
    console.print(f"warehouse: {s.db.resolve()}")
    console.print(f"report:    {s.report.resolve()}")
    console.print(f"records ingested: {s.records_ingested} ({s.quarantined} quarantined)")
    console.print(f"demand items:     {s.demand_items}")
    console.print(f"unmet demand:     {s.unmet} of {s.demand_items} ({100 * s.unmet / max(s.demand_items, 1):.1f}%)")


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="output folder")],
    weeks: Annotated[int, typer.Option(help="weeks to generate")] = 8,
    seed: Annotated[int, typer.Option(help="generator seed")] = 20261125,
    start_week: Annotated[str, typer.Option(help="first ISO week, e.g. 2026-W40")] = "2026-W40",
) -> None:
    """Write a demo district: four channels plus the supply registry."""
    from minsheng.generate import generate_district
    from minsheng.settings import load_settings

    s = load_settings()
    m = generate_district(out, weeks, seed, start_week=start_week, district=s.district, taxonomy=s.taxonomy)
    console.print_json(json.dumps({"out": str(out), "weeks": m.weeks, "counts": m.counts}, ensure_ascii=False))


@app.command()
def ingest(
    channel: Annotated[str, typer.Argument(help="survey | hotline | platform | meeting")],
    paths: Annotated[list[Path], typer.Argument(help="export files (or folders laid out as `generate` writes)")],
    db: DbOpt = None,
) -> None:
    """Ingest export files of one channel into the warehouse."""
    from flows.pipeline import ingest_flow
    from minsheng.ingest import CHANNELS, discover

    if channel not in CHANNELS:
        err.print(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
        raise typer.Exit(2)
    files = [str(f) for p in paths for f in (discover(p, channel) if p.is_dir() else [p])]
    result = ingest_flow(channel, files, _db_arg(db))
    console.print(" · ".join(f"{k} {v}" for k, v in result.items() if k != "unreadable"))
    for bad in result["unreadable"]:
        err.print(f"cannot read {bad['file']}: {bad['error']}")
    if result["unreadable"]:
        raise typer.Exit(1)


@app.command()
def process(
    db: DbOpt = None,
    runner: Annotated[Optional[str], typer.Option(help="Beam runner (default: pinned in-process runner)")] = None,
    workers: Annotated[Optional[int], typer.Option(help="local worker processes")] = None,
) -> None:
    """Run the Beam text stage over everything ingested and not yet processed."""
    from flows.pipeline import process_flow

    argv = [f"--runner={runner}"] if runner else []
    if workers:
        argv += [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    console.print(process_flow(_db_arg(db), argv))


@app.command()
def match(
    supply: Annotated[Path, typer.Option(help="supply registry YAML")] = Path("data/demo/supply.yaml"),
    db: DbOpt = None,
) -> None:
    """Match every week's demand items against the registry's capacity."""
    from flows.pipeline import match_task

    console.print(match_task.fn(str(supply), _db_arg(db)))


@app.command()
def report(
    week: Annotated[Optional[str], typer.Option(help="ISO week, e.g. 2026-W47 (default: latest)")] = None,
    db: DbOpt = None,
) -> None:
    """Write the weekly matching report (HTML)."""
    from flows.pipeline import report_task

    console.print(report_task.fn(_db_arg(db), week))


@app.command()
def query(
    name_or_sql: Annotated[Optional[str], typer.Argument(help="a named query (see --list) or SQL")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="NAME=VALUE")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json")] = "table",
    list_: Annotated[bool, typer.Option("--list", help="list the named queries")] = False,
    db: DbOpt = None,
) -> None:
    """Query the warehouse read-only."""
    from minsheng.settings import load_settings
    from warehouse.store import read_sql, resolve_query, run_query, sql_files

    if list_ or not name_or_sql:
        for p in sql_files("queries"):
            first = read_sql("queries", p.stem).splitlines()[0].lstrip("- ")
            console.print(f"[bold]{p.stem}[/bold]  {first}")
        return
    params = dict(p.split("=", 1) for p in (param or []))
    try:
        result = run_query(load_settings(db=db).db, resolve_query(name_or_sql), params)
    except (PermissionError, KeyError, FileNotFoundError) as exc:
        err.print(str(exc).strip('"'))
        raise typer.Exit(2) from None
    _print_result(result, fmt)


def _print_result(result, fmt: str) -> None:  # type: ignore[no-untyped-def]
    if fmt == "json":
        console.print_json(json.dumps(result.to_records(), ensure_ascii=False, default=str))
    elif fmt == "csv":
        import csv
        import sys

        w = csv.writer(sys.stdout)
        w.writerow(result.columns)
        w.writerows(result.rows)
    else:
        table = Table(*result.columns)
        for row in result.rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


@app.command()
def check(db: DbOpt = None) -> None:
    """Run the data checks; exits non-zero if any returns offending rows."""
    from minsheng.settings import load_settings
    from warehouse.store import connect, run_checks

    con = connect(load_settings(db=db).db, read_only=True)
    try:
        results = run_checks(con)
    finally:
        con.close()
    for name, n in results.items():
        console.print(f"{'ok  ' if n == 0 else 'FAIL'} {name} ({n})")
    if any(results.values()):
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> None:
    _prepare_env()
    app(args=argv)


if __name__ == "__main__":
    main()
