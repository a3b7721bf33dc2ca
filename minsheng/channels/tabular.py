"""Exports read whole into Arrow as all-string columns, each row keeping its position in the
file: CSV in any encoding districts send, .xlsx, and JSON (JSON Lines or one array of
objects). One reader per format, chosen by the file's extension, for every tabular channel
(hotline, platform, survey): a district sends whichever its system exports."""

from __future__ import annotations

import csv
import io
import sys
import threading
import re
from dataclasses import dataclass
import json
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from minsheng.channels.base import UnreadableInput
from minsheng.channels.decode import DAMAGE_MARK, SAMPLE, decode_marked, sniff_encoding, unmark
from minsheng.channels.jsonfile import UNDECODABLE, json_entries
from minsheng.pii import mask_text


@dataclass
class TabularInput:
    """All columns as strings, plus ``_row``: the CSV record number (header = 1) or the
    worksheet row. ``ragged`` holds rows that do not fit the header: (row, raw text);
    ``unterminated`` the numbers of those among them whose quote never closes."""

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
    #: rows whose quoted field is never closed (CSV), quarantined as ``unterminated_quote``
    unterminated: frozenset[int] = frozenset()
    #: rows (entries) holding bytes that are not in the file's encoding, quarantined as
    #: ``undecodable_bytes``
    damaged: frozenset[int] = frozenset()

    def reason_for(self, row: int | None) -> tuple[str, str]:
        """Reason code and message of a ragged entry."""
        if row in self.damaged:
            return "undecodable_bytes", UNDECODABLE
        if row in self.unterminated:
            return "unterminated_quote", "a quoted field is never closed"
        if self.ragged_reason == "bad_json":
            return "bad_json", "not a JSON object"
        return self.ragged_reason, "fields do not match the header"


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
#: What takes an unterminated record's place for Arrow: one field, so a ragged row.
_MARKER = "\x1fminsheng-unterminated-quote-{n}\x1f"


def close_unterminated(text: str, delimiter: str) -> tuple[str, dict[str, str]]:
    """``text`` with each record whose quoted field is never closed replaced by a marker line
    (which the CSV reader reports as a ragged row), and the markers' original lines.

    Without this a quote left open swallows every record after it into one field. A quote
    opens a field only at its start (elsewhere it is a character, as Arrow reads it); the
    record it opens is cut at the end of its line, and the lines after it are read again."""
    originals: dict[str, str] = {}
    token = re.compile('""|"|\r\n|\r|\n|' + re.escape(delimiter))
    while len(originals) < 20:  # each round rescans the text: bounded
        inside, field_start, record_start, open_record, open_at = False, 0, 0, 0, 0
        for m in token.finditer(text):
            tok = m.group()
            if inside:
                if tok == '"':
                    inside = False
                continue
            if tok[0] == '"':
                if m.start() == field_start and tok == '"':
                    inside, open_record, open_at = True, record_start, m.start()
            elif tok == delimiter:
                field_start = m.end()
            else:
                field_start = record_start = m.end()
        if not inside:
            return text, originals
        brk = _LINE_BREAK.search(text, open_at)
        end = brk.start() if brk else len(text)
        marker = _MARKER.format(n=len(originals))
        originals[marker] = text[open_record:end]
        text = text[:open_record] + marker + text[end:]
    raise UnreadableInput("too many quoted fields that are never closed")


