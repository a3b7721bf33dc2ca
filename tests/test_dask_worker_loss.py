"""Exactly-once across a lost worker: a Dask worker process is killed (SIGKILL) while it runs
the text stage, and the warehouse the run (or its retry) leaves equals a clean FnApiRunner
run's, table for table.

The input is a generated week of about 1,000 records, so that the workers are busy for tens
of seconds (most of it, on fresh workers, importing and loading the models). The test polls
the scheduler for the call stacks of the running tasks until one is inside a text-stage step
(a batch DoFn's ``run_batch``: segmenting, say), then SIGKILLs that worker's process (not its
nanny: the nanny starts a new worker, as it would on a real cluster). Two cases:

* the scheduler's default ``allowed-failures``: Dask recomputes what was lost, on the other
  worker or the restarted one, and the run completes by itself;
* ``allowed-failures`` 0: the tasks that were running on the lost worker fail the run
  (``KilledWorker``), and the run is retried as ``minsheng process`` would be: the part
  staged again over what the failed attempt left behind.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.dask_cluster import dask_cluster  # noqa: F401 (fixture)
from tests.pipeline_support import copy_channels, fresh_warehouse, generated_inputs, snapshot, trained_models

pytestmark = pytest.mark.slow

SCALE = 1.0  # ~650 hotline orders, ~320 platform messages, ~20 meeting files
OUTPUTS = ("items", "dead", "hourly", "trend")  # the part files a run commits


def _ingest(root: Path, inbox: Path, settings):  # type: ignore[no-untyped-def]
    from minsheng.channels import read_file
    from pipelines.inbox import Inbox
    from pipelines.streaming import ingest_new
    from warehouse.resource import Warehouse

    wh = Warehouse(fresh_warehouse(root / "w.duckdb"))
    ingest_new(wh, Inbox(inbox, settle=0.5),
               lambda c, p: read_file(c, p, settings.mapping(c), settings.district))
    return wh


def _process(wh, root: Path, models: Path, settings, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    """What ``minsheng process`` does: stage a part (the text stage) and load it."""
    from models.spec import ModelSpec
    from pipelines.batch import BeamRun, stage_part
    from warehouse.issues import IssueSettings
    from warehouse.staging import load_part

    spec = ModelSpec(str(models), str(settings.userdict), str(settings.stopwords))
    part = stage_part(wh, root / "staging", spec, mode="batch", run=BeamRun(tuple(argv)))
    assert part is not None and part.feedback > 0
    load_part(wh, part, IssueSettings())


@pytest.fixture(scope="module")
def inputs(settings, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The models, the inbox and the clean FnApiRunner run's snapshot."""
    base = tmp_path_factory.getbasetemp()
    models = trained_models(base, settings)
    inbox = tmp_path_factory.mktemp("loss") / "inbox"
    copy_channels(generated_inputs(base, settings, scale=SCALE), inbox, "hotline", "platform", "meetings")
    old = time.time() - 3600
    for p in inbox.rglob("*"):
        os.utime(p, (old, old))
    root = tmp_path_factory.mktemp("loss-fnapi")
    wh = _ingest(root, inbox, settings)
    _process(wh, root, models, settings, [])
    return models, inbox, snapshot(root / "w.duckdb")


def _text_step(stack: list[str]) -> str | None:
    """The text-stage step a task's call stack is in (a batch DoFn's ``run_batch``: parse,
    segment, places, embed, classify), else None (model setup, the shuffle, the counts)."""
    inside = [f for f in stack if "pipelines/transforms.py" in f and ", in run_batch" in f]
    if not inside:
        return None
    i = stack.index(inside[-1])
    below = stack[i + 1:i + 2]  # what run_batch is calling, e.g. TextModels.segment
    return below[0].split(", in ")[1].split()[0] if below else "run_batch"


