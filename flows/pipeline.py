"""Prefect flows: ingestion per channel, the text stage, matching, and the demo run.

Tasks are thin: each calls the pure core in a few lines and opens its own warehouse
connection, so that only one writer holds the DuckDB file at any time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from rich.progress import Progress

from minsheng.ingest import CHANNELS, UnreadableInput, discover
from minsheng.settings import Settings, load_settings
from warehouse import store
from warehouse.loaders import load_reference, load_supply, match_week
from warehouse.readers import publish_snapshot

if TYPE_CHECKING:  # Beam is imported only by the tasks that run it
    from pipelines.batch import BeamRun
    from pipelines.transforms import ModelSpec
    from warehouse.staging import Part


@dataclass
class DemoSummary:
    db: Path
    report: Path
    records_ingested: int
    demand_items: int
    unmet: int
    matched: int
    quarantined: int


def _settings(db: str | None) -> Settings:
    return load_settings(db=Path(db) if db else None)


@task(cache_policy=NO_CACHE)
def migrate_task(db: str | None = None) -> list[str]:
    s = _settings(db)
    con = store.connect(s.db)
    try:
        applied = store.migrate(con)
        load_reference(con, s.district, s.taxonomy)
    finally:
        con.close()
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
def ingest_file_task(channel: str, path: str, db: str | None = None) -> dict[str, int]:
    s = _settings(db)
    batch = store.read_batch(channel, Path(path), getattr(s.channels, channel), s.district,
                             limits=s.ingest.limits())
    con = store.connect(s.db)
    try:
        counts = store.load_batch(con, batch)
    finally:
        con.close()
    return counts.as_dict()


@flow(name="minsheng-ingest")
def ingest_flow(channel: str, paths: list[str], db: str | None = None) -> dict[str, Any]:
    """Ingest files of one channel: validate, mask, de-duplicate, quarantine, load.

    A file that cannot be read at all is reported under ``unreadable`` (file and reason) and
    the other files go on; every count is per row.
    """
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; one of {', '.join(CHANNELS)}")
    log = get_run_logger()
    migrate_task(db)
    total = store.LoadCounts()
    rows, unreadable = [], []
    sizes = {p: Path(p).stat().st_size if Path(p).exists() else 0 for p in paths}
    # a progress bar only where there is something to wait for
    with Progress(*Progress.get_default_columns(), transient=True,
                  disable=sum(sizes.values()) < 20_000_000) as progress:
        bar = progress.add_task(f"ingest {channel}", total=sum(sizes.values()))
        for path in paths:
            progress.update(bar, description=f"ingest {Path(path).name}")
            try:
                counts = ingest_file_task(channel, path, db)
            except UnreadableInput as exc:
                log.error("cannot read %s: %s", Path(path).name, exc)
                unreadable.append({"file": Path(path).name, "error": str(exc)})
                continue
            finally:
                progress.advance(bar, sizes[path])
            total.add(store.LoadCounts(**counts))
            rows.append({"file": Path(path).name, **counts})
    rows.append({"file": "total", **total.as_dict()})
    publish_snapshot(_settings(db).db)  # planners' queries see the new rows while others write
    create_table_artifact(key=f"ingest-{channel}", table=rows,
                          description=f"minsheng ingestion counts for channel {channel}")
    log.info("%s: %s", channel, total.as_dict())
    return {**total.as_dict(), "unreadable": unreadable}


#: Registry name of the model that flows train on generated data when no model is in use.
GENERATED_MODEL = "generated"


@task(cache_policy=NO_CACHE)
def train_models_task(db: str | None = None, force: bool = False) -> dict:
    """Return the card of the model in use; when there is none, or when it is the flows' own
    ``generated`` model and the configured embedder changed, train ``generated`` on generated
    (masked) texts plus the review queue's corrections. A model that someone trained and chose
    (`minsheng model train`, `model use`) is never replaced here."""
    from minsheng.generate import labelled_corpus
    from minsheng.pii import mask_text
    from models.datasets import merge_corrections
    from models.registry import current
    from models.text import train_registered
    from warehouse.review import corrections

    s = _settings(db)
    entry = current(s.model_dir)
    if entry is not None and not force:
        card = entry.card
        trained_with = (card["embedder"]["kind"], card["embedder"]["path"])
        # a classifier only fits the embedder it was trained on: switching the embedder in
        # config retrains, so a pretrained model replaces the default by config alone
        if entry.name != GENERATED_MODEL or trained_with == (s.embedder.kind, s.embedder.path):
            return card
    # the pipeline classifies masked text, so the model learns from masked text too (and
    # never stores a phone number in its vocabulary)
    labelled = [(mask_text(t), y) for t, y in
                labelled_corpus(s.classifier.train_size, s.classifier.seed, s.taxonomy)]
    fixed: list[tuple[str, str]] = []
    if s.db.exists():
        con = store.connect(s.db, read_only=True)
        try:
            fixed = corrections(con)
        finally:
            con.close()
    _, card = train_registered(
        merge_corrections(labelled, fixed), s.model_dir, GENERATED_MODEL,
        userdict=str(s.userdict), stopwords=str(s.stopwords), dim=s.embedder.dim,
        unknown_threshold=s.classifier.unknown_threshold, random_state=s.classifier.seed,
        embedder_kind=s.embedder.kind, embedder_path=s.embedder.path,
        source={"generated": {"n": s.classifier.train_size, "seed": s.classifier.seed},
                "corrections": len(fixed)},
    )
    return card


def _model_spec(s: Settings) -> ModelSpec:
    from models.registry import current, current_model_dir
    from pipelines.transforms import ModelSpec

    model = current(s.model_dir)
    # the embedder a model was trained with is the one it must be served with
    embedder = model.card["embedder"] if model else {"kind": s.embedder.kind, "path": s.embedder.path}
    return ModelSpec(
        model_dir=str(current_model_dir(s.model_dir)), userdict=str(s.userdict),
        stopwords=str(s.stopwords),
        embedder_kind=embedder["kind"], embedder_path=embedder["path"],
        other_label=s.taxonomy.other_code,
    )


def _beam_run(s: Settings, argv: list[str] | None) -> BeamRun:
    from pipelines.batch import BeamRun

    return BeamRun(tuple(argv or ()), s.pipeline.runner, s.pipeline.batch_size)


@task(cache_policy=NO_CACHE)
def load_part_task(part: Part, db: str | None = None) -> dict[str, int]:
    """The loader: merge one staged part into the warehouse, exactly once; then queue the
    low-confidence items for review and publish the planners' snapshot."""
    from models.registry import current
    from pipelines.batch import load_part
    from warehouse.embeddings import ensure_embedding_dim
    from warehouse.review import refresh_review_queue

    s = _settings(db)
    model = current(s.model_dir)
    if model is not None:
        con = store.connect(s.db)
        try:
            ensure_embedding_dim(con, model.card["embedder"]["dim"])
        finally:
            con.close()
    counts = load_part(s.db, part)
    con = store.connect(s.db)
    try:
        counts["queued_for_review"] = refresh_review_queue(con, s.classifier.review_threshold)
    finally:
        con.close()
    publish_snapshot(s.db)
    return counts


