"""The whole demo flow on a small generated district (2 weeks), run once per session.

Asserts the identities that must hold: every record lands exactly once, demand = matched +
unmet in every gap cell, no service over capacity, the report names its week; and that a
re-run changes nothing and personal data reaches no analytical table or report.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner


pytestmark = pytest.mark.slow

SNAPSHOT_TABLES = ("feedback", "raw_hotline", "raw_platform", "raw_meeting", "raw_survey",
                   "survey_answers", "quarantine", "demand_items", "matches", "capacity")


def _snapshot(db: Path) -> dict[str, str]:
    from warehouse.resource import connect

    con = connect(db, read_only=True)
    try:
        out = {}
        for t in SNAPSHOT_TABLES:
            cols = {
                "demand_items": "item_id, feedback_id, category, text, tokens, top3",
                "matches": "item_id, status, service_id, reason",
                "quarantine": "quarantine_id, reason, raw_payload",
            }.get(t, "* exclude (ingested_at)" if t.startswith("raw_") or t == "feedback" else "*")
            rows = con.execute(f"select {cols} from {t} order by all").fetchall()
            out[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def demo(demo_district):
    return demo_district


def _one(db, sql, params=None):
    from warehouse.resource import connect

    con = connect(db, read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def test_every_record_lands_exactly_once(demo):
    counts, db = demo["manifest"]["counts"], demo["db"]
    # the weekly exports and the planted hot issues' (minsheng.demo.hot_issues)
    assert _one(db, "select count(*) from raw_hotline")[0][0] == counts["hotline"] + counts["hot_hotline"]
    assert _one(db, "select count(*) from raw_platform")[0][0] == counts["platform"] + counts["hot_platform"]
    assert _one(db, "select count(*) from raw_meeting")[0][0] == (
        counts["meeting_items"] + counts["hot_meeting_items"])
    assert _one(db, "select count(*) from raw_survey")[0][0] == counts["survey_valid"]
    assert _one(db, "select count(*) from quarantine where channel = 'survey'")[0][0] == (
        counts["survey_returned"] - counts["survey_valid"])
    # each feedback row became demand items or a dead letter, and each item was decided once
    assert _one(db, "select count(*) from feedback f where not exists "
                    "(select 1 from demand_items d where d.feedback_id = f.feedback_id) and not exists "
                    "(select 1 from quarantine q where q.record_id = f.feedback_id)")[0][0] == 0
    assert _one(db, "select count(*), count(distinct item_id) from matches")[0] == (
        _one(db, "select count(*), count(distinct item_id) from demand_items")[0])
    assert demo["summary"].demand_items == _one(db, "select count(*) from demand_items")[0][0]


def test_gap_identity_and_capacity(demo):
    db = demo["db"]
    assert _one(db, "select count(*) from gap_weekly where demand <> matched + unmet")[0][0] == 0
    assert _one(db, "select count(*) from provider_utilization where matched > capacity")[0][0] == 0
    # unserved categories show up as gaps instead of vanishing
    assert _one(db, "select sum(unmet) from gap_weekly where category = 'parking'")[0][0] > 0
    assert _one(db, "select count(*) from matches where status = 'unmet' and reason is null")[0][0] == 0


def test_all_data_checks_pass(demo):
    from warehouse.query import run_checks
    from warehouse.resource import connect

    con = connect(demo["db"], read_only=True)
    try:
        assert run_checks(con) == {k: 0 for k in run_checks(con)}
    finally:
        con.close()


def test_report_names_its_week(demo):
    report = demo["summary"].report
    week = demo["manifest"]["weeks"][-1]
    assert report.name == f"weekly-report-{week}.html"
    html = report.read_text(encoding="utf-8")
    assert f'id="report-week">{week}<' in html
    assert "满意度调查" in html and "供需缺口" in html
    assert "<b>75.0%</b>" in html  # the case study's overall weighted approval


def test_personal_data_appears_nowhere_outside_the_contacts_file(demo):
    import duckdb

    from warehouse.contacts import ContactsStore
    from warehouse.readers import snapshot_path
    from warehouse.resource import connect

    secrets = demo["manifest"]["pii"]
    assert len(secrets) > 50
    con = connect(demo["db"], read_only=True)
    try:
        assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'pii'").fetchall() == [(0,)]
        tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        dump = "".join(repr(con.execute(f'select * from "{s}"."{t}"').fetchall()) for s, t in tables)
    finally:
        con.close()
    with duckdb.connect(str(ContactsStore.beside(demo["db"]).path), read_only=True) as c:
        in_pii = repr(c.execute("select value from contacts").fetchall())
    snapshot = snapshot_path(demo["db"]).read_bytes()
    assert [p for p in secrets if p.encode() in snapshot] == []
    html = demo["summary"].report.read_text(encoding="utf-8")
    leaked = [p for p in secrets if p in dump or p in html]
    assert leaked == []
    assert any(p in in_pii for p in secrets)  # call-back numbers are kept, in their own file only


def test_every_form_of_the_report_is_written_and_free_of_personal_data(demo):
    import docx
    import openpyxl

    html = demo["summary"].report
    doc = docx.Document(str(html.with_suffix(".docx")))
    texts = [p.text for p in doc.paragraphs]
    texts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    wb = openpyxl.load_workbook(html.with_suffix(".xlsx"))
    texts += [str(c.value) for ws in wb for row in ws.iter_rows() for c in row if c.value is not None]
    pdf = html.with_suffix(".pdf")
    if pdf.exists():
        import pypdf

        texts += [page.extract_text() for page in pypdf.PdfReader(str(pdf)).pages]
    dump = "\n".join(texts)
    assert "供需缺口" in dump and "满意度调查" in dump
    assert [p for p in demo["manifest"]["pii"] if p in dump] == []


def test_planted_spike_is_an_emerging_need(demo):
    from warehouse.sql import read_sql

    spike = demo["manifest"]["spike"]
    rows = _one(demo["db"], read_sql("queries", "emerging"), {"week": spike["week"]})
    assert (spike["community"], spike["category"]) in {(r[0], r[1]) for r in rows}


def test_survey_reproduces_the_case_study(demo, settings):
    from warehouse.sql import read_sql

    rows = {r[0]: r for r in _one(demo["db"], read_sql("queries", "satisfaction"))}
    for item in settings.district.survey.items:
        assert rows[item.code][3] == round(100 * item.positive, 1), item.code
    assert rows["Q10"][4] == 48.8


def test_query_cli_reads_the_warehouse(demo):
    from flows.cli import app

    week = demo["manifest"]["weeks"][-1]
    runner = CliRunner()
    res = runner.invoke(app, ["query", "gaps", "--param", f"week={week}", "--format", "json",
                              "--db", str(demo["db"])])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert rows and all(r["demand"] == r["matched"] + r["unmet"] for r in rows)
    refused = runner.invoke(app, ["query", "select * from pii.contacts", "--db", str(demo["db"])])
    assert refused.exit_code == 2 and 'schema "pii" does not exist' in refused.output


def test_rerun_changes_nothing(demo, monkeypatch):
    from flows.demo import demo_flow

    for k, v in demo["env"].items():
        monkeypatch.setenv(k, v)
    before = _snapshot(demo["db"])
    again = demo_flow(str(demo["root"] / "inputs"), 2, 11)
    assert _snapshot(demo["db"]) == before
    assert again.demand_items == demo["summary"].demand_items
