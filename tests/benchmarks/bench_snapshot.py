"""Publishing the planners' snapshot: ``COPY FROM DATABASE`` into a v1.1.0-storage file
(what ``warehouse.readers.publish_snapshot`` does) against a plain byte copy of the same file
in the same run (what it did before), on a generated warehouse.

    .venv/bin/python tests/benchmarks/bench_snapshot.py [--rows 2000000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb


def build(db: Path, rows: int) -> None:
    con = duckdb.connect(str(db))
    con.execute(f"""
        create table demand_items as
        select 'hotline:' || i || '#0' as item_id, 'hotline:' || i as feedback_id,
               '2026-W' || (40 + i % 8) as week, 'C0' || (1 + i % 9) as community,
               md5(i::varchar) || ' 楼道灯坏了很久没人修 ' || (i % 977) as text,
               ['elderly_care', 'property'][1 + i % 2] as category, random() as confidence,
               [random()::float for _ in range(128)]::float[128] as embedding
        from range({rows}) t(i)
    """)
    con.execute("create view gap_weekly as select week, community, category, count(*) as demand "
                "from demand_items group by all")
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from warehouse.readers import publish_snapshot, snapshot_path

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "w.duckdb"
        build(db, args.rows)
        size = db.stat().st_size / 1e6
        copy_s, publish_s = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            shutil.copyfile(db, Path(tmp) / "copy.duckdb")
            copy_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            publish_snapshot(db)
            publish_s.append(time.perf_counter() - t)
        snap = snapshot_path(db).stat().st_size / 1e6
        print(f"warehouse {size:.0f} MB ({args.rows:,} items), snapshot {snap:.0f} MB")
        print(f"byte copy (before): {min(copy_s):.2f} s; publish (COPY FROM DATABASE, v1.1.0): "
              f"{min(publish_s):.2f} s; ratio {min(publish_s) / min(copy_s):.1f}x (best of {args.runs})")


if __name__ == "__main__":
    main()
