"""``minsheng cluster`` (``make cluster``): started as a person would, it prints the
scheduler's address and the command to run against it, the scheduler runs tasks on its
workers from this checkout, and SIGINT (Ctrl-C) stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from flows.cluster import ROOT
from tests.dask_cluster import free_port

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_cluster_command_starts_serves_and_stops(tmp_path):
    pytest.importorskip("distributed")
    from distributed import Client

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "cluster", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, start_new_session=True)
    children: list[int] = []
    try:
        lines = [proc.stdout.readline(), proc.stdout.readline()]
        address = f"tcp://127.0.0.1:{port}"
        assert lines[0].startswith(f"Dask scheduler at {address}: 2 workers"), lines
        assert lines[1].strip() == f"minsheng process --runner DaskRunner --dask_client_address {address}"
        with Client(address, timeout=30) as client:
            assert client.submit(lambda x: x + 1, 41).result(timeout=60) == 42
            pids = client.run(os.getpid)  # the workers themselves
            paths = client.run(lambda: __import__("pipelines").__file__)
        assert len(pids) == 2
        assert all(p.startswith(str(ROOT)) for p in paths.values()), paths
        children = [int(p) for p in subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                                   text=True).stdout.split()]
        assert len(children) == 3  # the scheduler and two nannies
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in [*children, *pids.values()]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in [*children, *pids.values()] if _alive(p)]
    finally:
        for pid in [proc.pid, *children]:  # each in a session of its own
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait()
