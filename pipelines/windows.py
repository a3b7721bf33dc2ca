"""Windowed demand counts: fixed 1-hour windows for the counts, 7-day windows sliding by a
day for trend sensing, both keyed by community × category.

Event time is the record's received time. It is the district's wall-clock time (naive,
Asia/Shanghai) read as UTC, so that windows start on the district's own hours and midnights.

Two execution modes:

* **unbounded** (``watermarks=None``; Flink, Dataflow, TestStream): Beam windows with an
  AfterWatermark trigger, that is early panes every minute of processing time, an on-time
  pane when the watermark passes the end of the window, and a late pane for every late
  element within the allowed lateness of two days. Panes accumulate, so each carries the
  window's whole count and the loader replaces the stored count instead of adding to it. The
  runner drops later data in its GroupByKey.
* **bounded** (a batch, or one micro-batch of the local streaming mode): the run is the
  firing, once per window it touches. The same WindowFns assign the windows, which then key
  a plain combine (Beam's trigger machinery would count element by element in Python, at a
  cost above the text models'). A bounded run has no watermark of its own, so the driver
  passes the one it keeps between micro-batches (:class:`Watermarks`): windows closed before
  the run are dropped and their new elements counted (``hourly_too_late``), and the timing
  of each firing (early, on time, late) comes from it. Each micro-batch re-reads from the
  warehouse what the windows it touches already hold (elements with ``touched=0``), so that
  its counts are whole-window counts, as the runner's accumulated window state would be.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import apache_beam as beam
import pyarrow as pa
from apache_beam.metrics import Metrics
from apache_beam.transforms import trigger, window
from apache_beam.utils.timestamp import Duration, Timestamp

from pipelines.transforms import NAMESPACE

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TREND_SIZE = timedelta(days=7)
ALLOWED_LATENESS = timedelta(days=2)
EARLY_FIRING = timedelta(seconds=60)


# What the window state re-read from the warehouse looks like (see ``window_element``).
ELEMENT_SCHEMA = pa.schema([
    ("received_at", pa.timestamp("us")),
    ("community", pa.string()),
    ("category", pa.string()),
    ("weight", pa.int64()),
    ("touched", pa.int64()),
])

_TIMING = {0: "early", 1: "on_time", 2: "late"}


def event_seconds(at: datetime) -> float:
    """Beam timestamp (seconds) of a naive wall-clock time."""
    return at.replace(tzinfo=UTC).timestamp()


def wall_time(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)


def window_element(item: dict[str, Any]) -> dict[str, Any]:
    """A freshly classified demand item as an element of the counts: it counts (weight 1)
    and it touches its windows, which are therefore recounted and written."""
    return {"received_at": item["received_at"], "community": item["community"],
            "category": item["category"], "weight": 1, "touched": 1}


def window_cells(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A batch of freshly classified demand items as elements of the counts, one per hour ×
    community × category, weighted by its items and timed at the start of the hour. Every
    time in an hour falls in the same hourly and daily-sliding windows, so the counts are
    those of :func:`window_element` per item, at a fraction of the elements."""
    cells: Counter[tuple[datetime, str, str]] = Counter()
    for item in items:
        hour = item["received_at"].replace(minute=0, second=0, microsecond=0)
        cells[(hour, item["community"], item["category"])] += 1
    return [{"received_at": hour, "community": community, "category": category,
             "weight": n, "touched": 1}
            for (hour, community, category), n in cells.items()]


@dataclass(frozen=True)
class Watermarks:
    """The event-time watermark before and after one bounded run. ``before`` is ``None`` in
    batch mode: a batch counts every window its items touch, and nothing is late."""

    before: datetime | None = None
    after: datetime | None = None

    def expired(self, end: datetime) -> bool:
        """Closed before this run: the watermark had passed the end plus the lateness."""
        return self.before is not None and self.before > end + ALLOWED_LATENESS

    def timing(self, end: datetime) -> str:
        if self.after is not None and end > self.after:
            return "early"
        if self.before is not None and end <= self.before:
            return "late"
        return "on_time"


def _triggered(fn: window.WindowFn) -> beam.WindowInto:
    return beam.WindowInto(
        fn,
        trigger=trigger.AfterWatermark(
            early=trigger.AfterProcessingTime(int(EARLY_FIRING.total_seconds())),
            late=trigger.AfterCount(1),
        ),
        accumulation_mode=trigger.AccumulationMode.ACCUMULATING,
        allowed_lateness=Duration(seconds=ALLOWED_LATENESS.total_seconds()),
    )


