"""The planners' snapshot opens in the DuckDB that BI tools ship (1.1 and later), views and
marts included, and with ``query.snapshot_parquet`` each mart is also a Parquet file.

The old DuckDB lives in a virtualenv of its own: ``.venv-duckdb11`` (``make test`` makes it) or,
failing that, one this test makes in the session's temporary folder. The test is skipped only
when the package registry cannot be reached to install it."""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

import pytest

from warehouse.resource import Warehouse
from warehouse.sql import sql_files

ROOT = Path(__file__).resolve().parent.parent
WEEK = "2026-W47"
MARTS = [p.stem for p in sql_files("marts")]

OLD_READER = r'''
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
marts = json.loads(sys.argv[2])
print(json.dumps({
    "version": duckdb.__version__,
    "schemas": sorted({r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}),
    "marts": {m: con.execute(f"select count(*) from {m}").fetchall()[0][0] for m in marts},
    "gaps": [list(map(str, r)) for r in con.execute("select * from gap_weekly order by all").fetchall()],
}))
'''

OFFLINE = ("Could not find a version", "No matching distribution", "Failed to establish", "Network is unreachable",
           "Temporary failure in name resolution", "ProxyError", "Connection refused", "timed out")


@pytest.fixture(scope="session")
def duckdb11(tmp_path_factory) -> Path:
    made = ROOT / ".venv-duckdb11" / "bin" / "python"
    if made.exists() and (ROOT / ".venv-duckdb11" / ".installed").exists():
        return made
    home = tmp_path_factory.getbasetemp() / "venv-duckdb11"
    python = home / "bin" / "python"
    if not python.exists():
        venv.create(home, with_pip=True)
    out = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                          "duckdb==1.1.*"], capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        if any(s in out.stderr for s in OFFLINE):
            pytest.skip(f"the package registry cannot be reached to install duckdb 1.1: "
                        f"{out.stderr.strip().splitlines()[-1]}")
        raise RuntimeError(f"pip install duckdb==1.1.* failed: {out.stderr.strip()[-500:]}")
    return python


@pytest.fixture
def published(tmp_path, settings):
    from minsheng.matching import load_match_config
    from tests.matching_warehouse import build
    from warehouse.loaders import match_week

    db = tmp_path / "data" / "minsheng.duckdb"
    db.parent.mkdir(parents=True)
    build(db, tmp_path / "supply.yaml")
    wh = Warehouse(db, snapshot_parquet=True)
    with wh.connect() as con:
        match_week(con, WEEK, load_match_config(settings.config_dir / "matching.yaml",
                                                settings.district.community_codes))
    assert wh.publish_snapshot() is not None
    return wh


def test_duckdb_1_1_opens_the_snapshot_with_its_views(duckdb11, published):
    from warehouse.query import run_query

    out = subprocess.run([str(duckdb11), "-c", OLD_READER, str(published.snapshot_path), json.dumps(MARTS)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["version"].startswith("1.1.")
    assert "pii" not in seen["schemas"]
    now = {m: run_query(published, f"select count(*) from {m}").rows[0][0] for m in MARTS}
    assert seen["marts"] == now and now["gap_weekly"] > 0
    gaps = run_query(published, "select * from gap_weekly order by all").rows
    assert seen["gaps"] == [list(map(str, r)) for r in gaps]


def test_each_mart_is_also_a_parquet_file(published):
    import pyarrow.parquet as pq

    from warehouse.query import run_query
    from warehouse.readers import parquet_dir

    folder = parquet_dir(published.path)
    assert sorted(p.stem for p in folder.glob("*.parquet")) == sorted(MARTS)
    for mart in MARTS:
        assert pq.read_table(folder / f"{mart}.parquet").num_rows == \
            run_query(published, f"select count(*) from {mart}").rows[0][0]
