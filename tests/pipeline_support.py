"""Helpers shared by the streaming and exactly-once tests: small trained models (trained once
per session, on disk), a small generated inbox, a warehouse snapshot, the micro-batch driver."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from minsheng.settings import Settings
from warehouse.resource import Warehouse

# what the tests compare: everything a run writes, minus the times it wrote it
SNAPSHOT = {
    "feedback": "feedback_id, content_hash, source_file, source_pos",
    "quarantine": "quarantine_id, reason, source_pos, record_id",
    "demand_items": "item_id, feedback_id, category, tokens, top3, urgent, sentiment",
    "demand_counts_hourly": "window_start, community, category, items, timing, pane_index",
    "demand_trend_daily": "window_start, community, category, items, timing, pane_index",
    "inbox_files": "path, read_to, records, fingerprint, error",
    "processed_parts": "part_id, seq, base_part, watermark, feedback, items, dead_letters, too_late",
    "issue_items": "item_id, issue_id, opened, score",
    "issues": "issue_id, title, place, items, messages, residents, heat, status",
    "issue_weeks": "issue_id, week, items, messages, heat, status",
    "issue_state": "seq, watermark, fingerprint",
}


def trained_models(base: Path, settings: Settings) -> Path:
    """Small text models under ``base``, trained on the first call of the session."""
    model_dir = base / "stream-models"
    if (model_dir / "card.json").exists():
        return model_dir
    from minsheng.demo.generate import labelled_corpus
    from minsheng.pii import mask_text
    from models.training import train_text_models

    labelled = [(mask_text(t), y) for t, y in labelled_corpus(600, 7, settings.taxonomy)]
    train_text_models(labelled, model_dir, userdict=str(settings.userdict),
                      stopwords=str(settings.stopwords), random_state=7)
    return model_dir


def generated_inputs(base: Path, settings: Settings, scale: float = 0.04) -> Path:
    """One small generated week (about 25 hotline orders, 12 platform messages, a few
    meeting notes; no planted hot issues: one file per channel), generated once per session."""
    out = base / f"inputs-{scale}"
    if not out.exists():
        from minsheng.demo.generate import generate_district

        generate_district(out, 1, 11, district=settings.district, taxonomy=settings.taxonomy,
                          scale=scale, hot_issues=0)
    return out


def copy_channels(inputs: Path, inbox: Path, *channels: str) -> None:
    for channel in channels:
        shutil.copytree(inputs / channel, inbox / channel, dirs_exist_ok=True)


def snapshot(db: Path) -> dict[str, str]:
    from warehouse.resource import connect

    con = connect(db, read_only=True)
    try:
        return {
            table: hashlib.sha256(repr(con.execute(
                f"select {cols} from {table} order by all").fetchall()).encode()).hexdigest()
            for table, cols in SNAPSHOT.items()
        }
    finally:
        con.close()


def fresh_warehouse(db: Path) -> Path:
    from warehouse.resource import connect, migrate

    con = connect(db)
    try:
        migrate(con)
    finally:
        con.close()
    return db


def micro_batches(db: Path, inbox: Path, staging: Path, model_dir: Path, settings: Settings,
                  argv: list[str] | None = None):  # type: ignore[no-untyped-def]
    from minsheng.channels import read_file
    from pipelines.batch import BeamRun
    from pipelines.inbox import Inbox
    from pipelines.streaming import MicroBatches
    from models.spec import ModelSpec

    spec = ModelSpec(str(model_dir), str(settings.userdict), str(settings.stopwords))

    def read(channel: str, path: Path):  # type: ignore[no-untyped-def]
        return read_file(channel, path, settings.mapping(channel), settings.district)

    return MicroBatches(Warehouse(db), Inbox(inbox, settle=0.5), staging, spec, read, BeamRun(tuple(argv or ())))
