"""Exactly-once loading: a retried bundle, a run killed (before, during and after its merge,
or by SIGKILL while Beam runs) and rerun, and the same inbox processed twice all leave the
same warehouse as one clean streaming run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pipeline_support import (
    copy_channels,
    fresh_warehouse,
    generated_inputs,
    micro_batches,
    snapshot,
    trained_models,
)
from warehouse.resource import Warehouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world(tmp_path_factory, settings):
    base = tmp_path_factory.getbasetemp()
    models, inputs = trained_models(base, settings), generated_inputs(base, settings)
    inbox = tmp_path_factory.mktemp("exactly-once") / "inbox"
    copy_channels(inputs, inbox, "hotline", "platform", "meetings")
    old = time.time() - 3600  # settled documents: every run reads the whole inbox in one poll
    for p in inbox.rglob("*"):
        os.utime(p, (old, old))
    return {"models": models, "inbox": inbox, "settings": settings}


def drain(world, db: Path, staging: Path, argv: list[str] | None = None) -> dict[str, int]:
    """Stream over the inbox until nothing new has landed for a second."""
    from pipelines.streaming import run_stream
    from warehouse.staging import load_part

    from warehouse.issues import IssueSettings

    batches = micro_batches(db, world["inbox"], staging, world["models"], world["settings"], argv)
    return run_stream(batches, lambda part: load_part(Warehouse(db), part, IssueSettings()),
                      poll_seconds=0.1, max_idle=1.0)


@pytest.fixture(scope="module")
def reference(world, tmp_path_factory):
    root = tmp_path_factory.mktemp("reference")
    db = fresh_warehouse(root / "w.duckdb")
    totals = drain(world, db, root / "staging")
    assert totals["parts"] == 1 and totals["items"] > 0 and totals["issues_assigned"] == totals["items"]
    return {"db": db, "snapshot": snapshot(db), "staging": root / "staging"}


def test_same_inbox_processed_twice(world, reference, tmp_path):
    again = drain(world, reference["db"], reference["staging"])
    assert again.get("parts", 0) == 0
    assert snapshot(reference["db"]) == reference["snapshot"]
    other = fresh_warehouse(tmp_path / "w.duckdb")
    drain(world, other, tmp_path / "staging")
    assert snapshot(other) == reference["snapshot"]


def test_retried_bundles(world, reference, tmp_path):
    # the runner replays every bundle once more, side effects (Parquet writes) included
    db = fresh_warehouse(tmp_path / "w.duckdb")
    drain(world, db, tmp_path / "staging", argv=["--direct_runner_bundle_repeat=1"])
    assert snapshot(db) == reference["snapshot"]


def test_killed_after_staging_before_the_merge(world, reference, tmp_path):
    db = fresh_warehouse(tmp_path / "w.duckdb")
    staged = micro_batches(db, world["inbox"], tmp_path / "staging", world["models"],
                           world["settings"]).stage()
    assert staged is not None and any(staged.folder.glob("items-*.parquet"))
    drain(world, db, tmp_path / "staging")  # the rerun: the staged part is never merged
    assert snapshot(db) == reference["snapshot"]


def test_killed_during_the_merge(world, reference, tmp_path, monkeypatch):
    from warehouse import staging
    from warehouse.staging import load_part

    db = fresh_warehouse(tmp_path / "w.duckdb")
    part = micro_batches(db, world["inbox"], tmp_path / "staging", world["models"],
                         world["settings"]).stage()
    before = snapshot(db)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed halfway through the merge")

    from warehouse.issues import IssueSettings

    monkeypatch.setattr(staging, "_close_windows", killed)  # after the issues are assigned
    with pytest.raises(KeyboardInterrupt):
        load_part(Warehouse(db), part, IssueSettings())
    assert snapshot(db) == before  # the transaction rolled back: items, counts, positions
    monkeypatch.undo()
    drain(world, db, tmp_path / "staging")
    assert snapshot(db) == reference["snapshot"]


def test_killed_by_sigkill_while_beam_runs(world, reference, tmp_path):
    db = fresh_warehouse(tmp_path / "w.duckdb")
    staging_dir = tmp_path / "staging"
    code = (
        "from pathlib import Path\n"
        "from minsheng.settings import load_settings\n"
        "from tests.test_exactly_once import drain\n"
        f"world = {{'models': Path({str(world['models'])!r}), 'inbox': Path({str(world['inbox'])!r}),"
        " 'settings': load_settings()}\n"
        f"drain(world, Path({str(db)!r}), Path({str(staging_dir)!r}))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[1],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        # a part folder with its input: ingestion is committed and Beam is starting
        while not any(staging_dir.glob("stream-*/input-state.parquet")):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(1.0)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    from warehouse.resource import connect

    con = connect(db, read_only=True)
    try:
        assert con.execute("select count(*) from processed_parts").fetchall()[0][0] == 0
        assert con.execute("select count(*) from feedback").fetchall()[0][0] > 0  # ingested
    finally:
        con.close()
    drain(world, db, staging_dir)
    assert snapshot(db) == reference["snapshot"]


def test_a_part_staged_on_an_older_head_is_refused(world, tmp_path):
    from warehouse.staging import StalePart, load_part

    db = fresh_warehouse(tmp_path / "w.duckdb")
    inboxes = {}
    for channel in ("hotline", "platform"):
        inboxes[channel] = tmp_path / channel
        copy_channels(world["inbox"], inboxes[channel], channel)
    hotline, platform = (
        micro_batches(db, inboxes[c], tmp_path / f"staging-{c}", world["models"], world["settings"]).stage()
        for c in ("hotline", "platform")
    )  # both computed on the same, empty head
    assert load_part(Warehouse(db), hotline)["merged"] == 1
    assert load_part(Warehouse(db), hotline)["merged"] == 0  # a part merged once is not merged again
    with pytest.raises(StalePart):
        load_part(Warehouse(db), platform)
