"""The ``unmasked_personal_data`` data check: every VARCHAR and VARCHAR[] column of every table
of the analytical warehouse (schema ``main``), looked at for what masking should have removed.

The SQL is built from ``information_schema`` when the check runs, so a table or a column added
later is scanned without anyone remembering to add it. It returns (table, column, kind) per
offending value, never the value. Patterns are RE2 and whole tokens (no letter or digit on
either side), so that hashes and keys (hex, ``GD2026…``) do not count as numbers.
"""

from __future__ import annotations

import duckdb

from minsheng.pii import _PROVINCES, _SURNAMES

_B = r"(?:^|[^0-9A-Za-z])"   # a token starts
_E = r"(?:[^0-9A-Za-z]|$)"   # a token ends
PATTERNS: dict[str, str] = {
    "mobile": _B + r"(?:\+?86)?1[3-9][0-9]{9}" + _E,
    "id_number": _B + r"(?:[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3})" + _E,
    "email": r"[A-Za-z0-9._%+-]+[@\x{ff20}][A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    "fullwidth_number": r"[\x{ff10}-\x{ff19}][\x{ff10}-\x{ff19} -]{5,}[\x{ff10}-\x{ff19}]",
    "plate": rf"[{_PROVINCES}][A-Z][·]?[A-Z0-9]{{4,5}}[0-9]" + _E,
    "name": rf"(?:{_SURNAMES})(?:先生|女士|小姐|师傅)",
}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def text_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, bool]]:
    """(table, column, is a list) of every text column of the warehouse's own tables."""
    rows = con.execute("""
        select c.table_name, c.column_name, c.data_type like '%[]'
        from information_schema.columns c
        join information_schema.tables t
          on t.table_catalog = c.table_catalog and t.table_schema = c.table_schema
         and t.table_name = c.table_name
        where c.table_catalog = current_database() and c.table_schema = 'main'
          and t.table_type = 'BASE TABLE' and c.data_type in ('VARCHAR', 'VARCHAR[]')
        order by all
    """).fetchall()
    return [(t, c, bool(is_list)) for t, c, is_list in rows]


def unmasked_personal_data_sql(con: duckdb.DuckDBPyConnection) -> str:
    """The check's SQL for this warehouse: one row (tbl, col, kind) per offending value."""
    parts = []
    for table, column, is_list in text_columns(con):
        value = f"array_to_string({_ident(column)}, chr(10))" if is_list else _ident(column)
        kinds = " ".join(f"when regexp_matches(v, '{p}') then '{k}'" for k, p in PATTERNS.items())
        parts.append(
            f"select '{table}' as tbl, '{column}' as col, case {kinds} end as kind "
            f"from (select {value} as v from {_ident(table)}) where v is not null")
    if not parts:
        return "select null::varchar as tbl, null::varchar as col, null::varchar as kind where false"
    return "select * from (\n" + "\nunion all\n".join(parts) + "\n) where kind is not null"
