"""A year at megacity volume: the planners' reads on a warehouse of 24 million demand items.

Builds (tests/benchmarks/megacity.py) 52 weeks of demand items with their matches, the supply
of a generated district and hot issues, publishes the planners' snapshot (where the marked
marts become week-ordered tables), and times each read through the planners' sandboxed
connection (its memory and thread limits): ``gaps`` for a week, a community's year, a
category's trend, a drill-down to a cell's items, hot issues for a week. Baseline in the same
run: one full scan of demand_items (``count(*)`` grouped by week and category), the cheapest
answer that reads every item. Also timed: gaps read from the live warehouse's views (what a
read would cost without the materialised tables). Target < 1 s each.

    flock /tmp/minsheng-bench.lock .venv/bin/python tests/benchmarks/bench_warehouse.py \
        [--items 24000000] [--db /tmp/mega/w.duckdb --reuse]

Prints milliseconds (best of ``--runs``), ratios to the baseline, file sizes, build and
publication seconds, and the peak resident memory of this process (and of the build).
"""

from __future__ import annotations

import argparse
import resource as rlimit
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from megacity import WEEKS, open_or_build  # noqa: E402


def _best_ms(fn, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        best = min(best, (time.perf_counter() - t) * 1000)
    return best


def _peak_mb() -> float:
    return rlimit.getrusage(rlimit.RUSAGE_SELF).ru_maxrss / 1024


def reads(settings) -> dict[str, tuple[str, dict]]:
    from warehouse.sql import read_sql

    week = WEEKS[30]
    community, category = settings.district.community_codes[2], settings.taxonomy.codes[0]
    return {
        "gaps (a week)": (read_sql("queries", "gaps"), {"week": week}),
        "gaps page (web_gaps)": (read_sql("queries", "web_gaps"), {"week": week, "community": "", "category": ""}),
        "a community's year": (read_sql("queries", "community_year"), {"community": community, "year": "2026"}),
        "a category's trend (12 weeks)": (read_sql("queries", "category_trend"), {"week": week, "weeks": 12}),
        "drill-down to a cell": (read_sql("queries", "cell_items"),
                                 {"week": week, "community": community, "category": category}),
        "hot issues (a week)": (read_sql("queries", "hot_issues"), {"week": week}),
    }


SCAN = "select week, category, count(*) from demand_items group by all"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=24_000_000)
    ap.add_argument("--db", type=Path, help="where to build (default: a temporary folder)")
    ap.add_argument("--reuse", action="store_true", help="keep a finished build at --db")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    import duckdb

    from minsheng.settings import load_settings
    from warehouse.planner import PlannerConnection, PlannerLimits
    from warehouse.readers import materialised_marts, publish_snapshot, snapshot_path

    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        db, times = open_or_build(args.db or Path(tmp) / "mega.duckdb", args.items, settings, reuse=args.reuse)
        if times:
            print(f"built {args.items:,} items over {len(WEEKS)} weeks in {times['build']:.0f} s "
                  f"(items {times['items']:.0f} s, issues {times['issues']:.0f} s); "
                  f"peak memory {_peak_mb():,.0f} MB")
        t = time.perf_counter()
        publish_snapshot(db)
        publish_s = time.perf_counter() - t
        snap = snapshot_path(db)
        print(f"warehouse {db.stat().st_size / 1e9:.2f} GB; snapshot {snap.stat().st_size / 1e9:.2f} GB, "
              f"published in {publish_s:.0f} s with {len(materialised_marts())} marts as tables "
              f"({', '.join(materialised_marts())})")
        live = duckdb.connect(str(db), read_only=True)
        try:
            live.execute("set threads = 2; set memory_limit = '2GB'")
            n = live.execute("select count(*) from demand_items").fetchone()[0]
            gsql, gparams = reads(settings)["gaps (a week)"]
            view_ms = _best_ms(lambda: live.execute(gsql, gparams).fetchall(), args.runs)
        finally:
            live.close()
        with PlannerConnection(snap, PlannerLimits()) as con:
            scan_ms = _best_ms(lambda: con.execute(SCAN), args.runs)
            print(f"{n:,} demand items; baseline, one full scan of them: {scan_ms:.0f} ms "
                  f"(planners' limits: 2 threads, 2 GB)")
            print(f"{'read':32} {'ms':>8} {'x scan':>7} {'rows':>6}  target < 1000 ms")
            for name, (sql, params) in reads(settings).items():
                rows = len(con.execute(sql, params).fetchall())
                ms = _best_ms(lambda: con.execute(sql, params), args.runs)
                print(f"{name:32} {ms:8.1f} {ms / scan_ms:7.2f} {rows:6d}  {'ok' if ms < 1000 else 'SLOW'}")
        print(f"gaps over the live warehouse's views (no materialised tables): {view_ms:.0f} ms "
              f"({view_ms / scan_ms:.2f}x scan)")
        print(f"peak resident memory of this process: {_peak_mb():,.0f} MB")


if __name__ == "__main__":
    main()
