"""Streaming: windowed counts under a runner's watermark (TestStream), the same counts in the
bounded micro-batches of the local mode, the inbox reader, and a streaming run over an inbox
that files are dropped into while it runs."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import apache_beam as beam
import pytest
from hypothesis import HealthCheck, Phase, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from apache_beam.metrics import MetricsFilter
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_stream
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import BeamAssertException, assert_that, equal_to
from apache_beam.transforms.window import TimestampedValue

from pipelines.windows import CountDemandByWindow, Watermarks, event_seconds
from tests.pipeline_support import (
    copy_channels,
    fresh_warehouse,
    generated_inputs,
    micro_batches,
    trained_models,
)
from warehouse.resource import Warehouse

T0 = datetime(2026, 11, 3, 9)  # the hourly window [09:00, 10:00) on 3 November


def _element(at: datetime, weight: int = 1, touched: int = 1, community: str = "C03") -> dict:
    return {"received_at": at, "community": community, "category": "elderly_care",
            "weight": weight, "touched": touched}


def _stamped(at: datetime) -> TimestampedValue:
    return TimestampedValue(_element(at), event_seconds(at))


def _panes(rows: beam.PCollection, start: datetime, label: str) -> beam.PCollection:
    return (rows
            | f"{label}Window" >> beam.Filter(lambda r: r["window_start"] == start)
            | f"{label}Pane" >> beam.Map(lambda r: (r["items"], r["timing"])))


def test_windows_under_the_runners_watermark():
    """Early pane before the window ends, on-time pane at the watermark, a late pane that
    carries the whole count within the allowed lateness, and nothing for later data."""
    stream = (
        test_stream.TestStream()
        .advance_watermark_to(event_seconds(T0))
        .add_elements([_stamped(T0 + timedelta(minutes=10)), _stamped(T0 + timedelta(minutes=20))])
        .advance_processing_time(61)  # the early firing, a minute of processing time
        .add_elements([_stamped(T0 + timedelta(minutes=30))])
        .advance_watermark_to(event_seconds(T0 + timedelta(hours=1, seconds=1)))
        .add_elements([_stamped(T0 + timedelta(minutes=40))])  # late, within two days
        .advance_watermark_to(event_seconds(T0 + timedelta(days=2, hours=1, minutes=1)))
        .add_elements([_stamped(T0 + timedelta(minutes=50))])  # too late for its hour
        .advance_watermark_to_infinity()
    )
    options = PipelineOptions(["--streaming"])
    # TestStream runs on the in-process BundleBasedDirectRunner (no Prism download)
    with BeamTestPipeline(runner="BundleBasedDirectRunner", options=options) as p:
        counts = p | stream | CountDemandByWindow()
        assert_that(_panes(counts["hourly"], T0, "Hour"),
                    equal_to([(2, "early"), (3, "on_time"), (4, "late")]), label="hourly")
        # the trend window ending 4 November closes at the second watermark step: the last
        # element is late for it but still within its lateness
        assert_that(_panes(counts["trend"], datetime(2026, 10, 28), "Closed"),
                    equal_to([(2, "early"), (4, "on_time"), (5, "late")]), label="trend-closed")
        assert_that(_panes(counts["trend"], datetime(2026, 11, 3), "Open"),
                    equal_to([(2, "early"), (5, "on_time")]), label="trend-open")


def test_micro_batch_windows_drop_and_count_too_late_data():
    """In a bounded run the driver's watermark decides: a window closed before the run is
    left alone and its new element counted as too late; the others get whole-window counts
    from new and re-read elements, timed against the watermark before and after the run."""
    before, after = datetime(2026, 11, 5, 10, 1), datetime(2026, 11, 5, 12, 0)
    elements = [
        _element(datetime(2026, 11, 3, 9, 50)),             # window closed on 5 Nov 10:00
        _element(datetime(2026, 11, 4, 12, 30)),            # late
        _element(datetime(2026, 11, 4, 12, 40), touched=0),  # stored state of that window
        _element(datetime(2026, 11, 4, 15, 10), touched=0),  # stored state, window untouched
        _element(datetime(2026, 11, 4, 16, 20), weight=0),  # an item being replaced
        _element(datetime(2026, 11, 5, 11, 10)),            # on time
        _element(datetime(2026, 11, 5, 13, 5)),             # early
    ]
    p = BeamTestPipeline(runner="FnApiRunner")
    counts = p | beam.Create(elements) | CountDemandByWindow(Watermarks(before, after))
    assert_that(
        counts["hourly"] | beam.Map(lambda r: (r["window_start"], r["items"], r["timing"], r["pane_index"])),
        equal_to([
            (datetime(2026, 11, 4, 12), 2, "late", None),
            (datetime(2026, 11, 4, 16), 0, "late", None),
            (datetime(2026, 11, 5, 11), 1, "on_time", None),
            (datetime(2026, 11, 5, 13), 1, "early", None),
        ]))
    result = p.run()
    result.wait_until_finish()
    late = result.metrics().query(MetricsFilter().with_name("hourly_too_late"))["counters"]
    assert sum(c.committed for c in late) == 1


def test_hour_cells_count_as_their_items_do():
    """Items folded into hour × community × category cells (weighted) give the same hourly
    and trend counts, and the same too-late count, as one element per item."""
    import random

    from pipelines.windows import window_cells, window_element

    rng = random.Random(11)
    items = [{"received_at": datetime(2026, 11, 1) + timedelta(minutes=rng.randrange(9 * 24 * 60)),
              "community": rng.choice(["C01", "C02", "C03"]),
              "category": rng.choice(["elderly_care", "employment", "other"])}
             for _ in range(400)]
    watermarks = Watermarks(datetime(2026, 11, 5, 10, 1), datetime(2026, 11, 10))
    assert len(window_cells(items)) < len(items)

    def some(rows):
        if not rows:
            raise BeamAssertException("no windows counted")

    p = BeamTestPipeline(runner="FnApiRunner")
    sides = {
        "items": p | "Items" >> beam.Create([window_element(i) for i in items]),
        "cells": p | "Cells" >> beam.Create(window_cells(items[:150]) + window_cells(items[150:])),
    }
    rows = {name: side | f"Count{name}" >> CountDemandByWindow(watermarks) for name, side in sides.items()}
    for kind in ("hourly", "trend"):
        tagged = [rows[name][kind] | f"Tag{name}{kind}" >> beam.Map(
                      lambda r, n=name: (repr(sorted(r.items())), n)) for name in sides]
        unmatched = (
            tagged
            | f"Both{kind}" >> beam.Flatten()
            | f"ByRow{kind}" >> beam.GroupByKey()
            | f"Unmatched{kind}" >> beam.Filter(lambda kv: sorted(kv[1]) != ["cells", "items"])
        )
        assert_that(unmatched, equal_to([]), label=f"same {kind} rows")
        assert_that(tagged[0], some, label=f"some {kind} rows")
    result = p.run()
    result.wait_until_finish()
    late = result.metrics().query(MetricsFilter().with_name("hourly_too_late"))["counters"]
    by_side = {c.key.step: c.committed for c in late}
    assert len(by_side) == 2 and len(set(by_side.values())) == 1 and min(by_side.values()) > 0, by_side


def test_complete_records_respects_quotes():
    from pipelines.inbox import complete_records

    data = b'id,text\n1,"two\nlines"\n2,"open\n'
    assert complete_records(data, quoted=True) == (len(b'id,text\n1,"two\nlines"\n'), 2)
    assert complete_records(b'{"a": 1}\n{"a"', quoted=False) == (9, 1)


def test_appended_lines_read_as_slices_match_the_whole_file(tmp_path, settings):
    """A hotline export read in two slices, the first ending in a half-written row, gives the
    records and rejections of the whole file, with the same positions."""
    from minsheng.channels import read_file
    from pipelines.inbox import Inbox

    header = "工单编号,受理时间,所属社区,来电号码,来电内容\n"
    rows = [f"GD{n:06d},2026-11-0{n % 5 + 1} 09:1{n}:00,{'南湖社区' if n != 3 else '无名社区'},"
            f"1381234567{n},楼道灯坏了{n}天了请尽快修\n" for n in range(1, 7)]
    whole = tmp_path / "whole" / "hotline" / "orders.csv"
    whole.parent.mkdir(parents=True)
    whole.write_text(header + "".join(rows), encoding="utf-8")
    growing = tmp_path / "inbox" / "hotline" / "orders.csv"
    growing.parent.mkdir(parents=True)
    growing.write_text(header + "".join(rows[:3]) + rows[3][:12], encoding="utf-8")

    def read(channel, path):
        return read_file(channel, path, settings.mapping(channel), settings.district)

    inbox = Inbox(tmp_path / "inbox", settle=0.0)
    [first] = inbox.scan({})
    assert (first.records_before, first.records) == (0, 3)
    with growing.open("a", encoding="utf-8") as fh:
        fh.write(rows[3][12:] + "".join(rows[4:]))
    [second] = inbox.scan({first.path: first.cursor()})
    assert (second.start, second.records_before, second.records) == (first.end, 3, 3)
    assert second.end == growing.stat().st_size

    def positions(batches):
        return (sorted((k, p) for b in batches for k, p in zip(b.records["key"].to_pylist(),
                                                               b.records["source_pos"].to_pylist())),
                sorted((p, r) for b in batches for p, r in zip(b.rejected["source_pos"].to_pylist(),
                                                               b.rejected["reason"].to_pylist())))

    sliced = positions([inbox.read(first, read), inbox.read(second, read)])
    assert sliced == positions([read("hotline", whole)])
    assert len(sliced[0]) == 5 and len(sliced[1]) == 1


@pytest.mark.slow
def test_streaming_run_over_an_inbox_that_files_land_in(tmp_path, tmp_path_factory, settings):
    """Files dropped and lines appended while the stream runs all end up processed once;
    the hourly counts add up to the items; every file is read to its end."""
    from minsheng.channels import CHANNELS, discover, read_file
    from pipelines.streaming import run_stream
    from warehouse.resource import connect
    from warehouse.staging import load_part

    base = tmp_path_factory.getbasetemp()
    models, inputs = trained_models(base, settings), generated_inputs(base, settings)
    db = fresh_warehouse(tmp_path / "w.duckdb")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    hotline = sorted((inputs / "hotline").glob("*.csv"))[0]
    lines = hotline.read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    (inbox / "hotline").mkdir()
    target = inbox / "hotline" / hotline.name
    target.write_bytes(b"".join(lines[:half]))

    stop = threading.Event()
    merged: list[dict] = []
    read: set[str] = set()  # inbox files with a merged read position

    def load(part):
        merged.append(load_part(Warehouse(db), part))
        read.update(c.path for c in part.cursors)
        return merged[-1]

    batches = micro_batches(db, inbox, tmp_path / "staging", models, settings)
    runner = threading.Thread(target=lambda: run_stream(batches, load, poll_seconds=0.2, stop=stop.is_set))
    runner.start()

    def wait_for(n_parts):
        deadline = time.monotonic() + 240
        while sum(m["merged"] for m in merged) < n_parts:
            assert runner.is_alive() and time.monotonic() < deadline
            time.sleep(0.2)

    try:
        wait_for(1)
        with target.open("ab") as fh:  # appended while the stream runs
            fh.write(b"".join(lines[half:]))
        wait_for(2)
        copy_channels(inputs, inbox, "platform", "meetings")  # new files land
        landed = {p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file()}
        deadline = time.monotonic() + 240
        while read != landed:
            assert runner.is_alive() and time.monotonic() < deadline
            time.sleep(0.2)
    finally:
        stop.set()
        runner.join()

    con = connect(db, read_only=True)
    try:
        feedback, unprocessed, items = con.execute("""
            select count(*),
                   count(*) filter (where not exists (select 1 from demand_items d where d.feedback_id = f.feedback_id)),
                   (select count(*) from demand_items)
            from feedback f""").fetchall()[0]
        hourly = con.execute("select sum(items) from demand_counts_hourly").fetchall()[0][0]
        too_late = con.execute("select sum(too_late) from processed_parts").fetchall()[0][0]
        ends = dict(con.execute("select path, read_to from inbox_files").fetchall())
    finally:
        con.close()
    landed = sum(read_file(ch, f, settings.mapping(ch), settings.district).records.num_rows
                 for ch in CHANNELS for f in discover(inbox, ch))
    assert feedback == landed
    assert unprocessed == 0 and items >= feedback
    assert hourly + too_late == items
    assert all(ends[p.relative_to(inbox).as_posix()] == p.stat().st_size
               for p in inbox.rglob("*") if p.is_file())


@pytest.mark.slow
def test_unbounded_pipeline_writes_panes_that_the_loader_merges(tmp_path, tmp_path_factory, settings):
    """The graph that runs on Flink or Dataflow, with TestStream in place of the inbox match:
    a file matched twice (it grew) is read twice and its records deduplicated; the runner's
    panes land in staging and the loader merges them, counts by pane, exactly once."""
    from apache_beam.io import fileio

    from minsheng.channels import read_file
    from pipelines.inbox import Inbox
    from pipelines.streaming import StagedPanes, build_unbounded
    from models.spec import ModelSpec
    from warehouse.resource import connect
    from warehouse.staging import load_part

    base = tmp_path_factory.getbasetemp()
    models, inputs = trained_models(base, settings), generated_inputs(base, settings)
    inbox = tmp_path / "inbox"
    copy_channels(inputs, inbox, "hotline", "platform")
    # the stream matches one file of each channel: the inbox holds only those
    hotline, platform = (str(sorted((inbox / c).glob("*"))[0]) for c in ("hotline", "platform"))
    for extra in [p for c in ("hotline", "platform") for p in sorted((inbox / c).glob("*"))[1:]]:
        extra.unlink()
    stream = (
        test_stream.TestStream()
        .advance_watermark_to(event_seconds(datetime(2026, 9, 1)))
        .add_elements([hotline])
        .add_elements([hotline])  # matched again after it grew: the same records again
        .advance_processing_time(61)
        .add_elements([platform])
        .advance_watermark_to_infinity()
    )
    spec = ModelSpec(str(models), str(settings.userdict), str(settings.stopwords))
    staging_dir = tmp_path / "staging"
    with BeamTestPipeline(runner="BundleBasedDirectRunner", options=PipelineOptions(["--streaming"])) as p:
        files = p | stream | fileio.ReadMatches()
        build_unbounded(files, str(inbox), str(staging_dir), spec, settings.channels, settings.district)
    assert {f.name.split("-")[0] for f in staging_dir.glob("*.parquet")} >= {"items", "hourly", "trend"}

    def read(channel, path):
        return read_file(channel, path, settings.mapping(channel), settings.district)

    db = fresh_warehouse(tmp_path / "w.duckdb")
    panes = StagedPanes(Warehouse(db), Inbox(inbox, settle=0.0), staging_dir, read)
    assert load_part(Warehouse(db), panes.stage())["merged"] == 1
    assert panes.stage() is None  # nothing new: no pane, no inbox data
    con = connect(db, read_only=True)
    try:
        feedback, items, unprocessed = con.execute("""
            select (select count(*) from feedback), (select count(*) from demand_items),
                   (select count(*) from feedback f where not exists
                       (select 1 from demand_items d where d.feedback_id = f.feedback_id))
        """).fetchall()[0]
        hourly, trend = con.execute("""
            select (select sum(items) from demand_counts_hourly),
                   (select sum(items) from demand_trend_daily)""").fetchall()[0]
    finally:
        con.close()
    assert feedback > 0 and unprocessed == 0
    assert hourly == items and trend == 7 * items  # last panes replaced earlier ones


@pytest.mark.slow
def test_process_cli_streaming_then_batch(prefect_harness, tmp_path, tmp_path_factory, settings,
                                          monkeypatch):
    import csv

    from typer.testing import CliRunner

    from flows.cli import app
    from minsheng.demo.generate import labelled_corpus
    from tests.conftest import point_settings_at
    from warehouse.resource import connect

    env = point_settings_at(tmp_path, monkeypatch)
    inbox = tmp_path / "inbox"
    copy_channels(generated_inputs(tmp_path_factory.getbasetemp(), settings), inbox, "hotline")
    runner = CliRunner()
    # a district with no model in use is told to train one, in one line, and nothing runs
    refused = runner.invoke(app, ["process", "--streaming", "--inbox", str(inbox), "--max-idle", "1"])
    assert refused.exit_code == 2 and "minsheng model train" in refused.output
    assert not Path(env["MINSHENG_DB"]).exists()
    labelled = tmp_path / "labelled.csv"
    with labelled.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([("text", "label"), *labelled_corpus(600, 7, settings.taxonomy)])
    trained = runner.invoke(app, ["model", "train", "--data", str(labelled), "--name", "district"])
    assert trained.exit_code == 0, trained.output
    streamed = runner.invoke(app, ["process", "--streaming", "--inbox", str(inbox), "--poll", "0.5",
                                   "--max-idle", "2"])
    assert streamed.exit_code == 0, streamed.output
    con = connect(Path(env["MINSHENG_DB"]), read_only=True)
    try:
        orders = sum(len(f.read_text(encoding="utf-8-sig").splitlines()) - 1
                     for f in (inbox / "hotline").glob("*.csv"))
        assert con.execute("select count(*) from feedback").fetchall()[0][0] == orders
        assert con.execute("""
            select count(*) from feedback f
            where not exists (select 1 from demand_items d where d.feedback_id = f.feedback_id)
              and not exists (select 1 from quarantine q where q.record_id = f.feedback_id)
        """).fetchall()[0][0] == 0
        assert con.execute("select count(*) from inbox_files").fetchall()[0][0] == len(
            list((inbox / "hotline").glob("*.csv")))
    finally:
        con.close()
    batch = runner.invoke(app, ["process"])  # everything is processed already
    assert batch.exit_code == 0, batch.output
    assert "'feedback': 0" in batch.output


# --- issue 12: no state of the inbox sticks it; each file identity handled on purpose ---------

def _poll(batches, db):
    from warehouse.staging import load_part

    part = batches.stage()
    return load_part(Warehouse(db), part) if part is not None else None


def _feedback(db) -> set[tuple[str, str]]:
    from warehouse.resource import connect

    con = connect(db, read_only=True)
    try:
        return set(con.execute("select feedback_id, content_hash from feedback").fetchall())
    finally:
        con.close()


def test_inbox_tricks_never_stick_a_stream(tmp_path, tmp_path_factory, settings):
    """Copy, rename, a broken line appended, replacement (longer and same size), truncation:
    each poll after them runs, records its positions, and loads exactly what is new."""
    import os
    import shutil

    from warehouse.staging import read_inbox_cursors

    base = tmp_path_factory.getbasetemp()
    models, inputs = trained_models(base, settings), generated_inputs(base, settings)
    db = fresh_warehouse(tmp_path / "w.duckdb")
    inbox = tmp_path / "inbox"
    (inbox / "hotline").mkdir(parents=True)
    (inbox / "platform").mkdir()
    hotline = sorted((inputs / "hotline").glob("*.csv"))[0]
    lines = hotline.read_bytes().splitlines(keepends=True)
    platform = sorted((inputs / "platform").glob("*.jsonl"))[0]
    (inbox / "hotline" / "h.csv").write_bytes(b"".join(lines[:-2]))
    shutil.copy(platform, inbox / "platform" / "a.jsonl")
    batches = micro_batches(db, inbox, tmp_path / "staging", models, settings)
    assert _poll(batches, db)["merged"] == 1
    first = _feedback(db)

    shutil.copy(platform, inbox / "platform" / "copy.jsonl")                 # a copy
    assert _poll(batches, db)["merged"] == 1 and _feedback(db) == first
    os.rename(inbox / "hotline" / "h.csv", inbox / "hotline" / "renamed.csv")  # a rename
    assert _poll(batches, db)["merged"] == 1 and _feedback(db) == first
    with (inbox / "platform" / "a.jsonl").open("ab") as fh:                   # a broken line
        fh.write(b'{"msg_id": "X1", "posted_at": \n')
    assert _poll(batches, db)["merged"] == 1 and _feedback(db) == first
    # replaced by longer content: the new records load, the old ones are duplicates
    (inbox / "hotline" / "renamed.csv").write_bytes(b"".join(lines[:1] + lines[-2:] + lines[1:-2]))
    assert _poll(batches, db)["merged"] == 1
    whole = _feedback(db)
    assert len(whole - first) == 2
    # replaced by content of the same size (two orders' texts swapped): both superseded
    row1, row2 = lines[1].rstrip(b"\n").split(b","), lines[2].rstrip(b"\n").split(b",")
    swapped = [b",".join(row1[:-1] + row2[-1:]) + b"\n", b",".join(row2[:-1] + row1[-1:]) + b"\n"]
    replaced = b"".join(lines[:1] + swapped + lines[3:])
    assert len(replaced) == len(b"".join(lines)) and row1[-1] != row2[-1]
    (inbox / "hotline" / "renamed.csv").write_bytes(replaced)
    assert _poll(batches, db)["merged"] == 1
    changed = whole - _feedback(db)
    assert len(changed) == 2
    (inbox / "hotline" / "renamed.csv").write_bytes(b"".join(lines[:3]))      # truncated
    assert _poll(batches, db)["merged"] == 1
    time.sleep(1.1)
    for _ in range(3):  # settles: at most one poll records trusted times, then nothing to do
        _poll(batches, db)
    assert _poll(batches, db) is None
    cursors = read_inbox_cursors(Warehouse(db))
    present = {p.relative_to(inbox).as_posix(): p for p in inbox.rglob("*") if p.is_file()}
    assert {c: (cursors[c].read_to, cursors[c].error) for c in present} == {
        c: (p.stat().st_size, None) for c, p in present.items()}
    from warehouse.resource import connect

    con = connect(db, read_only=True)
    try:
        bad = con.execute("select source_file, source_pos, reason from quarantine").fetchall()
    finally:
        con.close()
    n_lines = len(platform.read_bytes().splitlines())
    assert bad == [("a.jsonl", f"line {n_lines + 1}", "bad_json")]


_PLATFORM_POOL = [
    '{"msg_id": "P%d", "posted_at": "2026-11-03T%02d:00:00+08:00", "community": "C08", "content": "小区第%d号楼的路灯坏了"}\n'
    % (n, n % 24, n) for n in range(16)]
_HOTLINE_POOL = ["H%d,2026-11-03 %02d:10:00,响水社区,,第%d栋楼道很黑\n" % (n, n % 24, n) for n in range(16)]
_HOTLINE_HEAD = "工单编号,受理时间,所属社区,来电号码,来电内容\n"

_OPS = st.one_of(
    st.tuples(st.just("append"), st.integers(0, 3), st.lists(st.integers(0, 15), min_size=1, max_size=4)),
    st.tuples(st.just("copy"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("rename"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("replace"), st.integers(0, 3), st.lists(st.integers(0, 15), min_size=1, max_size=5)),
    st.tuples(st.just("truncate"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("delete"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("broken"), st.integers(0, 3), st.just(0)),
    st.tuples(st.just("poll"), st.just(0), st.just(0)),
)


def _inbox_name(n: int) -> str:
    return ("platform/p%d.jsonl" if n % 2 == 0 else "hotline/h%d.csv") % (n // 2)


def _apply(inbox: Path, op: tuple) -> None:
    import os
    import shutil

    kind, n, arg = op
    path = inbox / _inbox_name(n)
    csv_file = path.suffix == ".csv"
    pool, head = (_HOTLINE_POOL, _HOTLINE_HEAD) if csv_file else (_PLATFORM_POOL, "")
    if kind == "append":
        text = ("" if path.exists() else head) + "".join(pool[i] for i in arg)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(text)
    elif kind == "replace":
        path.write_text(head + "".join(pool[i] for i in arg), encoding="utf-8")
    elif kind in ("copy", "rename") and path.exists():
        target = inbox / _inbox_name(2 * arg + n % 2)  # the same channel
        if target != path:
            (shutil.copyfile if kind == "copy" else os.replace)(path, target)
    elif kind == "truncate" and path.exists():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text("".join(lines[:1 + arg] if csv_file else lines[:arg]), encoding="utf-8")
    elif kind == "delete" and path.exists():
        path.unlink()
    elif kind == "broken" and path.exists():
        with path.open("a", encoding="utf-8") as fh:
            fh.write('H99,"never closed\n' if csv_file else '{"msg_id": "P99", "posted_at": \n')


@hsettings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(ops=st.lists(_OPS, min_size=1, max_size=10))
@example(ops=[("append", 1, [0, 1]), ("poll", 0, 0), ("replace", 1, [2, 3, 4]), ("poll", 0, 0),
              ("replace", 1, [5, 6, 7]), ("rename", 1, 0), ("broken", 3, 0), ("append", 3, [8])])
def test_inbox_property_streamed_equals_one_batch_ingest(settings, tmp_path_factory, monkeypatch_stage, ops):
    """Any sequence of appends, copies, renames, replacements, truncations, deletions and
    broken lines, with micro-batches in between: the warehouse holds every record that was in
    a file at a poll once, as one batch ingest of those files does, and polls never fail."""
    import tempfile

    from minsheng.channels import read_file
    from warehouse import loader
    from warehouse.resource import connect

    root = Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp()))
    db = fresh_warehouse(root / "w.duckdb")
    inbox = root / "inbox"
    (inbox / "platform").mkdir(parents=True)
    (inbox / "hotline").mkdir()
    models = trained_models(tmp_path_factory.getbasetemp(), settings)
    batches = micro_batches(db, inbox, root / "staging", models, settings)
    seen: dict[str, bytes] = {}  # what each file held at some poll (all of them, in the batch)
    batch_db = fresh_warehouse(root / "batch.duckdb")

    def poll():
        _poll(batches, db)
        for p in sorted(inbox.rglob("*.*")):
            data = p.read_bytes()
            if data and data not in seen.values():
                seen[f"{len(seen)}-{p.name}"] = data

    for op in ops + [("poll", 0, 0)]:
        if op[0] == "poll":
            poll()
        else:
            _apply(inbox, op)
    con = connect(batch_db)
    try:
        for name, data in seen.items():
            path = root / "once" / name.split("-", 1)[1]
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            channel = "hotline" if path.suffix == ".csv" else "platform"
            loader.load_batch(con, read_file(channel, path, settings.mapping(channel), settings.district))
    finally:
        con.close()
    assert _feedback(db) == _feedback(batch_db)
    _poll(batches, db)  # a last look adds nothing
    assert _feedback(db) == _feedback(batch_db)


@pytest.fixture(scope="module")
def monkeypatch_stage():
    """Micro-batches without the text stage: the inbox, ingestion and the merge of positions
    are what the property test drives (the Beam run is the same for any input)."""
    from pipelines import batch

    saved = batch.run_part
    batch.run_part = lambda *a, **k: {}
    yield
    batch.run_part = saved
