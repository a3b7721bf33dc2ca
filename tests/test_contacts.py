"""Residents' contacts in a file of their own: written by the loader, replaced when a record is
superseded, read only by the call-back command, every read audited, encrypted on request, and
moved out of a warehouse that still had them."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from flows.cli import app
from minsheng.channels import read_file
from tests.conftest import point_settings_at
from warehouse import loader
from warehouse.contacts import ContactsError, ContactsKeyMissing, ContactsStore
from warehouse.resource import Warehouse

HEADER = ["工单编号", "受理时间", "所属社区", "来电号码", "来电内容"]


def _orders(path: Path, rows: list[tuple[str, str, str]], community: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for n, (key, phone, text) in enumerate(rows):
            w.writerow([key, f"2026-11-03 14:{n:02d}:00", community, phone, text])
    return path


def _ingest(wh: Warehouse, settings, path: Path) -> loader.LoadCounts:
    batch = read_file("hotline", path, settings.mapping("hotline"), settings.district,
                      limits=settings.ingest.limits())
    with wh.connect() as con:
        return loader.load_batch(con, batch, wh.contacts)


def _contacts(store: ContactsStore) -> list[tuple[str, str, str]]:
    with duckdb.connect(str(store.path), read_only=True) as c:
        return c.execute("select record_id, field, value from contacts order by all").fetchall()


@pytest.fixture
def wh(tmp_path):
    w = Warehouse(tmp_path / "data" / "minsheng.duckdb")
    w.migrate()
    return w


@pytest.fixture
def community(settings):
    return settings.district.communities[0].name


def test_the_contacts_file_is_private(wh, settings, community, tmp_path):
    _ingest(wh, settings, _orders(tmp_path / "a.csv", [("A1", "13907770001", "电梯坏了")], community))
    assert stat.S_IMODE(wh.contacts.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(wh.contacts.path.parent.stat().st_mode) == 0o700
    assert wh.contacts.path.parent == wh.path.parent / "private"
    with wh.connect(read_only=True) as con:
        assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'pii'").fetchall() == [(0,)]
    assert b"13907770001" not in wh.path.read_bytes()


def test_a_superseded_records_contact_is_replaced_not_kept_twice(wh, settings, community, tmp_path):
    """Regression: a corrected hotline record kept its old caller number beside the new one."""
    first = _orders(tmp_path / "day1.csv", [("A1", "13907770001", "电梯坏了"), ("A2", "13907770002", "路灯不亮")],
                    community)
    _ingest(wh, settings, first)
    corrected = _orders(tmp_path / "day1_fixed.csv", [("A1", "13907779999", "电梯坏了三天了"),
                                                      ("A2", "", "路灯不亮，已经一周")], community)
    counts = _ingest(wh, settings, corrected)
    assert counts.superseded == 2
    # A1's new number replaces the old one; A2's correction has no number, so none is kept
    assert _contacts(wh.contacts) == [("hotline:A1", "caller_phone", "13907779999")]
    assert wh.contacts.checks() == {"contacts.duplicate_keys": 0}
    _ingest(wh, settings, corrected)  # a re-run adds nothing
    assert len(_contacts(wh.contacts)) == 1


def test_the_contacts_check_finds_a_key_twice(wh, settings, community, tmp_path):
    _ingest(wh, settings, _orders(tmp_path / "a.csv", [("A1", "13907770001", "电梯坏了")], community))
    with duckdb.connect(str(wh.contacts.path)) as c:
        c.execute("insert into contacts select * from contacts")
    assert wh.contacts.checks() == {"contacts.duplicate_keys": 1}


def _cli(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_call_back_read_is_audited_without_the_values(wh, settings, community, tmp_path, monkeypatch):
    point_settings_at(tmp_path, monkeypatch)
    _ingest(wh, settings, _orders(tmp_path / "a.csv", [("A1", "13907770001", "电梯坏了"),
                                                       ("A2", "13907770002", "路灯不亮")], community))
    code, out = _cli("contacts", "--record", "hotline:A1", "--record", "hotline:ZZ",
                     "--reason", "call back about the lift")
    assert code == 0, out
    assert "13907770001" in out and "13907770002" not in out
    assert "no contact kept for 1 of 2 records: hotline:ZZ" in out
    with duckdb.connect(str(wh.contacts.path), read_only=True) as c:
        log = c.execute("select os_user, command, selector, reason, records, fields from audit_log").fetchall()
        dump = repr(c.execute("select * from audit_log").fetchall())
    import pwd

    assert log == [(pwd.getpwuid(os.geteuid()).pw_name, "record", "hotline:A1 hotline:ZZ",
                    "call back about the lift", ["hotline:A1", "hotline:ZZ"], 1)]
    assert "13907770001" not in dump
    code, out = _cli("contacts", "--audit")
    assert code == 0 and "lift" in out and "13907770001" not in out


def test_a_call_back_needs_a_reason_and_a_selection(wh, settings, community, tmp_path, monkeypatch):
    point_settings_at(tmp_path, monkeypatch)
    _ingest(wh, settings, _orders(tmp_path / "a.csv", [("A1", "13907770001", "电梯坏了")], community))
    for args, match in [(("--record", "hotline:A1"), "say why"),
                        (("--record", "hotline:A1", "--reason", "  "), "say why"),
                        (("--reason", "because"), "give --record"),
                        (("--week", "2026-W45", "--reason", "because"), "give --record")]:
        code, out = _cli("contacts", *args)
        assert code == 2 and len(out.strip().splitlines()) == 1 and match in out, out
    with duckdb.connect(str(wh.contacts.path), read_only=True) as c:
        assert c.execute("select count(*) from audit_log").fetchall() == [(0,)]


def test_the_call_back_list_of_a_week_and_a_service(tmp_path, settings, monkeypatch):
    from minsheng.matching import load_match_config
    from tests.matching_warehouse import build
    from warehouse.loaders import match_week

    point_settings_at(tmp_path, monkeypatch)
    db = tmp_path / "data" / "minsheng.duckdb"
    db.parent.mkdir(parents=True)
    build(db, tmp_path / "supply.yaml")
    wh = Warehouse(db)
    with wh.connect() as con:
        match_week(con, "2026-W47", load_match_config(settings.config_dir / "matching.yaml",
                                                      settings.district.community_codes))
        matched = sorted(r[0] for r in con.execute(
            "select d.feedback_id from matches m join demand_items d using (item_id) "
            "where m.week = '2026-W47' and m.service_id = 'elderly_base.daycare' and m.status = 'matched'").fetchall())
    assert matched
    wh.contacts.replace(["hotline:e1", "hotline:e2", "hotline:p1"],
                        _rows([("hotline:e1", "13907770011"), ("hotline:e2", "13907770022"),
                               ("hotline:p1", "13907770033")]))
    code, out = _cli("contacts", "--week", "2026-W47", "--service", "elderly_base.daycare",
                     "--reason", "confirm the day-care place")
    assert code == 0, out
    shown = {n for n in ("13907770011", "13907770022", "13907770033") if n in out}
    expected = {"hotline:e1": "13907770011", "hotline:e2": "13907770022"}
    assert shown == {expected[r] for r in matched if r in expected}
    assert "13907770033" not in out  # p1 was matched to another service
    with duckdb.connect(str(wh.contacts.path), read_only=True) as c:
        assert c.execute("select command, selector, records from audit_log").fetchall() == [
            ("week_service", "week=2026-W47 service=elderly_base.daycare", matched)]
    code, out = _cli("contacts", "--week", "2026-W47", "--service", "nobody", "--reason", "a test")
    assert code == 2 and "no demand item of 2026-W47 was matched to service 'nobody'" in out


def _rows(pairs):
    import pyarrow as pa

    return pa.table({"record_id": [p[0] for p in pairs], "field": ["caller_phone"] * len(pairs),
                     "value": [p[1] for p in pairs]})


# --- encryption --------------------------------------------------------------------------------

@pytest.fixture
def unsafe_test_crypto(monkeypatch):
    """DuckDB 2.0 writes encrypted files only with OpenSSL (httpfs), which cannot be installed
    offline here; its built-in crypto may be forced for writing. Everything else is real:
    the file is encrypted, opening it needs the key, reads and writes go through the store."""
    monkeypatch.setattr(ContactsStore, "write_crypto_sql", "set force_mbedtls_unsafe = true")


def test_an_encrypted_contacts_file(tmp_path, settings, community, monkeypatch, unsafe_test_crypto):
    point_settings_at(tmp_path, monkeypatch)
    monkeypatch.setenv("MINSHENG_PRIVACY__CONTACTS_KEY", "a long test key 0123456789")
    from minsheng.settings import load_settings

    wh = Warehouse.from_settings(load_settings())
    wh.migrate()
    _ingest(wh, settings, _orders(tmp_path / "a.csv", [("A1", "13907770001", "电梯坏了")], community))
    assert b"13907770001" not in wh.contacts.path.read_bytes()
    with pytest.raises(duckdb.Error, match="without a key"):
        duckdb.connect(":memory:").execute(f"attach '{wh.contacts.path}' as x (read_only)")
    code, out = _cli("contacts", "--record", "hotline:A1", "--reason", "call back")
    assert code == 0 and "13907770001" in out, out
    # without the key, and with a wrong one: one line each, nothing shown
    monkeypatch.delenv("MINSHENG_PRIVACY__CONTACTS_KEY")
    code, out = _cli("contacts", "--record", "hotline:A1", "--reason", "call back")
    assert code == 2 and len(out.strip().splitlines()) == 1 and "is encrypted and no key was given" in out
    key_file = tmp_path / "contacts.key"
    key_file.write_text("not the key\n", encoding="utf-8")
    monkeypatch.setenv("MINSHENG_PRIVACY__CONTACTS_KEY_FILE", str(key_file))
    code, out = _cli("contacts", "--record", "hotline:A1", "--reason", "call back")
    assert code == 2 and "the contacts key does not open" in out and "13907770001" not in out
    key_file.write_text("a long test key 0123456789\n", encoding="utf-8")
    code, out = _cli("contacts", "--record", "hotline:A1", "--reason", "call back")
    assert code == 0 and "13907770001" in out, out


def test_encrypting_an_existing_file(wh, settings, community, tmp_path, unsafe_test_crypto):
    _ingest(wh, settings, _orders(tmp_path / "a.csv", [("A1", "13907770001", "电梯坏了")], community))
    plain = wh.contacts
    keyed = ContactsStore(plain.path, key="k-0123456789")
    with pytest.raises(ContactsError, match="is not encrypted"):
        keyed.read(["hotline:A1"], reason="a test", command="record", selector="hotline:A1")
    keyed.encrypt()
    assert stat.S_IMODE(plain.path.stat().st_mode) == 0o600
    assert b"13907770001" not in plain.path.read_bytes()
    with pytest.raises(ContactsKeyMissing):
        plain.read(["hotline:A1"], reason="a test", command="record", selector="hotline:A1")
    assert keyed.read(["hotline:A1"], reason="a test", command="record", selector="hotline:A1") == [
        ("hotline:A1", "caller_phone", "13907770001")]


def test_without_openssl_an_encrypted_write_says_so(tmp_path):
    store = ContactsStore(tmp_path / "private" / "x.pii.duckdb", key="k")
    with pytest.raises(ContactsError, match="needs DuckDB's httpfs extension"):
        store.replace(["hotline:A"], _rows([("hotline:A", "13907770001")]))


# --- an older warehouse that kept contacts in its pii schema --------------------------------------

def test_migrating_moves_old_contacts_out_and_wipes_them(tmp_path):
    wh = Warehouse(tmp_path / "data" / "minsheng.duckdb")
    wh.migrate()
    # as a warehouse before migration 060 was: contacts in pii.contacts, and a byte-copy snapshot
    with wh.connect() as con:
        con.execute("create schema pii")
        con.execute("create table pii.contacts (record_id varchar not null, field varchar not null, "
                    "value varchar not null)")
        con.execute("insert into pii.contacts select 'hotline:K' || i, 'caller_phone', '1390777' || "
                    "lpad(i::varchar, 4, '0') from range(2000) t(i)")
        con.execute("delete from schema_migrations where version = '060_contacts_apart'")
        con.execute("checkpoint")
    import shutil

    from warehouse.query import run_query
    from warehouse.readers import SnapshotRefused, _state

    shutil.copyfile(wh.path, wh.snapshot_path)  # as snapshots were published: a byte copy
    with duckdb.connect(str(wh.snapshot_path)) as snap:
        snap.execute("create table snapshot_info (published_at timestamp, source_state varchar)")
        snap.execute("insert into snapshot_info values (now(), ?)", [_state(wh.path)])
    assert b"13907770042" in wh.path.read_bytes()
    # before the migration, planners cannot read that snapshot, current though it looks
    with pytest.raises(SnapshotRefused, match="still has a pii schema"):
        run_query(wh, "select count(*) from pii.contacts")
    code, out = _cli("query", "select * from pii.contacts", "--db", str(wh.path))
    assert code == 2 and len(out.strip().splitlines()) == 1 and "13907770042" not in out, out
    applied = wh.migrate()
    assert applied == ["060_contacts_apart"]
    with wh.connect(read_only=True) as con:
        assert con.execute("select count(*) from duckdb_schemas() where schema_name = 'pii'").fetchall() == [(0,)]
    moved = _contacts(wh.contacts)
    assert len(moved) == 2000 and ("hotline:K42", "caller_phone", "13907770042") in moved
    # DuckDB does not wipe freed pages: the warehouse was rewritten, the snapshot published anew
    assert b"13907770042" not in wh.path.read_bytes()
    assert b"13907770042" not in wh.snapshot_path.read_bytes()
    assert wh.migrate() == []
    assert run_query(wh, "select count(*) from raw_hotline").rows == [(0,)]
