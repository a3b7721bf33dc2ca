"""Read-only answers from the warehouse: named queries (``queries/``), planners' SQL, and the
data checks (``checks/``: each returns the offending rows)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb

from warehouse.readers import ReadSource
from warehouse.resource import Warehouse
from warehouse.sql import read_sql, sql_files

_PII = re.compile(r"\bpii\b", re.I)


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    source: ReadSource | None = None  # the live warehouse or its snapshot

    def to_records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def resolve_query(name_or_sql: str) -> str:
    """A named query from ``warehouse/queries/`` or, if it is not a name, SQL as given."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name_or_sql):
        return read_sql("queries", name_or_sql)
    return name_or_sql


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
    """Run one query on ``con``, binding the parameters it names (``$week``)."""
    used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", sql)}
    cur = con.execute(sql, used) if used else con.execute(sql)
    return QueryResult([d[0] for d in cur.description], cur.fetchall())


def run_query(wh: Warehouse, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
    """Run one read-only query. The ``pii`` schema is refused, whatever the SQL. While a flow
    writes the warehouse, the query reads the snapshot the flow last published."""
    if _PII.search(sql):
        raise PermissionError("queries may not read the pii schema")
    with wh.reader() as (con, source):
        result = execute(con, sql, params)
    result.source = source
    return result


def run_checks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Run every data check; returns the number of offending rows per check."""
    return {
        p.stem: con.execute(f"select count(*) from ({p.read_text(encoding='utf-8')})").fetchall()[0][0]
        for p in sql_files("checks")
    }
