"""The channel registry: every channel is one module, one migration, one mapping; the views
and the duplicate-key check are built from it; and the fifth channel (wechat) proves it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minsheng.channels import CHANNELS, FeedbackRecord, Rejected, channel_of, discover, read_file
from minsheng.channels.base import COMMON_SCHEMA
from minsheng.records import DEMAND_ITEM

OPENID = "oX3Kq5xY_8vJHn2lZpR0aWcTfE4s"


def _raw_columns(con, table: str) -> dict[str, str]:
    return dict(con.execute(
        "select column_name, data_type from information_schema.columns where table_name = ?",
        [table]).fetchall())


@pytest.mark.parametrize("name", list(CHANNELS))
def test_every_channel_has_its_raw_table_and_mapping(warehouse, settings, name):
    channel = CHANNELS[name]
    cols = _raw_columns(warehouse, channel.raw_table)
    common = {"received_at", "community", "content_hash", "source_file", "source_pos", "ingested_at"}
    assert common | {channel.key_column, channel.text_column, *channel.column_names} <= set(cols)
    assert settings.mapping(name) is not None
    assert channel.records_schema().names[:len(COMMON_SCHEMA)] == COMMON_SCHEMA.names


_VALUE = {"VARCHAR": "'x'", "TIMESTAMP": "now()::timestamp", "DATE": "current_date", "INTEGER": "1",
          "BIGINT": "1", "SMALLINT": "1"}


def test_views_cover_every_channel(warehouse):
    for channel in CHANNELS.values():
        cols = _raw_columns(warehouse, channel.raw_table)
        values = ", ".join(_VALUE[t] for t in cols.values())
        warehouse.execute(f"insert into {channel.raw_table} ({', '.join(cols)}) select {values}")
    got = warehouse.execute("select channel from feedback order by 1").fetchall()
    assert [c for (c,) in got] == sorted(CHANNELS)
    keys = warehouse.execute("select tbl from raw_keys order by 1").fetchall()
    assert [t for (t,) in keys] == sorted(c.raw_table for c in CHANNELS.values())
    warehouse.execute("insert into raw_wechat select * from raw_wechat")  # a duplicate key
    from warehouse.query import run_checks

    assert run_checks(warehouse)["duplicate_keys"] == 1


def test_demand_item_schema_is_the_table(warehouse):
    cols = _raw_columns(warehouse, "demand_items")
    assert set(DEMAND_ITEM.names) | {"processed_at"} == set(cols)


def test_files_find_their_channel():
    assert channel_of("wechat/export-2026-11.jsonl") == "wechat"
    assert channel_of("hotline/orders.xlsx") == "hotline"
    assert channel_of("meetings/note.docx") == "meeting"
    assert channel_of("elsewhere/x.csv") is None


def _wechat_export(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [
        {"openid": OPENID, "time": "2026-11-03 09:15:00", "community": "响水社区",
         "text": "小区门口的路灯坏了一个月，晚上老人出门不方便，电话13907770099"},
        {"openid": OPENID, "time": "2026-11-03 09:15:00", "community": "响水社区",
         "text": "小区门口的路灯坏了一个月，晚上老人出门不方便，电话13907770099"},  # sent twice
        {"openid": "oAnother_resident_0000000001", "time": "2026-11-04 20:01:00", "community": "C05",
         "text": "想问问日间照料中心什么时候开门"},
        {"openid": "", "time": "2026-11-04 20:01:00", "community": "C05", "text": "没有openid"},
        {"openid": "oThird", "time": "2026-11-04 20:01:00", "community": "火星", "text": "社区不存在"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n",
                    encoding="utf-8")
    return path


def test_wechat_reader(tmp_path, settings):
    path = _wechat_export(tmp_path / "wechat" / "export.jsonl")
    assert discover(tmp_path, "wechat") == [path]
    items = read_file("wechat", path, settings.mapping("wechat"), settings.district).items()
    good = [i for i in items if isinstance(i, FeedbackRecord)]
    bad = {i.source_pos: i.reason for i in items if isinstance(i, Rejected)}
    assert bad == {"line 4": "missing_key", "line 5": "unknown_community", "line 6": "bad_json"}
    assert [g.community for g in good] == ["C03", "C03", "C05"]
    assert good[0].key == good[1].key and good[0].key != good[2].key  # one sender, one time: one message
    assert good[0].contacts == {"openid": OPENID}
    assert "[手机号]" in good[0].text and OPENID not in good[0].key + json.dumps(good[0].extra)


def test_wechat_end_to_end_through_the_ingest_cli(prefect_harness, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app
    from tests.conftest import point_settings_at
    from warehouse.resource import connect

    env = point_settings_at(tmp_path, monkeypatch)
    path = _wechat_export(tmp_path / "inputs" / "wechat" / "export.jsonl")
    result = CliRunner().invoke(app, ["ingest", "wechat", str(tmp_path / "inputs")])
    assert result.exit_code == 0, result.output
    assert "loaded 2" in result.output and "quarantined 3" in result.output
    again = CliRunner().invoke(app, ["ingest", "wechat", str(path)])
    assert "loaded 0" in again.output and "duplicate 3" in again.output
    con = connect(Path(env["MINSHENG_DB"]), read_only=True)
    try:
        assert con.execute("select count(*) from feedback where channel = 'wechat'").fetchall() == [(2,)]
        # the openid is nowhere outside the contacts file
        for schema, table in con.execute("select table_schema, table_name from information_schema.tables"
                                         ).fetchall():
            rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
            assert OPENID not in repr(rows), table
    finally:
        con.close()
    import duckdb

    from warehouse.contacts import ContactsStore

    with duckdb.connect(str(ContactsStore.beside(Path(env["MINSHENG_DB"])).path), read_only=True) as c:
        assert c.execute("select count(*) from contacts where field = 'openid'").fetchall() == [(2,)]
