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

from flows.cli_issues import issues_app
from flows.cli_model import model_app
from flows.cli_web import web_app
from flows.errors import OneLineErrors

app = typer.Typer(help="minsheng 民生: needs sensing and demand matching for a sub-district.",
                  no_args_is_help=True, add_completion=False, cls=OneLineErrors,
                  pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True, soft_wrap=True)  # an error is one line, however long
app.add_typer(model_app, name="model")
app.add_typer(issues_app, name="issues")
app.add_typer(web_app, name="web")


@app.callback()
def _options(
    config_dir: Annotated[Optional[Path], typer.Option("--config-dir", help="the district's config folder (default: MINSHENG_CONFIG_DIR, else ./configs, else the packaged demo district)")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="show the traceback of an error")] = False,
) -> None:
    """minsheng 民生: needs sensing and demand matching for a sub-district."""
    if config_dir is not None:
        os.environ["MINSHENG_CONFIG_DIR"] = str(config_dir)
    if debug:
        os.environ["MINSHENG_DEBUG"] = "1"

DbOpt = Annotated[Optional[Path], typer.Option("--db", help="warehouse file (default: MINSHENG_DB or data/minsheng.duckdb)")]


def _prepare_env() -> None:
    """Run-time environment: offline model loading, and a Prefect home of our own so that
    parallel processes never share ~/.prefect."""
    import logging

    import jieba  # sets its logger to DEBUG on import: quieten it after

    jieba.setLogLevel(logging.WARNING)  # it announces every dictionary load
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


