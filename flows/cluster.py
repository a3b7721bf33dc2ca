"""A local Dask cluster to try ``minsheng process --runner DaskRunner`` on (``minsheng
cluster``, ``make cluster``): one ``dask scheduler`` and ``workers`` ``dask worker``
processes (each with its nanny), started from this environment, in the foreground until
Ctrl-C. The workers import this checkout's code (it goes first on their PYTHONPATH), as the
driver does; the tests' cluster (``tests/dask_cluster.py``) starts the same commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the checkout: flows/, pipelines/, models/, …


def dask_command(*args: str) -> list[str]:
    """``dask …`` from this interpreter's environment."""
    cli = Path(sys.executable).parent / "dask"
    if cli.exists():
        return [str(cli), *args]
    return [sys.executable, "-m", "dask", *args]


def scheduler_command(host: str, port: int) -> list[str]:
    return dask_command("scheduler", "--host", host, "--port", str(port), "--no-dashboard")


def worker_command(address: str, name: str, local_dir: Path, *, host: str = "127.0.0.1",
                   nthreads: int = 1) -> list[str]:
    """A worker (and its nanny) of ``nthreads`` threads: each thread sets up its own DoFns
    and the worker process loads the text models once. No memory limit: the nanny would
    restart a worker over a model's resident size."""
    return dask_command("worker", address, "--name", name, "--nthreads", str(nthreads),
                        "--nworkers", "1", "--local-directory", str(local_dir),
                        "--no-dashboard", "--memory-limit", "0", "--host", host)


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The processes' environment: this checkout first on PYTHONPATH, models offline, and
    non-daemon worker processes (a DoFn may start processes of its own)."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, **(extra or {}), "PYTHONPATH": path,
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
            "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}


def wait_for_workers(address: str, n: int, timeout: float, alive: Callable[[], bool]) -> None:
    """Until ``n`` workers have registered with the scheduler at ``address`` (or raise)."""
    from distributed import Client

    deadline = time.monotonic() + timeout
    while True:
        try:
            with Client(address, timeout=min(30, timeout)) as client:
                client.wait_for_workers(n, timeout=max(1, deadline - time.monotonic()))
            return
        except Exception:
            if time.monotonic() > deadline or not alive():
                raise
            time.sleep(0.5)


def run_local_cluster(host: str = "127.0.0.1", port: int = 8786, workers: int = 2,
                      threads: int = 1, say: Callable[[str], None] = print) -> int:
    """Start the scheduler and the workers, say where they are, and wait until Ctrl-C
    (SIGINT or SIGTERM) or until one of them exits; then stop them all. The exit status:
    0 when stopped, 1 when a process ended by itself."""
    address = f"tcp://{host}:{port}"
    root = Path(tempfile.mkdtemp(prefix="minsheng-cluster-"))
    env = worker_env()
    procs: list[subprocess.Popen] = []

    def spawn(cmd: list[str]) -> None:
        # a session of its own: a nanny's worker goes with it, and Ctrl-C reaches only us,
        # so that the workers stop before the scheduler does
        procs.append(subprocess.Popen(cmd, cwd=root, env=env, start_new_session=True))

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    # both, explicitly: a shell's background job inherits SIGINT ignored
    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        spawn(scheduler_command(host, port))
        for i in range(workers):
            (root / f"worker-{i}").mkdir()
            spawn(worker_command(address, f"worker-{i}", root / f"worker-{i}", host=host, nthreads=threads))
        wait_for_workers(address, workers, 120, lambda: all(p.poll() is None for p in procs))
        say(f"Dask scheduler at {address}: {workers} workers of {threads} thread(s); Ctrl-C stops them all.")
        say(f"  minsheng process --runner DaskRunner --dask_client_address {address}")
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        say("a cluster process ended by itself: stopping the others")
        status = 1
    except KeyboardInterrupt:
        say("stopping the workers and the scheduler")
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        _stop([*procs[1:], *procs[:1]])  # the workers first, then the scheduler
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    return status


def _stop(procs: list[subprocess.Popen], grace: float = 10) -> None:
    """SIGTERM to each process group, SIGKILL to those still there after ``grace`` seconds."""
    for p in procs:
        _signal_group(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        _signal_group(p, signal.SIGKILL)  # the group: a nanny's worker too
        p.wait()


def _signal_group(p: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(p.pid, sig)
    except ProcessLookupError:
        pass
