"""The warehouse of one district, as one resource: every stage reaches DuckDB through it.

DuckDB lets one process write a file, and while a writer has it open no other process may
open it at all. :class:`Warehouse` owns that rule: writers wait out another writer's lock
instead of failing, every connection is closed when its block ends, migrations and the
registry-built views are applied in one place, and a writer stage ends by publishing the
snapshot that planners read while the next stage writes (``warehouse.readers``). Planners read
that snapshot through one sandboxed connection (``warehouse.planner``); residents' contacts
live in a file of their own (``warehouse.contacts``).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from minsheng.channels import CHANNELS
from warehouse import readers
from warehouse.contacts import ContactsStore
from warehouse.planner import PlannerConnection, PlannerLimits
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


CONTACTS_APART = "060_contacts_apart"  # the migration that drops the pii schema


def _pii_contacts(con: duckdb.DuckDBPyConnection) -> int | None:
    """Rows in the warehouse's old ``pii.contacts`` (None: there is no such table)."""
    found = con.execute("select count(*) from duckdb_tables() where database_name = current_database() "
                        "and schema_name = 'pii' and table_name = 'contacts'").fetchall()[0][0]
    return con.execute("select count(*) from pii.contacts").fetchall()[0][0] if found else None


def _move_contacts(con: duckdb.DuckDBPyConnection, contacts: ContactsStore | None) -> None:
    """Copy the old ``pii.contacts`` into the contacts file, before the migration drops it.
    Replacing by record id, so that a crash before the drop and a re-run copy nothing twice."""
    if not _pii_contacts(con):
        return
    if contacts is None:
        from warehouse.loader import database_path

        contacts = ContactsStore.beside(Path(database_path(con) or "minsheng.duckdb"))
    rows = con.sql("select record_id, field, value from pii.contacts").to_arrow_table()
    contacts.replace(rows.column("record_id").unique(), rows)


def migrate(con: duckdb.DuckDBPyConnection, contacts: ContactsStore | None = None) -> list[str]:
    """Apply the migrations not yet applied, in order, then re-create the registry views and
    the mart views. Returns the migrations applied. Contacts still in the warehouse go to
    ``contacts`` (default: the file beside the warehouse) before ``060_contacts_apart``."""
    con.execute(
        "create table if not exists schema_migrations "
        "(version varchar primary key, applied_at timestamp not null)"
    )
    done = {r[0] for r in con.execute("select version from schema_migrations").fetchall()}
    applied = []
    for path in sql_files("schema"):
        if path.stem in done:
            continue
        if path.stem == CONTACTS_APART:
            _move_contacts(con, contacts)
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

    def __init__(self, path: Path, *, wait_seconds: float = 30.0, contacts: ContactsStore | None = None,
                 limits: PlannerLimits | None = None, snapshot_parquet: bool = False) -> None:
        self.path = Path(path)
        self.wait_seconds = wait_seconds
        self.contacts = contacts or ContactsStore.beside(self.path)
        self.limits = limits or PlannerLimits()
        self.snapshot_parquet = snapshot_parquet

    @classmethod
    def from_settings(cls, settings: Any) -> Warehouse:
        """The warehouse of ``settings.db``, with its contacts file and the planners' limits."""
        q = settings.query
        return cls(settings.db, contacts=ContactsStore.from_settings(settings),
                   limits=PlannerLimits(q.memory_limit, q.threads, q.timeout_seconds, q.max_rows),
                   snapshot_parquet=q.snapshot_parquet)

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
        """Apply the pending migrations. A warehouse that still held contacts is rewritten
        afterwards: DuckDB reuses freed pages but does not wipe them."""
        with self.connect() as con:
            had_contacts = bool(_pii_contacts(con))
            applied = migrate(con, self.contacts)
        if had_contacts:
            rewrite(self.path)
            if self.snapshot_path.exists():  # the old snapshot is a copy with the contacts in it
                self.publish_snapshot()
        return applied

    def _snapshot(self) -> tuple[Path, readers.ReadSource]:
        if not self.path.exists() and not self.snapshot_path.exists():
            raise WarehouseMissing(f"no warehouse at {self.path}: run `minsheng demo` or "
                                   "`minsheng ingest` first")
        return readers.fresh_snapshot(self.path, parquet=self.snapshot_parquet)

    @contextmanager
    def reader(self) -> Iterator[tuple[duckdb.DuckDBPyConnection, readers.ReadSource]]:
        """A plain read-only connection to the snapshot (``warehouse.readers.fresh_snapshot``),
        for the stages' own reads (a what-if). Planners' SQL goes through :meth:`planner`."""
        path, source = self._snapshot()
        con = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False,
                                                 "autoload_known_extensions": False})
        try:
            con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as snapshot (read_only)")
            con.execute("use snapshot")
            yield con, source
        finally:
            con.close()

    @contextmanager
    def planner(self) -> Iterator[PlannerConnection]:
        """The planners' sandboxed connection to the snapshot (``warehouse.planner``): the one
        way that ``query``, the report and any web page read the warehouse."""
        path, source = self._snapshot()
        con = PlannerConnection(path, self.limits, source=source)
        try:
            yield con
        finally:
            con.close()

    def publish_snapshot(self) -> Path | None:
        """Publish the planners' snapshot; call with no connection of this process open.
        Returns None (publishing nothing) while another process writes."""
        return readers.publish_snapshot(self.path, parquet=self.snapshot_parquet)


def rewrite(db: Path) -> None:
    """Copy the warehouse into a fresh file and swap it in (no connection may be open)."""
    db = Path(db)
    tmp = db.with_name(f".{db.name}.{os.getpid()}.rewrite")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{str(db).replace(chr(39), chr(39) * 2)}' as old (read_only)")
        con.execute(f"attach '{str(tmp).replace(chr(39), chr(39) * 2)}' as new")
        con.execute("copy from database old to new")
        con.execute("detach new")
        con.execute("detach old")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(tmp, db)
