"""Hot issues in the warehouse: the loader assigns each merged part's items to issues, keeps
``issues`` / ``issue_weeks`` up to date, a corrected record moves, re-merging changes nothing,
and planners' merges and splits survive later parts. Parts are staged by hand (Parquet files
as the Beam writers write them), so these tests need no Beam run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from minsheng.records import DEMAND_ITEM
from warehouse.issues import IssueSettings, merge_issues, split_issue
from warehouse.resource import Warehouse
from warehouse.staging import Part, head, load_part

T0 = datetime(2026, 11, 2, 9)  # a Monday: week 2026-W45
DIM = 128


def _vector(seed: int, noise: float = 0.0, base: int | None = None) -> list[float]:
    rng = np.random.default_rng(seed)
    v = np.random.default_rng(base if base is not None else seed).normal(size=DIM)
    v = v + noise * rng.normal(size=DIM)
    return list((v / np.linalg.norm(v)).astype(np.float32))


def _place(name: str, community: str) -> str:
    return json.dumps([{"kind": "estate", "name": name, "key": f"estate:{name[:2]}", "strength": 1.0,
                        "named": True, "entry": None, "community": community, "detail": None}],
                      ensure_ascii=False)


def _item(fid: str, n: int, text: str, at: datetime, topic: int, *, community: str = "C03",
          place: str | None = "阳光小区", category: str = "property", content_hash: str = "h1") -> dict:
    return {
        "item_id": f"{fid}#{n}", "feedback_id": fid, "channel": fid.split(":")[0], "received_at": at,
        "week": f"{at.isocalendar()[0]}-W{at.isocalendar()[1]:02d}", "community": community,
        "text": text, "tokens": " ".join(text), "keywords": [], "category": category, "label": category,
        "confidence": 0.9, "top3": "[]", "embedding": _vector(hash((fid, n)) % 1000, 0.05, base=topic),
        "place": place, "places": _place(place, community) if place else "[]",
        "content_hash": content_hash, "model_version": "test", "urgent": False, "sentiment": 0,
    }


def _stage(folder: Path, rows: list[dict], wh: Warehouse, name: str) -> Part:
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=DEMAND_ITEM), folder / "items-00000-of-00001.parquet")
    with wh.connect(read_only=True) as con:
        base = head(con).part_id
    return Part(name, "batch", folder, base, max(r["received_at"] for r in rows), len(rows))


@pytest.fixture
def wh(tmp_path) -> Warehouse:
    w = Warehouse(tmp_path / "w.duckdb")
    w.migrate()
    return w


LIFT = "阳光小区3栋电梯又坏了，老人上下楼很困难，希望尽快维修"
NOISE = "东风路工地晚上施工噪音太大，影响休息"


def _week_one() -> list[dict]:
    rows = []
    for k in range(6):  # six residents, one lift
        rows.append(_item(f"platform:L{k}", 1, LIFT + "！" * k, T0 + timedelta(hours=5 * k), topic=1))
    for k in range(3):  # three about one construction site, another place
        rows.append(_item(f"hotline:N{k}", 1, NOISE, T0 + timedelta(hours=7 * k + 1), topic=2,
                          place="东风路", category="public_security", community="C05"))
    return rows


def _table(wh: Warehouse, sql: str) -> list[tuple]:
    with wh.connect(read_only=True) as con:
        return con.execute(sql).fetchall()


def test_items_of_one_problem_form_one_issue_and_its_heat_counts_messages(wh, tmp_path):
    counts = load_part(wh, _stage(tmp_path / "p1", _week_one(), wh, "p1"), IssueSettings())
    assert counts["issues_assigned"] == 9
    issues = _table(wh, "select place, items, messages, status from issues order by items desc")
    assert issues == [("阳光小区", 6, 6, "new"), ("东风路", 3, 3, "new")]
    weeks = _table(wh, "select week, items from issue_weeks order by items desc")
    assert weeks == [("2026-W45", 6), ("2026-W45", 3)]
    with wh.connect(read_only=True) as con:
        from warehouse.query import execute
        from warehouse.sql import read_sql

        hot = execute(con, read_sql("queries", "hot_issues"), {"week": "2026-W45"}).to_records()
    assert [h["place"] for h in hot] == ["阳光小区", "东风路"] and hot[0]["heat"] > hot[1]["heat"]
    assert hot[0]["trend"] == [6] and len(hot[0]["examples"]) == 2


def test_a_part_merged_twice_and_a_crash_change_nothing(wh, tmp_path, monkeypatch):
    rows = _week_one()
    part = _stage(tmp_path / "p1", rows, wh, "p1")
    from warehouse import issues as issue_module

    real = issue_module.refresh_issues

    def crash(*args, **kwargs):  # the loader dies after assigning, before the commit
        real(*args, **kwargs)
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(issue_module, "refresh_issues", crash)
    with pytest.raises(KeyboardInterrupt):
        load_part(wh, part, IssueSettings())
    monkeypatch.undo()
    assert _table(wh, "select count(*) from issue_items") == [(0,)]
    assert _table(wh, "select count(*) from issue_state") == [(0,)]
    part = _stage(tmp_path / "p1-again", rows, wh, "p1")
    load_part(wh, part, IssueSettings())
    once = _table(wh, "select * exclude (updated_at) from issues order by issue_id")
    assert load_part(wh, _stage(tmp_path / "p1-thrice", rows, wh, "p1"), IssueSettings())["merged"] == 0
    assert _table(wh, "select * exclude (updated_at) from issues order by issue_id") == once


def test_one_part_or_two_give_the_same_issues_for_the_same_order(tmp_path):
    rows = sorted(_week_one(), key=lambda r: (r["received_at"], r["item_id"]))
    results = []
    for name, chunks in (("one", [rows]), ("two", [rows[:4], rows[4:]])):
        w = Warehouse(tmp_path / f"{name}.duckdb")
        w.migrate()
        for k, chunk in enumerate(chunks):
            load_part(w, _stage(tmp_path / f"{name}-{k}", chunk, w, f"{name}-{k}"), IssueSettings())
        results.append(_table(w, "select item_id, issue_id from issue_items order by item_id"))
    assert results[0] == results[1]


def test_a_corrected_record_moves_to_the_right_issue(wh, tmp_path):
    load_part(wh, _stage(tmp_path / "p1", _week_one(), wh, "p1"), IssueSettings())
    lift = _table(wh, "select issue_id from issue_items where item_id = 'platform:L0#1'")[0][0]
    noise = _table(wh, "select issue_id from issue_items where item_id = 'hotline:N0#1'")[0][0]
    # the resident corrects message L5: it was about the construction site, not the lift
    fixed = _item("platform:L5", 1, NOISE, T0 + timedelta(hours=26), topic=2, place="东风路",
                  category="public_security", community="C05", content_hash="h2")
    load_part(wh, _stage(tmp_path / "p2", [fixed], wh, "p2"), IssueSettings())
    assert _table(wh, "select issue_id from issue_items where item_id = 'platform:L5#1'") == [(noise,)]
    counts = dict(_table(wh, "select issue_id, items from issues"))
    assert counts[lift] == 5 and counts[noise] == 4


def test_planners_merges_and_splits_survive_later_parts(wh, tmp_path):
    load_part(wh, _stage(tmp_path / "p1", _week_one(), wh, "p1"), IssueSettings())
    lift, noise = (_table(wh, f"select issue_id from issue_items where item_id = '{i}'")[0][0]
                   for i in ("platform:L0#1", "hotline:N0#1"))
    cfg = IssueSettings()
    with wh.transaction() as con:
        new = split_issue(con, lift, ["platform:L4#1", "platform:L5#1"], "two are about 5栋", cfg.heat)
    with wh.transaction() as con:
        merge_issues(con, noise, lift, "the same building works", cfg.heat)
    # a later part: one more lift message joins as assigned, and the decisions still hold
    later = _item("platform:L9", 1, LIFT, T0 + timedelta(days=2), topic=1)
    load_part(wh, _stage(tmp_path / "p2", [later], wh, "p2"), IssueSettings())
    members = dict(_table(wh, "select item_id, issue_id from issue_membership"))
    assert members["platform:L4#1"] == members["platform:L5#1"] == new
    assert members["hotline:N0#1"] == lift and members["platform:L9#1"] == lift
    assert dict(_table(wh, "select issue_id, items from issues")) == {lift: 8, new: 2}
    with wh.transaction() as con, pytest.raises(ValueError):
        merge_issues(con, lift, lift, "", cfg.heat)


# The hot-issue list's examples as first written: each top issue's first two items by the week,
# aggregated per request over issue_membership and demand_items (every item of the warehouse)
EXAMPLES_PER_REQUEST = """
    select m.issue_id, list(d.text order by d.received_at, d.item_id)[1:2] as examples
    from issue_membership as m
    join demand_items as d using (item_id)
    where m.issue_id in (select issue_id from top) and d.week <= $week
    group by m.issue_id