@task(cache_policy=NO_CACHE)
def process_task(db: str | None = None, argv: list[str] | None = None) -> dict[str, int]:
    """Run the Beam text stage over unprocessed feedback, then the loader over its output."""
    from pipelines.batch import stage_part

    s = _settings(db)
    part = stage_part(s.db, s.staging_dir / "batch", _model_spec(s), mode="batch",
                      run=_beam_run(s, argv))
    if part is None:
        return {"feedback": 0, "items": 0, "dead_letters": 0}
    return load_part_task(part, db)


@task(cache_policy=NO_CACHE)
def match_task(supply: str | None = None, db: str | None = None, week: str | None = None) -> dict[str, int]:
    """Load the registry (default: the ``matching.registry`` setting), match every week (or
    one), then publish the snapshot that planners' queries read while a flow writes."""
    from minsheng.matching import load_match_config
    from minsheng.supply import load_registry

    s = _settings(db)
    registry = load_registry(Path(supply) if supply else s.matching.registry, s.taxonomy, s.district)
    config = load_match_config(s.config_dir / s.matching.config, s.district.community_codes)
    con = store.connect(s.db)
    try:
        weeks = [r[0] for r in con.execute("select distinct week from demand_items order by 1").fetchall()]
        load_supply(con, registry, s.district, weeks)
        totals = {"items": 0, "matched": 0, "unmet": 0, "communities_over_fairness_margin": 0}
        for w in [week] if week else weeks:
            result = match_week(con, w, config, other_label=s.taxonomy.other_code)
            totals["items"] += len(result.matches)
            totals["matched"] += result.objective.matched
            totals["unmet"] += result.objective.unmet
            totals["communities_over_fairness_margin"] += sum(f.exceeds for f in result.fairness)
    finally:
        con.close()
    publish_snapshot(s.db)
    return totals


