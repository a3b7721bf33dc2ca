"""The planners' connection: the only way ``minsheng query``, the report and any web page read
the warehouse.

Three walls, each enough on its own for what it covers:

1. **What it opens.** The snapshot (``warehouse.readers``), read-only. The snapshot holds no
   personal data (contacts live in a file of their own, ``warehouse.contacts``), and a query on
   it never holds the live warehouse, so a flow that starts meanwhile writes at once.
2. **What DuckDB lets it do.** ``enable_external_access = false`` (no file, no other database,
   no extension), no extension auto-install or auto-load, no Python replacement scans, a memory
   limit and a thread count from settings, then ``lock_configuration = true``, so no statement
   can change any of it.
3. **What it is asked.** DuckDB's own parser classifies the SQL (``extract_statements``): one
   SELECT, nothing else; its parse tree (``json_serialize_sql``) names any table function that
   reads files, so that the refusal says what is not allowed instead of DuckDB's file error.

A query runs at most ``timeout_seconds`` (a timer thread calls ``interrupt()``) and returns at
most ``max_rows`` rows. Parameters are bound (``$week``), never pasted into the SQL. Every
failure is a :class:`QueryError` of one line.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from warehouse.readers import ReadSource

__all__ = ["PlannerConnection", "PlannerLimits", "QueryError", "QueryRefused", "QueryTimeout",
           "check_statement"]

ALLOWED = "planners' queries are one SELECT over the snapshot's tables and views"

# statement types, as DuckDB's parser names them, and what a refusal calls them
_REFUSED_TYPES = {
    "COPY": "COPY (reading or writing files)",
    "ATTACH": "ATTACH (opening other databases)",
    "DETACH": "DETACH",
    "LOAD": "INSTALL/LOAD (extensions)",
    "SET": "SET/RESET/USE (changing settings)",
    "VARIABLE_SET": "SET VARIABLE",
    "PRAGMA": "PRAGMA",
    "EXPORT": "EXPORT DATABASE (writing files)",
    "CALL": "CALL/CHECKPOINT",
    "CREATE": "CREATE",
    "CREATE_FUNC": "CREATE MACRO/FUNCTION",
    "DROP": "DROP",
    "ALTER": "ALTER",
    "INSERT": "INSERT",
    "UPDATE": "UPDATE",
    "DELETE": "DELETE",
    "MERGE_INTO": "MERGE",
    "TRANSACTION": "BEGIN/COMMIT/ROLLBACK",
    "VACUUM": "VACUUM",
    "ANALYZE": "ANALYZE",
    "EXPLAIN": "EXPLAIN",
    "PREPARE": "PREPARE",
    "EXECUTE": "EXECUTE",
    "MULTI": "PIVOT without an IN list (it runs a statement first): name the values, pivot t on x in ('a', 'b')",
}

# table functions that read files, other databases or secrets (the wall refuses them too)
_FILE_FUNCTIONS = {
    "glob", "sniff_csv", "parquet_scan", "parquet_metadata", "parquet_schema",
    "parquet_file_metadata", "parquet_kv_metadata", "parquet_bloom_probe", "delta_scan",
    "iceberg_scan", "iceberg_metadata", "iceberg_snapshots", "sqlite_scan", "sqlite_attach",
    "postgres_scan", "postgres_attach", "mysql_scan", "duckdb_secrets", "which_secret",
    "load_aws_credentials", "json_execute_serialized_sql",
}


class QueryError(ValueError):
    """A query that could not run; the message is one line (what, and what to do)."""


class QueryRefused(QueryError, PermissionError):
    """A statement or function the planners' connection does not allow."""


class QueryTimeout(QueryError):
    pass


@dataclass(frozen=True)
class PlannerLimits:
    memory_limit: str = "2GB"
    threads: int = 2
    timeout_seconds: float = 30.0
    max_rows: int = 100_000


