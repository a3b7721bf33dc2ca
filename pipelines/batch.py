"""The text stage as one Beam pipeline over a snapshot of unprocessed feedback.

Workers never touch the warehouse: they write Parquet part files into a run's staging
folder, and the loader (``warehouse.store.merge_staged``) merges them by primary key. The
runner is pinned to the in-process FnApiRunner unless ``argv`` names another, so nothing is
downloaded (the plain DirectRunner fetches the Prism binary since Beam 2.68).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
import pyarrow as pa
from apache_beam.options.pipeline_options import PipelineOptions

from pipelines.transforms import (
    DEAD,
    Classify,
    Embed,
    MaskPersonalData,
    ModelSpec,
    ParseFeedback,
    Segment,
    SplitDemandItems,
)

ITEM_SCHEMA = pa.schema([
    ("item_id", pa.string()),
    ("feedback_id", pa.string()),
    ("channel", pa.string()),
    ("received_at", pa.timestamp("us")),
    ("week", pa.string()),
    ("community", pa.string()),
    ("text", pa.string()),
    ("tokens", pa.string()),
    ("keywords", pa.list_(pa.string())),
    ("category", pa.string()),
    ("confidence", pa.float64()),
    ("top3", pa.string()),
    ("embedding", pa.list_(pa.float32())),
    ("content_hash", pa.string()),
    ("model_version", pa.string()),
])

DEAD_SCHEMA = pa.schema([
    (name, pa.string())
    for name in ("stage", "feedback_id", "content_hash", "source_file", "source_pos", "channel", "reason",
                 "message", "payload")
])


@dataclass
class BatchResult:
    run_dir: Path
    counters: dict[str, int]


def pipeline_options(argv: list[str] | None, default_runner: str) -> PipelineOptions:
    argv = list(argv or [])
    if not any(a == "--runner" or a.startswith("--runner=") for a in argv):
        argv.append(f"--runner={default_runner}")
    return PipelineOptions(argv)


def build(p: beam.Pipeline, input_path: str, run_dir: str, spec: ModelSpec, batch_size: int) -> None:
    """Wire the text stage: parse → mask → split → segment → embed → classify → Parquet."""
    rows = p | "ReadFeedback" >> beam.io.ReadFromParquet(input_path)
    parsed = rows | "ParseFeedback" >> ParseFeedback()
    items = (
        parsed.ok
        | "MaskPersonalData" >> MaskPersonalData()
        | "SplitDemandItems" >> SplitDemandItems()
    )
    segmented = items | "Segment" >> Segment(spec)
    embedded = segmented.ok | "Embed" >> Embed(spec, batch_size)
    classified = embedded.ok | "Classify" >> Classify(spec, batch_size)
    keep = [f.name for f in ITEM_SCHEMA]
    (
        classified.ok
        | "Project" >> beam.Map(lambda d: {k: d[k] for k in keep})
        | "WriteItems" >> beam.io.WriteToParquet(
            f"{run_dir}/items", ITEM_SCHEMA, file_name_suffix=".parquet", num_shards=1
        )
    )
    (
        (parsed[DEAD], segmented[DEAD], embedded[DEAD], classified[DEAD])
        | "MergeDeadLetters" >> beam.Flatten()
        | "WriteDeadLetters" >> beam.io.WriteToParquet(
            f"{run_dir}/dead", DEAD_SCHEMA, file_name_suffix=".parquet", num_shards=1
        )
    )


def run_batch(
    input_path: Path,
    run_dir: Path,
    spec: ModelSpec,
    *,
    argv: list[str] | None = None,
    default_runner: str = "FnApiRunner",
    batch_size: int = 256,
) -> BatchResult:
    """Run the text stage over ``input_path`` (Parquet of feedback rows) into ``run_dir``.

    The run folder is emptied first, so a re-run of the same input replaces its parts
    instead of adding to them.
    """
    if run_dir.exists():
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True)
    options = pipeline_options(argv, default_runner)
    with beam.Pipeline(options=options) as p:
        build(p, str(input_path), str(run_dir), spec, batch_size)
    result = p.result if hasattr(p, "result") else None
    counters: dict[str, int] = {}
    if result is not None:
        for c in result.metrics().query()["counters"]:
            counters[c.key.metric.name] = counters.get(c.key.metric.name, 0) + int(c.committed or c.attempted or 0)
    return BatchResult(run_dir, counters)
