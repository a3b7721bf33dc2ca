"""The planners' snapshot: what every reader opens instead of the live warehouse.

DuckDB lets one process write a file, and while it has the file open no other process may
open it, not even to read. So the warehouse is published as a snapshot, a copy written under a
read lock on the live file (no writer can start mid-copy) and renamed into place atomically,
that records the state of the file it was copied from. Readers open the snapshot only:

- when it is current (the warehouse has not changed since), as it is;
- when the warehouse has changed and no one writes it, after publishing a new one;
- when someone writes the warehouse, as it is, saying when it was published.

A query therefore never holds the live file, and a flow that starts meanwhile writes at once.
Only a warehouse that is being written for the first time, before any snapshot, cannot be read.

The snapshot is a new database file, not a byte copy: ``COPY FROM DATABASE`` into a file
attached with ``STORAGE_VERSION 'v1.1.0'``, so that the DuckDB 1.1+ drivers that BI tools ship
(DBeaver, Metabase, Superset) open it, and so that no freed page of the warehouse comes along.
Views and marts are copied with the tables and work in the copy; the marts marked
``-- snapshot: table order by <columns>`` (those a planner's page reads per week: gap tables,
unmet reasons, capacity, hot issues) become tables in the copy, computed once at publication and
stored in that order, so that a week's read scans that week's row groups only (zone maps)
instead of aggregating the whole demand_items table per request. A warehouse that still has a
``pii`` schema (not migrated) is not published. Optionally each mart is also written as
``snapshot-parquet/<mart>.parquet`` beside it, for tools without DuckDB.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from warehouse.sql import sql_files

STORAGE_VERSION = "v1.1.0"  # the oldest DuckDB that opens the snapshot
_MATERIALISE = re.compile(r"^--\s*snapshot:\s*table\s+order\s+by\s+([\w, ]+?)\s*$", re.M)


@dataclass(frozen=True)
class ReadSource:
    """Where an answer came from: ``snapshot`` (or ``warehouse``, for callers that read the
    live file), when the snapshot was published, and whether it is current."""

    kind: str
    published_at: datetime | None = None
    current: bool = True  # False: the warehouse has changed since, and is being written


class WarehouseBusy(RuntimeError):
    pass


class SnapshotRefused(RuntimeError):
    """The warehouse holds something a snapshot must not (a ``pii`` schema)."""


def snapshot_path(db: Path) -> Path:
    return Path(db).with_name(Path(db).stem + ".snapshot.duckdb")


def parquet_dir(db: Path) -> Path:
    return Path(db).with_name("snapshot-parquet")


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


def _quote(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _state(db: Path) -> str:
    """What identifies the file's content without opening it: size and modification time of
    the database and of its write-ahead log."""
    parts = []
    for p in (Path(db), Path(f"{db}.wal")):
        st = p.stat() if p.exists() else None
        parts.append(f"{st.st_size}:{st.st_mtime_ns}" if st else "-")
    return "|".join(parts)


def materialised_marts() -> dict[str, str]:
    """The marts stored as tables in the snapshot: mart name -> its sort order."""
    marked = {}
    for path in sql_files("marts"):
        found = _MATERIALISE.search(path.read_text(encoding="utf-8"))
        if found:
            marked[path.stem] = found.group(1)
    return marked


def _materialise_marts(con: duckdb.DuckDBPyConnection) -> None:
    """Replace each marked mart view of ``snap`` by a table of its rows in the mart's order.
    Every table is computed before any view is dropped: marts read other marts."""
    marts = materialised_marts()
    for mart, order in marts.items():
        con.execute(f"create table snap.main.{mart}__rows as "
                    f"select * from snap.main.{mart} order by {order}")
    for mart in marts:
        con.execute(f"drop view snap.main.{mart}")
        con.execute(f"alter table snap.main.{mart}__rows rename to {mart}")


def _plain_connection() -> duckdb.DuckDBPyConnection:
    return duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                              "autoload_known_extensions": False})


def publish_snapshot(db: Path, *, parquet: bool = False) -> Path | None:
    """Publish the warehouse's snapshot, atomically. Call when the writer has closed its
    connection. Returns None, publishing nothing, if another writer already holds the file.

    The read lock on the live file is held only while its bytes are copied (as fast as the
    disk); the rewrite into the snapshot's storage version reads that private copy."""
    db = Path(db)
    target = snapshot_path(db)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    raw = target.with_name(f".{target.name}.{os.getpid()}.raw")
    leftovers = (tmp, Path(f"{tmp}.wal"), raw, Path(f"{raw}.wal"))
    con = _plain_connection()
    try:
        try:
            # a read lock: no writer starts mid-copy
            con.execute(f"attach {_quote(db)} as live (read_only)")
        except duckdb.IOException as exc:
            if _is_lock_conflict(exc):
                return None
            raise
        state = _state(db)
        if con.execute("select count(*) from duckdb_schemas() where database_name = 'live' "
                       "and schema_name = 'pii'").fetchall()[0][0]:
            raise SnapshotRefused(f"{db} still has a pii schema: migrate it (any minsheng flow "
                                  "does) before publishing a snapshot")
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
        shutil.copyfile(db, raw)
        if Path(f"{db}.wal").exists():
            shutil.copyfile(f"{db}.wal", f"{raw}.wal")
        con.execute("detach live")  # the live file is free again
        con.execute(f"attach {_quote(raw)} as live")
        con.execute(f"attach {_quote(tmp)} as snap (storage_version '{STORAGE_VERSION}')")
        con.execute("copy from database live to snap")
        con.execute("detach live")
        _materialise_marts(con)
        con.execute("create or replace table snap.snapshot_info "
                    "(published_at timestamp, source_state varchar, storage_version varchar)")
        con.execute("insert into snap.snapshot_info values (now()::timestamp, ?, ?)",
                    [state, STORAGE_VERSION])
        if parquet:
            _write_parquet(con, db)
        con.execute("checkpoint snap")
        con.execute("detach snap")
        os.replace(tmp, target)
    finally:
        con.close()
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)
    return target