def _run(flow, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Run a flow; its result, and its state's message when the run did not complete (the
    result is then what the run still reports, such as its counts, or None). A run that
    raised re-raises here, for the one-line error of ``flows.errors``."""
    state = flow(*args, return_state=True, **kwargs)
    result = state.result(raise_on_failure=False)
    if state.is_completed():
        return result, None
    if isinstance(result, BaseException):
        raise result
    return result, state.message or f"the run ended {state.type.value}"


@app.command()
def demo(
    out: Annotated[Optional[Path], typer.Option(help="where to write the generated inputs")] = None,
    weeks: Annotated[Optional[int], typer.Option(help="weeks to generate")] = None,
    seed: Annotated[Optional[int], typer.Option(help="generator seed")] = None,
    db: DbOpt = None,
) -> None:
    """Generate the demo district and run the whole pipeline as one Prefect flow."""
    from flows.demo import demo_flow

    with console.status("running the demo flow (generate → ingest → process → match → report)"):
        s, failed = _run(demo_flow, str(out) if out else None, weeks, seed, _db_arg(db))
    if failed:
        err.print(f"the demo failed: {failed}")
        raise typer.Exit(1)
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
    profile: Annotated[str, typer.Option(help="demo (the Nanping-like sub-district) | board (a city's message board: .xlsx exports, no community column, seven departments, its config folder)")] = "demo",
    records: Annotated[int, typer.Option(help="--profile board: messages in the exports (as many again are labelled for training)")] = 600,
) -> None:
    """Write a demo district: four channels plus the supply registry (or, with ``--profile
    board``, a city's message board with its own config folder under OUT/configs)."""
    from minsheng.settings import load_settings

    if profile == "board":
        import yaml

        from minsheng.demo.board import generate_board
        from minsheng.settings import packaged_config_dir

        packaged = yaml.safe_load((packaged_config_dir() / "channels.yaml").read_text(encoding="utf-8"))
        b = generate_board(out, records, seed if seed != 20261125 else 20190603, packaged_channels=packaged)
        console.print_json(json.dumps({"out": str(out), "counts": b.counts,
                                       "configs": str(out / "configs")}, ensure_ascii=False))
        return
    if profile != "demo":
        err.print(f"unknown profile {profile!r}: demo or board")
        raise typer.Exit(2)
    from minsheng.demo.generate import generate_district

    s = load_settings()
    m = generate_district(out, weeks, seed, start_week=start_week, district=s.district, taxonomy=s.taxonomy)
    console.print_json(json.dumps({"out": str(out), "weeks": m.weeks, "counts": m.counts}, ensure_ascii=False))


@app.command()
def ingest(
    channel: Annotated[str, typer.Argument(help="survey | hotline | platform | meeting | wechat")],
    paths: Annotated[list[Path], typer.Argument(help="export files (or folders laid out as `generate` writes)")],
    db: DbOpt = None,
) -> None:
    """Ingest export files of one channel into the warehouse."""
    from flows.pipeline import ingest_flow
    from minsheng.channels import CHANNELS, discover

    if channel not in CHANNELS:
        err.print(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
        raise typer.Exit(2)
    files = [str(f) for p in paths for f in (discover(p, channel) if p.is_dir() else [p])]
    result, failed = _run(ingest_flow, channel, files, _db_arg(db))
    if result:
        console.print(" · ".join(f"{k} {v}" for k, v in result.items() if k not in ("unreadable", "files")))
    if failed:
        for problem in failed.split(" · "):
            err.print(problem, soft_wrap=True)
        raise typer.Exit(1)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def process(
    ctx: typer.Context,
    db: DbOpt = None,
    streaming: Annotated[bool, typer.Option("--streaming", help="keep processing what lands in the inbox until stopped")] = False,
    inbox: Annotated[Optional[Path], typer.Option(help="inbox folder for --streaming (default: the streaming.inbox setting)")] = None,
    runner: Annotated[Optional[str], typer.Option(help="Beam runner (default: pinned in-process runner)")] = None,
    workers: Annotated[Optional[int], typer.Option(help="local worker processes")] = None,
    poll: Annotated[Optional[float], typer.Option(help="seconds between inbox polls (--streaming)")] = None,
    max_idle: Annotated[Optional[float], typer.Option(help="stop once nothing has landed for this many seconds (--streaming)")] = None,
) -> None:
    """Run the Beam text stage over everything ingested and not yet processed, or with
    --streaming over what keeps landing in the inbox. Other options (--flink_master=…,
    --project=…) are passed to Beam."""
    argv = [f"--runner={runner}"] if runner else []
    if workers:
        argv += [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"]
    argv += ctx.args
    from pipelines.batch import named_runner
    from pipelines.dask import is_dask

    if streaming and is_dask(named_runner(argv)):
        err.print("--streaming cannot run on DaskRunner (bounded batches only): run `minsheng process --runner DaskRunner` per batch, or stream locally or on Flink/Dataflow")
        raise typer.Exit(2)
    from flows.context import RunContext
    from flows.tasks import ModelMissing, model_in_use

    try:
        model_in_use(RunContext.load(db))
    except ModelMissing as exc:
        err.print(str(exc), soft_wrap=True)
        raise typer.Exit(2) from None
    if not streaming:
        from flows.pipeline import process_flow

        result, failed = _run(process_flow, _db_arg(db), argv)
        if failed:
            err.print(failed, soft_wrap=True)
            raise typer.Exit(1)
        console.print(result)
        return
    import signal

    from flows.pipeline import stream_flow

    # stopped by SIGTERM as by Ctrl-C; a part is merged with its inbox positions or not at all
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        console.print(stream_flow(_db_arg(db), str(inbox) if inbox else None, argv, poll, max_idle))
    except KeyboardInterrupt:
        err.print("stopped: what was merged stays merged, the rest is read again on the next start")
    finally:
        signal.signal(signal.SIGTERM, previous)


@app.command()
def match(
    supply: Annotated[Optional[Path], typer.Option(help="supply registry, YAML or CSV (default: the matching.registry setting)")] = None,
    week: Annotated[Optional[str], typer.Option(help="ISO week, e.g. 2026-W47 (default: every week; with --what-if, the latest)")] = None,
    what_if: Annotated[Optional[list[str]], typer.Option("--what-if", help="SERVICE:+N, SERVICE:-N, SERVICE:=N or SERVICE@COMMUNITY:+N; repeatable; writes nothing")] = None,
    fmt: Annotated[str, typer.Option("--format", help="what-if output: table | csv | json | markdown")] = "table",
    db: DbOpt = None,
) -> None:
    """Match demand items against capacity (writes the warehouse), or answer a what-if (reads only)."""
    from flows.context import RunContext

    if not what_if:
        from flows.pipeline import match_flow

        result, failed = _run(match_flow, _db_arg(db), str(supply) if supply else None, week)
        if failed:
            err.print(failed, soft_wrap=True)
            raise typer.Exit(1)
        console.print(result)
        return
    ctx = RunContext.load(db)
    from minsheng.matching import CapacityChange, load_match_config
    from warehouse.loaders import what_if_week
    from warehouse.query import QueryResult

    s = ctx.settings
    try:
        changes = [CapacityChange.parse(spec) for spec in what_if]
        config = load_match_config(s.matching_config, s.district.community_codes)
        with ctx.warehouse.reader() as (con, _):
            week = week or con.execute("select max(week) from demand_items").fetchone()[0]
            result = what_if_week(con, week, changes, config, other_label=s.taxonomy.other_code)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        err.print(str(exc).strip('"'))
        raise typer.Exit(2) from None
    b, a = result.before, result.after
    err.print(f"{week}, {' '.join(what_if)}: matched {b.matched} → {a.matched} ({a.matched - b.matched:+d}), "
              f"unmet {b.unmet} → {a.unmet} ({a.unmet - b.unmet:+d}), objective {b.total} → {a.total}")
    _print_result(QueryResult(
        ["community", "category", "matched_before", "matched_after", "matched_change",
         "unmet_before", "unmet_after", "unmet_change"],
        [(c.community, c.category, c.matched_before, c.matched_after, c.matched_after - c.matched_before,
          c.unmet_before, c.unmet_after, c.unmet_after - c.unmet_before) for c in result.cells],
    ), fmt)


@app.command()
def report(
    week: Annotated[Optional[str], typer.Option(help="ISO week, e.g. 2026-W47 (default: the latest complete week)")] = None,
    db: DbOpt = None,
) -> None:
    """Write the weekly matching report: HTML, Word, PDF and the gap tables as Excel."""
    from flows.context import RunContext
    from flows.pipeline import report_flow
    from warehouse.report import check_week

    check_week(RunContext.load(db).warehouse, week)  # a week without data: one line, before the run
    result, failed = _run(report_flow, _db_arg(db), week)
    if failed:
        err.print(failed, soft_wrap=True)
        raise typer.Exit(1)
    for kind, path in result["files"].items():
        console.print(f"{kind + ':':5} {Path(path).resolve()}", highlight=False, soft_wrap=True)
    for note in result["notes"]:
        err.print(note, highlight=False, soft_wrap=True)


def _params(param: list[str] | None) -> dict[str, str]:
    """``--param NAME=VALUE`` pairs; a one-line error for one without a value."""
    params = {}
    for p in param or []:
        name, eq, value = p.partition("=")
        if not eq or not name.strip():
            err.print(f"--param {p!r} has no value: write --param NAME=VALUE (e.g. -p week=2026-W47)")
            raise typer.Exit(2)
        params[name.strip()] = value
    return params


@app.command()
def query(
    name_or_sql: Annotated[Optional[str], typer.Argument(help="a named query (see --list) or SQL")] = None,
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="NAME=VALUE")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | csv | json | markdown")] = "table",
    list_: Annotated[bool, typer.Option("--list", help="list the named queries")] = False,
    db: DbOpt = None,
) -> None:
    """Query the planners' snapshot of the warehouse: one SELECT, read-only, sandboxed."""
    from flows.context import RunContext
    from warehouse.planner import QueryError
    from warehouse.query import resolve_query, run_query
    from warehouse.readers import SnapshotRefused, WarehouseBusy
    from warehouse.sql import read_sql, sql_files

    if list_ or not name_or_sql:
        for p in sql_files("queries"):
            first = read_sql("queries", p.stem).splitlines()[0].lstrip("- ")
            console.print(f"[bold]{p.stem}[/bold]  {first}")
        return
    if fmt not in ("table", "csv", "json", "markdown"):
        err.print(f"unknown format {fmt!r}: table, csv, json or markdown")
        raise typer.Exit(2)
    params = _params(param)
    try:
        result = run_query(RunContext.load(db).warehouse, resolve_query(name_or_sql), params)
    except (QueryError, KeyError, FileNotFoundError, WarehouseBusy, SnapshotRefused) as exc:
        err.print(exc.args[0] if isinstance(exc, KeyError) else str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None
    if result.source and not result.source.current:
        err.print(f"the warehouse is being written: answered from the snapshot published at "
                  f"{result.source.published_at:%Y-%m-%d %H:%M:%S}")
    _print_result(result, fmt)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(v: object) -> object:
    """A text cell that a spreadsheet would run as a formula (``=HYPERLINK(…)``, ``+``, ``-``,
    ``@``) gets a leading apostrophe, as OWASP advises; numbers stay numbers."""
    if isinstance(v, str) and v.startswith(_FORMULA):
        return "'" + v
    return v


def _print_result(result, fmt: str) -> None:  # type: ignore[no-untyped-def]
    if fmt == "json":
        console.print_json(json.dumps(result.to_records(), ensure_ascii=False, default=str))
    elif fmt == "csv":
        import csv
        import sys

        w = csv.writer(sys.stdout)
        w.writerow([csv_cell(c) for c in result.columns])
        w.writerows([csv_cell(v) for v in row] for row in result.rows)
    elif fmt == "markdown":
        def cell(v: object) -> str:
            return "" if v is None else str(v).replace("|", "\\|").replace("\n", " ")

        lines = ["| " + " | ".join(result.columns) + " |", "|" + "---|" * len(result.columns)]
        lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in result.rows]
        print("\n".join(lines))
    elif fmt != "table":
        err.print(f"unknown format {fmt!r}: table, csv, json or markdown")
        raise typer.Exit(2)
    else:
        from rich.table import Column

        # ids fold onto further lines rather than being cut: they must copy whole
        table = Table(*(Column(c, overflow="fold") for c in result.columns))
        for row in result.rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


def _placement_lines(db: Optional[Path]) -> list[str]:
    """Data quality, not a failure: per channel, how many processed records could not be
    placed in a community (``warehouse/queries/unplaced_share.sql``)."""
    from flows.context import RunContext
    from warehouse.query import execute
    from warehouse.sql import read_sql

    try:
        with RunContext.load(_db_arg(db)).warehouse.connect(read_only=True) as con:
            rows = execute(con, read_sql("queries", "unplaced_share"), {"week": None}).to_records()
    except Exception:  # no warehouse yet, or one before the text stage: nothing to say
        return []
    return [f"info {r['channel']}: {r['unplaced']} of {r['records']} records unplaced "
            f"({r['unplaced_share']:.1%}; {r['from_export']} placed by the export, "
            f"{r['from_text']} from the text)" for r in rows]


@app.command()
def check(db: DbOpt = None) -> None:
    """Run the data checks; exits non-zero if any returns offending rows."""
    from flows.pipeline import check_flow

    results, failed = _run(check_flow, _db_arg(db))
    for name, n in (results or {}).items():
        console.print(f"{'ok  ' if n == 0 else 'FAIL'} {name} ({n})")
    for line in _placement_lines(db):
        console.print(line)
    if failed:
        raise typer.Exit(1)


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="the district's config folder to create")],
    force: Annotated[bool, typer.Option(help="overwrite files that exist")] = False,
) -> None:
    """Write a commented starter config folder for a district: district, communities and
    their aliases and places, taxonomy, channel mappings, supply registry, matching costs."""
    from minsheng.starter import write_starter

    for path in write_starter(folder, force=force):
        console.print(f"wrote {path}")
    console.print(f"next: edit them, then `minsheng --config-dir {folder} validate`")


