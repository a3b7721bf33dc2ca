"""The DuckDB warehouse: migrations, bulk loads through Arrow, and read-only queries.

One process writes the file at a time; planners' queries open it with ``read_only=True``.
SQL lives in ``.sql`` files beside this module: ``schema/`` (numbered migrations, applied
once each), ``marts/`` (views, re-created on every migrate), ``queries/`` (named queries)
and ``checks/`` (data checks: each returns the offending rows).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from minsheng.ingest import FeedbackRecord, Rejected

SQL_ROOT = Path(str(resources.files("warehouse")))


def sql_files(kind: str) -> list[Path]:
    return sorted((SQL_ROOT / kind).glob("*.sql"))


def read_sql(kind: str, name: str) -> str:
    path = SQL_ROOT / kind / f"{name}.sql"
    if not path.exists():
        known = ", ".join(p.stem for p in sql_files(kind))
        raise KeyError(f"no {kind} named {name!r}; known: {known}")
    return path.read_text(encoding="utf-8")


def connect(db: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    if read_only and not Path(db).exists():
        raise FileNotFoundError(f"no warehouse at {db}: run `minsheng demo` or `minsheng ingest` first")
    Path(db).parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(db), read_only=read_only)


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations not yet applied, in order, then re-create the mart views."""
    con.execute(
        "create table if not exists schema_migrations "
        "(version varchar primary key, applied_at timestamp not null)"
    )
    done = {r[0] for r in con.execute("select version from schema_migrations").fetchall()}
    applied = []
    for path in sql_files("schema"):
        if path.stem in done:
            continue
        con.execute("begin transaction")
        con.execute(path.read_text(encoding="utf-8"))
        con.execute("insert into schema_migrations values (?, now())", [path.stem])
        con.execute("commit")
        applied.append(path.stem)
    for path in sql_files("marts"):
        con.execute(path.read_text(encoding="utf-8"))
    return applied


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchone()[0]


# --- loading ------------------------------------------------------------------------------


@dataclass
class LoadCounts:
    read: int = 0
    loaded: int = 0
    duplicate: int = 0
    superseded: int = 0
    quarantined: int = 0

    def add(self, other: "LoadCounts") -> None:
        for k in vars(self):
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


_RAW_KEY = {
    "hotline": ("raw_hotline", "order_id"),
    "platform": ("raw_platform", "message_id"),
    "meeting": ("raw_meeting", "item_key"),
    "survey": ("raw_survey", "response_id"),
}


def _raw_row(rec: FeedbackRecord, now: datetime) -> dict[str, Any]:
    key_col = _RAW_KEY[rec.channel][1]
    base = {
        key_col: rec.key, "received_at": rec.received_at, "community": rec.community,
        "content_hash": rec.content_hash, "source_file": rec.source_file,
        "source_pos": rec.source_pos, "ingested_at": now,
    }
    if rec.channel == "survey":
        base["open_answer"] = rec.text or None
        base["respondent_type"] = rec.extra["respondent_type"]
    else:
        base["text"] = rec.text
        base.update(rec.extra)
    return base


def _upsert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    arrow = pa.Table.from_pylist(rows)
    con.register("_staged", arrow)
    try:
        cols = ", ".join(arrow.column_names)
        con.execute(f"insert or replace into {table} ({cols}) select {cols} from _staged")
    finally:
        con.unregister("_staged")


def load_items(
    con: duckdb.DuckDBPyConnection, channel: str, items: Iterable[FeedbackRecord | Rejected]
) -> LoadCounts:
    """Load one channel's records and rejections in one transaction.

    A record whose key and content hash are already in the warehouse is a duplicate and adds
    nothing; same key with new content supersedes the old row. Rejections go to quarantine,
    keyed so that a re-run adds nothing.
    """
    counts = LoadCounts()
    records: dict[str, FeedbackRecord] = {}
    rejected: dict[str, Rejected] = {}
    for item in items:
        counts.read += 1
        if isinstance(item, Rejected):
            rejected[item.quarantine_id] = item
        else:
            records[item.key] = item  # a key repeated inside one input: the last one wins
    table, key_col = _RAW_KEY[channel]
    existing = dict(
        con.execute(
            f"select {key_col}, content_hash from {table} where {key_col} in "
            "(select unnest($keys))", {"keys": list(records)}
        ).fetchall()
    ) if records else {}
    new = []
    for key, rec in records.items():
        old = existing.get(key)
        if old == rec.content_hash:
            counts.duplicate += 1
        else:
            counts.superseded += old is not None
            counts.loaded += old is None
            new.append(rec)
    counts.duplicate += (counts.read - len(rejected)) - len(records)
    counts.quarantined = len(rejected)
    now = datetime.now().replace(microsecond=0)
    con.execute("begin transaction")
    try:
        _upsert(con, table, [_raw_row(r, now) for r in new])
        _upsert(con, "feedback", [
            {
                "feedback_id": r.feedback_id, "channel": r.channel, "received_at": r.received_at,
                "week": r.week, "community": r.community, "text": r.text,
                "content_hash": r.content_hash, "source_file": r.source_file,
                "source_pos": r.source_pos, "ingested_at": now,
            }
            for r in new if r.text
        ])
        if channel == "survey":
            _upsert(con, "survey_answers", [
                {"response_id": r.key, "item_code": code, "item_name": name,
                 "answer": answer, "polarity": polarity}
                for r in new for code, name, answer, polarity in r.answers
            ])
        _upsert(con, "pii.contacts", [
            {"record_id": r.feedback_id, "field": k, "value": v}
            for r in new for k, v in r.contacts.items()
        ])
        fresh = [q for qid, q in rejected.items()]
        _upsert_quarantine(con, fresh, now)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return counts