"""


def test_hot_issue_examples_from_the_snapshot_table_equal_the_per_request_aggregate(wh, tmp_path):
    from warehouse.query import execute
    from warehouse.readers import publish_snapshot, snapshot_path
    from warehouse.sql import read_sql

    load_part(wh, _stage(tmp_path / "p1", _week_one(), wh, "p1"), IssueSettings())
    week_two = [_item(f"platform:M{k}", 1, LIFT + "？" * k, T0 + timedelta(days=7, hours=3 * k), topic=1)
                for k in range(4)]
    week_two += [_item(f"hotline:Q{k}", 1, NOISE + "。" * k, T0 + timedelta(days=8, hours=k), topic=2,
                       place="东风路", category="public_security", community="C05") for k in range(3)]
    load_part(wh, _stage(tmp_path / "p2", week_two, wh, "p2"), IssueSettings())
    lift = _table(wh, "select issue_id from issue_items where item_id = 'platform:L0#1'")[0][0]
    with wh.transaction() as con:  # the planners' decisions move items: examples follow them
        split_issue(con, lift, ["platform:L0#1", "platform:L1#1", "platform:M3#1"], "the first two", IssueSettings().heat)
    weeks = [r[0] for r in _table(wh, "select distinct week from issue_weeks order by week")]
    assert weeks == ["2026-W45", "2026-W46"]
    sql = read_sql("queries", "hot_issues")
    start, end = sql.index("examples as ("), sql.index("select i.issue_id")
    reference = sql[:start] + "examples as (" + EXAMPLES_PER_REQUEST + ")\n\n" + sql[end:]
    publish_snapshot(wh.path)
    snap = duckdb.connect(str(snapshot_path(wh.path)), read_only=True)
    try:
        assert snap.execute("select table_type from information_schema.tables "
                            "where table_name = 'issue_texts'").fetchall() == [("BASE TABLE",)]
        for week in weeks:
            got = execute(snap, sql, {"week": week}).to_records()
            want = execute(snap, reference, {"week": week}).to_records()
            assert got == want and got and all(len(h["examples"]) == 2 for h in got)
        with wh.connect(read_only=True) as live:  # and over the live warehouse's views
            assert execute(live, sql, {"week": weeks[-1]}).to_records() == got
    finally:
        snap.close()
