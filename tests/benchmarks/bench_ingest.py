"""Ingestion throughput: a 1,000,000-row hotline CSV into the warehouse.

Baseline, in the same run: DuckDB's own ``read_csv`` of the same file into a table of a
fresh database. minsheng's figure includes reading, validation, masking, hashing, dedup
against the warehouse and the load of raw table, quarantine and the contacts file.
Target: at least 0.5 of the baseline's rows/s, peak memory under 2 GB.

    python tests/benchmarks/bench_ingest.py [--rows N]
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path


def make_csv(path: Path, rows: int, seed: int = 5) -> None:
    from minsheng.demo.generate import generate_district
    from minsheng.settings import load_settings

    s = load_settings()
    gen = path.parent / "gen"
    generate_district(gen, 8, seed, district=s.district, taxonomy=s.taxonomy)
    source: list[list[str]] = []
    header: list[str] = []
    for f in sorted((gen / "hotline").glob("*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            source += list(reader)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(rows):
            row = list(source[i % len(source)])
            row[0] = f"GD{i:012d}"
            w.writerow(row)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args(argv)

    import duckdb

    from minsheng.channels import read_file
    from minsheng.settings import load_settings
    from warehouse import loader
    from warehouse.resource import connect, migrate

    s = load_settings()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        tmp_path = Path(tmp)
        path = tmp_path / "hotline.csv"
        make_csv(path, args.rows)
        size_mb = path.stat().st_size / 1e6

        t = time.perf_counter()
        con = duckdb.connect(str(tmp_path / "baseline.duckdb"))
        con.execute(f"create table t as select * from read_csv('{path}', all_varchar = true)")
        con.close()
        baseline = time.perf_counter() - t

        con = connect(tmp_path / "warehouse.duckdb")
        migrate(con)
        before = peak_mb()
        t = time.perf_counter()
        batch = read_file("hotline", path, s.mapping("hotline"), s.district, limits=s.ingest.limits())
        read = time.perf_counter() - t
        counts = loader.load_batch(con, batch)
        ours = time.perf_counter() - t
        t = time.perf_counter()
        again = loader.load_batch(con, read_file("hotline", path, s.mapping("hotline"), s.district,
                                                 limits=s.ingest.limits()))
        rerun = time.perf_counter() - t
        con.close()

    rows = args.rows
    print(f"hotline CSV: {rows:,} rows, {size_mb:.0f} MB")
    print(f"duckdb read_csv into a table : {baseline:6.2f} s  {rows / baseline:>12,.0f} rows/s")
    print(f"minsheng ingest (full)       : {ours:6.2f} s  {rows / ours:>12,.0f} rows/s"
          f"   (read+validate+mask {read:.2f} s, load {ours - read:.2f} s)")
    print(f"ratio to duckdb              : {baseline / ours:6.2f}   (target >= 0.5)")
    print(f"re-ingest of the same file   : {rerun:6.2f} s, loaded {again.loaded}, duplicate {again.duplicate}")
    print(f"counts                       : {counts.as_dict()}")
    print(f"peak memory                  : {peak_mb():,.0f} MB (before ingest {before:,.0f} MB; target < 2048)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
