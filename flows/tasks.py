"""The tasks the flows are made of: each calls the core in a few lines over the run's
:class:`~flows.context.RunContext`, and each warehouse write is one block over the resource,
so that only one writer holds the DuckDB file at a time."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.context import RunContext
from minsheng.channels import UnreadableInput, read_file
from warehouse.loader import load_batch
from warehouse.loaders import load_reference, load_supply, match_week
from warehouse.query import run_checks

if TYPE_CHECKING:  # Beam is imported only by the tasks that run it
    from models.registry import ModelEntry
    from models.spec import ModelSpec
    from pipelines.batch import BeamRun
    from warehouse.report import ReportFiles
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
def ingest_file_task(ctx: RunContext, channel: str, path: str) -> dict[str, Any]:
    """Read, validate and load one file; its counts and its quarantined rows by reason, or
    ``{"unreadable": why}`` for a file that cannot be read at all (returned, not raised: the
    flow reports it once, in one line, and Prefect does not log a failed task for it)."""
    from prefect.runtime import flow_run

    s = ctx.settings
    try:
        batch = read_file(channel, Path(path), s.mapping(channel), s.district, limits=s.ingest.limits(),
                          pseudonym_key=s.pseudonym_key())
    except UnreadableInput as exc:
        return {"unreadable": str(exc)}
    with ctx.warehouse.connect() as con:
        counts: dict[str, Any] = load_batch(con, batch, ctx.warehouse.contacts,
                                            run_id=f"flow-run:{flow_run.id}").as_dict()
    counts["reasons"] = dict(Counter(batch.rejected["reason"].to_pylist()))
    return counts


def model_in_use(ctx: RunContext) -> ModelEntry:
    """The registered model the text stage classifies with: :class:`ModelMissing` if there is
    none, or if it predicts labels the taxonomy neither has nor maps (``label_map``)."""
    from models.registry import current

    s = ctx.settings
    entry = current(s.model_dir)
    if entry is None:
        raise ModelMissing(
            f"no text model in use under {s.model_dir}: train one on the district's "
            "labelled records (`minsheng model train --data FILE`), or run the demo (`minsheng demo`)")
    if bad := s.taxonomy.unmapped(list(entry.card.labels)):
        raise ModelMissing(
            f"the model in use ({entry.ref}) predicts labels that taxonomy.yaml neither has nor maps: "
            f"{', '.join(bad[:5])}{' …' if len(bad) > 5 else ''}: add them to label_map "
            f"({s.config_file('taxonomy.yaml')}), or use another model (`minsheng model use`)")
    return entry


def _model_spec(ctx: RunContext) -> ModelSpec:
    from models.spec import ModelSpec

    s = ctx.settings
    # the embedder a model was trained with serves it: the spec reads it off the card
    from models.places import Gazetteer

    return ModelSpec.for_model(model_in_use(ctx).path, userdict=s.userdict, stopwords=s.stopwords,
                               label_map=s.taxonomy.label_map,
                               gazetteer=Gazetteer.from_district(s.district).to_records())


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
    dim = model.card.embedder.dim if model is not None else None
    if dim is not None:  # a card too old to record it: the column keeps its type
        with wh.connect() as con:
            ensure_embedding_dim(con, dim)
    from warehouse.issues import IssueSettings

    counts = load_part(wh, part, IssueSettings(ctx.settings.issues, ctx.settings.heat))
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
    """Load the registry (default: the ``matching.registry`` setting, else supply.yaml in the config folder), match every week (or
    one), then publish the snapshot that planners' queries read while a flow writes."""
    from minsheng.matching import load_match_config
    from minsheng.supply import load_registry

    s = ctx.settings
    registry = load_registry(Path(supply) if supply else s.registry, s.taxonomy, s.district)
    config = load_match_config(s.matching_config, s.district.community_codes)
    for note in config.notes:  # once per run
        get_run_logger().warning("%s", note)
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
def report_task(ctx: RunContext, week: str | None = None) -> tuple[ReportFiles, dict[str, Any]]:
    """Write the report of ``week`` (default: the latest complete week with data) as HTML,
    Word, PDF and Excel: its files, and the week's headline figures."""
    from warehouse.query import execute
    from warehouse.report import ReportContext, write_report
    from warehouse.sql import read_sql

    s = ctx.settings
    files = write_report(ctx.warehouse, ReportContext(week, s.district, s.taxonomy), s.report_dir)
    with ctx.warehouse.reader() as (con, _):
        [headline] = execute(con, read_sql("queries", "week_totals"), {"week": files.week}).to_records()
    return files, {"week": files.week, **headline}


@task(cache_policy=NO_CACHE)
def retrain_task(ctx: RunContext) -> dict[str, Any]:
    """A new version of the model in use, trained on the data its card names plus the review
    queue's corrections; the demo's generated model is trained again on generated text."""
    from dataclasses import replace

    from models.datasets import read_labelled
    from models.training import TrainConfig, train_model
    from warehouse.review import corrections

    s = ctx.settings
    entry = model_in_use(ctx)
    card = entry.card
    fixed: list[tuple[str, str]] = []
    if ctx.warehouse.exists():
        with ctx.warehouse.connect(read_only=True) as con:
            fixed = corrections(con)
    source = card.source
    if source.file is None:
        from flows.demo import GENERATED_MODEL, train_demo_model_task

        if entry.name != GENERATED_MODEL:
            raise ValueError(f"model {entry.ref} records no training file: train it again with "
                             "`minsheng model train --data FILE`")
        new = train_demo_model_task.fn(ctx, force=True)
        return {"model": f"{GENERATED_MODEL}/{new.version}", "corrections": len(fixed)}
    path = Path(source.file)
    if not path.exists():
        raise FileNotFoundError(f"{path}, the data model {entry.ref} was trained on, is gone: train with "
                                "`minsheng model train --data FILE`")
    config = replace(TrainConfig.from_settings(s), embedder_kind=card.embedder.kind,
                     embedder_path=card.embedder.path)
    labelled = read_labelled(path, source.text_cols or ["text"], source.label_col or "label")
    new_entry, new_card = train_model(labelled, s.model_dir, entry.name, config, corrections=fixed,
                                      source=source)
    return {"model": new_entry.ref, "corrections": len(fixed), "macro_f1": new_card.metrics.macro_f1}
