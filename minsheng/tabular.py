"""Tabular exports read whole into Arrow, and the hotline channel validated in one pass.

Per-row Python does not keep up with a megacity hotline, so the hotline adapter reads a file
with Arrow's multi-threaded CSV reader (or openpyxl for .xlsx), validates every row at once in
DuckDB (``warehouse/ingest/validate_hotline.sql``), and masks only the texts that Arrow's
prefilter flags. ``minsheng.ingest.read_hotline`` and the bulk loader share this code.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import mmap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from minsheng.clock import Clock, SystemClock
from minsheng.domain import ChannelMapping, District
from minsheng.ingest import IngestLimits
from minsheng.pii import PREFILTER, SQL_PATTERNS, mask_array, mask_text, true_positions
from minsheng.textcheck import HINT, mojibake_flags
from warehouse.sql import read_sql

SAMPLE = 1 << 16


class TabularError(Exception):
    """The file as a whole cannot be read as a table."""


@dataclass
class TabularInput:
    """All columns as strings, plus ``_row``: the CSV record number (header = 1) or the
    worksheet row. ``ragged`` holds rows that do not fit the header: (row, raw text)."""

    table: pa.Table
    ragged: list[tuple[int | None, str]]
    encoding: str


def sniff_encoding(sample: bytes, preferred: str | None) -> str:
    """BOM first; then strict UTF-8 (a cut multi-byte character at the end of the sample is
    allowed); then the channel's declared encoding; then GB18030."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if sample[:200].count(b"\x00") > 40:  # UTF-16 without a BOM
        return "utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    for enc in dict.fromkeys([preferred or "gb18030", "gb18030"]):
        try:
            codecs.getincrementaldecoder(enc)().decode(sample, final=False)
            return enc
        except (UnicodeDecodeError, LookupError):
            continue
    raise TabularError("not decodable as UTF-8, UTF-16 or GB18030")


def _read_csv(path: Path, preferred: str | None) -> TabularInput:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE)
    if not sample.strip():
        raise TabularError(f"{path.name}: empty file")
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
        raise TabularError(f"{path.name}: cannot parse as CSV ({encoding}): {exc}") from exc
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
        raise TabularError(f"{path.name}: cannot open as .xlsx: {exc}") from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        header = [str(h).strip() if h is not None else "" for h in next(rows)]
    except StopIteration as exc:
        raise TabularError(f"{path.name}: empty worksheet") from exc
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
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_tabular(path: Path, preferred_encoding: str | None = None) -> TabularInput:
    """Read a CSV (any encoding districts send) or .xlsx export as all-string columns."""
    if not path.exists():
        raise TabularError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    return _read_csv(path, preferred_encoding)


@dataclass
class ValidatedHotline:
    """Good rows (key, received_at, community, text masked, caller_phone, _row) and the
    rejected ones (_row, reason, message, payload masked)."""

    good: pa.Table
    rejected: pa.Table


def validate_hotline(
    inp: TabularInput,
    mapping: ChannelMapping,
    district: District,
    *,
    clock: Clock | None = None,
    limits: IngestLimits = IngestLimits(),
    source: str = "",
) -> ValidatedHotline:
    f = mapping.fields
    missing = [col for col in f.values() if col not in inp.table.column_names]
    if missing:
        raise TabularError(f"{source}: missing columns {', '.join(missing)}")
    staged = pa.table({name: inp.table[col] for name, col in f.items()} | {"_row": inp.table["_row"]})
    con = duckdb.connect()
    try:
        con.register("_staged", staged)
        result = _run_validation(con, mapping, district, clock, limits)
    finally:
        con.close()
    return _finish(result, inp.ragged)


def validate_hotline_file(
    path: Path,
    mapping: ChannelMapping,
    district: District,
    *,
    clock: Clock | None = None,
    limits: IngestLimits = IngestLimits(),
) -> ValidatedHotline:
    """Read and validate a hotline export. A plain UTF-8 CSV is read by DuckDB itself, inside
    the validating query; any other file, or one DuckDB would read differently from Arrow
    (ragged rows, a damaged character, a space before a quote, ...), goes through
    :func:`read_tabular` and :func:`validate_hotline`, with the same result."""
    result = _validate_plain_csv(path, mapping, district, clock, limits)
    if result is not None:
        return _finish(result, [])
    return validate_hotline(read_tabular(path, mapping.encoding), mapping, district,
                            clock=clock, limits=limits, source=path.name)