@app.command()
def validate(
    supply: Annotated[Optional[Path], typer.Option(help="supply registry (default: the matching.registry setting, else supply.yaml in the folder)")] = None,
) -> None:
    """Check the config folder as a whole (and the model in use against its taxonomy); every
    problem with its file and line. Exits 2 if any is an error."""
    from minsheng.settings import load_settings, packaged_config_dir
    from minsheng.validate import validate_folder
    from models.registry import current

    s = load_settings()
    entry = current(s.model_dir)
    problems = validate_folder(s.config_dir, packaged_config_dir(), registry=supply or s.matching.registry,
                               model_labels=entry.card.labels if entry else None,
                               model_ref=entry.ref if entry else "")
    console.print(f"config folder: {s.config_dir}")
    for p in problems:
        (err if p.error else console).print(str(p), soft_wrap=True)
    errors = sum(p.error for p in problems)
    console.print(f"{errors} error(s), {len(problems) - errors} note(s)")
    if errors:
        raise typer.Exit(2)


@app.command()
def serve(
    limit: Annotated[Optional[int], typer.Option(help="at most this many runs at once")] = None,
    start_server: Annotated[bool, typer.Option("--start-server", help="start a local Prefect server of our own first (what `make serve` does)")] = False,
    port: Annotated[int, typer.Option(help="port of the local server (--start-server)")] = 4200,
    db: DbOpt = None,
) -> None:
    """Register the scheduled deployments (ingest-dropbox, stream, nightly, weekly-report,
    retrain) with the Prefect API (PREFECT_API_URL: a team's server or Prefect Cloud) and run
    them until stopped; with --start-server, against a local server of its own."""
    from contextlib import nullcontext

    from flows.context import RunContext
    from flows.deployments import LocalServer
    from flows.deployments import serve as serve_deployments

    settings = RunContext.load(db).settings
    server = LocalServer(str(settings.data_dir.resolve() / ".prefect-server"), port) if start_server else nullcontext()
    with server:
        if start_server:
            console.print(f"Prefect UI: {server.ui}  (deployments: {server.ui}/deployments)")
        serve_deployments(settings, limit=limit)


