"""Prefect flows: ingestion per channel, the text stage, matching, checks and the report.

Flows take plain parameters (they can be scheduled and triggered through the API) and build
one :class:`~flows.context.RunContext` — the settings and the warehouse resource — that every
task is handed. Tasks are thin: each calls the core in a few lines, and each warehouse write
is one block over the resource, so that only one writer holds the DuckDB file at a time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from rich.progress import Progress

from flows.context import RunContext
from minsheng.channels import UnreadableInput, read_file
from minsheng.channels import get as get_channel
from warehouse.loader import LoadCounts, load_batch
from warehouse.loaders import load_reference, load_supply, match_week
from warehouse.query import run_checks

if TYPE_CHECKING:  # Beam is imported only by the tasks that run it
    from models.registry import ModelEntry
    from pipelines.batch import BeamRun
    from pipelines.transforms import ModelSpec
    from warehouse.staging import Part


class ModelMissing(RuntimeError):
    """No text model is in use: the text stage has nothing to classify with."""


@task(cache_policy=NO_CACHE)
def migrate_task(ctx: RunContext) -> list[str]:
    s = ctx.settings
    applied = ctx.warehouse.migrate()  # moves contacts left in an old warehouse to their own file
    with ctx.warehouse.connect() as con:
        load_reference(con, s.district, s.taxonomy)
    return applied


def _retry_on_io(task, task_run, state) -> bool:  # type: ignore[no-untyped-def]
    """Retry a file only for a passing I/O error, never for an input that cannot be read."""
    try:
        state.result()
    except UnreadableInput:
        return False
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1, retry_condition_fn=_retry_on_io)
def ingest_file_task(ctx: RunContext, channel: str, path: str) -> dict[str, int]:
    s = ctx.settings
    batch = read_file(channel, Path(path), s.mapping(channel), s.district, limits=s.ingest.limits())
    with ctx.warehouse.connect() as con:
        return load_batch(con, batch, ctx.warehouse.contacts).as_dict()


@flow(name="minsheng-ingest")
def ingest_flow(channel: str, paths: list[str], db: str | None = None) -> dict[str, Any]:
    """Ingest files of one channel: validate, mask, de-duplicate, quarantine, load.

    A file that cannot be read at all is reported under ``unreadable`` (file and reason) and
    the other files go on; every count is per row.
    """
    get_channel(channel)
    ctx = RunContext.load(db)
    log = get_run_logger()
    migrate_task(ctx)
    total = LoadCounts()
    rows, unreadable = [], []
    sizes = {p: Path(p).stat().st_size if Path(p).exists() else 0 for p in paths}
    # a progress bar only where there is something to wait for
    with Progress(*Progress.get_default_columns(), transient=True,
                  disable=sum(sizes.values()) < 20_000_000) as progress:
        bar = progress.add_task(f"ingest {channel}", total=sum(sizes.values()))
        for path in paths:
            progress.update(bar, description=f"ingest {Path(path).name}")
            try:
                counts = ingest_file_task(ctx, channel, path)
            except UnreadableInput as exc:
                log.error("cannot read %s: %s", Path(path).name, exc)
                unreadable.append({"file": Path(path).name, "error": str(exc)})
                continue
            finally:
                progress.advance(bar, sizes[path])
            total.add(LoadCounts(**counts))
            rows.append({"file": Path(path).name, **counts})
    rows.append({"file": "total", **total.as_dict()})
    ctx.warehouse.publish_snapshot()  # planners' queries see the new rows while others write
    create_table_artifact(key=f"ingest-{channel}", table=rows,
                          description=f"minsheng ingestion counts for channel {channel}")
    log.info("%s: %s", channel, total.as_dict())
    return {**total.as_dict(), "unreadable": unreadable}


def model_in_use(ctx: RunContext) -> ModelEntry:
    """The registered model the text stage classifies with; :class:`ModelMissing` if none."""
    from models.registry import current

    entry = current(ctx.settings.model_dir)
    if entry is None:
        raise ModelMissing(
            f"no text model in use under {ctx.settings.model_dir}: train one on the district's "
            "labelled records (`minsheng model train --data FILE`), or run the demo (`minsheng demo`)")
    return entry


def _model_spec(ctx: RunContext) -> ModelSpec:
    from pipelines.transforms import ModelSpec

    s = ctx.settings
    model = model_in_use(ctx)
    embedder = model.card["embedder"]  # the embedder a model was trained with serves it
    return ModelSpec(
        model_dir=str(model.path), userdict=str(s.userdict), stopwords=str(s.stopwords),
        embedder_kind=embedder["kind"], embedder_path=embedder["path"],
        other_label=s.taxonomy.other_code,
    )


def _beam_run(ctx: RunContext, argv: list[str] | None) -> BeamRun:
    from pipelines.batch import BeamRun

    p = ctx.settings.pipeline
    return BeamRun(tuple(argv or ()), p.runner, p.batch_size)


@task(cache_policy=NO_CACHE)
def load_part_task(ctx: RunContext, part: Part) -> dict[str, int]:
    """The loader: merge one staged part into the warehouse, exactly once; then queue the
    low-confidence items for review and publish the planners' snapshot."""
    from models.registry import current
    from warehouse.embeddings import ensure_embedding_dim
    from warehouse.review import refresh_review_queue
    from warehouse.staging import load_part

    wh = ctx.warehouse
    model = current(ctx.settings.model_dir)
    if model is not None:
        with wh.connect() as con:
            ensure_embedding_dim(con, model.card["embedder"]["dim"])
    counts = load_part(wh, part)
    with wh.connect() as con:
        counts["queued_for_review"] = refresh_review_queue(con, ctx.settings.classifier.review_threshold)
    wh.publish_snapshot()
    return counts


