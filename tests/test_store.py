from datetime import datetime

import duckdb
import pytest

from minsheng.channels import FeedbackRecord, Rejected
from minsheng.channels import get as get_channel
from warehouse import loader, query, resource
from warehouse.contacts import ContactsStore


def _rows(con, table):
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


def _contacts(con, where=""):
    """The contacts file beside ``con``'s warehouse, read directly (record, field, value)."""
    path = ContactsStore.beside(loader.database_path(con)).path
    if not path.exists():
        return []
    with duckdb.connect(str(path), read_only=True) as c:
        return c.execute(f"select record_id, field, value from contacts {where} order by all").fetchall()


@pytest.fixture
def con(warehouse):
    return warehouse


def _rec(key, text, minute=0):
    return FeedbackRecord("hotline", key, datetime(2026, 11, 3, 14, minute), "C03", text,
                          "orders.csv", f"line {key}", contacts={"caller_phone": "13812345678"})


def test_migrations_apply_once(tmp_path):
    c = resource.connect(tmp_path / "warehouse.duckdb")
    first = resource.migrate(c)
    assert first and first == sorted(first)
    assert resource.migrate(c) == []
    assert _rows(c, "schema_migrations") == len(first)


def test_reload_adds_nothing_and_correction_supersedes(con):
    items = [_rec("A", "想申请低保"), _rec("B", "电梯坏了"),
             Rejected("hotline", "orders.csv", "line 9", "bad_time", "x", "payload")]
    first = loader.load_items(con, "hotline", items)
    assert (first.loaded, first.duplicate, first.quarantined) == (2, 0, 1)
    again = loader.load_items(con, "hotline", items)
    assert (again.loaded, again.duplicate, again.superseded) == (0, 2, 0)
    assert _rows(con, "feedback") == 2 and _rows(con, "quarantine") == 1
    fixed = loader.load_items(con, "hotline", [_rec("B", "电梯坏了三天了")])
    assert (fixed.loaded, fixed.superseded) == (0, 1)
    assert con.execute("select text from feedback where feedback_id = 'hotline:B'").fetchone()[0] == "电梯坏了三天了"
    assert len(_contacts(con)) == 2


def test_contacts_live_only_in_their_own_file(con):
    loader.load_items(con, "hotline", [_rec("A", "想申请低保")])
    assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'pii'").fetchall() == [(0,)]
    tables = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    for schema, table in tables:
        rows = con.execute(f'select * from "{schema}"."{table}"').fetchall()
        assert "13812345678" not in repr(rows), table
    assert _contacts(con) == [("hotline:A", "caller_phone", "13812345678")]


def test_query_refuses_pii_and_opens_read_only(con, tmp_path):
    con.close()
    db = tmp_path / "warehouse.duckdb"
    with pytest.raises(query.QueryError, match="schema \"PII\" does not exist"):
        query.run_query(resource.Warehouse(db), "select * from PII.contacts")
    result = query.run_query(resource.Warehouse(db), query.resolve_query("weekly_volume"))
    assert result.columns == ["week", "channel", "records"]


def test_named_query_takes_parameters(con, tmp_path):
    loader.load_items(con, "hotline", [_rec("A", "想申请低保")])
    con.close()
    res = query.run_query(resource.Warehouse(tmp_path / "warehouse.duckdb"),
                          "select count(*) as n from feedback where week = $week", {"week": "2026-W45"})
    assert res.rows == [(1,)]


def test_checks_pass_on_an_empty_warehouse(con):
    assert set(query.run_checks(con).values()) == {0}


def test_unmasked_check_catches_a_phone_number(con):
    con.execute("insert into quarantine (quarantine_id, channel, source_file, source_pos, reason, message, "
                "raw_payload, first_seen) values ('q', 'hotline', 'f', 'line 1', 'x', 'm', '电话13812345678', now())")
    assert query.run_checks(con)["unmasked_personal_data"] == 1


def test_a_key_twice_in_one_file_keeps_the_last_row_with_its_answers_and_contacts(con):
    def survey(answer):
        return FeedbackRecord("survey", "R1", datetime(2026, 11, 3, 9), "C03", "", "s.csv", "row 2",
                              extra={"respondent_type": "户籍居民"},
                              answers=(("Q01", "信息获取", answer, 1 if answer == "赞成" else -1),))
    loader.load_items(con, "survey", [survey("赞成"), survey("不赞成")])
    assert con.execute("select answer from survey_answers").fetchall() == [("不赞成",)]
    assert con.execute("select count(*) from raw_survey").fetchall() == [(1,)]
    loader.load_items(con, "hotline", [_rec("A", "想申请低保"),
                                       FeedbackRecord("hotline", "A", datetime(2026, 11, 3, 15), "C03", "改了",
                                                      "o.csv", "line 3", contacts={"caller_phone": "13900000000"})])
    assert _contacts(con, "where record_id = 'hotline:A'") == [("hotline:A", "caller_phone", "13900000000")]


def test_quarantine_heals_when_the_row_loads_and_reopens_when_it_fails_again(con):
    bad = Rejected("hotline", "orders.csv", "line A", "unknown_community", "unknown community '东风'", "{}")
    loader.load_items(con, "hotline", [bad], "orders.csv")
    summary = query.resolve_query("quarantine_summary")
    assert con.execute(summary).fetchall() == [("hotline", "unknown_community", 1)]
    # the mapping is fixed (say, an alias added): the same position of the same file loads now
    loader.load_batch(con, get_channel("hotline").batch("orders.csv", [_rec("A", "想申请低保")]), run_id="run-2")
    assert con.execute("select resolved_by from quarantine").fetchall() == [("run-2",)]
    assert con.execute(summary).fetchall() == []  # kept, but no longer counted
    loader.load_items(con, "hotline", [bad], "orders.csv")
    assert con.execute("select resolved_at is null from quarantine").fetchall() == [(True,)]