def _validate_plain_csv(
    path: Path, mapping: ChannelMapping, district: District, clock: Clock | None, limits: IngestLimits,
) -> pa.Table | None:
    """The validating query over DuckDB's own read of the file, or None where Arrow must read
    it. DuckDB and Arrow agree on a UTF-8 CSV whose header is plain, that has no field with
    a space or tab before its opening quote (DuckDB drops them), and no row that does not fit
    the header (the staging SQL fails on one); tests/test_hotline_fast_path.py compares them."""
    if path.suffix.lower() != ".csv" or not path.is_file():
        return None
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE)
        try:
            whole = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):
            return None
        with whole:
            if whole.find(b'"') >= 0 and (whole.find(b' "') >= 0 or whole.find(b'\t"') >= 0):
                return None
    try:
        encoding = sniff_encoding(sample, mapping.encoding)
    except TabularError:
        return None
    text = sample.decode(encoding, errors="ignore").lstrip("\ufeff") if encoding in ("utf-8", "utf-8-sig") else ""
    if "\n" not in text:
        return None
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if '"' in first_line or "\r" in first_line:
        return None
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    header = [h.strip() for h in first_line.split(delimiter)]
    if len(set(header)) != len(header) or any(col not in header for col in mapping.fields.values()):
        return None
    fields = ", ".join(f"c{header.index(col)} as {name}" for name, col in mapping.fields.items())
    staging = read_sql("ingest", "hotline_csv").format(fields=fields, last=f"c{len(header) - 1}")
    con = duckdb.connect()
    try:
        for parallel in (True, False):
            try:
                con.sql(staging, params={
                    "path": str(path),
                    "types": {f"c{i}": "VARCHAR" for i in range(len(header))} | {"_extra": "VARCHAR"},
                    "delim": delimiter,
                    "never": "\x00\x01\x02",
                    "parallel": parallel,
                }).create_view("_staged", replace=True)
                result = _run_validation(con, mapping, district, clock, limits)
                break
            except duckdb.Error as exc:
                # DuckDB's parallel reader cannot pad rows when a quoted field holds a newline
                if not parallel or "parallel=false" not in str(exc):
                    return None
    finally:
        con.close()
    # the validating query keeps the file's order: data rows are records 2, 3, ...
    rows = pa.array(np.arange(2, result.num_rows + 2, dtype=np.int64))
    return result.set_column(result.schema.get_field_index("_row"), "_row", rows)


def _run_validation(
    con: duckdb.DuckDBPyConnection, mapping: ChannelMapping, district: District,
    clock: Clock | None, limits: IngestLimits,
) -> pa.Table:
    """validate_hotline.sql over ``_staged`` on ``con``: one row per row staged."""
    communities = district.community_by_name()
    now = (clock or SystemClock()).now()
    con.execute(read_sql("ingest", "pii_macros"))
    return con.sql(read_sql("ingest", "validate_hotline"), params={
        "formats": mapping.time_formats or ["%Y-%m-%d %H:%M:%S"],
        "earliest": datetime.combine(limits.earliest, datetime.min.time()),
        "latest": now + limits.future_tolerance,
        "max_chars": limits.max_chars,
        "pii_prefilter": PREFILTER,
        "mojibake_hint": HINT,
        "pii_or_mojibake": f"{PREFILTER}|{HINT}",
        "community_names": list(communities),
        "community_codes": list(communities.values()),
        **SQL_PATTERNS,
    }).to_arrow_table()


def _finish(result: pa.Table, ragged_rows: list[tuple[int | None, str]]) -> ValidatedHotline:
    """Split the validating query's rows into good and rejected ones; judge mojibake and mask
    the texts the SQL left to Python."""
    if result["reason"].null_count == result.num_rows:  # the common case: nothing to reject
        good, bad = result, result.slice(0, 0)
    else:
        ok = pc.is_null(result["reason"])
        good, bad = result.filter(ok), result.filter(pc.invert(ok))
    # mojibake can only be judged on decoded text, after the row is otherwise good, and on
    # the text as read (raw_text, where the SQL has masked it)
    hinted = true_positions(good["maybe_mojibake"])
    if len(hinted):
        suspects = good.take(hinted)
        as_read = pc.coalesce(suspects["raw_text"], suspects["text"])
        garbled_suspects = mojibake_flags(as_read, pa.array(np.ones(len(hinted), dtype=bool)))
        if pc.any(garbled_suspects).as_py():
            flagged = suspects.filter(garbled_suspects)
            n = flagged.num_rows
            flagged = flagged.set_column(flagged.schema.get_field_index("text"), "text",
                                         as_read.filter(garbled_suspects))
            flagged = flagged.set_column(flagged.schema.get_field_index("reason"), "reason",
                                         pa.array(["mojibake"] * n, pa.string()))
            flagged = flagged.set_column(flagged.schema.get_field_index("message"), "message",
                                         pa.array(["text looks mis-decoded"] * n, pa.string()))
            bad = pa.concat_tables([bad, flagged])
            garbled = np.zeros(good.num_rows, dtype=bool)
            garbled[hinted[garbled_suspects.to_numpy(zero_copy_only=False)]] = True
            good = good.filter(pa.array(~garbled))
    # the texts the SQL could not mask exactly go through minsheng.pii.mask
    good = good.set_column(good.schema.get_field_index("text"), "text",
                           mask_array(good["text"], good["pii_hard"]))
    rejected = pa.table({
        "_row": bad["_row"],
        "reason": bad["reason"],
        "message": mask_array(bad["message"]),
        "payload": pa.array([
            mask_text(json.dumps({k: v for k, v in row.items() if k not in ("reason", "message", "_row")},
                                 ensure_ascii=False, default=str))[:65536]
            for row in bad.select(["order_id", "received_at", "community", "caller_phone", "text",
                                   "reason", "message", "_row"]).to_pylist()
        ], pa.string()),
    })
    ragged = pa.table({
        "_row": pa.array([n for n, _ in ragged_rows], pa.int64()),
        "reason": pa.array(["ragged_row"] * len(ragged_rows), pa.string()),
        "message": pa.array(["fields do not match the header"] * len(ragged_rows), pa.string()),
        "payload": pa.array([mask_text(t)[:65536] for _, t in ragged_rows], pa.string()),
    })
    return ValidatedHotline(
        good.select(["order_id", "received_at", "community", "text", "caller_phone", "_row"]),
        pa.concat_tables([rejected, ragged]),
    )
