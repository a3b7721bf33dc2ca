"""Shared fixtures. Prefect gets a temporary PREFECT_HOME and one test harness for the
session; every warehouse, model and staging path points into a temporary folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_SESSION_TMP = Path(tempfile.mkdtemp(prefix="minsheng-tests-"))


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module imports prefect: its settings are read on import.
    os.environ["PREFECT_HOME"] = str(_SESSION_TMP / "prefect-home")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "120"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("MINSHENG_ENV", "test")


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def settings():
    from minsheng.settings import load_settings

    return load_settings()


def point_settings_at(root: Path, monkeypatch: pytest.MonkeyPatch | None = None) -> dict[str, str]:
    """Environment that sends every minsheng path under ``root``."""
    env = {
        "MINSHENG_DATA_DIR": str(root / "data"),
        "MINSHENG_DB": str(root / "data" / "minsheng.duckdb"),
        "MINSHENG_MODEL_DIR": str(root / "data" / "models"),
        "MINSHENG_STAGING_DIR": str(root / "data" / "staging"),
        "MINSHENG_REPORT_DIR": str(root / "reports"),
    }
    for k, v in env.items():
        if monkeypatch is not None:
            monkeypatch.setenv(k, v)
        else:
            os.environ[k] = v
    return env


@pytest.fixture
def warehouse(tmp_path):
    """A migrated warehouse file in a temporary folder, open for writing."""
    from warehouse import resource

    con = resource.connect(tmp_path / "warehouse.duckdb")
    resource.migrate(con)
    yield con
    con.close()


@pytest.fixture(scope="session")
def demo_district(prefect_harness, tmp_path_factory):
    """The demo flow over a small generated district (2 weeks, seed 11), run once per session,
    with every path under its own folder (``env``: the variables that point there; the test
    environment itself is left as it was). Tests that change it work on a copy."""
    import json

    root = tmp_path_factory.mktemp("demo")
    saved = dict(os.environ)
    env = point_settings_at(root)
    from flows.demo import demo_flow

    try:
        summary = demo_flow(str(root / "inputs"), 2, 11)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    manifest = json.loads((root / "inputs" / "truth" / "manifest.json").read_text(encoding="utf-8"))
    return {"root": root, "summary": summary, "manifest": manifest, "db": Path(env["MINSHENG_DB"]), "env": env}
