"""The text stage's hand-off with the warehouse, and the loader that makes it exactly once.

Beam workers never open the warehouse: DuckDB has one writer, and a runner may run a bundle
twice. The driver exports what a run needs (:func:`export_unprocessed`,
:func:`export_window_state`); workers write Parquet parts into a staging folder named by
the hash of that input; then one loader (:func:`merge_part`) merges the part in a single
transaction that also records it in the ``processed_parts`` ledger (and, in streaming mode,
moves the inbox read positions in ``inbox_files``). Every write is by primary key and
replaces instead of adding, so that:

* a bundle retried by the runner rewrites the same rows;
* a run killed before the merge leaves the warehouse as it was, and its rerun stages the same
  part again (or a larger one, if more data arrived);
* a part already merged is skipped, and a part computed on an older head is refused
  (:class:`StalePart`), so that window counts are never overwritten by stale ones.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from minsheng.channels import ChannelBatch
from minsheng.records import DEMAND_ITEM
from warehouse.issues import IssueSettings, assign_part
from warehouse.loader import load_batch
from warehouse.resource import Warehouse
from warehouse.sql import read_sql, transaction

ITEM_COLUMNS = tuple(DEMAND_ITEM.names)
COUNT_TABLES = {"hourly": "demand_counts_hourly", "trend": "demand_trend_daily"}


class StalePart(RuntimeError):
    """The part was computed on a warehouse state that another part has since changed."""


@dataclass(frozen=True)
class Head:
    """The last part merged, and the event-time watermark after it."""

    part_id: str | None = None
    watermark: datetime | None = None


@dataclass(frozen=True)
class InboxCursor:
    """How far an inbox file has been read (a row of ``inbox_files``)."""

    path: str
    channel: str
    read_to: int
    records: int
    fingerprint: str
    error: str | None = None


@dataclass(frozen=True)
class Part:
    """A staged part: the folder the workers wrote, and what the loader records with it."""

    part_id: str
    mode: str  # batch | stream (bounded runs) | unbounded (a runner's panes)
    folder: Path
    base: str | None
    watermark: datetime | None
    feedback: int = 0
    too_late: int = 0
    cursors: tuple[InboxCursor, ...] = field(default_factory=tuple)


def part_id(mode: str, base: str | None, *parts: str) -> str:
    """A part's name: the same input on the same head gives the same name."""
    h = hashlib.sha256("\x1f".join((mode, base or "", *parts)).encode("utf-8"))
    return f"{mode}-{h.hexdigest()[:16]}"


def head(con: duckdb.DuckDBPyConnection) -> Head:
    row = con.execute(
        "select part_id, max(watermark) over () from processed_parts order by seq desc limit 1"
    ).fetchall()
    return Head(*row[0]) if row else Head()


def inbox_cursors(con: duckdb.DuckDBPyConnection) -> dict[str, InboxCursor]:
    rows = con.execute(
        "select path, channel, read_to, records, fingerprint, error from inbox_files"
    ).fetchall()
    return {r[0]: InboxCursor(*r) for r in rows}


ROWS_PER_FILE = 10_000


