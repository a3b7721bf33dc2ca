"""Scheduled operation: runs that tell the truth (FAILED with the file or check named), the
webhook told once, artifacts keyed by warehouse, the drop folder, and — against a real Prefect
server with `minsheng serve` — the deployments, their schedules and triggered runs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import point_settings_at

ROOT = Path(__file__).resolve().parents[1]
HEADER = "工单编号,受理时间,所属社区,来电号码,来电内容\n"


class Hook:
    """An HTTP receiver on localhost that records the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        received: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.append(json.loads(body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def hook():
    h = Hook()
    yield h
    h.close()


def _bad_orders(path: Path, rows: int = 5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"B{n},not a time,火星社区,,无效\n" for n in range(rows)), encoding="utf-8")
    return path


def _good_orders(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "G1,2026-11-03 09:00:00,响水社区,,想申请日间照料\n"
                    "G2,2026-11-03 10:00:00,C05,,楼道灯坏了\n", encoding="utf-8")
    return path


def test_an_all_quarantined_file_fails_its_run_and_tells_the_webhook_once(prefect_harness, tmp_path,
                                                                          monkeypatch, hook):
    from flows.pipeline import ingest_flow

    point_settings_at(tmp_path, monkeypatch)
    monkeypatch.setenv("MINSHENG_NOTIFY__WEBHOOK_URL", hook.url)
    bad = _bad_orders(tmp_path / "orders-bad.csv")
    good = _good_orders(tmp_path / "orders-good.csv")
    state = ingest_flow("hotline", [str(good), str(bad)], return_state=True)
    assert state.is_failed()
    assert "orders-bad.csv: 5 of 5 rows quarantined" in state.message and "orders-good" not in state.message
    result = state.result(raise_on_failure=False)
    assert result["loaded"] == 2 and result["quarantined"] == 5  # the good rows still loaded
    assert [h["state"] for h in hook.received] == ["FAILED"]
    assert "orders-bad.csv" in hook.received[0]["message"]


def test_an_unreadable_file_fails_and_a_good_run_completes(prefect_harness, tmp_path, monkeypatch, hook):
    from flows.pipeline import ingest_flow

    point_settings_at(tmp_path, monkeypatch)
    monkeypatch.setenv("MINSHENG_NOTIFY__WEBHOOK_URL", hook.url)
    not_a_table = tmp_path / "export.csv"
    not_a_table.write_text("id,when\n1,2\n", encoding="utf-8")
    state = ingest_flow("hotline", [str(not_a_table)], return_state=True)
    assert state.is_failed() and "cannot read export.csv" in state.message and "missing columns" in state.message
    ok = ingest_flow("hotline", [str(_good_orders(tmp_path / "o.csv"))], return_state=True)
    assert ok.is_completed()
    assert len(hook.received) == 1  # the completed run tells nobody


def test_a_failing_data_check_fails_the_check_run(prefect_harness, tmp_path, monkeypatch):
    from flows.pipeline import check_flow
    from warehouse.resource import connect, migrate

    env = point_settings_at(tmp_path, monkeypatch)
    con = connect(Path(env["MINSHENG_DB"]))
    migrate(con)
    con.close()
    assert check_flow(return_state=True).is_completed()
    con = connect(Path(env["MINSHENG_DB"]))
    for _ in range(2):  # one key twice
        con.execute("insert into raw_hotline values ('K', now()::timestamp, 'C01', 't', 'h', 'f', 'p', now()::timestamp)")
    con.close()
    state = check_flow(return_state=True)
    assert state.is_failed() and "duplicate_keys (1 rows)" in state.message


def test_dropbox_moves_only_what_the_ingest_accepted(prefect_harness, tmp_path, monkeypatch):
    from flows.pipeline import dropbox_flow

    env = point_settings_at(tmp_path, monkeypatch)
    box = tmp_path / "box"
    good = _good_orders(box / "hotline" / "good.csv")
    bad = _bad_orders(box / "hotline" / "bad.csv")
    unreadable = box / "hotline" / "broken.xlsx"
    unreadable.write_bytes(b"not a zip")
    state = dropbox_flow(folder=str(box), return_state=True)
    assert state.is_failed() and "bad.csv" in state.message and "broken.xlsx" in state.message
    assert not good.exists() and bad.exists() and unreadable.exists()
    assert list((box / "accepted").rglob("good.csv"))
    again = dropbox_flow(folder=str(box), return_state=True)  # the refused files are tried again
    assert again.result(raise_on_failure=False)["hotline"]["accepted"] == 0
    from warehouse.resource import connect

    con = connect(Path(env["MINSHENG_DB"]), read_only=True)
    assert con.execute("select count(*) from raw_hotline").fetchall() == [(2,)]
    con.close()


def test_artifact_keys_name_the_warehouse(tmp_path):
    from flows.context import RunContext
    from flows.outcome import artifact_key

    a = artifact_key(RunContext.load(tmp_path / "a" / "minsheng.duckdb"), "weekly-report")
    b = artifact_key(RunContext.load(tmp_path / "b" / "minsheng.duckdb"), "weekly-report")
    c = artifact_key(RunContext.load(tmp_path / "Nan Ping.duckdb"), "weekly-report")
    assert a != b and a.startswith("weekly-report-minsheng-") and c.startswith("weekly-report-nan-ping-")
    assert all(ch.islower() or ch.isdigit() or ch == "-" for ch in a + c)


@pytest.mark.parametrize(("now", "week"), [
    (datetime(2026, 11, 30, 8, 0), "2026-W48"),   # Monday 08:00: the week that ended yesterday
    (datetime(2026, 12, 6, 23, 59), "2026-W48"),  # Sunday night: that week has not ended
    (datetime(2027, 1, 4, 8, 0), "2026-W53"),
])
def test_the_weekly_report_is_for_the_week_that_just_ended(now, week):
    from flows.pipeline import last_complete_week

    assert last_complete_week(now) == week


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError("the Prefect server did not start")


def _api(method: str, url: str, **kwargs):  # type: ignore[no-untyped-def]
    """One API call, tried again while the server answers 5xx (busy on a loaded machine)."""
    for attempt in range(20):
        response = httpx.request(method, url, timeout=30, **kwargs)
        if response.status_code < 500:
            return response
        time.sleep(0.5 * (attempt + 1))
    return response


def _deployment(api: str, name: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = _api("POST", f"{api}/deployments/filter", json={"deployments": {"name": {"any_": [name]}}}).json()
        if found:
            return found[0]
        time.sleep(0.5)
    raise TimeoutError(f"deployment {name} was not registered")


def _run(api: str, deployment: dict, seconds: float = 300) -> dict:
    run = _api("POST", f"{api}/deployments/{deployment['id']}/create_flow_run", json={}).json()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = _api("GET", f"{api}/flow_runs/{run['id']}").json()
        if run["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(1)
    raise TimeoutError(f"run of {deployment['name']} did not finish: {run['state']}")


@pytest.mark.slow
def test_served_deployments_on_a_real_prefect_server(demo_district, tmp_path, hook):
    root = tmp_path / "district"
    shutil.copytree(demo_district["root"] / "data", root / "data",
                    ignore=shutil.ignore_patterns("staging", ".prefect*", "*.tmp"))
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "MINSHENG_"))}
    env.update({
        **{k: v for k, v in demo_district["env"].items()},  # replaced below: paths under root
        "MINSHENG_DATA_DIR": str(root / "data"), "MINSHENG_DB": str(root / "data" / "minsheng.duckdb"),
        "MINSHENG_MODEL_DIR": str(root / "data" / "models"), "MINSHENG_STAGING_DIR": str(root / "data" / "staging"),
        "MINSHENG_REPORT_DIR": str(root / "reports"),
        "MINSHENG_ENV": "test",
        "MINSHENG_INGEST__DROPBOX": str(root / "dropbox"),
        "MINSHENG_NOTIFY__WEBHOOK_URL": hook.url,
        "MINSHENG_MATCHING__REGISTRY": str(demo_district["root"] / "inputs" / "supply.yaml"),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_API_URL": api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # the test asks for scheduled runs itself, so that none starts on its own meanwhile
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    })
    prefect = str(Path(sys.executable).with_name("prefect"))
    server = subprocess.Popen([prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                              start_new_session=True)
    serving = None
    try:
        _wait_healthy(api, server)
        serving = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve"], env=env, cwd=ROOT,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        names = ["ingest-dropbox", "stream", "nightly", "weekly-report", "retrain"]
        deployments = {n: _deployment(api, n) for n in names}

        # the schedule, read back from the server: next run Monday 08:00 Asia/Shanghai
        weekly = deployments["weekly-report"]
        assert _api("POST", f"{api}/deployments/{weekly['id']}/schedule", json={"max_runs": 3}).status_code < 300
        scheduled = _api("POST", f"{api}/flow_runs/filter", json={
            "deployments": {"id": {"any_": [weekly["id"]]}}, "sort": "EXPECTED_START_TIME_ASC",
            "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}).json()
        first = datetime.fromisoformat(scheduled[0]["expected_start_time"]).astimezone(ZoneInfo("Asia/Shanghai"))
        assert (first.isoweekday(), first.hour, first.minute) == (1, 8, 0)

        # weekly-report triggered through the API: completed, with its artifacts and files
        week = demo_district["manifest"]["weeks"][-1]
        run = _api("POST", f"{api}/deployments/{weekly['id']}/create_flow_run",
                   json={"parameters": {"week": week}}).json()
        deadline = time.monotonic() + 300
        while run["state"]["type"] not in ("COMPLETED", "FAILED", "CRASHED") and time.monotonic() < deadline:
            time.sleep(1)
            run = _api("GET", f"{api}/flow_runs/{run['id']}").json()
        assert run["state"]["type"] == "COMPLETED", run["state"]
        assert (root / "reports" / f"weekly-report-{week}.html").exists()
        keys = {a["key"] for a in _api("POST", f"{api}/artifacts/filter", json={}).json() if a.get("key")}
        assert any(k.startswith("weekly-report-minsheng-") for k in keys)
        assert any(k.startswith("weekly-report-files-minsheng-") for k in keys)

        # an all-bad file in the drop folder: FAILED, the file named, one webhook call
        _bad_orders(root / "dropbox" / "hotline" / "all-bad.csv")
        failed = _run(api, deployments["ingest-dropbox"])
        assert failed["state"]["type"] == "FAILED"
        assert "all-bad.csv" in failed["state"]["message"]
        deadline = time.monotonic() + 10
        while not hook.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(hook.received) == 1 and "all-bad.csv" in hook.received[0]["message"]
    finally:
        for proc in (serving, server):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, 15)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, 9)
