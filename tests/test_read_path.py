"""Red team: the planners' read path (``minsheng query``, ``warehouse.planner``) on a small
generated district whose callers' numbers are planted.

Every attack is tried twice, through the real CLI (typer's CliRunner) and through the Python
API, and must be refused in one line; nothing it tried may have happened (no file written, no
table dropped, no number shown). Then the snapshot itself: no ``pii`` schema, and none of the
planted numbers in its bytes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from warehouse.planner import QueryError, QueryRefused, QueryTimeout
from warehouse.query import run_query
from warehouse.readers import snapshot_path
from warehouse.resource import Warehouse


@pytest.fixture(scope="module")
def district(tmp_path_factory, settings):
    """One generated week, every channel ingested, the snapshot published."""
    from minsheng.channels import CHANNELS, discover, read_file
    from minsheng.demo.generate import generate_district
    from warehouse import loader
    from warehouse.loaders import load_reference

    root = tmp_path_factory.mktemp("redteam")
    inputs = root / "inputs"
    manifest = generate_district(inputs, 1, 4242, district=settings.district, taxonomy=settings.taxonomy,
                                 scale=0.3)
    db = root / "data" / "minsheng.duckdb"
    wh = Warehouse(db)
    wh.migrate()
    with wh.connect() as con:
        load_reference(con, settings.district, settings.taxonomy)
        for name in CHANNELS:
            for path in discover(inputs, name):
                loader.load_batch(con, read_file(name, path, settings.mapping(name), settings.district,
                                                 limits=settings.ingest.limits()))
    assert wh.publish_snapshot() is not None
    import json

    truth = json.loads((inputs / "truth" / "manifest.json").read_text(encoding="utf-8"))
    with duckdb.connect(str(wh.contacts.path), read_only=True) as c:
        callers = [r[0] for r in c.execute("select value from contacts where field = 'caller_phone'").fetchall()]
    assert manifest.counts and len(callers) > 20
    return {"db": db, "wh": wh, "callers": callers, "planted": truth["pii"], "root": root}


def _cli(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["query", *args, "--db", str(db)])
    return result.exit_code, result.output


def _refused_in_one_line(db: Path, sql: str, *, match: str, params: tuple[str, ...] = ()) -> str:
    code, out = _cli(db, sql, *params)
    lines = out.strip().splitlines()
    assert code == 2, out
    assert len(lines) == 1 and "Traceback" not in out, out
    assert match.lower() in lines[0].lower(), lines[0]
    return lines[0]


# --- the attacks of the issue, and more ------------------------------------------------------

ATTACKS = {
    # reading files, directly or through a table function
    "read_csv": ("select * from read_csv('/etc/passwd') limit 2", "read_csv"),
    "read_text": ("select * from read_text('/etc/passwd')", "read_text"),
    "read_blob": ("select * from read_blob('/etc/passwd')", "read_blob"),
    "read_json": ("select * from read_json('/etc/hostname')", "read_json"),
    "read_parquet": ("select * from read_parquet('/tmp/*.parquet')", "read_parquet"),
    "glob": ("select * from glob('/*')", "glob"),
    "sniff_csv": ("select * from sniff_csv('/etc/passwd')", "sniff_csv"),
    "parquet_metadata": ("select * from parquet_metadata('/tmp/x.parquet')", "parquet_metadata"),
    "file_as_table": ("select * from '/etc/passwd'", "/etc/passwd"),
    "file_in_subquery": ("select count(*) from (select * from read_csv_auto('/etc/passwd')) t", "read_csv_auto"),
    "file_in_cte": ("with t as (select * from read_text('/etc/shadow')) select * from t", "read_text"),
    "secrets": ("select * from duckdb_secrets()", "duckdb_secrets"),
    # statements other than a query
    "copy_to": ("copy (select 1) to '{tmp}/x.csv'", "COPY"),
    "copy_from": ("copy matches from '/etc/passwd'", "COPY"),
    "attach": ("attach '{db}' as w2 (read_only); select 1", "ATTACH"),
    "attach_rw": ("attach '{db}' as live (read_only false); drop table live.main.matches; select 1", "ATTACH"),
    "attach_contacts": ("attach '{contacts}' as c", "ATTACH"),
    "detach": ("detach minsheng", "DETACH"),
    "set_access": ("set enable_external_access = true", "SET"),
    "set_memory": ("set memory_limit = '20GB'", "SET"),
    "reset": ("reset lock_configuration", "SET"),
    "use": ("use memory", "SET"),
    "set_variable": ("set variable x = 1", "SET"),
    "pragma": ("pragma enable_profiling", "PRAGMA"),
    "pragma_version": ("pragma version", "PRAGMA"),
    "load": ("load httpfs", "INSTALL/LOAD"),
    "install": ("install httpfs", "INSTALL/LOAD"),
    "create_table": ("create table t (a int)", "CREATE"),
    "create_temp": ("create temp table t as select * from matches", "CREATE"),
    "create_macro": ("create macro m(a) as a", "CREATE"),
    "drop": ("drop table matches", "DROP"),
    "delete": ("delete from matches", "DELETE"),
    "insert": ("insert into matches select * from matches", "INSERT"),
    "update": ("update matches set status = 'matched'", "UPDATE"),
    "export": ("export database '{tmp}/dump'", "EXPORT"),
    "checkpoint": ("checkpoint", "CALL/CHECKPOINT"),
    "call": ("call duckdb_settings()", "CALL"),
    "begin": ("begin transaction", "BEGIN"),
    "vacuum": ("vacuum", "VACUUM"),
    "explain": ("explain analyze select 1", "EXPLAIN"),
    "two_queries": ("select 1; select 2", "2 statements"),
    "pivot_lookup": ("select * from (pivot matches on status)", "PIVOT without an IN list"),
    "query_then_copy": ("select 1; copy (select 1) to '{tmp}/y.csv'", "COPY"),
}


def _fill(sql: str, district, tmp_path: Path) -> str:
    return sql.format(db=district["db"], tmp=tmp_path, contacts=district["wh"].contacts.path)


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_through_the_cli(district, tmp_path, name):
    sql, match = ATTACKS[name]
    line = _refused_in_one_line(district["db"], _fill(sql, district, tmp_path), match=match)
    assert "not allowed" in line
    assert list(tmp_path.iterdir()) == []  # nothing was written


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_through_the_api(district, tmp_path, name):
    sql, match = ATTACKS[name]
    with pytest.raises(QueryRefused) as refused:
        run_query(district["wh"], _fill(sql, district, tmp_path))
    message = str(refused.value)
    assert "\n" not in message and match.lower() in message.lower()
    assert list(tmp_path.iterdir()) == []


def test_the_live_warehouse_keeps_its_tables(district):
    """The issue's attach … (read_only false); drop table … dropped matches in the live file."""
    _cli(district["db"], ATTACKS["attach_rw"][0].format(db=district["db"]))
    with district["wh"].connect(read_only=True) as con:
        assert con.execute("select count(*) from duckdb_tables() where table_name = 'matches'").fetchall() == [(1,)]


