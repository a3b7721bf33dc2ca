"""What is new in a streaming inbox: a folder laid out as ``minsheng generate`` writes
(``hotline/*.csv``, ``platform/*.jsonl``, ``meetings/*.md``, ``survey/*.csv``, and the other
formats ingestion reads), where files keep landing and line files keep growing.

**Line files** (CSV, JSON Lines) are read incrementally from the position recorded for them:
each poll takes the complete records appended since (a CSV record ends at a newline outside
quotes, so a record still being written waits), and a CSV slice is read with the file's header
in front of it. Positions in the slice are corrected to the whole file's, so that a record
or a rejection is named the same however the file was sliced. A file whose first line
changed, or that shrank, was replaced: it is read again from the start (its records are
then duplicates, which ingestion recognises by key and content).

**Documents** (Markdown, Word, Excel, JSON arrays, UTF-16 exports) are read whole, once they
have not been modified for ``settle`` seconds (a file still being copied in is not read),
and again whenever their size or modification time changes.

Parsing is the channels' own (``minsheng.channels.read_file``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from minsheng.channels import CHANNELS, ChannelBatch, discover
from warehouse.staging import InboxCursor

LINE_SUFFIXES = (".csv", ".jsonl")
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_POSITION = re.compile(r"^(line|row) (\d+)$")

Reader = Callable[[str, Path], ChannelBatch]


@dataclass(frozen=True)
class Slice:
    """New bytes of one inbox file: ``[start, end)``, holding ``records`` complete records
    after ``records_before`` already read (headers not counted)."""

    channel: str
    path: str  # relative to the inbox
    start: int
    end: int
    records_before: int
    records: int
    fingerprint: str
    document: bool

    def cursor(self, error: str | None = None) -> InboxCursor:
        """The read position once this slice is merged."""
        return InboxCursor(self.path, self.channel, self.end, self.records_before + self.records,
                           self.fingerprint, error)


def complete_records(data: bytes, quoted: bool) -> tuple[int, int]:
    """Bytes up to the end of the last complete record in ``data``, and how many records
    end there. With ``quoted`` (CSV), a newline inside double quotes ends nothing."""
    if not quoted or b'"' not in data:
        end = data.rfind(b"\n") + 1
        return end, data.count(b"\n", 0, end)
    inside, end, n = False, 0, 0
    for m in re.finditer(rb'["\n]', data):
        if m.group() == b'"':
            inside = not inside
        elif not inside:
            end, n = m.end(), n + 1
    return end, n


class Inbox:
    """Finds the slices of an inbox folder not yet read, given the recorded cursors."""

    def __init__(self, root: Path, settle: float = 2.0) -> None:
        self.root = Path(root)
        self.settle = settle

    def scan(self, cursors: Mapping[str, InboxCursor]) -> list[Slice]:
        found = []
        for channel in CHANNELS:
            for path in discover(self.root, channel):
                rel = path.relative_to(self.root).as_posix()
                found.append(self._slice(channel, path, rel, cursors.get(rel)))
        return [s for s in found if s is not None]

    def _slice(self, channel: str, path: Path, rel: str, cursor: InboxCursor | None) -> Slice | None:
        stat = path.stat()
        with path.open("rb") as fh:
            first = fh.readline()
            if path.suffix.lower() in LINE_SUFFIXES and not first.startswith(_UTF16):
                if not first.endswith(b"\n"):
                    return None  # not one complete line yet
                fingerprint = hashlib.sha256(first).hexdigest()[:16]
                start, before = 0, 0
                if cursor and cursor.fingerprint == fingerprint and cursor.read_to <= stat.st_size:
                    start, before = cursor.read_to, cursor.records
                fh.seek(start)
                data = fh.read(stat.st_size - start)
                quoted = path.suffix.lower() == ".csv"
                end, records = complete_records(data, quoted)
                if start == 0 and quoted:
                    records -= 1  # the header
                if records <= 0:
                    return None
                return Slice(channel, rel, start, start + end, before, records, fingerprint, False)
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        if cursor and cursor.fingerprint == stamp:
            return None
        if time.time() - stat.st_mtime < self.settle:
            return None
        return Slice(channel, rel, 0, stat.st_size, 0, 0, stamp, True)

    def read(self, sl: Slice, reader: Reader) -> ChannelBatch:
        """Parse a slice with its channel's adapter; raises ``UnreadableInput``."""
        path = self.root / sl.path
        if sl.document:
            return reader(sl.channel, path)
        with path.open("rb") as fh:
            header = fh.readline() if sl.start > 0 and path.suffix.lower() == ".csv" else b""
            fh.seek(sl.start)
            data = fh.read(sl.end - sl.start)
        with tempfile.TemporaryDirectory(prefix="minsheng-slice-") as tmp:
            # the same file name: records and rejections name their source file
            piece = Path(tmp) / path.name
            piece.write_bytes(header + data)
            batch = reader(sl.channel, piece)
        if not sl.records_before:
            return batch
        return dataclasses.replace(
            batch,
            records=_shift_positions(batch.records, sl.records_before),
            rejected=_shift_positions(batch.rejected, sl.records_before),
        )


def _shift_positions(table: pa.Table, by: int) -> pa.Table:
    """``line N`` / ``row N`` of a slice as positions in the whole file."""
    def shift(pos: str | None) -> str | None:
        m = _POSITION.match(pos or "")
        return f"{m.group(1)} {int(m.group(2)) + by}" if m else pos

    i = table.schema.get_field_index("source_pos")
    return table.set_column(i, "source_pos", pa.array([shift(p) for p in table.column(i).to_pylist()],
                                                       pa.string()))
