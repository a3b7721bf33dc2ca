"""Prefect flows: one per stage — ingest, dropbox, process, stream, match, check, report,
weekly report, nightly, retrain — each callable from the CLI and from a deployment.

Flows take plain parameters (they can be scheduled and triggered through the API) and build
one :class:`~flows.context.RunContext` that every task is handed. A run ends FAILED, with a
one-line state message naming the file or check and why, when a file cannot be read, when too
much of a file is quarantined, or when a data check returns rows (:func:`flows.outcome.finish`);
the counts are still its result. Failed and crashed runs are announced to the configured
webhook (:mod:`flows.notify`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from rich.progress import Progress

from flows.context import RunContext
from flows.notify import HOOKS
from flows.outcome import artifact_key, finish, publish_ingest_artifacts, publish_report_artifacts
from flows.tasks import (
    ModelMissing,
    _beam_run,
    _model_spec,
    checks_task,
    ingest_file_task,
    load_part_task,
    match_task,
    migrate_task,
    model_in_use,
    process_task,
    report_task,
)
from minsheng.channels import CHANNELS, discover, read_file
from minsheng.channels import get as get_channel
from minsheng.clock import SystemClock
from minsheng.domain import iso_week
from warehouse.loader import LoadCounts

__all__ = [
    "artifact_key", "check_flow", "dropbox_flow", "ingest_flow", "match_flow", "nightly_flow",
    "process_flow", "report_flow", "retrain_flow", "stream_flow", "weekly_report_flow",
]


def _quarantine_problem(name: str, counts: dict[str, Any], limit: float) -> str | None:
    read = counts["read"]
    if read and counts["quarantined"] / read > limit:
        top = ", ".join(f"{r} {n}" for r, n in sorted(counts["reasons"].items(), key=lambda kv: -kv[1])[:3])
        return (f"{name}: {counts['quarantined']} of {read} rows quarantined (over {limit:.0%}; {top}): "
                "fix the mapping or the export and ingest it again")
    return None


@flow(name="minsheng-ingest", **HOOKS)
def ingest_flow(channel: str, paths: list[str], db: str | None = None) -> Any:
    """Ingest files of one channel: validate, mask, de-duplicate, quarantine, load.

    Every count is per row. A file that cannot be read at all is listed under ``unreadable``
    (file and reason) and the other files go on; the run then ends FAILED, as it does when a
    file has more than ``ingest.fail_quarantine_share`` of its rows quarantined.
    """
    get_channel(channel)
    ctx = RunContext.load(db)
    log = get_run_logger()
    migrate_task(ctx)
    total = LoadCounts()
    rows: list[dict[str, Any]] = []
    unreadable: list[dict[str, str]] = []
    problems: list[str] = []
    sizes = {p: Path(p).stat().st_size if Path(p).exists() else 0 for p in paths}
    # a progress bar only where there is something to wait for
    with Progress(*Progress.get_default_columns(), transient=True,
                  disable=sum(sizes.values()) < 20_000_000) as progress:
        bar = progress.add_task(f"ingest {channel}", total=sum(sizes.values()))
        for path in paths:
            name = Path(path).name
            progress.update(bar, description=f"ingest {name}")
            try:
                counts = ingest_file_task(ctx, channel, path)
            finally:
                progress.advance(bar, sizes[path])
            if "unreadable" in counts:
                why = str(counts["unreadable"]).removeprefix(f"{name}: ")
                unreadable.append({"file": name, "error": why})
                problems.append(f"cannot read {name}: {why}")
                continue
            total.add(LoadCounts(**{k: v for k, v in counts.items() if k != "reasons"}))
            rows.append({"file": name, **counts})
            if problem := _quarantine_problem(name, counts, ctx.settings.ingest.fail_quarantine_share):
                problems.append(problem)
    ctx.warehouse.publish_snapshot()  # planners' queries see the new rows while others write
    publish_ingest_artifacts(ctx, channel, rows, unreadable, total.as_dict())
    log.info("%s: %s", channel, total.as_dict())
    return finish({**total.as_dict(), "files": rows, "unreadable": unreadable}, problems)


@flow(name="minsheng-dropbox", **HOOKS)
def dropbox_flow(db: str | None = None, folder: str | None = None) -> Any:
    """Ingest whatever has landed in the drop folder (laid out as ``minsheng generate``
    writes: ``hotline/``, ``platform/``, ...), then move each file the ingest accepted into
    ``accepted/<date>/``; a file it could not read, or quarantined too much of, stays where it
    is, named in the run's state message, for someone to fix. Idempotent: a file ingested
    twice adds nothing."""
    ctx = RunContext.load(db)
    root = Path(folder) if folder else ctx.settings.ingest.dropbox
    day = f"{SystemClock().now():%Y-%m-%d}"
    summary: dict[str, Any] = {}
    problems: list[str] = []
    for channel in CHANNELS:
        files = discover(root, channel)
        if not files:
            continue
        state = ingest_flow(channel, [str(f) for f in files], db, return_state=True)
        result = state.result(raise_on_failure=False)
        if not isinstance(result, dict):  # the subflow crashed: nothing is moved
            problems.append(f"{channel}: {state.message}")
            continue
        refused = {u["file"] for u in result["unreadable"]}
        if state.is_failed():
            problems.append(state.message or f"{channel} failed")
            limit = ctx.settings.ingest.fail_quarantine_share
            refused |= {r["file"] for r in result["files"] if _quarantine_problem(r["file"], r, limit)}
        moved = 0
        for f in files:
            if f.name in refused:
                continue
            target = root / "accepted" / day / f.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            f.replace(target)
            moved += 1
        summary[channel] = {"files": len(files), "accepted": moved, "loaded": result["loaded"],
                            "quarantined": result["quarantined"]}
    return finish(summary, problems)


@flow(name="minsheng-process", **HOOKS)
def process_flow(db: str | None = None, argv: list[str] | None = None) -> Any:
    """Batch processing of everything ingested and not yet processed, then the loader."""
    ctx = RunContext.load(db)
    migrate_task(ctx)
    try:
        model_in_use(ctx)
    except ModelMissing as exc:
        return finish({}, [str(exc)])
    return process_task(ctx, argv)


@flow(name="minsheng-stream", **HOOKS)
def stream_flow(
    db: str | None = None,
    inbox: str | None = None,
    argv: list[str] | None = None,
    poll_seconds: float | None = None,
    max_idle: float | None = None,
) -> Any:
    """Streaming mode over an inbox folder, until stopped (or, with ``max_idle``, until nothing
    has landed for that many seconds): continuous micro-batches locally; with a cluster
    runner in ``argv``, the unbounded pipeline runs there while this flow ingests the inbox
    and loads the runner's panes. The loader task merges each part exactly once, with the
    inbox positions it consumed."""
    from minsheng.channels import ChannelBatch
    from pipelines.batch import LOCAL_RUNNERS, named_runner
    from pipelines.inbox import Inbox
    from pipelines.streaming import MicroBatches, StagedPanes, run_stream, start_unbounded
    from warehouse.staging import Part

    ctx = RunContext.load(db)
    migrate_task(ctx)
    s, wh = ctx.settings, ctx.warehouse
    log = get_run_logger()
    folder = Path(inbox) if inbox else s.streaming.inbox
    poll = poll_seconds or s.streaming.poll_seconds
    try:
        spec = _model_spec(ctx)
    except ModelMissing as exc:
        return finish({}, [str(exc)])

    key = s.pseudonym_key()

    def read(channel: str, path: Path) -> ChannelBatch:
        return read_file(channel, path, s.mapping(channel), s.district, limits=s.ingest.limits(),
                         pseudonym_key=key)

    def load(part: Part) -> dict[str, int]:
        return load_part_task(ctx, part)

    runner = named_runner(argv)
    if runner is None or runner in LOCAL_RUNNERS:
        batches = MicroBatches(wh, Inbox(folder, s.streaming.settle_seconds), s.staging_dir / "stream",
                               spec, read, _beam_run(ctx, argv))
        return run_stream(batches, load, poll_seconds=poll, max_idle=max_idle)
    # a cluster runs the unbounded pipeline; this process ingests and loads its panes
    staged = s.staging_dir / "unbounded"
    job = start_unbounded(_beam_run(ctx, argv), str(folder), str(staged), spec, s.channels, s.district,
                          poll_seconds=poll, pseudonym_key=key)
    log.info("%s job submitted; loading its panes from %s", runner, staged)
    try:
        return run_stream(StagedPanes(wh, Inbox(folder, s.streaming.settle_seconds), staged, read),
                          load, poll_seconds=poll, max_idle=max_idle)
    finally:
        job.cancel()


@flow(name="minsheng-match", **HOOKS)
def match_flow(db: str | None = None, supply: str | None = None, week: str | None = None) -> Any:
    """Load the supply registry and match every week (or one) against its capacity."""
    ctx = RunContext.load(db)
    migrate_task(ctx)
    return match_task(ctx, supply, week)


@flow(name="minsheng-check", **HOOKS)
def check_flow(db: str | None = None) -> Any:
    """Run the data checks; the run fails, naming them, if any returns offending rows."""
    results = checks_task(RunContext.load(db))
    failed = {k: v for k, v in results.items() if v}
    return finish(results, [f"data checks failed: {', '.join(f'{k} ({v} rows)' for k, v in failed.items())}: "
                            "see `minsheng check` and warehouse/checks/"] if failed else [])


@flow(name="minsheng-report", **HOOKS)
def report_flow(db: str | None = None, week: str | None = None) -> Any:
    """Write the weekly report for ``week`` (default: the latest complete week), and publish
    its headline figures and a link to its files as artifacts."""
    ctx = RunContext.load(db)
    files, headline = report_task(ctx, week)
    publish_report_artifacts(ctx, headline, str(files.html))
    return {"report": str(files.html), "files": {k: str(v) for k, v in files.paths().items()},
            "notes": list(files.notes), **headline}


def last_complete_week(now: Any = None) -> str:
    """The ISO week that ended most recently before ``now`` (the district's wall time)."""
    now = now or SystemClock().now()
    return iso_week(now - timedelta(days=now.isoweekday()))


@flow(name="minsheng-weekly-report", **HOOKS)
def weekly_report_flow(db: str | None = None, week: str | None = None) -> Any:
    """The report for the ISO week that just ended (what the Monday-morning schedule runs)."""
    return report_flow(db, week or last_complete_week())


@flow(name="minsheng-nightly", **HOOKS)
def nightly_flow(db: str | None = None, supply: str | None = None) -> Any:
    """What runs every night: the text stage over what was ingested, matching, data checks.
    A stage that fails stops the ones after it; the run fails with its message."""
    out: dict[str, Any] = {}
    for name, stage, args in (("process", process_flow, (db,)), ("match", match_flow, (db, supply)),
                              ("check", check_flow, (db,))):
        state = stage(*args, return_state=True)
        out[name] = state.result(raise_on_failure=False)
        if not state.is_completed():
            return finish(out, [f"{name}: {state.message}"])
    return out


@flow(name="minsheng-retrain", **HOOKS)
def retrain_flow(db: str | None = None) -> Any:
    """Train the model in use again, on the data it was trained on plus the review queue's
    corrections, as a new version of the same name, and put it in use."""
    from flows.tasks import retrain_task

    ctx = RunContext.load(db)
    try:
        return retrain_task(ctx)
    except (ModelMissing, FileNotFoundError, ValueError) as exc:
        return finish({}, [str(exc)])