# --- what a SELECT cannot reach ----------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "select * from query_table('p' || 'ii.contacts') limit 2",
    "select * from query_table(chr(112) || 'ii.contacts')",
    "select * from query_table(['pii.contacts'])",
    "select * from query_table(lower('PII') || '.contacts')",
    "select * from pii.contacts",
    "select * from query('select * from pii.contacts')",
    "select * from query('attach ''{db}'' as x')",
])
def test_no_contact_is_reachable_from_a_query(district, sql):
    sql = sql.replace("{db}", str(district["db"]))
    code, out = _cli(district["db"], sql)
    assert code == 2 and len(out.strip().splitlines()) == 1, out
    assert not [n for n in district["callers"] if n in out]
    with pytest.raises(QueryError):
        run_query(district["wh"], sql)


def test_the_snapshot_is_the_only_database_in_reach(district):
    result = run_query(district["wh"], "select database_name, path from duckdb_databases() where not internal")
    assert [r[1] for r in result.rows] == [str(snapshot_path(district["db"]))]
    schemas = run_query(district["wh"], "select distinct schema_name from duckdb_schemas()").rows
    assert "pii" not in {r[0] for r in schemas}


def test_the_settings_are_locked_and_external_access_is_off(district):
    rows = dict(run_query(district["wh"], "select name, value from duckdb_settings() where name in "
                          "('enable_external_access', 'lock_configuration', 'autoinstall_known_extensions', "
                          "'autoload_known_extensions', 'threads', 'memory_limit')").rows)
    assert rows["enable_external_access"] == "false" and rows["lock_configuration"] == "true"
    assert rows["autoinstall_known_extensions"] == "false" and rows["autoload_known_extensions"] == "false"
    assert rows["threads"] == "2"


def test_a_python_variable_is_not_a_table(district):
    """DuckDB's Python client scans a local variable named in the SQL (a replacement scan)."""
    import pandas as pd

    local_secrets = pd.DataFrame({"phone": district["callers"]})  # noqa: F841 - the bait
    with pytest.raises(QueryError, match="local_secrets"):
        run_query(district["wh"], "select * from local_secrets")


def test_the_environment_is_not_readable(district):
    with pytest.raises(QueryError, match="getenv"):
        run_query(district["wh"], "select getenv('HOME')")


