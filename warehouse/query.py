"""Read-only answers from the warehouse: named queries (``queries/``), planners' SQL, and the
data checks (``checks/``: each returns the offending rows)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb

from warehouse.contacts import ContactsStore
from warehouse.pii_scan import unmasked_personal_data_sql
from warehouse.planner import PlannerConnection, QueryError
from warehouse.readers import ReadSource
from warehouse.resource import Warehouse
from warehouse.sql import read_sql, sql_files

__all__ = ["QueryError", "QueryResult", "execute", "resolve_query", "run_checks", "run_query"]


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    source: ReadSource | None = None  # the snapshot it was read from

    def to_records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def resolve_query(name_or_sql: str) -> str:
    """A named query from ``warehouse/queries/`` or, if it is not a name, SQL as given (a bare
    word that is no query's name is SQL if DuckDB parses it: ``checkpoint`` is refused as a
    statement, ``gapz`` is an unknown name)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name_or_sql):
        try:
            return read_sql("queries", name_or_sql)
        except KeyError as unknown:
            try:
                duckdb.connect(":memory:").extract_statements(name_or_sql)
            except duckdb.Error:
                raise unknown from None
            return name_or_sql
    return name_or_sql


def execute(con: PlannerConnection | duckdb.DuckDBPyConnection, sql: str,
            params: dict[str, Any] | None = None) -> QueryResult:
    """Run one query on ``con``, binding the parameters it names (``$week``); the values are
    bound, never pasted into the SQL."""
    used = {k: v for k, v in (params or {}).items() if re.search(rf"\${re.escape(k)}\b", sql)}
    cur = con.execute(sql, used) if used else con.execute(sql)
    return QueryResult([d[0] for d in cur.description], cur.fetchall())


def run_query(wh: Warehouse, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
    """Run one planner's query on the sandboxed snapshot connection (``warehouse.planner``):
    one SELECT, no file, no other database, no setting; a :class:`QueryError` otherwise."""
    with wh.planner() as con:
        result = execute(con, sql, params)
    result.source = con.source
    return result


def run_checks(con: duckdb.DuckDBPyConnection, contacts: ContactsStore | None = None) -> dict[str, int]:
    """Run every data check; returns the number of offending rows per check. With
    ``contacts``, its checks too (``contacts.*``: keys only, no values read)."""
    results = {
        p.stem: con.execute(f"select count(*) from ({p.read_text(encoding='utf-8')})").fetchall()[0][0]
        for p in sql_files("checks")
    }
    # every text column of every table: built from information_schema (warehouse/pii_scan.py)
    results["unmasked_personal_data"] = con.execute(
        f"select count(*) from ({unmasked_personal_data_sql(con)})").fetchall()[0][0]
    if contacts is not None:
        results |= contacts.checks()
    return results
