"""The warehouse's SQL files: ``schema/`` (numbered migrations), ``views/`` (views built from
the channel registry, jinja2 templates), ``marts/`` (views), ``queries/`` (named queries),
``checks/`` (data checks) and ``loader/`` (what the Beam loader exports for a part). Kept free
of project imports so that any module of the warehouse can read SQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb

SQL_ROOT = Path(str(resources.files("warehouse")))


def sql_files(kind: str) -> list[Path]:
    return sorted((SQL_ROOT / kind).glob("*.sql"))


def read_sql(kind: str, name: str) -> str:
    path = SQL_ROOT / kind / f"{name}.sql"
    if not path.exists():
        known = ", ".join(p.stem for p in sql_files(kind))
        raise KeyError(f"no {kind} named {name!r}; known: {known}")
    return path.read_text(encoding="utf-8")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One transaction: committed when the block ends, rolled back when it raises (an
    interrupt included), so that a failed load leaves the warehouse as it was."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
