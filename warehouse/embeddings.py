"""The type of ``demand_items.embedding``: a fixed-size ``FLOAT[dim]`` array.

Migration 020 fixes it at 128 (the default ``embedder.dim``). A model of another dimension
(e.g. a 512-dimensional pretrained model) needs the column re-typed before its items are
merged: :func:`ensure_embedding_dim` does that, keeping the rows and nulling embeddings of
the old length, which no longer compare with the new ones.
"""

from __future__ import annotations

import re

import duckdb

__all__ = ["embedding_dim", "ensure_embedding_dim"]

_ARRAY = re.compile(r"^FLOAT\[(\d+)\]$", re.I)


def embedding_dim(con: duckdb.DuckDBPyConnection) -> int | None:
    """The array size of ``demand_items.embedding``, or ``None`` if it is not a fixed array."""
    row = con.execute(
        "select data_type from information_schema.columns "
        "where table_name = 'demand_items' and column_name = 'embedding'"
    ).fetchone()
    m = _ARRAY.match(row[0]) if row else None
    return int(m.group(1)) if m else None


def ensure_embedding_dim(con: duckdb.DuckDBPyConnection, dim: int) -> bool:
    """Make ``demand_items.embedding`` a ``FLOAT[dim]``; returns whether it changed."""
    if embedding_dim(con) == dim:
        return False
    dim = int(dim)
    con.execute(
        f"alter table demand_items alter embedding type float[{dim}] using "
        f"(case when len(embedding) = {dim} then embedding::float[{dim}] end)"
    )
    return True
