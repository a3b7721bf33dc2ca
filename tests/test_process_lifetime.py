"""The processes the CLI starts die with it: ``kill -9`` of ``minsheng`` while Prefect's
temporary server runs leaves no server behind (flows/lifetime.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import point_settings_at

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie is dead, only not yet reaped


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_kill_9_of_the_cli_takes_prefects_server_with_it(tmp_path):
    env = dict(os.environ) | point_settings_at(tmp_path) | {
        "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": "",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120", "MINSHENG_ENV": "test",
    }
    env.pop("PREFECT_API_URL")
    export = tmp_path / "h.csv"
    export.write_text("工单编号,受理时间,所属社区,来电号码,来电内容\nH1,2026-11-03 09:00:00,响水社区,,路灯坏了\n",
                      encoding="utf-8")
    cli = subprocess.Popen([sys.executable, "-c", "from flows.cli import main; main()", "ingest", "hotline",
                            str(export)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           cwd=Path(__file__).resolve().parents[1])
    server = None
    try:
        deadline = time.monotonic() + 120
        while server is None and time.monotonic() < deadline and cli.poll() is None:
            server = next((c for c in _children(cli.pid) if "uvicorn" in _cmdline(c)), None)
            time.sleep(0.05)
        assert server is not None, "the CLI started no Prefect server"
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait()
        deadline = time.monotonic() + 5
        while _alive(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server), f"Prefect's server {server} outlived the CLI"
    finally:
        if cli.poll() is None:
            cli.kill()
        if server is not None and _alive(server):  # the test failed: leave nothing behind
            os.kill(server, signal.SIGKILL)
