"""The DuckDB warehouse: migrations, bulk loads through Arrow, and read-only queries.

One process writes the file at a time; planners' queries open it with ``read_only=True``.
SQL lives in ``.sql`` files beside this module: ``schema/`` (numbered migrations, applied
once each), ``marts/`` (views, re-created on every migrate), ``queries/`` (named queries)
and ``checks/`` (data checks: each returns the offending rows).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from minsheng.clock import Clock
from minsheng.domain import ChannelMapping, District
from minsheng.ingest import READERS, FeedbackRecord, IngestLimits, Rejected, UnreadableInput
from minsheng.tabular import TabularError, ValidatedHotline, validate_hotline_file
from warehouse.readers import ReadSource, open_reader
from warehouse.sql import read_sql, sql_files, transaction  # noqa: F401  (re-exported)



def connect(db: Path, *, read_only: bool = False, wait_seconds: float = 30.0) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. A writer that finds the file locked (another writer, or a reader
    opening it) waits up to ``wait_seconds`` instead of failing: DuckDB allows one writer."""
    if read_only and not Path(db).exists():
        raise FileNotFoundError(f"no warehouse at {db}: run `minsheng demo` or `minsheng ingest` first")
    Path(db).parent.mkdir(parents=True, exist_ok=True)
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
        with transaction(con):
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("insert into schema_migrations values (?, now())", [path.stem])
        applied.append(path.stem)
    for path in sql_files("marts"):
        con.execute(path.read_text(encoding="utf-8"))
    return applied


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"select count(*) from {table}").fetchall()[0][0]


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

# channel columns of each raw table beyond the common ones
_RAW_EXTRA = {
    "hotline": [],
    "platform": ["user_hash", "title"],
    "meeting": ["file_sha256", "meeting_date", "group_name", "item_no", "span_start", "span_end"],
    "survey": ["respondent_type"],
}


@dataclass
class ChannelBatch:
    """One input file's output, as Arrow: ``records`` has key, received_at, community, text,
    extra_json, source_pos, _ord (input order) and the channel's raw columns; ``contacts``
    has key, field, value; ``answers`` (survey) has key, item_code, item_name, answer,
    polarity; ``rejected`` has source_pos, reason, message, payload."""

    channel: str
    source_file: str
    records: pa.Table
    rejected: pa.Table
    contacts: pa.Table | None = None
    answers: pa.Table | None = None


REJECTED_SCHEMA = pa.schema([("source_pos", pa.string()), ("reason", pa.string()),
                             ("message", pa.string()), ("payload", pa.string())])


def batch_from_items(channel: str, source_file: str, items: Iterable[FeedbackRecord | Rejected]) -> ChannelBatch:
    """Records and rejections from a row-wise adapter, as a batch."""
    records, rejected = [], []
    for item in items:
        (rejected if isinstance(item, Rejected) else records).append(item)
    rows = []
    for n, r in enumerate(records):
        row = {"key": r.key, "received_at": r.received_at, "community": r.community, "text": r.text,
               "extra_json": r.extra_json, "source_pos": r.source_pos, "_ord": n}
        row.update({k: r.extra.get(k) for k in _RAW_EXTRA[channel]})
        rows.append(row)
    contacts = [{"key": r.key, "field": k, "value": v} for r in records for k, v in r.contacts.items()]
    answers = [{"key": r.key, "item_code": c, "item_name": nm, "answer": a, "polarity": p}
               for r in records for c, nm, a, p in r.answers]
    return ChannelBatch(
        channel, source_file, pa.Table.from_pylist(rows, schema=_records_schema(channel)),
        pa.Table.from_pylist([{"source_pos": q.source_pos, "reason": q.reason, "message": q.message,
                               "payload": q.raw} for q in rejected], schema=REJECTED_SCHEMA),
        pa.Table.from_pylist(contacts) if contacts else None,
        pa.Table.from_pylist(answers) if answers else None,
    )


def _records_schema(channel: str) -> pa.Schema:
    types = {"user_hash": pa.string(), "title": pa.string(), "file_sha256": pa.string(),
             "meeting_date": pa.date32(), "group_name": pa.string(), "item_no": pa.int64(),
             "span_start": pa.int64(), "span_end": pa.int64(), "respondent_type": pa.string()}
    return pa.schema([("key", pa.string()), ("received_at", pa.timestamp("us")),
                      ("community", pa.string()), ("text", pa.string()),
                      ("extra_json", pa.string()), ("source_pos", pa.string()), ("_ord", pa.int64())]
                     + [(c, types[c]) for c in _RAW_EXTRA[channel]])


