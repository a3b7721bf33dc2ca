"""Ingestion's loader: one input file's batch into the raw tables and the quarantine, in one
transaction, idempotently (by natural key and content hash), and its contacts into the
contacts file (``warehouse.contacts``), committed just before that transaction."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from minsheng.channels import ChannelBatch, Item
from minsheng.channels import get as get_channel
from warehouse.contacts import CONTACT_ROWS, ContactsStore
from warehouse.sql import transaction


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


_HASH = ("md5(concat_ws(chr(31), strftime({p}received_at, '%Y-%m-%dT%H:%M:%S'), {p}community, {p}text, "
         "{p}extra_json))")


def database_path(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file behind ``con``'s current database (None in memory)."""
    return con.execute("select path from duckdb_databases() where database_name = current_database()"
                       ).fetchall()[0][0]


def _contacts_of(con: duckdb.DuckDBPyConnection) -> ContactsStore:
    path = database_path(con)
    if not path:
        raise ValueError("an in-memory warehouse has no contacts file beside it: pass contacts=")
    return ContactsStore.beside(Path(path))


def load_batch(con: duckdb.DuckDBPyConnection, batch: ChannelBatch,
               contacts: ContactsStore | None = None, *, run_id: str | None = None) -> LoadCounts:
    """Load one file's batch in one transaction.

    Within the file the last row of a key wins. A key already in the warehouse with the
    same content hash is a duplicate and adds nothing; with a new hash it supersedes the old
    row, which moves to ``raw_history``. Rejections go to quarantine, keyed by file,
    position and reason, so a re-run adds nothing; a position of the file that loads now closes
    its open quarantine rows (marked resolved by ``run_id``), and one that fails again reopens its.

    The common case, a file of keys that are all new and each once, is loaded in one pass:
    the rows go from the Arrow batch into the table, hashed on the way, with nothing to
    compare or pick. Otherwise keys and hashes are staged and compared first.

    The contacts of the records loaded or superseded replace theirs in ``contacts`` (default:
    the contacts file beside the warehouse), committed just before the warehouse: see
    ``warehouse.contacts`` for why a crash between the two loses nothing and adds nothing twice.
    """
    channel = batch.channel
    spec = get_channel(channel)
    table, key_col, text_col = spec.raw_table, spec.key_column, spec.text_column
    extra_cols = spec.column_names
    cols = ", ".join(extra_cols)
    sel = ", ".join(f"b.{c}" for c in extra_cols)
    text_value = "nullif(b.text, '')" if spec.text_optional else "b.text"
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
                new_rows = ""  # every row of the batch: its keys are unique
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
                new_rows = "where (key, _ord) in (select key, _ord from _new)"  # the last row of each key
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
                    {new_rows}
                """)
                con.unregister("_answers")
            pending = None
            if spec.contacts and (loaded or superseded):
                # every record loaded or superseded gets its contacts replaced, also by none
                source = "_batch" if all_new else "_new"
                ids = con.sql(f"select $ch || ':' || key from {source}", params={"ch": channel}
                              ).to_arrow_table().column(0)
                rows = CONTACT_ROWS.empty_table()
                if batch.contacts is not None:
                    con.register("_contacts", batch.contacts)
                    rows = con.sql(f"""
                        select $ch || ':' || key as record_id, field, value from _contacts
                        {new_rows + ' and' if new_rows else 'where'} value <> ''
                    """, params={"ch": channel}).to_arrow_table()
                    con.unregister("_contacts")
                pending = (ids, rows)
            con.execute("""
                update quarantine set resolved_at = now()::timestamp, resolved_by = $run
                where channel = $ch and source_file = $file and resolved_at is null
                  and source_pos in (select source_pos from _batch)
            """, {"ch": channel, "file": batch.source_file, "run": run_id or "ingest"})
            con.execute("""
                insert into quarantine
                    (quarantine_id, channel, source_file, source_pos, reason, message, raw_payload, first_seen)
                select md5(concat_ws('|', $ch, $file, source_pos, reason)), $ch, $file, source_pos,
                       reason, message, payload, now()::timestamp
                from _rejected
                qualify row_number() over (partition by source_pos, reason) = 1
                on conflict (quarantine_id) do update
                set resolved_at = null, resolved_by = null, message = excluded.message,
                    raw_payload = excluded.raw_payload
            """, {"ch": channel, "file": batch.source_file})
            if not all_new:
                con.execute("drop table _in")
                con.execute("drop table _new")
            if pending is not None:
                # the contacts commit first, the warehouse when this block ends
                (contacts or _contacts_of(con)).replace(*pending)
    finally:
        con.execute(f"set preserve_insertion_order = {'true' if keep_order else 'false'}")
        con.unregister("_batch")
        con.unregister("_rejected")
    read = batch.records.num_rows + batch.rejected.num_rows
    quarantined = batch.rejected.num_rows
    return LoadCounts(read=read, loaded=loaded, duplicate=duplicate + (batch.records.num_rows - loaded - duplicate - superseded),
                      superseded=superseded, quarantined=quarantined)


def load_items(
    con: duckdb.DuckDBPyConnection, channel: str, items: Iterable[Item], source_file: str = "",
) -> LoadCounts:
    """Load a row-wise reader's output (see :func:`load_batch`)."""
    items = list(items)
    source = source_file or next((i.source_file for i in items), "")
    return load_batch(con, get_channel(channel).batch(source, items))
