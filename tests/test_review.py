"""Warehouse side of the text models: fixed-size embeddings (migration 020), similarity
queries, and the review queue (migration 021, warehouse.review)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from warehouse import query, resource, sql
from warehouse.embeddings import embedding_dim, ensure_embedding_dim
from warehouse.review import correct, corrections, refresh_review_queue

DIM = 128


def _vector(seed: int, length: int = DIM) -> list[float]:
    v = np.random.default_rng(seed).standard_normal(length)
    return [float(x) for x in v / np.linalg.norm(v)]


def _item(item_id: str, confidence: float, embedding: list[float], *, text: str = "小区乱停车",
          content_hash: str = "h1", category: str = "parking") -> dict:
    return {
        "item_id": item_id, "feedback_id": item_id.split("#")[0], "channel": "hotline",
        "received_at": datetime(2026, 11, 16, 9), "week": "2026-W47", "community": "C01",
        "text": text, "tokens": "小区 乱停车", "keywords": ["乱停车"], "category": category,
        "confidence": confidence, "top3": f'[["{category}", {confidence}]]',
        "embedding": embedding, "content_hash": content_hash, "model_version": "v1",
        "processed_at": datetime(2026, 11, 16, 10),
    }


def _insert(con, rows: list[dict]) -> None:  # type: ignore[no-untyped-def]
    cols = list(rows[0])
    for row in rows:
        con.execute(
            f"insert or replace into demand_items ({', '.join(cols)}) "
            f"values ({', '.join('$' + c for c in cols)})", row,
        )


def _migrate_before(con, first_kept: str) -> None:  # type: ignore[no-untyped-def]
    """Apply the migrations older than ``first_kept`` only, as an older release did."""
    con.execute("create table schema_migrations (version varchar primary key, "
                "applied_at timestamp not null)")
    for path in sql.sql_files("schema"):
        if path.stem < first_kept:
            con.execute(path.read_text(encoding="utf-8"))
            con.execute("insert into schema_migrations values (?, now())", [path.stem])


def test_embedding_migration_keeps_rows(tmp_path: Path) -> None:
    con = resource.connect(tmp_path / "w.duckdb")
    _migrate_before(con, "020")
    near = _vector(1)
    _insert(con, [
        _item("a#1", 0.9, near),
        _item("b#1", 0.9, [x + 0.01 for x in near], text="门口天天乱停车"),
        _item("c#1", 0.9, _vector(2), text="医保卡怎么补办", category="medical_insurance"),
        _item("d#1", 0.9, _vector(3, 5)),  # another model's dimension
    ])
    assert "020_demand_item_signals" in resource.migrate(con)
    assert embedding_dim(con) == DIM
    rows = dict(con.execute("select item_id, embedding is null from demand_items").fetchall())
    assert rows == {"a#1": False, "b#1": False, "c#1": False, "d#1": True}
    assert con.execute("select count(*) from demand_items where urgent is null "
                       "and sentiment is null").fetchall()[0][0] == 4
    # similar demands are looked for within the probe's issue (and the issues at its place),
    # never by a scan of every item: d#1 is in another issue
    con.execute("insert into issue_items values ('a#1', 'I1', true, null, 'p'), ('b#1', 'I1', false, 0.9, 'p'), "
                "('c#1', 'I1', false, 0.7, 'p'), ('d#1', 'I2', true, null, 'p')")
    con.close()

    db = tmp_path / "w.duckdb"
    similar = query.run_query(resource.Warehouse(db), sql.read_sql("queries", "similar_demands"),
                              {"item_id": "a#1", "limit": "3"})
    assert [r[0] for r in similar.rows] == ["b#1", "c#1"]
    assert similar.rows[0][4] > 0.99


def test_embedding_dim_can_change(tmp_path: Path) -> None:
    con = resource.connect(tmp_path / "w.duckdb")
    resource.migrate(con)
    _insert(con, [_item("a#1", 0.9, _vector(1))])
    assert not ensure_embedding_dim(con, DIM)
    assert ensure_embedding_dim(con, 512) and embedding_dim(con) == 512
    assert con.execute("select embedding from demand_items").fetchone()[0] is None
    _insert(con, [_item("b#1", 0.9, _vector(2, 512))])
    with pytest.raises(Exception, match="length"):
        _insert(con, [_item("c#1", 0.9, _vector(3))])  # 128 values no longer fit
    con.close()


def test_review_queue_cycle(tmp_path: Path) -> None:
    con = resource.connect(tmp_path / "w.duckdb")
    resource.migrate(con)
    _insert(con, [_item("a#1", 0.3, _vector(1)), _item("b#1", 0.5, _vector(2)),
                  _item("c#1", 0.95, _vector(3))])
    assert refresh_review_queue(con, 0.6) == 2
    snapshot = con.execute("select * from review_queue order by all").fetchall()
    assert refresh_review_queue(con, 0.6) == 2  # idempotent: nothing changes
    assert con.execute("select * from review_queue order by all").fetchall() == snapshot

    correct(con, "a#1", "traffic")
    correct(con, "c#1", "parking")  # a confident item may be labelled too
    assert corrections(con) == [("小区乱停车", "traffic"), ("小区乱停车", "parking")]
    with pytest.raises(KeyError):
        correct(con, "zzz#1", "parking")
    with pytest.raises(ValueError):
        correct(con, "b#1", " ")

    # Retrained: b is now confident and leaves the queue; a's correction stays. The resident
    # corrects record a: its new version is queued again, the old correction is kept.
    _insert(con, [_item("b#1", 0.8, _vector(2)),
                  _item("a#1", 0.2, _vector(1), text="小区乱停车，堵路", content_hash="h2")])
    assert refresh_review_queue(con, 0.6) == 1
    queue = con.execute("select item_id, content_hash, status, label from review_queue "
                        "order by all").fetchall()
    assert queue == [("a#1", "h1", "corrected", "traffic"), ("a#1", "h2", "open", None),
                     ("c#1", "h1", "corrected", "parking")]
    con.close()


def test_corrections_of_an_old_warehouse(tmp_path: Path) -> None:
    con = resource.connect(tmp_path / "w.duckdb")
    _migrate_before(con, "021")
    assert corrections(con) == []
    con.close()
