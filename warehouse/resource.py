"""The warehouse of one district, as one resource: every stage reaches DuckDB through it.

DuckDB lets one process write a file, and while a writer has it open no other process may
open it at all. :class:`Warehouse` owns that rule: writers wait out another writer's lock
instead of failing, every connection is closed when its block ends, migrations and the
registry-built views are applied in one place, and a writer stage ends by publishing the
snapshot that planners read while the next stage writes (``warehouse.readers``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import jinja2

from minsheng.channels import CHANNELS
from warehouse import readers
from warehouse.sql import SQL_ROOT, sql_files, transaction

__all__ = ["Warehouse", "WarehouseMissing", "connect", "migrate"]


class WarehouseMissing(FileNotFoundError):
    """There is no warehouse file to read yet."""


def connect(db: Path, *, read_only: bool = False, wait_seconds: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open a warehouse file. A writer that finds the file locked (another writer, or a reader
    opening it) waits up to ``wait_seconds`` instead of failing: DuckDB allows one writer."""
    db = Path(db)
    if read_only and not db.exists():
        raise WarehouseMissing(f"no warehouse at {db}: run `minsheng demo` or `minsheng ingest` first")
    db.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + (0 if read_only else wait_seconds)
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _views() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(SQL_ROOT / "views")),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def registry_views() -> list[str]:
    """The views built from the channel registry (``views/*.sql``, jinja2 over the channels):
    ``feedback`` and ``raw_keys``. Re-created on every migrate, so a new channel appears in
    them as soon as its raw table exists."""
    env = _views()
    channels = list(CHANNELS.values())
    return [env.get_template(p.name).render(channels=channels) for p in sql_files("views")]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet applied, in order, then re-create the registry views and
    the mart views. Returns the migrations applied."""
    con.execute(
        "create table if not exists schema_migrations "
        "(version varchar primary key, applied_at timestamp not null)"
    )
    done = {r[0] for r in con.execute("select version from schema_migrations").fetchall()}
    applied = []
    for path in sql_files("schema"):
        if path.stem in done:
            continue
        with transaction(con):
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("insert into schema_migrations values (?, now())", [path.stem])
        applied.append(path.stem)
    for sql in registry_views():
        con.execute(sql)
    for path in sql_files("marts"):
        con.execute(path.read_text(encoding="utf-8"))
    return applied


class Warehouse:
    """One district's DuckDB warehouse file, its snapshot, and the way in for every stage.

    ``connect()`` and ``transaction()`` are context managers: the connection is closed when
    the block ends; a transaction commits at its end and rolls back on any exception. Writers
    wait up to ``wait_seconds`` for another writer's lock.
    """

    def __init__(self, path: Path, *, wait_seconds: float = 30.0) -> None:
        self.path = Path(path)
        self.wait_seconds = wait_seconds

    def __repr__(self) -> str:
        return f"Warehouse({str(self.path)!r})"

    @property
    def snapshot_path(self) -> Path:
        return readers.snapshot_path(self.path)

    def exists(self) -> bool:
        return self.path.exists()

    @contextmanager
    def connect(self, *, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(self.path, read_only=read_only, wait_seconds=self.wait_seconds)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A write connection inside one transaction."""
        with self.connect() as con, transaction(con):
            yield con

    def migrate(self) -> list[str]:
        with self.connect() as con:
            return migrate(con)

    @contextmanager
    def reader(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, readers.ReadSource]]:
        """A read-only connection to the live file or its snapshot, whichever is safe to read
        (``warehouse.readers.open_reader``)."""
        if not self.path.exists() and not self.snapshot_path.exists():
            raise WarehouseMissing(f"no warehouse at {self.path}: run `minsheng demo` or "
                                   "`minsheng ingest` first")
        with readers.open_reader(self.path) as pair:
            yield pair

    def publish_snapshot(self) -> Path | None:
        """Publish the planners' snapshot; call with no connection of this process open.
        Returns None (publishing nothing) while another process writes."""
        return readers.publish_snapshot(self.path)