def test_parameters_are_bound_not_pasted(district):
    week = run_query(district["wh"], "select min(week) from feedback").rows[0][0]
    hostile = f"{week}' or 1=1 --"
    assert run_query(district["wh"], "select count(*) from feedback where week = $week", {"week": hostile}).rows == [(0,)]
    n = run_query(district["wh"], "select count(*) from feedback where week = $week", {"week": week}).rows[0][0]
    assert n > 0


# --- limits: time, memory, rows ----------------------------------------------------------------

CROSS_JOIN = "select count(*) from range(100000) a, range(100000) b, range(1000) c where a.range + b.range = c.range"


def test_a_long_query_is_interrupted_after_the_timeout(district, monkeypatch):
    monkeypatch.setenv("MINSHENG_QUERY__TIMEOUT_SECONDS", "1.5")
    line = _refused_in_one_line(district["db"], CROSS_JOIN, match="stopped after 1.5 s")
    assert "query.timeout_seconds" in line
    from minsheng.settings import load_settings

    with pytest.raises(QueryTimeout):
        run_query(Warehouse.from_settings(load_settings(db=district["db"])), CROSS_JOIN)


def test_a_query_beyond_the_memory_limit_fails_in_one_line(district, monkeypatch):
    monkeypatch.setenv("MINSHENG_QUERY__MEMORY_LIMIT", "200MB")
    sql = "select list(r) from (select random() as r, repeat('x', 100) as pad from range(50000000))"
    _refused_in_one_line(district["db"], sql, match="query.memory_limit (200MB)")


def test_an_answer_beyond_max_rows_is_refused(district, monkeypatch):
    monkeypatch.setenv("MINSHENG_QUERY__MAX_ROWS", "1000")
    _refused_in_one_line(district["db"], "select * from range(5000)", match="more than 1,000 rows")


def test_a_long_query_does_not_hold_the_live_file(district):
    """While a planner's query runs, a writer in another process opens the live warehouse at
    once (DuckDB's file lock is per process: the writer must be another one)."""
    import subprocess
    import sys
    import threading

    from warehouse.planner import PlannerLimits

    wh = Warehouse(district["db"], limits=PlannerLimits(timeout_seconds=10))
    started, outcome = threading.Event(), []

    def long_query() -> None:
        with wh.planner() as con:
            started.set()
            try:
                con.execute(CROSS_JOIN)
            except QueryTimeout as exc:
                outcome.append(exc)

    t = threading.Thread(target=long_query)
    t.start()
    assert started.wait(30)
    writer = subprocess.run([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                             "c.execute('create table _probe (x int)'); c.execute('drop table _probe')",
                             str(district["db"])], capture_output=True, text=True, timeout=60)
    still_running = t.is_alive()
    t.join(60)
    assert writer.returncode == 0, writer.stderr
    assert still_running and outcome  # the query was still running, and then timed out


# --- errors that are not attacks ---------------------------------------------------------------

@pytest.mark.parametrize("args, match", [
    (("selec 1",), "syntax error"),
    (("select no_such_column from feedback",), "no_such_column"),
    (("select * from no_such_table",), "no_such_table"),
    (("select count(*) from feedback where week = $week",), "needs a value for week"),
    (("gaps",), "needs a value for week"),
    (("gaps", "-p", "week"), "has no value"),
    (("gaps", "-p", "=2026-W47"), "has no value"),
    (("no_such_query",), "no queries named 'no_such_query'"),
    (("   ;  ",), "no SQL to run"),
])
def test_errors_are_one_line(district, args, match):
    code, out = _cli(district["db"], *args)
    lines = out.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in out, out
    assert match.lower() in lines[0].lower(), lines[0]


def test_csv_output_escapes_formulas(district, capfd):
    sql = ("select '=HYPERLINK(\"http://x\",\"y\")' as a, '+1' as b, '-2+3' as c, '@SUM(A1)' as d, "
           "'ok' as e, -5 as n")
    code, out = _cli(district["db"], sql, "--format", "csv")
    assert code == 0, out
    import csv
    import io

    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1] == ["'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'-2+3", "'@SUM(A1)", "ok", "-5"]


# --- the snapshot ------------------------------------------------------------------------------

def test_the_snapshot_has_no_pii_schema(district):
    with duckdb.connect(str(snapshot_path(district["db"])), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert "pii" not in schemas and "contacts" not in tables
    assert {"feedback", "raw_hotline", "matches"} <= tables | {"feedback"}


def test_no_planted_number_is_in_the_snapshots_bytes(district):
    callers, planted = district["callers"], district["planted"]
    snapshot = snapshot_path(district["db"]).read_bytes()
    assert [n for n in callers + planted if n.encode() in snapshot] == []
    assert [n for n in callers if n.encode() in district["db"].read_bytes()] == []
    # the check can fail: the contacts file (not encrypted here) holds the numbers in its bytes
    contacts = district["wh"].contacts.path.read_bytes()
    assert sum(n.encode() in contacts for n in callers) > len(callers) // 2
