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


con = resource.connect(db)
resource.migrate(con)
wrapped = DiesMidTransaction(con)
for channel, name in files:
    path = Path(name)
    batch = read_file(channel, path, s.mapping(channel), s.district, limits=s.ingest.limits())
    loader.load_batch(wrapped, batch)
con.close()
'''


def _run(db: Path, kill_at: int, cwd: Path) -> int:
    args = [f"{c}:{HOSTILE / n}" for c, n in FILES]
    return subprocess.run([sys.executable, "-c", DRIVER, str(db), str(kill_at), *args], cwd=cwd).returncode


def _state(db: Path) -> dict[str, list]:
    con = resource.connect(db, read_only=True)
    try:
        return {
            t: con.execute(f"select * exclude ({excl}) from {t} order by all").fetchall()
            for t, excl in [("raw_hotline", "ingested_at"), ("raw_platform", "ingested_at"),
                            ("raw_meeting", "ingested_at"), ("quarantine", "first_seen"),
                            ("raw_history", "ingested_at, superseded_at")]
        } | {"pii": con.execute("select * from pii.contacts order by all").fetchall()}
    finally:
        con.close()


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
