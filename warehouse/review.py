"""The review queue: low-confidence demand items that a person labels.

The process flow calls :func:`refresh_review_queue` after each merge; a reviewer labels items
with :func:`correct` (``minsheng model correct ITEM LABEL``); ``minsheng model train`` reads
:func:`corrections` and lays them over its training data (``models.datasets.merge_corrections``).
Rows are kept per item version (``content_hash``), so a correction stays with the text it
judged even after the resident's record is corrected and processed again.
"""

from __future__ import annotations

import duckdb

from warehouse.sql import transaction

__all__ = ["correct", "corrections", "refresh_review_queue"]


def refresh_review_queue(con: duckdb.DuckDBPyConnection, threshold: float) -> int:
    """Queue every current demand item with confidence below ``threshold``; returns the number
    of open items.

    Open rows of items that are gone, changed or now confident enough (e.g. after
    retraining) leave the queue; open rows still below the threshold take the latest
    prediction. Corrected rows are never touched. Idempotent: a second call changes nothing.
    """
    with transaction(con):
        con.execute("""
            delete from review_queue as q
            where q.status = 'open' and not exists (
                select 1 from demand_items as d
                where d.item_id = q.item_id and d.content_hash = q.content_hash
                  and d.confidence < $threshold
            )
        """, {"threshold": threshold})
        con.execute("""
            update review_queue as q
            set predicted = coalesce(d.label, d.category), confidence = d.confidence, top3 = d.top3,
                model_version = d.model_version
            from demand_items as d
            where q.status = 'open' and d.item_id = q.item_id and d.content_hash = q.content_hash
              and (q.predicted, q.confidence, q.top3, q.model_version)
                  is distinct from (coalesce(d.label, d.category), d.confidence, d.top3, d.model_version)
        """)
        con.execute("""
            insert into review_queue (item_id, content_hash, text, predicted, confidence, top3,
                                      model_version, queued_at, status)
            select d.item_id, d.content_hash, d.text, coalesce(d.label, d.category), d.confidence, d.top3,
                   d.model_version, now()::timestamp, 'open'
            from demand_items as d
            where d.confidence < $threshold and not exists (
                select 1 from review_queue as q
                where q.item_id = d.item_id and q.content_hash = d.content_hash
            )
        """, {"threshold": threshold})
    return con.execute("select count(*) from review_queue where status = 'open'").fetchone()[0]


def correct(con: duckdb.DuckDBPyConnection, item_id: str, label: str) -> None:
    """Record a reviewer's ``label`` for the current version of demand item ``item_id``
    (queued or not; labelling a confident item is allowed too)."""
    label = label.strip()
    if not label:
        raise ValueError("a correction needs a label")
    found = con.execute(
        "select content_hash from demand_items where item_id = $item_id", {"item_id": item_id}
    ).fetchone()
    if found is None:
        raise KeyError(f"no demand item {item_id!r}")
    con.execute("""
        insert into review_queue (item_id, content_hash, text, predicted, confidence, top3,
                                  model_version, queued_at, status, label, reviewed_at)
        select item_id, content_hash, text, coalesce(label, category), confidence, top3, model_version,
               now()::timestamp, 'corrected', $label, now()::timestamp
        from demand_items where item_id = $item_id
        on conflict (item_id, content_hash) do update
        set status = 'corrected', label = excluded.label, reviewed_at = excluded.reviewed_at
    """, {"item_id": item_id, "label": label})


def corrections(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """``(text, label)`` of every corrected item, oldest review first (none in a warehouse
    that predates the review queue)."""
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'review_queue'"
    ).fetchone()[0]
    if not exists:
        return []
    return [
        (text, label)
        for text, label in con.execute(
            "select text, label from review_queue where status = 'corrected' "
            "order by reviewed_at, item_id, content_hash"
        ).fetchall()
    ]