class Result:
    """A query's answer, fetched within the time limit: ``description`` and ``fetchall()`` as
    a DuckDB cursor has them."""

    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self.columns, self.rows = columns, rows
        self.description = [(c, None, None, None, None, None, None) for c in columns]

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self.rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _function_names(node: Any) -> list[tuple[str, str]]:
    """(kind, name) of every table function and every table read by name in a parse tree."""
    found: list[tuple[str, str]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if n.get("type") == "TABLE_FUNCTION" and isinstance(n.get("function"), dict):
                found.append(("function", str(n["function"].get("function_name", "")).lower()))
            elif n.get("type") == "BASE_TABLE":
                found.append(("table", str(n.get("table_name", ""))))
            stack.extend(n.values())
        elif isinstance(n, list):
            stack.extend(n)
    return found


def check_statement(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse, in one line, anything but one SELECT that reads no file. ``con`` only parses."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryError(_first_line(exc)) from None
    if not statements:
        raise QueryError("no SQL to run: give a named query (minsheng query --list) or a SELECT")
    for st in statements:
        kind = str(st.type).rsplit(".", 1)[-1]
        if kind != "SELECT":
            what = _REFUSED_TYPES.get(kind, f"{kind} statements")
            raise QueryRefused(f"not allowed: {what}; {ALLOWED}")
    if len(statements) > 1:
        raise QueryRefused(f"not allowed: {len(statements)} statements in one query; {ALLOWED}, one at a time")
    try:
        tree = json.loads(con.execute("select json_serialize_sql($sql)", {"sql": sql}).fetchall()[0][0])
    except (duckdb.Error, ValueError):
        return  # the configuration is the wall; this only names what it would refuse
    if tree.get("error"):
        return
    for kind, name in _function_names(tree.get("statements", [])):
        if kind == "function" and (name.startswith("read_") or name in _FILE_FUNCTIONS):
            raise QueryRefused(f"not allowed: {name}() (reading files); {ALLOWED}")
        if kind == "table" and ("/" in name or "\\" in name or name.rsplit(".", 1)[-1].lower() in
                                {"csv", "tsv", "parquet", "json", "jsonl", "ndjson", "txt", "duckdb", "db", "gz"}):
            raise QueryRefused(f"not allowed: reading the file {name!r}; {ALLOWED}")


class PlannerConnection:
    """A sandboxed, read-only connection to one snapshot file (see the module docstring)."""

    def __init__(self, snapshot: Path, limits: PlannerLimits | None = None,
                 source: ReadSource | None = None) -> None:
        self.limits = limits or PlannerLimits()
        self.source = source
        if not Path(snapshot).exists():
            raise FileNotFoundError(f"no snapshot at {snapshot}")
        self._con = duckdb.connect(str(snapshot), read_only=True, config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "python_enable_replacements": False,
            "memory_limit": self.limits.memory_limit,
            "max_temp_directory_size": self.limits.memory_limit,  # spilling is bounded too
            "threads": self.limits.threads,
            "lock_configuration": True,
        })
        if self._con.execute("select count(*) from duckdb_schemas() where schema_name = 'pii'").fetchall()[0][0]:
            self._con.close()
            raise QueryRefused(f"not allowed: {snapshot} holds a pii schema (published before the "
                               "contacts moved out): run any minsheng flow to migrate and publish again")
        # parses only: classification never touches the snapshot's connection
        self._parser = duckdb.connect(":memory:", config={"enable_external_access": False})
        self._lock = threading.Lock()
        self._running = False

    def close(self) -> None:
        self._con.close()
        self._parser.close()

    def __enter__(self) -> PlannerConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _interrupt(self) -> None:
        with self._lock:
            if self._running:
                self._con.interrupt()

    def execute(self, sql: str, params: dict[str, Any] | None = None) -> Result:
        """Run one SELECT with its named parameters bound; the whole answer, fetched within
        the time limit, or a :class:`QueryError`."""
        check_statement(self._parser, sql)
        limits = self.limits
        timer = threading.Timer(limits.timeout_seconds, self._interrupt)
        timer.daemon = True
        with self._lock:
            self._running = True
        timer.start()
        try:
            cur = self._con.execute(sql, params) if params else self._con.execute(sql)
            columns = [d[0] for d in cur.description or []]
            rows = cur.fetchmany(limits.max_rows + 1)
        except duckdb.InterruptException:
            raise QueryTimeout(f"stopped after {limits.timeout_seconds:g} s (query.timeout_seconds): "
                               "filter or aggregate more, or raise the setting") from None
        except duckdb.OutOfMemoryException:
            raise QueryError(f"the query needs more than query.memory_limit ({limits.memory_limit}) "
                             "of memory: filter or aggregate first") from None
        except duckdb.PermissionException as exc:
            raise QueryRefused(f"not allowed: {_first_line(exc).split(': ', 1)[-1]}; {ALLOWED}") from None
        except duckdb.Error as exc:
            raise QueryError(_explain(exc)) from None
        finally:
            with self._lock:
                self._running = False
            timer.cancel()
        if len(rows) > limits.max_rows:
            raise QueryError(f"the answer has more than {limits.max_rows:,} rows (query.max_rows): "
                             "add a limit or aggregate")
        return Result(columns, rows)


def _explain(exc: duckdb.Error) -> str:
    line = _first_line(exc)
    if "Values were not provided for the following" in line:
        names = line.rsplit(":", 1)[-1].strip()
        return f"the query needs a value for {names}: add --param NAME=VALUE for each"
    if "Parameter/argument count mismatch" in line:
        return "the query takes no such parameter: give --param only for the $names it uses"
    return line
