"""Streaming mode: the text stage over what keeps landing in an inbox folder.

**Locally** the Python runners stream only TestStream and Pub/Sub (``MatchContinuously`` and
``PeriodicImpulse`` fire all at once and end), so the local mode is continuous
micro-batches (:class:`MicroBatches`, :func:`run_stream`): each poll reads the new files and
the records appended to line files (:mod:`pipelines.inbox`), ingests them, runs the same
transforms as a bounded part with event-time windows against the watermark kept in the
ledger, and hands the part to the loader, which merges it exactly once together with the
new inbox positions.

**On Flink or Dataflow** (:func:`start_unbounded`, :func:`build_unbounded`), the same
transforms run behind a truly unbounded source, ``MatchContinuously`` over the inbox; the
runner holds the window state and the watermark, and writes Parquet panes that this process
ingests next to and loads (:class:`StagedPanes`, polled by the same :func:`run_stream`).
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io import fileio
from apache_beam.metrics import Metrics
from apache_beam.runners.runner import PipelineResult
from apache_beam.transforms import window
from apache_beam.transforms.deduplicate import DeduplicatePerKey
from apache_beam.utils.timestamp import Duration

from minsheng.channels import UnreadableInput, channel_of, read_file
from minsheng.domain import ChannelMapping, District
from minsheng.records import DEAD_LETTER, DEMAND_ITEM, WINDOW_COUNT
from models.spec import ModelSpec
from pipelines.batch import BeamRun, stage_part, text_stage
from pipelines.inbox import Inbox, Reader
from pipelines.transforms import NAMESPACE
from pipelines.windows import CountDemandByWindow, wall_time, window_element
from warehouse import staging
from warehouse.resource import Warehouse

log = logging.getLogger(__name__)


class MicroBatches:
    """One poll of the inbox as one staged part (see the module docstring)."""

    def __init__(
        self,
        wh: Warehouse,
        inbox: Inbox,
        folder: Path,
        spec: ModelSpec,
        reader: Reader,
        run: BeamRun = BeamRun(),
    ) -> None:
        self.wh, self.inbox, self.folder, self.spec, self.reader = wh, inbox, folder, spec, reader
        self.run = run

    def stage(self) -> staging.Part | None:
        """Ingest what is new, then stage a part over everything not yet processed."""
        return stage_part(self.wh, self.folder, self.spec, mode="stream",
                          cursors=ingest_new(self.wh, self.inbox, self.reader), run=self.run)


def ingest_new(wh: Warehouse, inbox: Inbox, reader: Reader) -> list[staging.InboxCursor]:
    """Read and ingest what is new in the inbox; returns the positions to record when the
    part holding it is merged. Ingestion is idempotent (by key and content hash), so a poll
    repeated after a crash ingests nothing twice."""
    cursors = staging.read_inbox_cursors(wh)
    moved, batches = [], []
    for sl in inbox.scan(cursors):
        try:
            batch = inbox.read(sl, reader)
            if batch is not None:
                batches.append(batch)
        except UnreadableInput as exc:
            log.error("cannot read %s: %s", sl.path, exc)
            moved.append(sl.cursor(error=str(exc)))
            continue
        except FileNotFoundError:  # gone since the scan: nothing to record
            continue
        except Exception as exc:  # a reader's bug must not stop every later poll at this file
            log.exception("reading %s failed", sl.path)
            moved.append(sl.cursor(error=f"{type(exc).__name__}: {exc}"[:500]))
            continue
        moved.append(sl.cursor())
    staging.load_batches(wh, batches)
    return moved


class PartSource(Protocol):
    """What :func:`run_stream` polls: :class:`MicroBatches` or :class:`StagedPanes`."""

    def stage(self) -> staging.Part | None: ...


def run_stream(
    batches: PartSource,
    load: Callable[[staging.Part], dict[str, int]],
    *,
    poll_seconds: float = 2.0,
    max_idle: float | None = None,
    stop: Callable[[], bool] = lambda: False,
) -> dict[str, int]:
    """Poll until ``stop()`` is true or, with ``max_idle``, until nothing new has arrived for
    that many seconds; each poll's part goes to ``load`` (the loader). Returns totals.

    Killing the process at any point is safe: a part is merged with its inbox positions in
    one transaction, so the next run reads again exactly what was not merged.
    """
    totals: Counter[str] = Counter()
    idle_since = time.monotonic()
    while not stop():
        started = time.monotonic()
        part = batches.stage()
        if part is not None:
            try:
                merged = load(part)
            except staging.StalePart as exc:  # another process merged in between: redo
                log.warning("%s", exc)
                continue
            totals.update({k: v for k, v in merged.items() if k != "merged"})
            totals["parts"] += merged.get("merged", 0)
            idle_since = time.monotonic()
        elif max_idle is not None and time.monotonic() - idle_since >= max_idle:
            break
        while not stop() and time.monotonic() - started < poll_seconds:
            time.sleep(min(0.2, poll_seconds))
    return dict(totals)


# --- unbounded: the same transforms on Flink, Dataflow or Spark ------------------------------

# How long a record key is remembered: a line file that grows is read again whole each time
# it changes, so its earlier records come again for as long as it keeps growing.
REMEMBER_RECORDS = timedelta(days=10)
ITEM_PANES = timedelta(minutes=1)  # items and dead letters are written once a minute


class _ReadChannelFile(beam.DoFn):
    """A matched inbox file → feedback rows, parsed by its channel's adapter (masked; contact
    fields never leave the worker). Rejected rows are the loader's: its ingestion of the
    same file quarantines them."""

    def __init__(self, inbox: str, channels: dict[str, ChannelMapping], district: District,
                 pseudonym_key: bytes | None = None) -> None:
        self.inbox, self.channels, self.district = inbox.rstrip("/"), channels, district
        self.pseudonym_key = pseudonym_key
        self.read = Metrics.counter(NAMESPACE, "inbox_records")

    def process(self, f: fileio.ReadableFile) -> Iterator[dict[str, Any]]:
        rel = f.metadata.path[len(self.inbox) + 1:]
        channel = channel_of(rel)
        if channel is None:
            return
        with tempfile.TemporaryDirectory(prefix="minsheng-match-") as tmp:
            path = Path(tmp) / PurePosixPath(rel).name
            path.write_bytes(f.read())
            try:
                rows = read_file(channel, path, self.channels[channel], self.district,
                                 pseudonym_key=self.pseudonym_key).feedback_rows()
            except UnreadableInput:
                return
        for row in rows:
            self.read.inc()
            yield row


class _ParquetSink(fileio.FileSink):
    """One Parquet file per pane of a window (written when the pane is flushed)."""

    def __init__(self, schema: pa.Schema) -> None:
        self.schema = schema

    def open(self, fh: Any) -> None:
        self._fh, self._rows = fh, []

    def write(self, record: dict[str, Any]) -> None:
        self._rows.append(record)

    def flush(self) -> None:
        if self._rows is not None:
            pq.write_table(pa.Table.from_pylist(self._rows, schema=self.schema), self._fh)
            self._rows = None


def _pane_naming(w: window.IntervalWindow, pane: Any, shard: int, shards: int, compression: str,
                 destination: str) -> str:
    """``<kind>-<window start>-p<pane>-<shard>-of-<shards>.parquet``: every firing of a
    window gets a file of its own (Beam's default naming would overwrite earlier panes)."""
    return (f"{destination}-{wall_time(float(w.start)):%Y%m%dT%H%M}-p{pane.index if pane else 0}"
            f"-{shard:05d}-of-{shards:05d}.parquet")


def _write_panes(pcoll: beam.PCollection, staging: str, kind: str, schema: pa.Schema) -> None:
    _ = pcoll | f"Write{kind.title()}" >> fileio.WriteToFiles(
        path=staging, destination=lambda _, k=kind: k, sink=lambda _, s=schema: _ParquetSink(s),
        file_naming=_pane_naming, shards=1)


def build_unbounded(files: beam.PCollection, inbox: str, staging: str, spec: ModelSpec,
                    channels: dict[str, ChannelMapping], district: District, batch_size: int = 256,
                    pseudonym_key: bytes | None = None) -> None:
    """Wire the unbounded pipeline over matched inbox files (``fileio.ReadableFile``): read
    with the channels' adapters, forget records seen before, then the same text stage and
    counts as a bounded part, written as Parquet panes into ``staging`` for the loader."""
    rows = (
        files
        | "ReadChannelFiles" >> beam.ParDo(_ReadChannelFile(inbox, channels, district, pseudonym_key))
        | "KeyByVersion" >> beam.Map(lambda r: ((r["feedback_id"], r["content_hash"]), r))
        | "Deduplicate" >> DeduplicatePerKey(
            event_time_duration=Duration(seconds=REMEMBER_RECORDS.total_seconds()))
        | "Rows" >> beam.Values()
    )
    batches, dead = text_stage(
        rows | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=batch_size), spec)
    items = batches | "Items" >> beam.FlatMap(lambda batch: batch)
    counts = (
        items
        | "WindowElements" >> beam.Map(window_element)
        | "CountDemandByWindow" >> CountDemandByWindow()
    )
    # Items and dead letters are written by the minute of processing time (the source's
    # watermark follows it): such a window closes a minute later and drops nothing as late,
    # however old the records' received time.
    for kind, pcoll, schema in (("items", items, DEMAND_ITEM), ("dead", dead, DEAD_LETTER)):
        minutes = (
            pcoll
            | f"{kind.title()}WriteTime" >> beam.Map(lambda e: window.TimestampedValue(e, time.time()))
            | f"{kind.title()}Panes" >> beam.WindowInto(window.FixedWindows(ITEM_PANES.total_seconds()))
        )
        _write_panes(minutes, staging, kind, schema)
    _write_panes(counts["hourly"], staging, "hourly", WINDOW_COUNT)
    _write_panes(counts["trend"], staging, "trend", WINDOW_COUNT)