@app.command()
def cluster(
    port: Annotated[int, typer.Option(help="the scheduler's port")] = 8786,
    workers: Annotated[int, typer.Option(help="worker processes")] = 2,
    threads: Annotated[int, typer.Option(help="threads per worker")] = 1,
    host: Annotated[str, typer.Option(help="the address to listen on (0.0.0.0: every interface)")] = "127.0.0.1",
) -> None:
    """A local Dask scheduler and workers to run `minsheng process --runner DaskRunner` on,
    in the foreground until Ctrl-C (what `make cluster` does)."""
    from flows.cluster import run_local_cluster

    raise typer.Exit(run_local_cluster(host, port, workers, threads, say=lambda s: print(s, flush=True)))


@app.command()
def retrain(db: DbOpt = None) -> None:
    """Train the model in use again on its data and the review queue's corrections."""
    from flows.pipeline import retrain_flow

    result, failed = _run(retrain_flow, _db_arg(db))
    if failed:
        err.print(failed, soft_wrap=True)
        raise typer.Exit(1)
    console.print(result)


@app.command()
def contacts(
    reason: Annotated[Optional[str], typer.Option(help="why you read them (logged with your user name)")] = None,
    record: Annotated[Optional[list[str]], typer.Option(help="a record id, e.g. hotline:GD20261103001; repeatable")] = None,
    week: Annotated[Optional[str], typer.Option(help="the call-back list of a week (with --service)")] = None,
    service: Annotated[Optional[str], typer.Option(help="the service whose matched residents to call back")] = None,
    audit: Annotated[bool, typer.Option("--audit", help="list the latest reads (who, when, which, why)")] = False,
    encrypt: Annotated[bool, typer.Option("--encrypt", help="encrypt the contacts file with the key (once)")] = False,
    db: DbOpt = None,
) -> None:
    """Read residents' contacts for a call-back; every read is logged (who, when, which, why)."""
    from flows.context import RunContext
    from warehouse.contacts import ContactsError, callback_records

    try:
        ctx = RunContext.load(db)
        store = ctx.warehouse.contacts
        if encrypt:
            store.encrypt()
            console.print(f"encrypted {store.path}")
            return
        if audit:
            from warehouse.query import QueryResult

            _print_result(QueryResult(*store.audit()), "table")
            return
        if bool(record) == bool(week or service) or bool(week) != bool(service):
            err.print("give --record ID (repeatable) or --week W --service S, and --reason TEXT")
            raise typer.Exit(2)
        if record:
            ids, selector, command, about = list(record), " ".join(record), "record", {}
        else:
            about = callback_records(ctx.warehouse, week, service)  # type: ignore[arg-type]
            ids, selector, command = list(about), f"week={week} service={service}", "week_service"
        rows = store.read(ids, reason=reason or "", command=command, selector=selector)
    except ContactsError as exc:
        err.print(str(exc), markup=False, highlight=False)
        raise typer.Exit(2) from None
    table = Table("record", "field", "value", *(["community", "category"] if about else []))
    for rid, field, value in rows:
        table.add_row(rid, field, value, *(about[rid] if about else ()))
    console.print(table)
    missing = sorted(set(ids) - {r[0] for r in rows})
    if missing:
        err.print(f"no contact kept for {len(missing)} of {len(ids)} records: {', '.join(missing[:5])}"
                  + (" …" if len(missing) > 5 else ""))


def main(argv: list[str] | None = None) -> None:
    from flows.lifetime import children_die_with_this_process

    children_die_with_this_process()  # Prefect's temporary server, Beam's workers
    _prepare_env()
    app(args=argv)


if __name__ == "__main__":
    main()