def _read_csv(path: Path, preferred: str | None) -> TabularInput:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE)
    if not sample.strip():
        raise UnreadableInput(f"{path.name}: empty file")
    encoding = sniff_encoding(sample, preferred)
    # a file may end its lines with CR alone (old Mac exports): Arrow reads those too
    # (and Arrow skips empty lines: the header is the first line that is not empty)
    first_line = _LINE_BREAK.split(sample.decode(encoding, errors="ignore").lstrip("\ufeff").lstrip("\r\n"),
                                   maxsplit=1)[0]
    # Excel's "Unicode text" export is UTF-16 with tabs
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    pyarrow_encoding = "utf8" if encoding in ("utf-8", "utf-8-sig") else encoding
    size = path.stat().st_size

    source: Path | io.BytesIO = path
    markers: dict[str, str] = {}
    if not encoding.startswith("utf-16"):
        try:  # a damaged header would give Arrow column names that are not text
            re.split(rb"\r\n|\r|\n", sample.lstrip(b"\r\n"), maxsplit=1)[0].decode(encoding)
        except UnicodeDecodeError:
            source, pyarrow_encoding = io.BytesIO(_decoded(path, encoding).encode("utf-8")), "utf8"
    if _odd_quotes(path, encoding):
        # a quote never closed: decode here, and put the records it would swallow back
        fixed, markers = close_unterminated(_decoded(path, encoding), delimiter)
        source, pyarrow_encoding = io.BytesIO(fixed.encode("utf-8")), "utf8"

    def attempt(threads: bool, block_size: int = 1 << 22) -> tuple[pa.Table, list[tuple[int | None, str]]]:
        ragged: list[tuple[int | None, str]] = []

        def on_invalid(row: pv.InvalidRow) -> str:
            ragged.append((row.number, markers.get(row.text, row.text)))
            return "skip"

        if isinstance(source, io.BytesIO):
            source.seek(0)
        table = pv.read_csv(
            source,
            read_options=pv.ReadOptions(encoding=pyarrow_encoding, use_threads=threads,
                                        block_size=block_size),
            parse_options=pv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                          invalid_row_handler=on_invalid),
            convert_options=pv.ConvertOptions(
                column_types=_all_strings(first_line, delimiter), strings_can_be_null=False,
            ),
        )
        return table, ragged

    def read(threads: bool) -> tuple[pa.Table, list[tuple[int | None, str]]]:
        try:
            return attempt(threads)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):
                raise
            # a field longer than a block (a pasted document): one block for the whole
            # file, and the length check quarantines the row
            whole = source.getbuffer().nbytes if isinstance(source, io.BytesIO) else size
            if whole >= 1 << 31:
                raise
            return attempt(False, block_size=whole + 1)

    try:
        try:
            _drop_expected_unraisable("on_invalid")
            table, ragged = read(threads=True)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            # a ragged row holding a damaged character fails in Arrow's handler (its text is
            # not UTF-8), which Arrow reports as a parse error: decoded here, it is a row again
            if "UTF8" not in str(exc) and not isinstance(exc, UnicodeDecodeError) and isinstance(source, io.BytesIO):
                raise
            # A damaged character (a truncated file, a stray byte) must not cost the whole
            # file: decode with marks for the damaged bytes, and the row holding one is
            # quarantined (undecodable_bytes).
            text = _decoded(path, encoding)
            if markers or _odd_quotes_text(text):
                text, markers = close_unterminated(text, delimiter)
            source = io.BytesIO(text.encode("utf-8"))
            pyarrow_encoding = "utf8"
            table, ragged = read(threads=True)
        if ragged:  # row numbers are only known to the single-threaded reader
            table, ragged = read(threads=False)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise UnreadableInput(f"{path.name}: cannot parse as CSV ({encoding}): {exc}") from exc
    bad = {n for n, _ in ragged if n is not None}
    rows, n = [], 2
    for _ in range(table.num_rows):
        while n in bad:
            n += 1
        rows.append(n)
        n += 1
    table = table.rename_columns([unmark(c.strip().lstrip("\ufeff")) for c in table.column_names])
    table = table.append_column("_row", pa.array(rows, pa.int64()))
    unterminated = frozenset(n for n, raw in ragged if n is not None and raw in markers.values())
    damaged: frozenset[int] = frozenset()
    if isinstance(source, io.BytesIO):  # decoded here: damaged bytes are marks
        table, damaged, ragged = _split_damaged(table, ragged, delimiter)
    return TabularInput(table, ragged, encoding, unterminated=unterminated, damaged=damaged)


_HOOK_LOCK = threading.Lock()


