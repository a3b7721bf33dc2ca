"""The text stage as one bounded Beam pipeline over a staged part: the batch mode, and each
micro-batch of the local streaming mode.

:func:`stage_part` exports a part's input from the warehouse into its folder
(``input-rows/``: feedback rows, dealt out to files of at most 10,000;
``input-state.parquet``: what the windows they touch already hold) and runs the pipeline,
whose workers write Parquet files named by kind and shard (``items-00000-of-00002.parquet``,
``dead-…``, ``hourly-…``, ``trend-…``). Workers never touch the warehouse; :func:`load_part`
(the loader) merges a part by primary key, once (``warehouse.staging.merge_part``).

The runner is pinned to the in-process FnApiRunner unless ``argv`` names another, so that
nothing is downloaded (the plain DirectRunner fetches the Prism binary since Beam 2.68);
``--direct_num_workers N --direct_running_mode multi_processing`` spreads it over processes.
``--runner DaskRunner --dask_client_address tcp://HOST:PORT`` runs it on a Dask cluster
(:mod:`pipelines.dask`): the same transforms between a Create-based source and a
content-named sink, and the counts taken from the output files (that runner has no metrics).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils.windowed_value import WindowedValue

from minsheng.records import DEAD_LETTER, DEMAND_ITEM, WINDOW_COUNT
from models.spec import ModelSpec
from pipelines.dask import DASK_RUNNER, WriteContentNamed, chunks, is_dask, read_chunk
from pipelines.transforms import (
    DEAD,
    Classify,
    Embed,
    ExtractPlaces,
    MaskPersonalData,
    ParseFeedback,
    Segment,
    SplitDemandItems,
)
from pipelines.windows import CountDemandByWindow, Watermarks, window_cells
from warehouse import staging
from warehouse.resource import Warehouse
from warehouse.staging import ROWS_DIR, STATE_FILE

# Runners that run in this process (or its children); any other runner is a cluster's.
LOCAL_RUNNERS = ("FnApiRunner", "DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner",
                 "PrismRunner")


def named_runner(argv: Sequence[str] | None) -> str | None:
    """The runner ``argv`` names (``--runner X`` or ``--runner=X``), if any."""
    args = list(argv or [])
    for i, a in enumerate(args):
        if a.startswith("--runner="):
            return a.split("=", 1)[1]
        if a == "--runner" and i + 1 < len(args):
            return args[i + 1]
    return None


@dataclass(frozen=True)
class BeamRun:
    """How a pipeline runs: Beam options from the command line, the runner pinned to
    ``default_runner`` unless they name one, and the batch size of the model steps."""

    argv: tuple[str, ...] = ()
    default_runner: str = "FnApiRunner"
    batch_size: int = 256

    def options(self, *extra: str) -> PipelineOptions:
        """``argv`` and ``extra`` as options, the runner pinned unless named, and SDK workers
        that log warnings only (multi-process runs log every bundle otherwise)."""
        argv = [*self.argv, *extra]
        runner = named_runner(argv)
        if runner is None:
            argv.append(f"--runner={self.default_runner}")
        elif is_dask(runner):  # Beam's, with the translation this pipeline needs
            argv = [a for i, a in enumerate(argv) if not (
                a.startswith("--runner=") or a == "--runner"
                or (i > 0 and argv[i - 1] == "--runner"))] + [f"--runner={DASK_RUNNER}"]
        if not any(a.startswith("--default_sdk_harness_log_level") for a in argv):
            argv.append("--default_sdk_harness_log_level=WARNING")
        return PipelineOptions(argv)

    @property
    def on_dask(self) -> bool:
        return is_dask(named_runner(self.argv))

    def worker_threads(self) -> int:
        """Threads for the numeric libraries in each local worker process: the cores shared
        out over the processes, so that two workers' BLAS and torch pools do not fight over
        the same cores (0: a single process, where the libraries' defaults stand)."""
        if self.on_dask:  # the workers' own processes: `dask worker --nthreads` sets their share
            return 0
        direct = self.options().view_as(DirectOptions)
        cores = os.cpu_count() or 1
        workers = direct.direct_num_workers or cores  # 0: one per core
        if direct.direct_running_mode != "multi_processing" or workers <= 1:
            return 0
        return max(1, cores // workers)


def text_stage(
    batches: beam.PCollection, spec: ModelSpec
) -> tuple[beam.PCollection, beam.PCollection]:
    """parse → mask → split → segment → places → embed → classify, over batches of feedback rows:
    (batches of demand items, dead letters one by one)."""
    parsed = batches | "ParseFeedback" >> ParseFeedback()
    items = (
        parsed.ok
        | "MaskPersonalData" >> MaskPersonalData()
        | "SplitDemandItems" >> SplitDemandItems()
    )
    segmented = items | "Segment" >> Segment(spec)
    placed = segmented.ok | "ExtractPlaces" >> ExtractPlaces(spec)
    embedded = placed.ok | "Embed" >> Embed(spec)
    classified = embedded.ok | "Classify" >> Classify(spec)
    dead = (
        (parsed[DEAD], segmented[DEAD], placed[DEAD], embedded[DEAD], classified[DEAD])
        | "MergeDeadLetters" >> beam.Flatten()
    )
    keep = [f.name for f in DEMAND_ITEM]
    project = beam.Map(lambda batch: [{k: d[k] for k in keep} for d in batch])
    return classified.ok | "Project" >> project, dead


def in_batches(table: pa.Table, size: int) -> Iterator[list[dict[str, Any]]]:
    """A table's rows as lists of at most ``size`` dicts."""
    for start in range(0, table.num_rows, size):
        yield table.slice(start, size).to_pylist()


class _RowGroups(beam.DoFn):
    """Batches of rows → Arrow tables of about ``rows`` rows, one Parquet row group each (the
    rest at the end of the bundle): a row group per model batch would make the write cost as
    much as a model step. Bounded runs only (the global window)."""

    def __init__(self, schema: pa.Schema, rows: int = 32_768) -> None:
        self.schema, self.rows = schema, rows

    def start_bundle(self) -> None:
        self.parts: list[pa.Table] = []
        self.n = 0

    def process(self, batch: list[dict[str, Any]]) -> Iterator[pa.Table]:
        self.parts.append(pa.Table.from_pylist(batch, schema=self.schema))
        self.n += len(batch)
        if self.n >= self.rows:
            yield self._table()

    def finish_bundle(self) -> Iterator[WindowedValue]:
        if self.parts:
            yield GlobalWindows.windowed_value_at_end_of_window(self._table())

    def _table(self) -> pa.Table:
        table = pa.concat_tables(self.parts)
        self.parts, self.n = [], 0
        return table


def write_part(pcoll: beam.PCollection, folder: str, kind: str, schema: pa.Schema,
               num_shards: int = 0, *, batched: bool = False) -> None:
    """Parquet files ``<kind>-SSSSS-of-NNNNN.parquet`` from elements, or from batches of them
    (``batched``). Beam's file sink writes each bundle to a temporary file and renames only
    the bundles it commits, so a retried bundle leaves no second copy behind."""
    path = f"{folder}/{kind}"
    if batched:
        _ = (
            pcoll
            | f"{kind.title()}RowGroups" >> beam.ParDo(_RowGroups(schema))
            | f"Write{kind.title()}" >> beam.io.WriteToParquetBatched(
                path, schema, file_name_suffix=".parquet", num_shards=num_shards)
        )
        return
    _ = pcoll | f"Write{kind.title()}" >> beam.io.WriteToParquet(
        path, schema, file_name_suffix=".parquet", num_shards=num_shards
    )


def write_content_named(pcoll: beam.PCollection, folder: str, kind: str, schema: pa.Schema,
                        *, batched: bool = False) -> None:
    """The Dask runner's sink: one ``<kind>-<content digest>.parquet`` per bundle (a Dask
    partition), so that a recomputed partition writes the same file again, not a second one."""
    _ = pcoll | f"Write{kind.title()}" >> beam.ParDo(WriteContentNamed(folder, kind, schema, batched))


# rows per Dask partition of the input (a multiple of the batch size): the grain at which
# the work spreads over the cluster's workers
DASK_CHUNK_BATCHES = 8


def build(p: beam.Pipeline, folder: str, spec: ModelSpec, batch_size: int,
          watermarks: Watermarks, *, on_dask: bool = False) -> None:
    """Wire a bounded run: the text stage and the windowed counts, each into Parquet parts.
    On Dask, the input is read from Create'd (file, rows) chunks and the parts are written
    content-named (Beam's DaskRunner translates no ``Read`` and no file sink)."""
    if on_dask:
        pieces = chunks(Path(folder).glob(f"{ROWS_DIR}/*/*.parquet"), batch_size * DASK_CHUNK_BATCHES)
        batches = (
            p
            | "ReadFeedback" >> beam.Create(pieces)
            | "Batches" >> beam.FlatMap(lambda c: in_batches(read_chunk(c), batch_size))
        )
        state = (p | "ReadWindowState" >> beam.Create(chunks([f"{folder}/{STATE_FILE}"], 1 << 30))
                 | "StateRows" >> beam.FlatMap(lambda c: read_chunk(c).to_pylist()))
        write, one_shard = write_content_named, {}
    else:
        batches = (
            p
            | "ReadFeedback" >> beam.io.ReadFromParquetBatched(staging.rows_glob(Path(folder) / ROWS_DIR))
            | "Batches" >> beam.FlatMap(in_batches, batch_size)
        )
        state = p | "ReadWindowState" >> beam.io.ReadFromParquet(f"{folder}/{STATE_FILE}")
        write, one_shard = write_part, {"num_shards": 1}
    items, dead = text_stage(batches, spec)
    write(items, folder, "items", DEMAND_ITEM, batched=True)
    write(dead, folder, "dead", DEAD_LETTER, **one_shard)
    counts = (
        (items | "WindowCells" >> beam.FlatMap(window_cells), state)
        | "WithWindowState" >> beam.Flatten()
        | "CountDemandByWindow" >> CountDemandByWindow(watermarks)
    )
    for kind in ("hourly", "trend"):
        rows = counts[kind] | f"Batch{kind.title()}" >> beam.BatchElements(
            min_batch_size=4096, max_batch_size=4096)
        write(rows, folder, kind, WINDOW_COUNT, batched=True)


def output_counts(folder: Path) -> dict[str, int]:
    """Counts of what a run wrote (the Dask runner reports no metrics): items and dead
    letters (each step's dead letters together), window rows; a bounded batch run drops
    nothing as too late."""
    import pyarrow.parquet as pq

    def rows(kind: str) -> int:
        return sum(pq.ParquetFile(f).metadata.num_rows for f in sorted(folder.glob(f"{kind}-*.parquet")))

    return {"items": rows("items"), "dead_letters": rows("dead"), "hourly_rows": rows("hourly"),
            "trend_rows": rows("trend"), "hourly_too_late": 0}


def run_part(folder: Path, spec: ModelSpec, *, watermarks: Watermarks,
             run: BeamRun = BeamRun()) -> dict[str, int]:
    """Run the text stage over a part folder's input; returns the Beam counters."""
    spec = replace(spec, threads=run.worker_threads())
    if run.on_dask:
        if watermarks.before is not None:
            raise ValueError("the Dask runner runs bounded batches only (no late data to drop)")
        # the workers run elsewhere (another folder, another machine): paths as absolute ones,
        # at which each worker must find the same files
        spec = replace(spec, **{k: str(Path(v).resolve()) for k in ("model_dir", "userdict", "stopwords", "embedder_path")
                                if (v := getattr(spec, k))})
        folder = folder.resolve()
        p = beam.Pipeline(options=run.options())
        build(p, str(folder), spec, run.batch_size, watermarks, on_dask=True)
        result = p.run()
        try:
            result.wait_until_finish()
        finally:
            result.client.close()
        return output_counts(folder)
    with beam.Pipeline(options=run.options()) as p:
        build(p, str(folder), spec, run.batch_size, watermarks)
    counters: dict[str, int] = {}
    for c in p.result.metrics().query()["counters"]:
        name = c.key.metric.name
        counters[name] = counters.get(name, 0) + int(c.committed or c.attempted or 0)
    return counters


def stage_part(
    wh: Warehouse,
    folder: Path,
    spec: ModelSpec,
    *,
    mode: str,
    cursors: Sequence[staging.InboxCursor] = (),
    run: BeamRun = BeamRun(),
) -> staging.Part | None:
    """Stage a part: export the unprocessed feedback and the window state it touches from
    the warehouse, and run the text stage over them into ``folder/<part id>``. Returns
    ``None`` when there is nothing to process and no inbox position to record.

    ``mode`` ``"batch"`` counts every window the items touch, whatever its age (the input is
    bounded: nothing is late); ``"stream"`` applies the allowed lateness against the
    watermark of the last merged part. Anything left in ``folder`` by a run killed before
    its merge is removed first.
    """
    shutil.rmtree(folder, ignore_errors=True)
    pending = folder / "pending"
    pending.mkdir(parents=True)
    given = staging.export_part_input(wh, pending)
    if given.rows == 0 and not cursors:
        return None
    head = given.head
    marks = [w for w in (head.watermark, given.latest) if w is not None]
    watermark = max(marks) if marks else None
    pid = staging.part_id(mode, head.part_id, given.digest, spec.model_version,
                          *(f"{c.path}:{c.read_to}:{c.fingerprint}" for c in cursors))
    part_dir = folder / pid
    pending.rename(part_dir)
    too_late = 0
    if given.rows:
        before = head.watermark if mode == "stream" else None
        counters = run_part(part_dir, spec, watermarks=Watermarks(before, watermark), run=run)
        too_late = counters.get("hourly_too_late", 0)
    return staging.Part(pid, mode, part_dir, head.part_id, watermark, given.rows, too_late,
                        tuple(cursors))