def batch_from_hotline(v: ValidatedHotline, source_file: str) -> ChannelBatch:
    """A validated hotline file (``minsheng.tabular``) as a batch, without leaving Arrow."""
    good = v.good
    n = good.num_rows
    records = pa.table({
        "key": good["order_id"], "received_at": good["received_at"].cast(pa.timestamp("us")),
        "community": good["community"], "text": good["text"],
        "extra_json": pa.repeat(pa.scalar("", pa.string()), n),
        "source_pos": pc.binary_join_element_wise("row ", pc.cast(good["_row"], pa.string()), ""),
        "_ord": good["_row"],
    })
    contacts = pa.table({"key": good["order_id"], "field": pa.repeat(pa.scalar("caller_phone", pa.string()), n),
                         "value": good["caller_phone"]})
    rej = v.rejected
    rejected = pa.table({
        "source_pos": pc.binary_join_element_wise(
            "row ", pc.fill_null(pc.cast(rej["_row"], pa.string()), "?"), ""),
        "reason": rej["reason"], "message": rej["message"], "payload": rej["payload"],
    })
    return ChannelBatch("hotline", source_file, records, rejected, contacts=contacts)


def read_batch(
    channel: str, path: Path, mapping: ChannelMapping, district: District, *,
    clock: Clock | None = None, limits: IngestLimits | None = None,
) -> ChannelBatch:
    """Read and validate one input file of a channel. The hotline, the channel that grows to
    megacity volume, stays in Arrow end to end; the others go through their row adapters."""
    if channel == "hotline":
        try:
            v = validate_hotline_file(path, mapping, district, clock=clock, limits=limits or IngestLimits())
        except TabularError as exc:
            raise UnreadableInput(str(exc)) from exc
        return batch_from_hotline(v, path.name)
    items = READERS[channel](path, mapping, district, clock=clock, limits=limits)
    return batch_from_items(channel, path.name, items)


_HASH = ("md5(concat_ws(chr(31), strftime({p}received_at, '%Y-%m-%dT%H:%M:%S'), {p}community, {p}text, "
         "{p}extra_json))")


