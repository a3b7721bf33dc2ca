"""The workbench on a big warehouse: the gaps page and a drill-down answered by the server
(uvicorn, over HTTP, logged in) against the same SQL run directly in DuckDB on the same
snapshot in the same run. The warehouse is tests/benchmarks/megacity.py's; its snapshot as
published (the gap tables materialised, see warehouse/readers.py).

    flock /tmp/minsheng-bench.lock .venv/bin/python tests/benchmarks/bench_web.py \
        [--items 24000000] [--db /tmp/mega/w.duckdb --reuse]

A year of megacity volume is 24 million items (the issue's target); the default is smaller so
that it runs in minutes on a shared machine. Prints median milliseconds and ratios, and the
page weights.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))

from megacity import WEEKS, open_or_build  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _median_ms(fn, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def measure(db: Path, settings, runs: int, label: str) -> dict[str, float]:
    import httpx
    import uvicorn
    from argon2 import PasswordHasher

    from flows.web import create_app
    from minsheng.settings import WebSettings, WebUser
    from warehouse.readers import publish_snapshot, snapshot_path
    from warehouse.resource import Warehouse
    from warehouse.sql import read_sql

    publish_snapshot(db)
    week, community, category = WEEKS[30], settings.district.community_codes[2], settings.taxonomy.codes[0]
    # the same SQL straight on the snapshot, before the server opens it (one config per file)
    con = duckdb.connect(str(snapshot_path(db)), read_only=True)
    try:
        gsql, csql = read_sql("queries", "web_gaps"), read_sql("queries", "cell_items")
        direct_gaps = _median_ms(lambda: con.execute(gsql, {"week": week, "community": "", "category": ""}
                                                     ).fetchall(), runs)
        direct_cell = _median_ms(lambda: con.execute(csql, {"week": week, "community": community,
                                                            "category": category}).fetchall(), runs)
    finally:
        con.close()
    user = WebUser(name="b", role="planner", password_hash=PasswordHasher().hash("bench-password"))
    s = settings.model_copy(update={"web": WebSettings(users=[user], secret_key="b" * 40), "db": db})
    app = create_app(s, Warehouse(db))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    gaps_url = f"/gaps?week={week}"
    cell_url = f"/gaps/cell?week={week}&community={community}&category={category}"
    try:
        c = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300)
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        c.post("/login", data={"name": "b", "password": "bench-password", "csrf": token})
        first = time.perf_counter()
        assert c.get(gaps_url).status_code == 200  # the first request reads the weeks
        first_ms = (time.perf_counter() - first) * 1000

        def page(url):
            r = c.get(url)
            assert r.status_code == 200, r.text[:300]
            return r

        server_gaps = _median_ms(lambda: page(gaps_url), runs)
        server_cell = _median_ms(lambda: page(cell_url), runs)
        weights = {u: len(page(u).content) / 1024 for u in (gaps_url, cell_url)}
    finally:
        server.should_exit = True
        thread.join(10)
        app.state.pool.invalidate()  # its connections share DuckDB's instance of the snapshot
    print(f"{label}: gaps page {server_gaps:.0f} ms (direct SQL {direct_gaps:.0f} ms, ratio "
          f"{server_gaps / direct_gaps:.2f}x); drill-down {server_cell:.0f} ms (direct {direct_cell:.0f} ms, "
          f"ratio {server_cell / direct_cell:.2f}x); first gaps request {first_ms:.0f} ms; "
          f"page weights {weights[gaps_url]:.0f} KB and {weights[cell_url]:.0f} KB")
    return {"gaps": server_gaps, "cell": server_cell}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=2_000_000)
    ap.add_argument("--db", type=Path, help="where to build (default: a temporary folder)")
    ap.add_argument("--reuse", action="store_true", help="keep a finished build at --db")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    import warnings

    warnings.simplefilter("ignore")
    from minsheng.settings import load_settings

    settings = load_settings()
    with tempfile.TemporaryDirectory() as tmp:
        db, times = open_or_build(args.db or Path(tmp) / "big.duckdb", args.items, settings, reuse=args.reuse)
        if times:
            print(f"built {args.items:,} items over {len(WEEKS)} weeks in {times['build']:.0f} s "
                  f"({db.stat().st_size / 1e6:.0f} MB)")
        measure(db, settings, args.runs, "snapshot as published")


if __name__ == "__main__":
    main()
