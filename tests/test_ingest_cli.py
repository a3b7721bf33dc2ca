"""`minsheng ingest` through the Prefect ingestion flow."""

from __future__ import annotations

import logging
from pathlib import Path

from typer.testing import CliRunner

from tests.conftest import point_settings_at
from warehouse import resource

HOSTILE = Path(__file__).parent / "data" / "hostile"
SECRETS = ("13812345678", "13912345678", "62781234", "11010519491231002X")


def test_ingest_counts_unreadable_inputs_and_no_personal_data_in_logs(prefect_harness, tmp_path, monkeypatch, caplog):
    from flows.cli import app

    env = point_settings_at(tmp_path, monkeypatch)
    not_a_table = tmp_path / "orders.csv"
    not_a_table.write_text("id,when\n1,2\n", encoding="utf-8")
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    files = [str(HOSTILE / "hotline_hostile.csv"), str(not_a_table), str(HOSTILE / "hotline_gbk.csv")]
    result = runner.invoke(app, ["ingest", "hotline", *files])
    assert result.exit_code == 1, result.output
    assert "read 15" in result.output and "loaded 9" in result.output and "quarantined 6" in result.output
    # said once, in one line, without the file's name twice; no failed task logged for it
    assert result.output.count("cannot read orders.csv: missing columns") == 1
    assert "orders.csv: orders.csv" not in result.output
    assert "Finished in state Failed" not in caplog.text
    again = runner.invoke(app, ["ingest", "hotline", files[0], files[2]])
    assert again.exit_code == 0 and "loaded 0" in again.output and "duplicate 9" in again.output
    logged = caplog.text + result.output + again.output
    assert [s for s in SECRETS if s in logged] == []
    con = resource.connect(Path(env["MINSHENG_DB"]), read_only=True)
    try:
        assert con.execute("select count(*) from raw_hotline").fetchall() == [(9,)]
    finally:
        con.close()
