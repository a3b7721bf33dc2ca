"""Reading the warehouse while a flow writes it.

DuckDB lets one process write a file, and while it has the file open no other process may
open it, not even to read. So a writer publishes a snapshot when it finishes a write stage:
a copy of the file taken under a read lock (no writer can start mid-copy), renamed into place
atomically, that records the state of the file it was copied from. Readers:

- read the snapshot when it is current (the warehouse has not changed since), so that they
  never hold the live file and never block a writer;
- otherwise read the live file read-only, if no one is writing it;
- and if someone is, read the snapshot anyway, saying when it was published.

Only a warehouse that is being written for the first time, before any snapshot, cannot be read.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class ReadSource:
    """Where an answer came from: ``warehouse`` (the live file) or ``snapshot``."""

    kind: str
    published_at: datetime | None = None
    current: bool = True  # False: the warehouse has changed since the snapshot


class WarehouseBusy(RuntimeError):
    pass


def snapshot_path(db: Path) -> Path:
    return Path(db).with_name(Path(db).stem + ".snapshot.duckdb")


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    return "lock" in str(exc).lower()


def _state(db: Path) -> str:
    """What identifies the file's content without opening it: size and modification time of
    the database and of its write-ahead log."""
    parts = []
    for p in (Path(db), Path(f"{db}.wal")):
        st = p.stat() if p.exists() else None
        parts.append(f"{st.st_size}:{st.st_mtime_ns}" if st else "-")
    return "|".join(parts)


def publish_snapshot(db: Path) -> Path | None:
    """Copy the warehouse to its snapshot, atomically. Call when the writer has closed its
    connection. Returns None, publishing nothing, if another writer already holds the file."""
    db = Path(db)
    try:
        guard = duckdb.connect(str(db), read_only=True)  # a read lock: no writer mid-copy
    except duckdb.IOException as exc:
        if _is_lock_conflict(exc):
            return None
        raise
    target = snapshot_path(db)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        state = _state(db)
        shutil.copyfile(db, tmp)
        if Path(f"{db}.wal").exists():
            shutil.copyfile(f"{db}.wal", f"{tmp}.wal")
        copy = duckdb.connect(str(tmp))
        try:
            copy.execute("create or replace table snapshot_info "
                         "(published_at timestamp, source_state varchar)")
            copy.execute("insert into snapshot_info values (now()::timestamp, ?)", [state])
            copy.execute("checkpoint")
        finally:
            copy.close()
        os.replace(tmp, target)
    finally:
        guard.close()
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
    return target


@contextmanager
def open_reader(db: Path) -> Iterator[tuple[duckdb.DuckDBPyConnection, ReadSource]]:
    """A read-only connection to the warehouse or its snapshot, whichever is safe to read."""
    db = Path(db)
    snapshot = snapshot_path(db)
    if not db.exists() and not snapshot.exists():
        raise FileNotFoundError(f"no warehouse at {db}: run `minsheng demo` or `minsheng ingest` first")
    snap_con, source = None, None
    if snapshot.exists():
        snap_con = duckdb.connect(str(snapshot), read_only=True)
        published_at, state = snap_con.execute(
            "select published_at, source_state from snapshot_info").fetchone()
        source = ReadSource("snapshot", published_at, current=db.exists() and state == _state(db))
    if source is not None and source.current:
        con = snap_con
    else:
        try:
            con, source = duckdb.connect(str(db), read_only=True), ReadSource("warehouse")
            if snap_con is not None:
                snap_con.close()
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise
            if snap_con is None:
                raise WarehouseBusy(f"{db} is being written and no snapshot has been published yet: "
                                    "try again when the flow has finished") from None
            con = snap_con
    try:
        yield con, source  # type: ignore[misc]  # source is set on every path that gets here
    finally:
        con.close()