def export_unprocessed(con: duckdb.DuckDBPyConnection, folder: Path) -> tuple[int, str]:
    """Write the feedback rows that have neither demand items nor a dead letter for their
    current content to Parquet files under ``folder`` (``file=N/data_0.parquet``, at most
    :data:`ROWS_PER_FILE` rows each). Returns the row count and a digest of the rows' keys
    and content hashes (the same rows give the same digest)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    # several files: a local runner hands whole files to its workers, so they set the grain
    # at which work spreads over them. Rows are dealt out to the files in turn, so that each
    # file holds the same mix of channels (and of text lengths) and the workers finish together.
    con.execute(f"""
        copy (
            select *, (row_number() over (order by feedback_id) - 1)
                      % greatest(1, ceil(count(*) over () / {ROWS_PER_FILE}))::bigint as file
            from ({read_sql('loader', 'unprocessed')})
        ) to '{folder}' (format parquet, partition_by (file), row_group_size 4096)
    """)
    if not any(folder.glob("*/*.parquet")):
        return 0, hashlib.md5(b"").hexdigest()
    n, digest = con.execute(
        "select count(*), md5(string_agg(feedback_id || ':' || content_hash, ',' "
        "order by feedback_id)) from read_parquet($p)", {"p": rows_glob(folder)}
    ).fetchall()[0]
    return n, digest


def rows_glob(folder: Path) -> str:
    """The files :func:`export_unprocessed` wrote under ``folder``."""
    return f"{folder}/*/*.parquet"


def export_window_state(con: duckdb.DuckDBPyConnection, rows: Path, path: Path) -> int:
    """Write the stored contents of the windows a run over the rows exported to ``rows``
    touches (see ``pipelines.windows``): what a bounded run re-reads to count whole windows."""
    con.execute(
        f"copy ({read_sql('loader', 'window_state')}) to '{path}' (format parquet)",
        {"rows": rows_glob(rows)},
    )
    return con.execute("select count(*) from read_parquet($p)", {"p": str(path)}).fetchall()[0][0]


def _files(folder: Path, name: str) -> list[str]:
    return [str(p) for p in sorted(folder.glob(f"{name}-*.parquet"))]


def _merge_counts(con: duckdb.DuckDBPyConnection, table: str, files: list[str]) -> int:
    """Replace window counts by key. A bounded run's rows (no pane index) always replace and
    count one firing more; a runner's panes replace only older panes of the same window."""
    if not files:
        return 0
    con.execute("""
        create or replace temp table _counts as
        select * from read_parquet($files)
        qualify row_number() over (partition by window_start, community, category
                                   order by pane_index desc nulls first) = 1
    """, {"files": files})
    con.execute(f"""
        insert or replace into {table}
        select n.window_start, n.window_end, n.community, n.category, n.items, n.timing,
               coalesce(n.pane_index, o.pane_index + 1, 0), now()::timestamp
        from _counts as n
        left join {table} as o using (window_start, community, category)
        where n.pane_index is null or o.pane_index is null or n.pane_index > o.pane_index
    """)
    n = con.execute("select count(*) from _counts").fetchall()[0][0]
    con.execute("drop table _counts")
    return n


def _close_windows(con: duckdb.DuckDBPyConnection, watermark: datetime | None) -> None:
    """The on-time firing of windows the watermark has passed without new data."""
    if watermark is None:
        return
    for table in COUNT_TABLES.values():
        con.execute(f"""
            update {table} set timing = 'on_time', pane_index = pane_index + 1,
                               updated_at = now()::timestamp
            where timing = 'early' and window_end <= $w
        """, {"w": watermark})


