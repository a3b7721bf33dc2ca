"""A load killed half-way (the process dies inside a file's transaction), then run again,
leaves the warehouse exactly as one clean run does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from warehouse import query, resource

HOSTILE = Path(__file__).parent / "data" / "hostile"
FILES = [("hotline", "hotline_gbk.csv"), ("hotline", "hotline_hostile.csv"), ("hotline", "hotline.xlsx"),
         ("platform", "platform_array.json"), ("meeting", "meeting.docx"), ("hotline", "hotline_day1_corrected.csv")]

DRIVER = r'''
import os, sys
from pathlib import Path
from minsheng.settings import load_settings
from minsheng.channels import read_file
from warehouse import loader, query, resource, sql

db, kill_at = Path(sys.argv[1]), int(sys.argv[2])
files = [tuple(f.split(":")) for f in sys.argv[3:]]
s = load_settings()


class DiesMidTransaction:
    """Forwards to the connection; the process dies right after the kill_at-th raw insert."""

    def __init__(self, con):
        self.con, self.inserts = con, 0

    def __getattr__(self, name):
        return getattr(self.con, name)

    def execute(self, sql, *args):
        result = self.con.execute(sql, *args)
        if sql.lstrip().startswith("insert into raw_"):
            self.inserts += 1
            if self.inserts == kill_at:
                os._exit(137)  # no rollback, no close: as a kill -9 would leave it
        return result


kill_after_contacts = int(os.environ.get("KILL_AFTER_CONTACTS", "0"))
if kill_after_contacts:
    from warehouse.contacts import ContactsStore

    original, calls = ContactsStore.replace, [0]

    def replace(self, *args, **kwargs):
        original(self, *args, **kwargs)
        calls[0] += 1
        if calls[0] == kill_after_contacts:
            os._exit(137)  # the contacts are committed, the warehouse is not yet

    ContactsStore.replace = replace

con = resource.connect(db)
resource.migrate(con)
wrapped = DiesMidTransaction(con)
for channel, name in files:
    path = Path(name)
    batch = read_file(channel, path, s.mapping(channel), s.district, limits=s.ingest.limits(),
                      pseudonym_key=s.pseudonym_key())
    loader.load_batch(wrapped, batch)
con.close()
'''


def _run(db: Path, kill_at: int, cwd: Path, kill_after_contacts: int = 0) -> int:
    import os

    args = [f"{c}:{HOSTILE / n}" for c, n in FILES]
    # one district's key for both warehouses, as an ingest's settings give it (user pseudonyms)
    env = {**os.environ, "KILL_AFTER_CONTACTS": str(kill_after_contacts),
           "MINSHENG_PRIVACY__PSEUDONYM_KEY": "crash-rerun-test-key"}
    return subprocess.run([sys.executable, "-c", DRIVER, str(db), str(kill_at), *args], cwd=cwd,
                          env=env).returncode


def _state(db: Path) -> dict[str, list]:
    con = resource.connect(db, read_only=True)
    try:
        return {
            t: con.execute(f"select * exclude ({excl}) from {t} order by all").fetchall()
            for t, excl in [("raw_hotline", "ingested_at"), ("raw_platform", "ingested_at"),
                            ("raw_meeting", "ingested_at"), ("quarantine", "first_seen"),
                            ("raw_history", "ingested_at, superseded_at")]
        } | {"contacts": _contacts(db)}
    finally:
        con.close()


def _contacts(db: Path) -> list:
    import duckdb

    from warehouse.contacts import ContactsStore

    path = ContactsStore.beside(db).path
    if not path.exists():
        return []
    with duckdb.connect(str(path), read_only=True) as c:
        return c.execute("select record_id, field, value from contacts order by all").fetchall()


def test_killed_then_rerun_equals_one_clean_run(tmp_path):
    clean, crashed = tmp_path / "clean.duckdb", tmp_path / "crashed.duckdb"
    assert _run(clean, 0, tmp_path) == 0
    assert _run(crashed, 3, tmp_path) == 137  # dies inside the third file's transaction
    partial = _state(crashed)
    assert partial["raw_hotline"] and len(partial["raw_hotline"]) < len(_state(clean)["raw_hotline"])
    assert _run(crashed, 0, tmp_path) == 0
    assert _state(crashed) == _state(clean)
    con = resource.connect(crashed, read_only=True)
    try:
        checks = query.run_checks(con)  # the text stage has not run here: ingestion's checks only
        assert checks["duplicate_keys"] == 0 and checks["unmasked_personal_data"] == 0
    finally:
        con.close()


def test_killed_between_the_contacts_and_the_warehouse_commit_loses_and_doubles_nothing(tmp_path):
    """DuckDB commits one attached database per transaction: the contacts file commits first,
    the warehouse second. Dying between the two and running again equals one clean run."""
    clean, crashed = tmp_path / "clean.duckdb", tmp_path / "crashed.duckdb"
    assert _run(clean, 0, tmp_path) == 0
    assert _run(crashed, 0, tmp_path, kill_after_contacts=2) == 137
    partial = _state(crashed)
    kept = {r[0] for r in partial["contacts"]}
    loaded = {"hotline:" + r[0] for r in partial["raw_hotline"]}
    assert kept - loaded  # contacts of the file whose warehouse commit never came
    assert _run(crashed, 0, tmp_path) == 0
    assert _state(crashed) == _state(clean)
    contacts = _state(crashed)["contacts"]
    assert len(contacts) == len({(r[0], r[1]) for r in contacts})  # one row per record and field
