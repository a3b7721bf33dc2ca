from datetime import datetime

import pytest

from minsheng.ingest import FeedbackRecord, Rejected
from warehouse import store


@pytest.fixture
def con(warehouse):
    return warehouse


def _rec(key, text, minute=0):
    return FeedbackRecord("hotline", key, datetime(2026, 11, 3, 14, minute), "C03", text,
                          "orders.csv", f"line {key}", contacts={"caller_phone": "13812345678"})


def test_migrations_apply_once(tmp_path):
    c = store.connect(tmp_path / "warehouse.duckdb")
    first = store.migrate(c)
    assert first and first == sorted(first)
    assert store.migrate(c) == []
    assert store.table_rows(c, "schema_migrations") == len(first)


def test_reload_adds_nothing_and_correction_supersedes(con):
    items = [_rec("A", "想申请低保"), _rec("B", "电梯坏了"),
             Rejected("hotline", "orders.csv", "line 9", "bad_time", "x", "payload")]
    first = store.load_items(con, "hotline", items)
    assert (first.loaded, first.duplicate, first.quarantined) == (2, 0, 1)
    again = store.load_items(con, "hotline", items)
    assert (again.loaded, again.duplicate, again.superseded) == (0, 2, 0)
    assert store.table_rows(con, "feedback") == 2 and store.table_rows(con, "quarantine") == 1
    fixed = store.load_items(con, "hotline", [_rec("B", "电梯坏了三天了")])
    assert (fixed.loaded, fixed.superseded) == (0, 1)
    assert con.execute("select text from feedback where feedback_id = 'hotline:B'").fetchone()[0] == "电梯坏了三天了"
    assert store.table_rows(con, "pii.contacts") == 2


def test_contacts_live_only_in_pii_schema(con):
    store.load_items(con, "hotline", [_rec("A", "想申请低保")])
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables where table_schema <> 'pii'"
    ).fetchall()
    for schema, table in tables:
        rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
        assert "13812345678" not in repr(rows), table


def test_query_refuses_pii_and_opens_read_only(con, tmp_path):
    con.close()
    db = tmp_path / "warehouse.duckdb"
    with pytest.raises(PermissionError):
        store.run_query(db, "select * from PII.contacts")
    result = store.run_query(db, store.resolve_query("weekly_volume"))
    assert result.columns == ["week", "channel", "records"]


def test_named_query_takes_parameters(con, tmp_path):
    store.load_items(con, "hotline", [_rec("A", "想申请低保")])
    con.close()
    res = store.run_query(tmp_path / "warehouse.duckdb",
                          "select count(*) as n from feedback where week = $week", {"week": "2026-W45"})
    assert res.rows == [(1,)]


def test_checks_pass_on_an_empty_warehouse(con):
    assert set(store.run_checks(con).values()) == {0}


def test_unmasked_check_catches_a_phone_number(con):
    con.execute("insert into quarantine (quarantine_id, channel, source_file, source_pos, reason, message, "
                "raw_payload, first_seen) values ('q', 'hotline', 'f', 'line 1', 'x', 'm', '电话13812345678', now())")
    assert store.run_checks(con)["unmasked_personal_data"] == 1