def _upsert_quarantine(con: duckdb.DuckDBPyConnection, rows: list[Rejected], now: datetime) -> None:
    if not rows:
        return
    arrow = pa.Table.from_pylist([
        {"quarantine_id": q.quarantine_id, "channel": q.channel, "source_file": q.source_file,
         "source_pos": q.source_pos, "reason": q.reason, "message": q.message,
         "raw_payload": q.raw, "first_seen": now}
        for q in rows
    ])
    con.register("_staged", arrow)
    try:
        cols = ", ".join(arrow.column_names)
        con.execute(f"insert or ignore into quarantine ({cols}) select {cols} from _staged")
    finally:
        con.unregister("_staged")


# --- reading ------------------------------------------------------------------------------

_PII = re.compile(r"\bpii\b", re.I)


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]

    def to_records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def resolve_query(name_or_sql: str) -> str:
    """A named query from ``warehouse/queries/`` or, if it is not a name, SQL as given."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name_or_sql):
        return read_sql("queries", name_or_sql)
    return name_or_sql


def run_query(db: Path, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
    """Run one read-only query. The ``pii`` schema is refused, whatever the SQL."""
    if _PII.search(sql):
        raise PermissionError("queries may not read the pii schema")
    con = connect(db, read_only=True)
    try:
        used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", sql)}
        cur = con.execute(sql, used) if used else con.execute(sql)
        columns = [d[0] for d in cur.description]
        return QueryResult(columns, cur.fetchall())
    finally:
        con.close()


def run_checks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Run every data check; returns the number of offending rows per check."""
    return {
        p.stem: con.execute(f"select count(*) from ({p.read_text(encoding='utf-8')})").fetchone()[0]
        for p in sql_files("checks")
    }


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


# --- the text stage's hand-off ------------------------------------------------------------


def export_unprocessed(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Write the feedback rows that have no demand items for their current content to
    Parquet, for the Beam pipeline. Returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sql = """
        select f.feedback_id, f.channel, f.received_at, f.week, f.community, f.text,
               f.content_hash, f.source_file, f.source_pos
        from feedback as f
        where not exists (
            select 1 from demand_items as d
            where d.feedback_id = f.feedback_id and d.content_hash = f.content_hash
        )
        and not exists (
            select 1 from quarantine as q
            where q.record_id = f.feedback_id and q.content_hash = f.content_hash
        )
        order by f.feedback_id
    """
    con.execute(f"copy ({sql}) to '{path}' (format parquet)")
    return con.execute(f"select count(*) from read_parquet('{path}')").fetchone()[0]


def merge_staged(con: duckdb.DuckDBPyConnection, run_dir: Path) -> dict[str, int]:
    """Merge a run's Parquet parts into the warehouse by primary key, in one transaction.

    A feedback row's old items are replaced as a whole (its item count may have changed);
    merging the same run twice leaves the warehouse as merging it once.
    """
    items = sorted(run_dir.glob("items*.parquet"))
    dead = sorted(run_dir.glob("dead*.parquet"))
    con.execute("begin transaction")
    try:
        n_items = 0
        if items:
            files = [str(p) for p in items]
            con.execute(
                "create or replace temp table _items as select * from read_parquet($files)",
                {"files": files},
            )
            con.execute(
                "delete from demand_items where feedback_id in (select feedback_id from _items)"
            )
            con.execute("""
                insert into demand_items
                select item_id, feedback_id, channel, received_at, week, community, text, tokens,
                       keywords, category, confidence, top3, embedding, content_hash,
                       model_version, now()::timestamp
                from _items
            """)
            n_items = con.execute("select count(*) from _items").fetchone()[0]
            con.execute("drop table _items")
        n_dead = 0
        if dead:
            con.execute("""
                insert or ignore into quarantine
                select md5(concat_ws('|', feedback_id, content_hash, stage || ':' || reason)),
                       channel, source_file, source_pos, stage || ':' || reason, message, payload,
                       now()::timestamp, nullif(feedback_id, ''), nullif(content_hash, '')
                from read_parquet($files)
            """, {"files": [str(p) for p in dead]})
            n_dead = con.execute(
                "select count(*) from read_parquet($files)", {"files": [str(p) for p in dead]}
            ).fetchone()[0]
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return {"items": n_items, "dead_letters": n_dead}
