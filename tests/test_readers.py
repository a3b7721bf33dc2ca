"""A planner's query while a flow writes: another process holds the warehouse open for a load,
and ``minsheng query``, run as its own process, answers from the published snapshot."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb
import pytest

from tests.matching_warehouse import build
from warehouse.resource import Warehouse

WEEK = "2026-W47"

# A flow's write stage in its own process: open the warehouse, load (re-match the week after
# adding capacity), then keep the file until told to finish; close and publish.
WRITER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from minsheng.matching import load_match_config
    from minsheng.settings import load_settings
    from warehouse import loader, query, resource, sql
    from warehouse.loaders import match_week
    from warehouse.readers import publish_snapshot

    db = Path(sys.argv[1])
    s = load_settings()
    con = resource.connect(db)
    con.execute("update capacity set capacity = 3 where service_id = 'elderly_base.daycare' and week = ?", [sys.argv[2]])
    match_week(con, sys.argv[2], load_match_config(s.config_dir / "matching.yaml", s.district.community_codes))
    print("loaded", flush=True)
    sys.stdin.readline()
    con.close()
    publish_snapshot(db)
    print("published", flush=True)
""")

MATCHED = "select count(*) as matched from matches where status = 'matched' and week = $week"


def _query_cli(db, sql=MATCHED):
    """``minsheng query`` in a process of its own."""
    out = subprocess.run([sys.executable, "-m", "flows.cli", "query", sql, "-p", f"week={WEEK}",
                          "--format", "json", "--db", str(db)],
                         capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout, out.stderr


@pytest.fixture
def published(tmp_path, settings):
    from minsheng.matching import load_match_config
    from warehouse import resource
    from warehouse.loaders import match_week
    from warehouse.readers import publish_snapshot

    db = tmp_path / "w.duckdb"
    build(db, tmp_path / "supply.yaml")
    con = resource.connect(db)
    match_week(con, WEEK, load_match_config(settings.config_dir / "matching.yaml", settings.district.community_codes))
    con.close()
    assert publish_snapshot(db) is not None
    return db


def test_query_during_a_load_reads_the_snapshot(published):
    from warehouse.query import run_query

    db = published
    assert run_query(Warehouse(db), MATCHED, {"week": WEEK}).rows == [(4,)]
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), WEEK], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "loaded"
        with pytest.raises(duckdb.IOException, match="lock"):  # the live file is the writer's
            duckdb.connect(str(db), read_only=True)
        code, out, err = _query_cli(db)
        assert code == 0, err
        assert json.loads(out) == [{"matched": 4}]  # the state published before the load
        assert "answered from the snapshot published at" in err
    finally:
        writer.communicate("done\n", timeout=120)
    assert writer.returncode == 0
    # the writer has published again: the snapshot is current and holds the load
    result = run_query(Warehouse(db), MATCHED, {"week": WEEK})
    assert (result.rows, result.source.kind, result.source.current) == ([(5,)], "snapshot", True)


def test_a_changed_warehouse_is_published_anew_when_no_one_writes(published):
    from warehouse import resource
    from warehouse.query import run_query
    from warehouse.readers import snapshot_state

    before = snapshot_state(published).published_at
    con = resource.connect(published)
    con.execute("delete from matches where item_id like 'hotline:p%'")
    con.close()
    assert not snapshot_state(published).current
    result = run_query(Warehouse(published), "select count(*) from matches where week = $week", {"week": WEEK})
    assert (result.rows, result.source.kind, result.source.current) == ([(8,)], "snapshot", True)
    assert result.source.published_at > before


def test_no_snapshot_and_a_writer_is_a_clear_error(tmp_path):
    from warehouse.query import run_query
    from warehouse.readers import WarehouseBusy

    db = tmp_path / "w.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create table t as select 1 as x")
    con.close()
    writer = subprocess.Popen([sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); sys.stdin.readline()", str(db)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseBusy, match="no snapshot has been published yet"):
            run_query(Warehouse(db), "select * from t")
    finally:
        writer.communicate("\n", timeout=60)


def test_marked_marts_are_week_ordered_tables_in_the_snapshot_with_the_views_rows(published):
    from warehouse.readers import materialised_marts, snapshot_path

    marts = materialised_marts()
    assert {"gap_weekly", "unmet_reasons", "capacity_use", "hot_issues_weekly", "issue_texts"} <= set(marts)
    assert "issue_membership" not in marts  # one row per item: as big as the items, stays a view
    live = duckdb.connect(str(published), read_only=True)
    snap = duckdb.connect(str(snapshot_path(published)), read_only=True)
    try:
        kinds = dict(snap.execute("select table_name, table_type from information_schema.tables").fetchall())
        for mart, order in marts.items():
            assert kinds[mart] == "BASE TABLE", mart
            assert live.execute(f"select table_type from information_schema.tables where table_name = '{mart}'"
                                ).fetchall() == [("VIEW",)]
            want = live.execute(f"select * from {mart} order by all").fetchall()
            assert snap.execute(f"select * from {mart} order by all").fetchall() == want, mart
            keys = snap.execute(f"select {order} from {mart}").fetchall()  # stored order
            assert keys == sorted(keys, key=lambda r: tuple((v is not None, v) for v in r)), mart
        assert snap.execute("select count(*) from gap_weekly where week = $w and demand > 0", {"w": WEEK}
                            ).fetchone()[0] > 0
    finally:
        live.close()
        snap.close()


def test_category_trend_over_the_gap_table_counts_every_item(published):
    from warehouse.query import execute
    from warehouse.readers import snapshot_path
    from warehouse.sql import read_sql

    snap = duckdb.connect(str(snapshot_path(published)), read_only=True)
    try:
        got = execute(snap, read_sql("queries", "category_trend"), {"week": WEEK, "weeks": 4}).to_records()
        want = snap.execute("select week, category, count(*) from demand_items where week <= $w "
                            "group by all order by week, count(*) desc, category", {"w": WEEK}).fetchall()
        assert [(r["week"], r["category"], r["demand"]) for r in got] == want and want
        year = execute(snap, read_sql("queries", "community_year"),
                       {"community": "C03", "year": WEEK[:4]}).to_records()
        items = snap.execute("select count(*) from demand_items where community = 'C03'").fetchone()[0]
        assert sum(r["demand"] for r in year) == items > 0
    finally:
        snap.close()