class _Sums(beam.CombineFn):
    """Element-wise sums of equal-length tuples of ints."""

    def create_accumulator(self) -> tuple[int, ...]:
        return ()

    def add_input(self, acc: tuple[int, ...], value: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(a + b for a, b in zip(acc, value, strict=True)) if acc else tuple(value)

    def merge_accumulators(self, accs: Any) -> tuple[int, ...]:
        out: tuple[int, ...] = ()
        for acc in accs:
            out = self.add_input(out, acc) if acc else out
        return out

    def extract_output(self, acc: tuple[int, ...]) -> tuple[int, ...]:
        return acc


def _row(start: datetime, end: datetime, key: tuple[str, str], items: int, timing: str,
         pane_index: int | None) -> dict[str, Any]:
    return {"window_start": start, "window_end": end, "community": key[0], "category": key[1],
            "items": items, "timing": timing, "pane_index": pane_index}


class _Pane(beam.DoFn):
    """Unbounded: a window's pane as a row, timed by the runner."""

    def __init__(self, name: str) -> None:
        self.panes = Metrics.counter(NAMESPACE, f"{name}_panes")

    def process(self, kv: tuple[tuple[str, str], tuple[int, int]],
                w: window.IntervalWindow = beam.DoFn.WindowParam,
                pane: Any = beam.DoFn.PaneInfoParam) -> Iterator[dict[str, Any]]:
        self.panes.inc()
        yield _row(wall_time(float(w.start)), wall_time(float(w.end)), kv[0], kv[1][0],
                   _TIMING.get(pane.timing, "on_time"), pane.index)


class _AssignWindows(beam.DoFn):
    """Bounded: the windows of a bucket of time (an hour for the fixed windows, a day, the
    period, for the sliding ones: every time in a bucket falls in the same windows) from the
    same WindowFn, as part of the key, so that a plain combine counts them. A bounded run
    fires each window once, at its end; Beam's trigger machinery would count element by
    element in Python for nothing. Windows the watermark had closed before the run are
    dropped, and the new items in them counted."""

    def __init__(self, fn: window.WindowFn, name: str, watermarks: Watermarks) -> None:
        self.fn, self.watermarks = fn, watermarks
        self.too_late = Metrics.counter(NAMESPACE, f"{name}_too_late")

    def setup(self) -> None:
        # a bucket's windows depend on its time alone, and a run sees few distinct times
        self.windows: dict[float, list[tuple[float, float] | None]] = {}

    def _windows(self, bucket: float) -> list[tuple[float, float] | None]:
        """The bucket's windows as (start, end), ``None`` for one closed before the run."""
        if bucket not in self.windows:
            self.windows[bucket] = [
                None if self.watermarks.expired(wall_time(float(w.end))) else (float(w.start), float(w.end))
                for w in self.fn.assign(window.WindowFn.AssignContext(Timestamp.of(bucket)))
            ]
        return self.windows[bucket]

    def process(self, kv: tuple[tuple[Any, ...], tuple[int, int, int]]) -> Iterator[Any]:
        (bucket, *key), (items, touched, fresh) = kv
        for w in self._windows(bucket):
            if w is None:
                self.too_late.inc(fresh)
                continue
            yield (*w, *key), (items, touched)


class _Count(beam.PTransform):
    def __init__(self, fn: window.WindowFn, bucket: float, name: str,
                 watermarks: Watermarks | None) -> None:
        super().__init__()
        self.fn, self.bucket, self.name, self.watermarks = fn, bucket, name, watermarks

    def expand(self, elements: beam.PCollection) -> beam.PCollection:
        if self.watermarks is None:
            return (
                elements
                | "EventTime" >> beam.Map(
                    lambda e: window.TimestampedValue(
                        ((e["community"], e["category"]), (int(e["weight"]), int(e["touched"]))),
                        event_seconds(e["received_at"])))
                | "Window" >> _triggered(self.fn)
                | "Count" >> beam.CombinePerKey(_Sums())
                | "Pane" >> beam.ParDo(_Pane(self.name))
            )
        timing, size = self.watermarks.timing, self.bucket

        def cell(e: dict[str, Any]) -> tuple[tuple[Any, ...], tuple[int, int, int]]:
            seconds = event_seconds(e["received_at"])
            weight, touched = int(e["weight"]), int(e["touched"])
            return ((seconds - seconds % size, e["community"], e["category"]),
                    (weight, touched, weight * touched))

        def row(key: tuple[Any, ...], counts: tuple[int, int]) -> dict[str, Any]:
            start, end = wall_time(key[0]), wall_time(key[1])
            return _row(start, end, key[2:], counts[0], timing(end), None)

        return (
            elements
            | "Bucket" >> beam.Map(cell)
            | "CountPerBucket" >> beam.CombinePerKey(_Sums())
            | "AssignWindows" >> beam.ParDo(_AssignWindows(self.fn, self.name, self.watermarks))
            | "Count" >> beam.CombinePerKey(_Sums())
            # windows that no new element touched are not written
            | "Touched" >> beam.Filter(lambda kv: kv[1][1] > 0)
            | "Row" >> beam.MapTuple(row)
        )


class CountDemandByWindow(beam.PTransform):
    """Demand items per community × category in hourly windows (``hourly``) and in 7-day
    windows sliding by a day (``trend``), as rows of :data:`minsheng.records.WINDOW_COUNT`.

    Input elements are dicts with ``received_at``, ``community``, ``category``, ``weight``
    (1: counts; 0: an earlier version being replaced) and ``touched`` (1: new, so its windows
    are written; 0: window state re-read from the warehouse). See the module docstring for
    ``watermarks``.
    """

    def __init__(self, watermarks: Watermarks | None = None) -> None:
        super().__init__()
        self.watermarks = watermarks

    def expand(self, elements: beam.PCollection) -> dict[str, beam.PCollection]:
        hour, day = HOUR.total_seconds(), DAY.total_seconds()
        return {
            "hourly": elements | "Hourly" >> _Count(
                window.FixedWindows(hour), hour, "hourly", self.watermarks),
            "trend": elements | "Trend" >> _Count(
                window.SlidingWindows(TREND_SIZE.total_seconds(), day), day, "trend", self.watermarks),
        }