def _kill_mid_run(cluster, staging: Path, done: threading.Event, timeout: float = 150) -> dict:  # type: ignore[no-untyped-def]
    """Wait until a worker executes a text-stage step (its models loaded, rows in hand), then
    SIGKILL that worker's process. What was killed, when, and which part files were
    committed by then."""
    from distributed import Client

    start = time.monotonic()
    with Client(cluster.address, timeout=30) as client:
        while time.monotonic() < start + timeout and not done.is_set():
            committed = sorted(p.name for k in OUTPUTS for p in staging.glob(f"*/{k}-*.parquet"))
            # pids and names first (the workers, not their nannies), so that the kill follows
            # the sight of a running step as closely as it can
            pids = client.run(os.getpid)
            names = {a: w["name"] for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
            stacks = client.call_stack()  # worker address → {task key: call stack}
            busy = [(w, k, step) for w, tasks in stacks.items() for k, s in tasks.items()
                    if (step := _text_step(s)) and w in pids and w in names]
            if busy:
                address, key, step = busy[0]
                pid, name = pids[address], names[address]
                os.kill(pid, signal.SIGKILL)
                return {"name": name, "pid": pid, "key": key, "step": step, "committed": committed,
                        "after": round(time.monotonic() - start, 1)}
            time.sleep(0.2)
    raise AssertionError("the run ended (or timed out) before a worker was seen in the text stage")


def _run_with_kill(cluster, inputs, settings, root: Path) -> tuple[dict, list[BaseException | None]]:  # type: ignore[no-untyped-def]
    """A Dask run with a worker killed mid-run, retried (up to twice) while it fails: what
    was killed, and each attempt's outcome (None: it completed)."""
    models, inbox, _ = inputs
    argv = ["--runner", "DaskRunner", f"--dask_client_address={cluster.address}"]
    wh = _ingest(root, inbox, settings)

    def attempt() -> BaseException | None:
        try:
            _process(wh, root, models, settings, argv)
        except Exception as e:  # noqa: BLE001 (the outcome, for the test to judge)
            return e
        return None

    outcomes: list[BaseException | None] = []
    done = threading.Event()
    t = threading.Thread(target=lambda: (outcomes.append(attempt()), done.set()), daemon=True)
    t.start()
    try:
        killed = _kill_mid_run(cluster, root / "staging", done)
    finally:
        t.join(timeout=170)
    assert not t.is_alive(), "the run did not end after the worker was killed"
    while outcomes[-1] is not None and len(outcomes) < 3:
        outcomes.append(attempt())
    return killed, outcomes


def _restarted(cluster, killed: dict, timeout: float = 60) -> int:  # type: ignore[no-untyped-def]
    """The pid of the worker the nanny started in place of the killed one."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = cluster.worker_pids().get(killed["name"])
        if pid is not None and pid != killed["pid"]:
            return pid
        time.sleep(0.5)
    raise AssertionError(f"{killed['name']} was not restarted by its nanny")


def _differing(inputs, root: Path) -> set[str]:  # type: ignore[no-untyped-def]
    clean, on_dask = inputs[2], snapshot(root / "w.duckdb")
    return {k for k in clean if clean[k] != on_dask[k]}


def test_worker_killed_mid_run_is_recomputed(dask_cluster, inputs, settings, tmp_path):  # noqa: F811
    killed, outcomes = _run_with_kill(dask_cluster, inputs, settings, tmp_path)
    print(f"killed {killed['name']} (pid {killed['pid']}) after {killed['after']} s "
          f"in {killed['step']} ({killed['key']}), {len(killed['committed'])} part files committed; outcomes {outcomes!r}")
    assert outcomes == [None]  # Dask recomputed what was lost: no retry needed
    assert _restarted(dask_cluster, killed) != killed["pid"]
    assert _differing(inputs, tmp_path) == set()


def test_worker_killed_fails_the_run_and_a_retry_completes(dask_cluster, inputs, settings, tmp_path):  # noqa: F811
    from distributed import Client

    dask_cluster.wait_for_workers(2)

    def allow(n: int) -> None:
        with Client(dask_cluster.address, timeout=30) as c:
            c.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", n))

    allow(0)  # a task that was running on a lost worker fails the run
    try:
        # a kill can land just after the step it saw has finished (a short task on a quick
        # machine): then nothing running was lost and the run completes, so it is tried
        # again, until a run fails
        for n in range(4):
            root = tmp_path / f"try-{n}"
            root.mkdir()
            killed, outcomes = _run_with_kill(dask_cluster, inputs, settings, root)
            if outcomes[0] is not None:
                break
            assert _differing(inputs, root) == set()
            dask_cluster.wait_for_workers(2)
    finally:
        allow(3)
    print(f"killed {killed['name']} (pid {killed['pid']}) after {killed['after']} s "
          f"in {killed['step']} ({killed['key']}), {len(killed['committed'])} part files committed; outcomes {outcomes!r}")
    assert type(outcomes[0]).__name__ == "KilledWorker", outcomes
    assert outcomes[-1] is None, outcomes
    assert _differing(inputs, root) == set()