@task(cache_policy=NO_CACHE)
def checks_task(db: str | None = None) -> dict[str, int]:
    s = _settings(db)
    con = store.connect(s.db)
    try:
        return store.run_checks(con)
    finally:
        con.close()


@task(cache_policy=NO_CACHE)
def report_task(db: str | None = None, week: str | None = None) -> str:
    from warehouse.report import ReportContext, latest_week, write_report

    s = _settings(db)
    week = week or latest_week(s.db)
    return str(write_report(s.db, ReportContext(week, s.district, s.taxonomy), s.report_dir))


@flow(name="minsheng-process")
def process_flow(db: str | None = None, argv: list[str] | None = None) -> dict[str, int]:
    """Batch processing of everything ingested and not yet processed, then the loader."""
    migrate_task(db)
    train_models_task(db)
    return process_task(db, argv)


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
    from pipelines.batch import LOCAL_RUNNERS, named_runner
    from pipelines.inbox import Inbox
    from pipelines.streaming import MicroBatches, StagedPanes, run_stream, start_unbounded

    migrate_task(db)
    train_models_task(db)
    s = _settings(db)
    log = get_run_logger()
    folder = Path(inbox) if inbox else s.streaming.inbox
    poll = poll_seconds or s.streaming.poll_seconds
    spec = _model_spec(s)

    def read(channel: str, path: Path) -> store.ChannelBatch:
        return store.read_batch(channel, path, getattr(s.channels, channel), s.district,
                                limits=s.ingest.limits())

    def load(part: Part) -> dict[str, int]:
        return load_part_task(part, db)

    runner = named_runner(argv)
    if runner is None or runner in LOCAL_RUNNERS:
        batches = MicroBatches(s.db, Inbox(folder, s.streaming.settle_seconds), s.staging_dir / "stream",
                               spec, read, _beam_run(s, argv))
        return run_stream(batches, load, poll_seconds=poll, max_idle=max_idle)
    # a cluster runs the unbounded pipeline; this process ingests and loads its panes
    staged = s.staging_dir / "unbounded"
    job = start_unbounded(_beam_run(s, argv), str(folder), str(staged), spec, s.channels, s.district,
                          poll_seconds=poll)
    log.info("%s job submitted; loading its panes from %s", runner, staged)
    try:
        return run_stream(StagedPanes(s.db, Inbox(folder, s.streaming.settle_seconds), staged, read),
                          load, poll_seconds=poll, max_idle=max_idle)
    finally:
        job.cancel()


@flow(name="minsheng-demo")
def demo_flow(
    out: str | None = None,
    weeks: int | None = None,
    seed: int | None = None,
    db: str | None = None,
    beam_args: list[str] | None = None,
) -> DemoSummary:
    """Generate the demo district, then ingest → process → match → report."""
    from minsheng.generate import generate_district

    log = get_run_logger()
    s = _settings(db)
    inputs = Path(out) if out else s.data_dir / "demo"
    manifest = task(cache_policy=NO_CACHE, name="generate")(generate_district)(
        inputs, weeks or s.demo.weeks, seed if seed is not None else s.demo.seed,
        start_week=s.demo.start_week, district=s.district, taxonomy=s.taxonomy,
    )
    log.info("generated %s weeks into %s", len(manifest.weeks), inputs)
    migrate_task(db)
    ingested = 0
    quarantined = 0
    for channel in CHANNELS:
        counts = ingest_flow(channel, [str(p) for p in discover(inputs, channel)], db)
        ingested += counts["loaded"] + counts["superseded"] + counts["duplicate"]
        quarantined += counts["quarantined"]
    train_models_task(db)
    processed = process_task(db, beam_args)
    log.info("text stage: %s", processed)
    matched = match_task(str(inputs / "supply.yaml"), db)
    failed = {k: v for k, v in checks_task(db).items() if v}
    if failed:
        raise RuntimeError(f"data checks failed: {failed}")
    report = report_task(db, manifest.weeks[-1])
    summary = DemoSummary(s.db, Path(report), ingested, matched["items"], matched["unmet"],
                          matched["matched"], quarantined)
    log.info("demo summary: %s", {k: str(v) for k, v in asdict(summary).items()})
    return summary
