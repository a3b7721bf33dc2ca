"""A local Dask cluster for tests: ``dask scheduler`` and two ``dask worker`` processes on
localhost, free ports, their own temporary folders, this worktree on their PYTHONPATH, in a
process group of their own that is killed (SIGKILL to the group) at the end. The commands
and environment are ``minsheng cluster``'s (:mod:`flows.cluster`).

``LocalCluster`` would do in-process, but the workers here are what a person starts by hand
(``make cluster``): separate processes that import the package from their PYTHONPATH."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flows.cluster import scheduler_command, worker_command, worker_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    root: Path
    procs: list[subprocess.Popen] = field(default_factory=list)

    def worker_pids(self) -> dict[str, int]:
        """The worker processes the scheduler knows (name → pid; behind each is its nanny)."""
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            # each worker's own os.getpid() (the scheduler's worker info carries no pid)
            pids = client.run(os.getpid)
            names = {a: w["name"] for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
            return {names[a]: pid for a, pid in pids.items() if a in names}

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        from distributed import Client

        with Client(self.address, timeout=timeout) as client:
            client.wait_for_workers(n, timeout=timeout)

    def stop(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            proc.wait(timeout=30)


def start_cluster(workers: int = 2, env: dict[str, str] | None = None) -> Cluster:
    root = Path(tempfile.mkdtemp(prefix="minsheng-dask-"))
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = worker_env(env)
    cluster = Cluster(address, root)

    def spawn(name: str, cmd: list[str]) -> None:
        (root / name).mkdir(exist_ok=True)
        log = open(root / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        cluster.procs.append(subprocess.Popen(
            cmd, cwd=root / name, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True))  # a process group of its own: killpg takes its children too

    try:
        spawn("scheduler", scheduler_command("127.0.0.1", port))
        for i in range(workers):
            spawn(f"worker-{i}", worker_command(address, f"worker-{i}", root / f"worker-{i}"))
        deadline = time.monotonic() + 90
        while True:
            try:
                cluster.wait_for_workers(workers, timeout=30)
                break
            except Exception:
                if time.monotonic() > deadline or any(p.poll() is not None for p in cluster.procs):
                    raise
                time.sleep(0.5)
    except BaseException:
        cluster.stop()
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in root.glob("*.log"))
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"the Dask cluster did not start:\n{logs}") from None
    return cluster


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Cluster]:
    """A scheduler and two workers on localhost for the module's tests."""
    pytest.importorskip("distributed")
    cluster = start_cluster(2)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