def match_inbox(p: beam.Pipeline, inbox: str, poll_seconds: float) -> beam.PCollection:
    """New and grown files under ``inbox``, for as long as the pipeline runs."""
    return (
        p
        | "MatchInbox" >> fileio.MatchContinuously(f"{inbox.rstrip('/')}/**", interval=poll_seconds,
                                                   match_updated_files=True)
        | "ReadMatches" >> fileio.ReadMatches()
    )


class StagedPanes:
    """The loader's side of an unbounded run, polled like :class:`MicroBatches`: the local
    ingestion of the same inbox (raw rows, personal data, quarantine, read positions) and the
    Parquet panes the runner has finished since the last merge, as one part."""

    def __init__(self, wh: Warehouse, inbox: Inbox, folder: Path, reader: Reader) -> None:
        self.wh, self.inbox, self.folder, self.reader = wh, inbox, folder, reader

    def stage(self) -> staging.Part | None:
        cursors = ingest_new(self.wh, self.inbox, self.reader)
        # finished panes are renamed into place by the runner, so a listed file is whole;
        # panes moved aside by a loader that died before its merge are merged now
        loading = self.folder / "loading"
        loading.mkdir(parents=True, exist_ok=True)
        for f in self.folder.glob("*.parquet"):
            f.rename(loading / f.name)
        files = sorted(p.name for p in loading.glob("*.parquet"))
        if not files and not cursors:
            return None
        pid = staging.part_id("unbounded", None, *files,
                              *(f"{c.path}:{c.read_to}:{c.fingerprint}" for c in cursors))
        return staging.Part(pid, "unbounded", loading, None, None, cursors=tuple(cursors))


def start_unbounded(run: BeamRun, inbox: str, staging_dir: str, spec: ModelSpec,
                    channels: dict[str, ChannelMapping], district: District, *,
                    poll_seconds: float = 2.0, pseudonym_key: bytes | None = None) -> PipelineResult:
    """Submit the unbounded pipeline to the runner ``run`` names; it keeps running there until
    cancelled. The inbox, the staging folder and the model files must be reachable at these
    paths from the workers and (inbox, staging) from this process, whose loader merges the
    panes (:class:`StagedPanes`)."""
    p = beam.Pipeline(options=run.options("--streaming"))
    build_unbounded(match_inbox(p, inbox, poll_seconds), inbox, staging_dir, spec, channels, district,
                    run.batch_size, pseudonym_key)
    return p.run()