def _write_parquet(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Each mart (``marts/*.sql``) as one Parquet file, swapped into place as a folder."""
    final = parquet_dir(db)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for mart in sql_files("marts"):
        con.execute(f"copy (select * from snap.main.{mart.stem}) to {_quote(tmp / (mart.stem + '.parquet'))} "
                    "(format parquet)")
    old = final.with_name(f".{final.name}.{os.getpid()}.old")
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def snapshot_state(db: Path) -> ReadSource | None:
    """The snapshot's publication time and whether it is current; None if there is none."""
    snapshot = snapshot_path(db)
    if not snapshot.exists():
        return None
    con = _plain_connection()
    try:
        con.execute(f"attach {_quote(snapshot)} as snap (read_only)")
        published_at, state = con.execute("select published_at, source_state from snap.snapshot_info"
                                          ).fetchall()[0]
        # a snapshot published before the contacts moved out is a byte copy, pii schema and
        # all: never current, so that it is replaced (or, unmigrated, refused) before a read
        versioned = con.execute("select count(*) from duckdb_columns() where database_name = 'snap' "
                                "and table_name = 'snapshot_info' and column_name = 'storage_version'"
                                ).fetchall()[0][0]
    finally:
        con.close()
    return ReadSource("snapshot", published_at,
                      current=bool(versioned) and Path(db).exists() and state == _state(db))


def fresh_snapshot(db: Path, *, parquet: bool = False) -> tuple[Path, ReadSource]:
    """The snapshot to read: as it is when current, published anew when the warehouse has
    changed and no one writes it, and as it is (not current) while someone does."""
    db = Path(db)
    source = snapshot_state(db)
    if source is not None and source.current:
        return snapshot_path(db), source
    if not db.exists():
        raise FileNotFoundError(f"no warehouse at {db}: run `minsheng demo` or `minsheng ingest` first")
    if publish_snapshot(db, parquet=parquet) is not None:
        return snapshot_path(db), snapshot_state(db)  # type: ignore[return-value]
    if source is None:
        raise WarehouseBusy(f"{db} is being written and no snapshot has been published yet: "
                            "try again when the flow has finished")
    return snapshot_path(db), source
