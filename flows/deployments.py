"""The deployments a district schedules, served by one long-running process: ``minsheng serve``.

Prefect's ``serve`` (a runner in this process) rather than a ``prefect.yaml`` and a process work
pool: one command, nothing else to install or keep running next to it (no work pool, no worker),
the deployments defined in code next to the flows, and each scheduled run still a flow run of its
own, in a subprocess, with its logs in the UI. A team with a work pool can deploy the same
``RunnerDeployment`` objects with ``.deploy()``.

Schedules come from configuration (``schedules:`` in ``configs/``), on the district's clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from minsheng.settings import Settings


def deployments(s: Settings) -> list[Any]:
    """ingest-dropbox, stream, nightly, weekly-report and retrain, for the warehouse ``s.db``."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron, Interval

    from flows.pipeline import dropbox_flow, nightly_flow, retrain_flow, stream_flow, weekly_report_flow

    sch = s.schedules
    db = {"db": str(s.db.resolve())}
    one_at_a_time = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW)
    return [
        dropbox_flow.to_deployment(
            "ingest-dropbox", parameters=db, concurrency_limit=one_at_a_time,
            schedules=[Interval(timedelta(minutes=sch.dropbox_minutes), timezone=sch.timezone)],
            description="ingest what has landed in the drop folders; accepted files move to accepted/"),
        # a streaming run lasts until stopped. A run is scheduled every few minutes and cancelled
        # while one is running, so a streaming process that died is started again within that time
        stream_flow.to_deployment(
            "stream", parameters=db, concurrency_limit=one_at_a_time,
            schedules=[Interval(timedelta(minutes=sch.stream_check_minutes), timezone=sch.timezone)],
            description="the long-running streaming process over the inbox (restarted if it dies)"),
        nightly_flow.to_deployment(
            "nightly", parameters=db, concurrency_limit=one_at_a_time,
            schedules=[Cron(sch.nightly, timezone=sch.timezone)],
            description="process + match + data checks"),
        weekly_report_flow.to_deployment(
            "weekly-report", parameters=db,
            schedules=[Cron(sch.weekly_report, timezone=sch.timezone)],
            description="the weekly matching report for the ISO week that just ended"),
        retrain_flow.to_deployment(
            "retrain", parameters=db,
            description="retrain the model in use on its data and the review queue's corrections"),
    ]


def serve(s: Settings, *, limit: int | None = None) -> None:
    """Register the deployments with the Prefect API (``PREFECT_API_URL``) and run their
    scheduled and triggered runs until stopped."""
    from prefect import serve as prefect_serve

    prefect_serve(*deployments(s), limit=limit)


class LocalServer:
    """A Prefect server of this project's own (``prefect server start`` with its own
    ``PREFECT_HOME``) for as long as the ``with`` block runs: what ``make serve`` starts."""

    def __init__(self, home: str, port: int = 4200, host: str = "127.0.0.1") -> None:
        self.home, self.port, self.host = home, port, host
        self.api = f"http://{host}:{port}/api"
        self.ui = f"http://{host}:{port}"

    def __enter__(self) -> LocalServer:
        import os
        import subprocess
        import sys
        import time
        from pathlib import Path

        import httpx

        Path(self.home).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "PREFECT_HOME": self.home, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        env.pop("PREFECT_API_URL", None)
        prefect = str(Path(sys.executable).with_name("prefect"))
        self.proc = subprocess.Popen([prefect, "server", "start", "--host", self.host, "--port", str(self.port)],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the Prefect server exited ({self.proc.returncode}): is port {self.port} taken?")
            try:
                if httpx.get(f"{self.api}/health", timeout=2).status_code == 200:
                    os.environ["PREFECT_API_URL"] = self.api
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.__exit__()
        raise TimeoutError(f"the Prefect server did not answer on {self.api} within 180 s")

    def __exit__(self, *exc: object) -> None:
        import os
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except Exception:
                os.killpg(self.proc.pid, signal.SIGKILL)