def merge_part(con: duckdb.DuckDBPyConnection, part: Part, issues: IssueSettings | None = None) -> dict[str, int]:
    """Merge a staged part into the warehouse in one transaction, exactly once.

    Demand items replace a feedback row's old items as a whole (its item count may have
    changed, or its new version may have been dead-lettered); dead letters go to
    ``quarantine``; window counts replace the stored ones; with ``issues``, the part's items
    are assigned to hot issues (``warehouse.issues``); the inbox positions and the ledger row
    are written with them. A part already in the ledger is skipped (its counts are returned
    with ``merged=0``); a part whose base is no longer the head raises :class:`StalePart`.
    """
    done = con.execute(
        "select feedback, items, dead_letters, too_late from processed_parts where part_id = $p",
        {"p": part.part_id},
    ).fetchall()
    if done:
        return dict(zip(("feedback", "items", "dead_letters", "too_late"), done[0], strict=True)) | {"merged": 0}
    items, dead = _files(part.folder, "items"), _files(part.folder, "dead")
    with transaction(con):
        current = head(con)
        # a runner's panes merge in any order (counts by pane index); parts of bounded runs
        # carry whole-window counts computed on the head they name
        if part.mode != "unbounded" and current.part_id != part.base:
            raise StalePart(f"{part.part_id} was computed on {part.base}, the head is now {current.part_id}")
        con.execute("create or replace temp table _items as select * from read_parquet($f, union_by_name = true)"
                    if items else "create or replace temp table _items as select null::varchar as feedback_id limit 0",
                    {"f": items} if items else None)
        con.execute("create or replace temp table _dead as select * from read_parquet($f)"
                    if dead else "create or replace temp table _dead as select null::varchar as feedback_id limit 0",
                    {"f": dead} if dead else None)
        retracted = [r[0] for r in con.execute("""
            select item_id from demand_items where feedback_id in (
                select feedback_id from _items union select nullif(feedback_id, '') from _dead)
        """).fetchall()]
        con.execute("""
            delete from demand_items where feedback_id in (
                select feedback_id from _items union select nullif(feedback_id, '') from _dead)
        """)
        n_items = con.execute("select count(*) from _items").fetchall()[0][0]
        if n_items:
            cols = ", ".join(ITEM_COLUMNS)
            con.execute(f"insert into demand_items ({cols}, processed_at) "
                        f"select {cols}, now()::timestamp from _items")
        n_dead = con.execute("select count(*) from _dead").fetchall()[0][0]
        if n_dead:
            con.execute("""
                insert or ignore into quarantine
                    (quarantine_id, channel, source_file, source_pos, reason, message, raw_payload,
                     first_seen, record_id, content_hash)
                select md5(concat_ws('|', feedback_id, content_hash, stage || ':' || reason)),
                       channel, source_file, source_pos, stage || ':' || reason, message, payload,
                       now()::timestamp, nullif(feedback_id, ''), nullif(content_hash, '')
                from _dead
            """)
        if n_items:  # a record the text stage turned away before, now in items (say, corrected)
            con.execute("""
                update quarantine set resolved_at = now()::timestamp, resolved_by = $p
                where resolved_at is null and record_id in (select feedback_id from _items)
            """, {"p": part.part_id})
        assigned = assign_part(con, part.part_id, "_items", retracted, issues) if issues is not None else {}
        for name, table in COUNT_TABLES.items():
            _merge_counts(con, table, _files(part.folder, name))
        _close_windows(con, part.watermark)
        for c in part.cursors:
            con.execute(
                "insert or replace into inbox_files values (?, ?, ?, ?, ?, ?, ?, now()::timestamp)",
                [c.path, c.channel, c.read_to, c.records, c.fingerprint, part.part_id, c.error],
            )
        con.execute("""
            insert into processed_parts
            select $p, coalesce((select max(seq) from processed_parts), 0) + 1, $mode, $base,
                   $w, $feedback, $items, $dead, $late, now()::timestamp
        """, {"p": part.part_id, "mode": part.mode, "base": part.base, "w": part.watermark,
              "feedback": part.feedback, "items": n_items, "dead": n_dead, "late": part.too_late})
        con.execute("drop table _items")
        con.execute("drop table _dead")
    return {"feedback": part.feedback, "items": n_items, "dead_letters": n_dead,
            "too_late": part.too_late, "merged": 1, **assigned}


# --- the driver's and the loader's side, over the warehouse resource ---------------------------

ROWS_DIR = "input-rows"
STATE_FILE = "input-state.parquet"


@dataclass(frozen=True)
class PartInput:
    """What :func:`export_part_input` wrote into a part folder: the head it was computed on,
    how many feedback rows (``ROWS_DIR``), their digest, and their latest received time."""

    head: Head
    rows: int
    digest: str
    latest: datetime | None


def export_part_input(wh: Warehouse, folder: Path) -> PartInput:
    """Export the unprocessed feedback into ``folder/ROWS_DIR`` and the stored contents of the
    windows they touch into ``folder/STATE_FILE``: everything a bounded run of the text stage
    reads. With no unprocessed rows, nothing is written (and nothing needs to run)."""
    with wh.connect() as con:
        current = head(con)
        n, digest = export_unprocessed(con, folder / ROWS_DIR)
        latest = None
        if n:
            export_window_state(con, folder / ROWS_DIR, folder / STATE_FILE)
            latest = con.execute("select max(received_at) from read_parquet($p)",
                                 {"p": rows_glob(folder / ROWS_DIR)}).fetchall()[0][0]
    return PartInput(current, n, digest, latest)


def load_part(wh: Warehouse, part: Part, issues: IssueSettings | None = None) -> dict[str, int]:
    """The loader: merge a staged part into the warehouse exactly once (with ``issues``, its
    items assigned to hot issues), then drop its files."""
    with wh.connect() as con:
        merged = merge_part(con, part, issues)
    shutil.rmtree(part.folder, ignore_errors=True)
    return merged


def read_inbox_cursors(wh: Warehouse) -> dict[str, InboxCursor]:
    with wh.connect() as con:
        return inbox_cursors(con)


def load_batches(wh: Warehouse, batches: Sequence[ChannelBatch]) -> None:
    """Ingest batches read from the inbox (idempotent, by key and content hash)."""
    if not batches:
        return
    with wh.connect() as con:
        for batch in batches:
            load_batch(con, batch, wh.contacts)
