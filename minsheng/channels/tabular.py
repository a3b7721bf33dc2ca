"""Exports read whole into Arrow as all-string columns, each row keeping its position in the
file: CSV in any encoding districts send, .xlsx, and JSON (JSON Lines or one array of
objects). One reader per format, chosen by the file's extension, for every tabular channel
(hotline, platform, survey): a district sends whichever its system exports."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv

from minsheng.channels.base import UnreadableInput
from minsheng.channels.decode import SAMPLE, sniff_encoding
from minsheng.channels.jsonfile import json_entries


@dataclass
class TabularInput:
    """All columns as strings, plus ``_row``: the CSV record number (header = 1) or the
    worksheet row. ``ragged`` holds rows that do not fit the header: (row, raw text)."""

    table: pa.Table
    ragged: list[tuple[int | None, str]]
    encoding: str
    #: what a position counts: ``row`` (CSV record, worksheet row), ``line`` (JSON Lines) or
    #: ``item`` (of a JSON array)
    unit: str = "row"
    #: the reason a ragged entry is quarantined with: ``ragged_row``, or ``bad_json`` for an
    #: entry of a JSON file that does not parse or is no object
    ragged_reason: str = "ragged_row"

    @property
    def header(self) -> list[str]:
        return [c for c in self.table.column_names if c != "_row"]

    def pos(self, n: int | None) -> str:
        return f"{self.unit} {'?' if n is None else n}"


def _read_csv(path: Path, preferred: str | None) -> TabularInput:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE)
    if not sample.strip():
        raise UnreadableInput(f"{path.name}: empty file")
    encoding = sniff_encoding(sample, preferred)
    first_line = sample.decode(encoding, errors="ignore").lstrip("\ufeff").split("\n", 1)[0]
    # Excel's "Unicode text" export is UTF-16 with tabs
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    pyarrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding

    source: Path | io.BytesIO = path

    def attempt(threads: bool) -> tuple[pa.Table, list[tuple[int | None, str]]]:
        ragged: list[tuple[int | None, str]] = []

        def on_invalid(row: pv.InvalidRow) -> str:
            ragged.append((row.number, row.text))
            return "skip"

        if isinstance(source, io.BytesIO):
            source.seek(0)
        table = pv.read_csv(
            source,
            read_options=pv.ReadOptions(encoding=pyarrow_encoding, use_threads=threads,
                                        block_size=1 << 22),
            parse_options=pv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                          invalid_row_handler=on_invalid),
            convert_options=pv.ConvertOptions(
                column_types=_all_strings(first_line, delimiter), strings_can_be_null=False,
            ),
        )
        return table, ragged

    try:
        try:
            table, ragged = attempt(threads=True)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            if "UTF8" not in str(exc) and not isinstance(exc, UnicodeDecodeError):
                raise
            # A damaged character (a truncated file, a stray byte) must not cost the whole
            # file: decode with replacement characters, and the mojibake check quarantines
            # the damaged field's row.
            source = io.BytesIO(path.read_bytes().decode(encoding, errors="replace").encode("utf-8"))
            pyarrow_encoding = "utf8"
            table, ragged = attempt(threads=True)
        if ragged:  # row numbers are only known to the single-threaded reader
            table, ragged = attempt(threads=False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise UnreadableInput(f"{path.name}: cannot parse as CSV ({encoding}): {exc}") from exc
    bad = {n for n, _ in ragged if n is not None}
    rows, n = [], 2
    for _ in range(table.num_rows):
        while n in bad:
            n += 1
        rows.append(n)
        n += 1
    table = table.rename_columns([c.strip().lstrip("\ufeff") for c in table.column_names])
    return TabularInput(table.append_column("_row", pa.array(rows, pa.int64())), ragged, encoding)


def _all_strings(first_line: str, delimiter: str) -> dict[str, pa.DataType]:
    header = next(csv.reader([first_line.lstrip("\ufeff")], delimiter=delimiter))
    return {h: pa.string() for h in header}


def _read_xlsx(path: Path) -> TabularInput:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken zip
        raise UnreadableInput(f"{path.name}: cannot open as .xlsx: {exc}") from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = [str(h).strip() if h is not None else "" for h in next(rows)]
    except StopIteration as exc:
        raise UnreadableInput(f"{path.name}: empty worksheet") from exc
    columns: list[list[str]] = [[] for _ in header]
    numbers, ragged = [], []
    for n, row in enumerate(rows, start=2):
        cells = list(row)
        while cells and cells[-1] is None and len(cells) > len(header):
            cells.pop()
        if len(cells) > len(header):
            ragged.append((n, ",".join("" if c is None else str(c) for c in cells)))
            continue
        if all(c is None for c in cells):
            continue
        cells += [None] * (len(header) - len(cells))
        for col, value in zip(columns, cells, strict=True):
            col.append(_cell_text(value))
        numbers.append(n)
    book.close()
    table = pa.table({h: pa.array(c, pa.string()) for h, c in zip(header, columns, strict=True)})
    return TabularInput(table.append_column("_row", pa.array(numbers, pa.int64())), ragged, "xlsx")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):  # a date-only cell
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_json(path: Path, preferred: str | None) -> TabularInput:
    """JSON Lines or one array of objects: the columns are the keys in the order first seen;
    an entry that does not parse or is no object is ragged (``bad_json``)."""
    header: dict[str, None] = {}
    objects: list[tuple[int, dict]] = []
    bad: list[tuple[int | None, str]] = []
    unit = "line"
    for pos, value, error in json_entries(path, preferred):
        unit, n = pos.split(" ")[0], int(pos.split(" ")[1])
        if error is not None or not isinstance(value, dict):
            bad.append((n, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)))
            continue
        header.update(dict.fromkeys(str(k).strip() for k in value))
        objects.append((n, {str(k).strip(): v for k, v in value.items()}))
    table = pa.table({h: pa.array([_cell_text(o.get(h)) for _, o in objects], pa.string()) for h in header})
    table = table.append_column("_row", pa.array([n for n, _ in objects], pa.int64()))
    return TabularInput(table, bad, "json", unit=unit, ragged_reason="bad_json")


#: The readers by file extension; anything else is read as CSV.
READERS = {".xlsx": "xlsx", ".xlsm": "xlsx", ".json": "json", ".jsonl": "json", ".ndjson": "json"}


def read_tabular(path: Path, preferred_encoding: str | None = None) -> TabularInput:
    """Read a CSV (any encoding districts send), .xlsx or JSON/JSON Lines export as all-string
    columns; the extension chooses the reader."""
    if not path.exists():
        raise UnreadableInput(f"{path}: no such file")
    kind = READERS.get(path.suffix.lower(), "csv")
    if kind == "xlsx":
        return _read_xlsx(path)
    if kind == "json":
        return _read_json(path, preferred_encoding)
    return _read_csv(path, preferred_encoding)


def require_columns(inp: TabularInput, columns: list[str], source: str) -> None:
    """:class:`UnreadableInput` naming the mapped columns a file does not have (a mistyped
    mapping in ``channels.yaml`` or another export layout)."""
    if missing := [c for c in columns if c not in inp.header]:
        raise UnreadableInput(f"{source}: missing columns {', '.join(missing)} (its columns: "
                              f"{', '.join(inp.header) or 'none'}); map them in channels.yaml")