@task(cache_policy=NO_CACHE)
def process_task(ctx: RunContext, argv: list[str] | None = None) -> dict[str, int]:
    """Run the Beam text stage over unprocessed feedback, then the loader over its output."""
    from pipelines.batch import stage_part

    part = stage_part(ctx.warehouse, ctx.settings.staging_dir / "batch", _model_spec(ctx),
                      mode="batch", run=_beam_run(ctx, argv))
    if part is None:
        return {"feedback": 0, "items": 0, "dead_letters": 0}
    return load_part_task(ctx, part)


@task(cache_policy=NO_CACHE)
def match_task(ctx: RunContext, supply: str | None = None, week: str | None = None) -> dict[str, int]:
    """Load the registry (default: the ``matching.registry`` setting), match every week (or
    one), then publish the snapshot that planners' queries read while a flow writes."""
    from minsheng.matching import load_match_config
    from minsheng.supply import load_registry

    s = ctx.settings
    registry = load_registry(Path(supply) if supply else s.matching.registry, s.taxonomy, s.district)
    config = load_match_config(s.config_dir / s.matching.config, s.district.community_codes)
    totals = {"items": 0, "matched": 0, "unmet": 0, "communities_over_fairness_margin": 0}
    with ctx.warehouse.connect() as con:
        weeks = [r[0] for r in con.execute("select distinct week from demand_items order by 1").fetchall()]
        load_supply(con, registry, s.district, weeks)
        for w in [week] if week else weeks:
            result = match_week(con, w, config, other_label=s.taxonomy.other_code)
            totals["items"] += len(result.matches)
            totals["matched"] += result.objective.matched
            totals["unmet"] += result.objective.unmet
            totals["communities_over_fairness_margin"] += sum(f.exceeds for f in result.fairness)
    ctx.warehouse.publish_snapshot()
    return totals


@task(cache_policy=NO_CACHE)
def checks_task(ctx: RunContext) -> dict[str, int]:
    with ctx.warehouse.connect(read_only=True) as con:
        return run_checks(con, ctx.warehouse.contacts)


@task(cache_policy=NO_CACHE)
def report_task(ctx: RunContext, week: str | None = None) -> str:
    from warehouse.report import ReportContext, latest_week, write_report

    s = ctx.settings
    week = week or latest_week(ctx.warehouse)
    return str(write_report(ctx.warehouse, ReportContext(week, s.district, s.taxonomy), s.report_dir))


@flow(name="minsheng-process")
def process_flow(db: str | None = None, argv: list[str] | None = None) -> dict[str, int]:
    """Batch processing of everything ingested and not yet processed, then the loader."""
    ctx = RunContext.load(db)
    migrate_task(ctx)
    model_in_use(ctx)
    return process_task(ctx, argv)


@flow(name="minsheng-stream")
def stream_flow(
    db: str | None = None,
    inbox: str | None = None,
    argv: list[str] | None = None,
    poll_seconds: float | None = None,
    max_idle: float | None = None,
) -> dict[str, int]:
    """Streaming mode over an inbox folder, until stopped (or, with ``max_idle``, until nothing
    has landed for that many seconds): continuous micro-batches locally; with a cluster
    runner in ``argv``, the unbounded pipeline runs there while this flow ingests the inbox
    and loads the runner's panes. The loader task merges each part exactly once, with the
    inbox positions it consumed."""
    from minsheng.channels import ChannelBatch
    from pipelines.batch import LOCAL_RUNNERS, named_runner
    from pipelines.inbox import Inbox
    from pipelines.streaming import MicroBatches, StagedPanes, run_stream, start_unbounded

    ctx = RunContext.load(db)
    migrate_task(ctx)
    s, wh = ctx.settings, ctx.warehouse
    log = get_run_logger()
    folder = Path(inbox) if inbox else s.streaming.inbox
    poll = poll_seconds or s.streaming.poll_seconds
    spec = _model_spec(ctx)

    def read(channel: str, path: Path) -> ChannelBatch:
        return read_file(channel, path, s.mapping(channel), s.district, limits=s.ingest.limits())

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
                          poll_seconds=poll)
    log.info("%s job submitted; loading its panes from %s", runner, staged)
    try:
        return run_stream(StagedPanes(wh, Inbox(folder, s.streaming.settle_seconds), staged, read),
                          load, poll_seconds=poll, max_idle=max_idle)
    finally:
        job.cancel()