def _drop_expected_unraisable(on_invalid_name: str) -> None:
    """Before Arrow reads: a ragged row whose bytes are not UTF-8 cannot be handed to the
    invalid-row handler (Arrow fails to decode it first), and Python would print "Exception
    ignored in on_invalid" to stderr. That failure is expected (the file is then decoded here
    and the row quarantined), so a filter that drops it, and passes any other unraisable to
    the hook it wraps, is put in front of ``sys.unraisablehook`` once. Never swapped back:
    a swap and restore around each read would race between threads reading at once."""
    with _HOOK_LOCK:
        current = sys.unraisablehook
        if getattr(current, "_drops", None) == on_invalid_name:
            return

        def hook(info: sys.UnraisableHookArgs) -> None:
            if isinstance(info.exc_value, UnicodeDecodeError) and getattr(
                    info.object, "__name__", "") == on_invalid_name and getattr(
                    info.object, "__module__", "") == __name__:
                return
            current(info)

        hook._drops = on_invalid_name  # type: ignore[attr-defined]
        sys.unraisablehook = hook


def _split_damaged(table: pa.Table, ragged: list[tuple[int | None, str]], delimiter: str,
                   ) -> tuple[pa.Table, frozenset[int], list[tuple[int | None, str]]]:
    """The rows holding a damaged byte taken out of ``table`` into the ragged entries (their
    fields joined, the damage as U+FFFD), with their numbers; ragged rows lose their marks."""
    hit = None
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            found = pc.match_substring(col, DAMAGE_MARK)
            hit = found if hit is None else pc.or_(hit, found)
    ragged = [(n, unmark(raw)) for n, raw in ragged]
    if hit is None or not pc.any(hit).as_py():
        return table, frozenset(), ragged
    hit = pc.fill_null(hit, False)
    bad = table.filter(hit)
    fields = [c for c in bad.column_names if c != "_row"]
    entries = [(r["_row"], unmark(delimiter.join(str(r[c]) for c in fields))) for r in bad.to_pylist()]
    ragged = sorted(ragged + entries, key=lambda e: (e[0] is None, e[0] or 0))
    return table.filter(pc.invert(hit)), frozenset(n for n, _ in entries), ragged


def _decoded(path: Path, encoding: str) -> str:
    """The file as text, each damaged byte as :data:`~minsheng.channels.decode.DAMAGE_MARK`."""
    return decode_marked(path.read_bytes(), encoding).lstrip("\ufeff")


def _odd_quotes_text(text: str) -> bool:
    return text.count('"') % 2 == 1


def _odd_quotes(path: Path, encoding: str) -> bool:
    """Whether the file holds an odd number of double quotes: a quote left open (or a lone
    quote inside a field, which :func:`close_unterminated` tells apart)."""
    if encoding.startswith("utf-16"):
        return _odd_quotes_text(_decoded(path, encoding))
    # in UTF-8 and GB18030 the byte 0x22 is never part of another character
    data = np.fromfile(path, dtype=np.uint8)
    return int(np.count_nonzero(data == 0x22)) % 2 == 1


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
    damaged: set[int] = set()
    for pos, value, error in json_entries(path, preferred):
        unit, n = pos.split(" ")[0], int(pos.split(" ")[1])
        if error == UNDECODABLE:
            damaged.add(n)
        if error is not None or not isinstance(value, dict):
            bad.append((n, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)))
            continue
        header.update(dict.fromkeys(str(k).strip() for k in value))
        objects.append((n, {str(k).strip(): v for k, v in value.items()}))
    table = pa.table({h: pa.array([_cell_text(o.get(h)) for _, o in objects], pa.string()) for h in header})
    table = table.append_column("_row", pa.array([n for n, _ in objects], pa.int64()))
    return TabularInput(table, bad, "json", unit=unit, ragged_reason="bad_json", damaged=frozenset(damaged))


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
                              f"{_shown_header(inp.header)}); map them in channels.yaml")


def _shown_header(header: list[str], most: int = 12, width: int = 24) -> str:
    """A file's column names as an error message may show them: masked and cut short, since
    a file whose header was lost has a data row there (a caller's number, a long text)."""
    if not header:
        return "none"
    names = [mask_text(h) for h in header[:most]]
    names = [n if len(n) <= width else n[:width - 1] + "…" for n in names]
    return ", ".join(names) + (f", … ({len(header)} in all)" if len(header) > most else "")


