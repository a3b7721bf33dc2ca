"""Prefect flows: ingestion per channel, the text stage, matching, and the demo run.

Tasks are thin: each calls the pure core in a few lines and opens its own warehouse
connection, so that only one writer holds the DuckDB file at any time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from rich.progress import Progress

from minsheng.ingest import CHANNELS, UnreadableInput, discover
from minsheng.settings import Settings, load_settings
from warehouse import store
from warehouse.loaders import load_reference, load_supply, match_week


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
    create_table_artifact(key=f"ingest-{channel}", table=rows,
                          description=f"minsheng ingestion counts for channel {channel}")
    log.info("%s: %s", channel, total.as_dict())
    return {**total.as_dict(), "unreadable": unreadable}


@task(cache_policy=NO_CACHE)
def train_models_task(db: str | None = None, force: bool = False) -> dict:
    from minsheng.generate import labelled_corpus
    from minsheng.pii import mask_text
    from models.text import train_text_models

    s = _settings(db)
    card_path = s.model_dir / "card.json"
    if card_path.exists() and not force:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        trained_with = (card["embedder"]["kind"], card["embedder"]["path"])
        # a classifier only fits the embedder it was trained on: switching the embedder in
        # config retrains, so a pretrained model replaces the default by config alone
        if trained_with == (s.embedder.kind, s.embedder.path):
            return card
    # the pipeline classifies masked text, so the model learns from masked text too (and
    # never stores a phone number in its vocabulary)
    labelled = [(mask_text(t), y) for t, y in
                labelled_corpus(s.classifier.train_size, s.classifier.seed, s.taxonomy)]
    return train_text_models(
        labelled, s.model_dir, userdict=str(s.userdict), stopwords=str(s.stopwords),
        dim=s.embedder.dim, unknown_threshold=s.classifier.unknown_threshold,
        random_state=s.classifier.seed, embedder_kind=s.embedder.kind,
        embedder_path=s.embedder.path,
    )


@task(cache_policy=NO_CACHE)
def process_task(db: str | None = None, argv: list[str] | None = None) -> dict[str, int]:
    """Run the Beam text stage over unprocessed feedback, then merge its output."""
    from pipelines.batch import run_batch
    from pipelines.transforms import ModelSpec

    s = _settings(db)
    snapshot = s.staging_dir / "pending.parquet"
    con = store.connect(s.db)
    try:
        n = store.export_unprocessed(con, snapshot)
    finally:
        con.close()
    if n == 0:
        return {"feedback": 0, "items": 0, "dead_letters": 0}
    # The run folder is named by the snapshot's content: the same input re-run lands in the
    # same folder, and the loader merges by primary key.
    run_id = hashlib.sha256(snapshot.read_bytes()).hexdigest()[:16]
    spec = ModelSpec(
        model_dir=str(s.model_dir), userdict=str(s.userdict), stopwords=str(s.stopwords),
        embedder_kind=s.embedder.kind, embedder_path=s.embedder.path,
        other_label=s.taxonomy.other_code,
    )
    result = run_batch(snapshot, s.staging_dir / f"run-{run_id}", spec, argv=argv,
                       default_runner=s.pipeline.runner, batch_size=s.pipeline.batch_size)
    con = store.connect(s.db)
    try:
        merged = store.merge_staged(con, result.run_dir)
    finally:
        con.close()
    return {"feedback": n, **merged}


@task(cache_policy=NO_CACHE)
def match_task(supply: str, db: str | None = None) -> dict[str, int]:
    from minsheng.supply import load_registry

    s = _settings(db)
    registry = load_registry(Path(supply), s.taxonomy, s.district)
    con = store.connect(s.db)
    try:
        weeks = [r[0] for r in con.execute("select distinct week from demand_items order by 1").fetchall()]
        load_supply(con, registry, s.district, weeks)
        totals = {"items": 0, "matched": 0, "unmet": 0}
        for week in weeks:
            for k, v in match_week(con, week, other_label=s.taxonomy.other_code).items():
                totals[k] += v
    finally:
        con.close()
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
