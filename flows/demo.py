"""The demo: generate the embedded demo district, then run every stage over it as one flow.

Only the demo trains a model on generated text (the ``generated`` model); a district's own
runs classify with the model it trained on its own labelled records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.context import RunContext
from flows.notify import HOOKS
from flows.outcome import finish, publish_report_artifacts
from flows.pipeline import ingest_flow
from flows.tasks import checks_task, match_task, migrate_task, process_task, report_task
from minsheng.channels import discover
from models.card import ModelCard, TrainingSource

#: Registry name of the model the demo trains on generated texts.
GENERATED_MODEL = "generated"
#: The demo district's channels (the generator writes no wechat export).
DEMO_CHANNELS = ("survey", "hotline", "platform", "meeting")


@dataclass
class DemoSummary:
    db: Path
    report: Path
    records_ingested: int
    demand_items: int
    unmet: int
    matched: int
    quarantined: int


@task(cache_policy=NO_CACHE)
def train_demo_model_task(ctx: RunContext, force: bool = False) -> ModelCard:
    """Return the card of the model in use; when there is none, or when it is the demo's own
    ``generated`` model and the configured embedder changed, train ``generated`` on generated
    texts plus the review queue's corrections. A model that someone trained and chose
    (`minsheng model train`, `model use`) is never replaced here."""
    from minsheng.demo.generate import labelled_corpus
    from models.registry import current
    from models.training import TrainConfig, train_model
    from warehouse.review import corrections

    s = ctx.settings
    entry = current(s.model_dir)
    if entry is not None and not force:
        card = entry.card
        # a classifier only fits the embedder it was trained on: switching the embedder in
        # config retrains, so a pretrained model replaces the default by config alone
        if entry.name != GENERATED_MODEL or (card.embedder.kind, card.embedder.path) == (
                s.embedder.kind, s.embedder.path):
            return card
    fixed: list[tuple[str, str]] = []
    if ctx.warehouse.exists():
        with ctx.warehouse.connect(read_only=True) as con:
            fixed = corrections(con)
    _, card = train_model(
        labelled_corpus(s.classifier.train_size, s.classifier.seed, s.taxonomy), s.model_dir,
        GENERATED_MODEL, TrainConfig.from_settings(s), corrections=fixed,
        source=TrainingSource(generated={"n": s.classifier.train_size, "seed": s.classifier.seed}),
    )
    return card


@flow(name="minsheng-demo", **HOOKS)
def demo_flow(
    out: str | None = None,
    weeks: int | None = None,
    seed: int | None = None,
    db: str | None = None,
    beam_args: list[str] | None = None,
) -> Any:
    """Generate the demo district, then ingest → process → match → checks → report."""
    from minsheng.demo.generate import generate_district

    log = get_run_logger()
    ctx = RunContext.load(db)
    s = ctx.settings
    inputs = Path(out) if out else s.data_dir / "demo"
    manifest = task(cache_policy=NO_CACHE, name="generate")(generate_district)(
        inputs, weeks or s.demo.weeks, seed if seed is not None else s.demo.seed,
        start_week=s.demo.start_week, district=s.district, taxonomy=s.taxonomy,
    )
    log.info("generated %s weeks into %s", len(manifest.weeks), inputs)
    migrate_task(ctx)
    ingested = 0
    quarantined = 0
    for channel in DEMO_CHANNELS:
        state = ingest_flow(channel, [str(p) for p in discover(inputs, channel)], db, return_state=True)
        counts = state.result(raise_on_failure=False)
        if not isinstance(counts, dict) or counts["unreadable"]:
            return finish({}, [f"ingest {channel}: {state.message}"])
        ingested += counts["loaded"] + counts["superseded"] + counts["duplicate"]
        quarantined += counts["quarantined"]
    train_demo_model_task(ctx)
    processed = process_task(ctx, beam_args)
    log.info("text stage: %s", processed)
    matched = match_task(ctx, str(inputs / "supply.yaml"))
    failed = {k: v for k, v in checks_task(ctx).items() if v}
    if failed:
        return finish({}, [f"data checks failed: {failed}"])
    report, headline = report_task(ctx, manifest.weeks[-1])
    publish_report_artifacts(ctx, headline, str(report.html))
    for note in report.notes:
        log.warning("report: %s", note)
    summary = DemoSummary(s.db, report.html, ingested, matched["items"], matched["unmet"],
                          matched["matched"], quarantined)
    log.info("demo summary: %s", {k: str(v) for k, v in asdict(summary).items()})
    return summary
