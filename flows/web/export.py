"""Tables as downloads: CSV (UTF-8 with BOM, so that Excel reads the Chinese) and .xlsx. A cell
that starts with = + - @ (or a tab or carriage return) is prefixed with ' so that no
spreadsheet runs it as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

__all__ = ["safe_cell", "to_csv", "to_xlsx"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    if isinstance(value, (list, tuple, dict)):
        return safe_cell(str(value))
    return value


def to_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(c) for c in columns])
    writer.writerows([["" if v is None else safe_cell(v) for v in row] for row in rows])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31] or "table"
    ws.append([safe_cell(c) for c in columns])
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