def load_batch(con: duckdb.DuckDBPyConnection, batch: ChannelBatch) -> LoadCounts:
    """Load one file's batch in one transaction.

    Within the file the last row of a key wins. A key already in the warehouse with the
    same content hash is a duplicate and adds nothing; with a new hash it supersedes the old
    row, which moves to ``raw_history``. Rejections go to quarantine, keyed by file,
    position and reason, so a re-run adds nothing.

    The common case, a file of keys that are all new and each once, is loaded in one pass:
    the rows go from the Arrow batch into the table, hashed on the way, with nothing to
    compare or pick. Otherwise keys and hashes are staged and compared first.
    """
    channel = batch.channel
    table, key_col = _RAW_KEY[channel]
    extra_cols = _RAW_EXTRA[channel]
    text_col = "open_answer" if channel == "survey" else "text"
    cols = ", ".join(extra_cols)
    sel = ", ".join(f"b.{c}" for c in extra_cols)
    text_value = "nullif(b.text, '')" if channel == "survey" else "b.text"
    insert_into = f"""
        insert into {table}
            ({key_col}, received_at, community, {text_col}, content_hash, source_file,
             source_pos, ingested_at{', ' + cols if cols else ''})
    """
    con.register("_batch", batch.records)
    con.register("_rejected", batch.rejected)
    # rows land in the table in no particular order (every reader orders by key), which lets
    # DuckDB insert on all threads: half the time of an order-preserving insert. The setting
    # is the database's, so it is put back as soon as the load is done.
    keep_order = con.execute("select current_setting('preserve_insertion_order')").fetchall()[0][0]
    con.execute("set preserve_insertion_order = false")
    try:
        with transaction(con):
            rows, keys, known = con.execute(f"""
                select count(*), count(distinct key), count(*) filter (where key in (select {key_col} from {table}))
                from _batch
            """).fetchall()[0]
            all_new = keys == rows and known == 0
            if all_new:
                loaded, duplicate, superseded = rows, 0, 0
                new_keys = ""  # every key of the batch
                con.execute(f"""
                    {insert_into}
                    select b.key, b.received_at, b.community, {text_value}, {_HASH.format(p="b.")}, $file,
                           b.source_pos, now()::timestamp{', ' + sel if sel else ''}
                    from _batch as b
                """, {"file": batch.source_file})
            else:
                # the window that keeps the last row of a key is only paid for when keys repeat
                last_of_key = "qualify row_number() over (partition by key order by _ord desc) = 1" if keys < rows else ""
                # keys and hashes only: the texts stay in the Arrow batch until they are inserted
                con.execute(f"""
                    create or replace temp table _in as
                    select key, _ord, {_HASH.format(p="")} as content_hash
                    from _batch
                    {last_of_key}
                """)
                loaded, duplicate, superseded = con.execute(f"""
                    select count(*) filter (where e.{key_col} is null),
                           count(*) filter (where e.content_hash = i.content_hash),
                           count(*) filter (where e.content_hash <> i.content_hash)
                    from _in as i left join {table} as e on e.{key_col} = i.key
                """).fetchall()[0]
                if superseded:
                    # the superseded row goes to history; its load time has a column of its own there
                    con.execute(f"""
                        insert or ignore into raw_history
                        with old as (
                            select e.* from {table} as e join _in as i on e.{key_col} = i.key
                            where e.content_hash <> i.content_hash
                        )
                        select '{channel}', o.{key_col}, o.content_hash, to_json(r)::varchar, o.ingested_at,
                               now()::timestamp
                        from old as o
                        join (select * exclude (ingested_at) from old) as r using ({key_col})
                    """)
                con.execute(f"""
                    create or replace temp table _new as
                    select i.key, i._ord, i.content_hash from _in as i left join {table} as e on e.{key_col} = i.key
                    where e.{key_col} is null or e.content_hash <> i.content_hash
                """)
                new_keys = "where key in (select key from _new)"
                if superseded:
                    con.execute(f"delete from {table} where {key_col} in (select key from _new)")
                con.execute(f"""
                    {insert_into}
                    select b.key, b.received_at, b.community, {text_value}, n.content_hash, $file,
                           b.source_pos, now()::timestamp{', ' + sel if sel else ''}
                    from _batch as b
                    join _new as n on n.key = b.key and n._ord = b._ord
                """, {"file": batch.source_file})
            if batch.answers is not None:
                con.register("_answers", batch.answers)
                con.execute(f"""
                    insert or replace into survey_answers
                    select key, item_code, item_name, answer, polarity from _answers
                    {new_keys}
                """)
                con.unregister("_answers")
            if batch.contacts is not None and (loaded or superseded):
                con.register("_contacts", batch.contacts)
                source = "_batch" if all_new else "_new"
                con.execute(f"delete from pii.contacts where record_id in (select $ch || ':' || key from {source})",
                            {"ch": channel})
                con.execute(f"""
                    insert into pii.contacts
                    select $ch || ':' || key, field, value from _contacts
                    {new_keys + ' and' if new_keys else 'where'} value <> ''
                """, {"ch": channel})
                con.unregister("_contacts")
            con.execute("""
                insert or ignore into quarantine
                    (quarantine_id, channel, source_file, source_pos, reason, message, raw_payload, first_seen)
                select md5(concat_ws('|', $ch, $file, source_pos, reason)), $ch, $file, source_pos,
                       reason, message, payload, now()::timestamp
                from _rejected
            """, {"ch": channel, "file": batch.source_file})
            if not all_new:
                con.execute("drop table _in")
                con.execute("drop table _new")
    finally:
        con.execute(f"set preserve_insertion_order = {'true' if keep_order else 'false'}")
        con.unregister("_batch")
        con.unregister("_rejected")
    read = batch.records.num_rows + batch.rejected.num_rows
    quarantined = batch.rejected.num_rows
    return LoadCounts(read=read, loaded=loaded, duplicate=duplicate + (batch.records.num_rows - loaded - duplicate - superseded),
                      superseded=superseded, quarantined=quarantined)


def load_items(
    con: duckdb.DuckDBPyConnection, channel: str, items: Iterable[FeedbackRecord | Rejected],
    source_file: str = "",
) -> LoadCounts:
    """Load a row-wise adapter's output (see :func:`load_batch`)."""
    items = list(items)
    source = source_file or next((i.source_file for i in items), "")
    return load_batch(con, batch_from_items(channel, source, items))


# --- reading ------------------------------------------------------------------------------

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


def run_query(db: Path, sql: str, params: dict[str, Any] | None = None) -> QueryResult:
    """Run one read-only query. The ``pii`` schema is refused, whatever the SQL. While a flow
    writes the warehouse, the query reads the snapshot the flow last published."""
    if _PII.search(sql):
        raise PermissionError("queries may not read the pii schema")
    with open_reader(db) as (con, source):
        used = {k: v for k, v in (params or {}).items() if re.search(rf"\${k}\b", sql)}
        cur = con.execute(sql, used) if used else con.execute(sql)
        columns = [d[0] for d in cur.description]
        return QueryResult(columns, cur.fetchall(), source)


def run_checks(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Run every data check; returns the number of offending rows per check."""
    return {
        p.stem: con.execute(f"select count(*) from ({p.read_text(encoding='utf-8')})").fetchall()[0][0]
        for p in sql_files("checks")
    }


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)

