"""What is new in a streaming inbox: a folder laid out as ``minsheng generate`` writes
(``hotline/*.csv``, ``platform/*.jsonl``, ``meetings/*.md``, ``survey/*.csv``, and the other
formats ingestion reads), where files keep landing and line files keep growing.

**Line files** (CSV, JSON Lines) are read incrementally from the position recorded for them:
each poll takes the complete records appended since (a CSV record ends at a newline outside
quotes, so a record still being written waits), and a CSV slice is read with the file's header
in front of it. Positions in the slice are corrected to the whole file's, so that a record
or a rejection is named the same however the file was sliced.

A file's cursor is its identity: the hash of the bytes read so far (and the size read). A file
is resumed only where its first ``read_to`` bytes are still the ones read; otherwise — replaced
by other content, longer, shorter or of the same size, or truncated — it is read again from
the start. A file under a name not seen before (a copy, a rename) is read from the start too.
Reading again is safe because ingestion is idempotent: records already loaded are duplicates
by key and content, so a copy or a rename adds nothing and a replacement adds only what is new.

**Documents** (Markdown, Word, Excel, JSON arrays, UTF-16 exports, and a line file without a
single line feed, such as a CSV with CR line ends) are read whole, once they have not been
modified for ``settle`` seconds (a file still being copied in is not read), and again whenever
their content changes.

A file that vanishes or cannot be opened between the listing and the read is skipped.
Parsing is the channels' own (``minsheng.channels.read_file``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pyarrow as pa

from minsheng.channels import CHANNELS, ChannelBatch, discover
from warehouse.staging import InboxCursor

LINE_SUFFIXES = (".csv", ".jsonl")
_UTF16 = (b"\xff\xfe", b"\xfe\xff")
_POSITION = re.compile(r"^(line|row) (\d+)$")

Reader = Callable[[str, Path], ChannelBatch]
log = logging.getLogger(__name__)


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


def _digest(h: "hashlib._Hash") -> str:
    return h.hexdigest()[:20]


def line_fingerprint(prefix_digest: str, mtime_ns: int) -> str:
    """A line file's cursor fingerprint: the digest of the bytes read, and the modification
    time then (which lets a poll skip an unchanged file without hashing it)."""
    return f"{prefix_digest}:{mtime_ns}"


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
                try:
                    found.append(self._slice(channel, path, rel, cursors.get(rel)))
                except OSError as exc:  # gone or unreadable since the listing: the next poll sees
                    log.warning("skipping inbox file %s: %s", rel, exc.strerror or exc)
        return [s for s in found if s is not None]

    def _slice(self, channel: str, path: Path, rel: str, cursor: InboxCursor | None) -> Slice | None:
        stat = path.stat()
        if not path.is_file():
            return None
        with path.open("rb") as fh:
            first = fh.readline()
            if (path.suffix.lower() in LINE_SUFFIXES and not first.startswith(_UTF16)
                    and first.endswith(b"\n")):
                return self._line_slice(channel, fh, rel, stat, cursor)
            if path.suffix.lower() in LINE_SUFFIXES and not first.startswith(_UTF16):
                if not first or time.time() - stat.st_mtime < self.settle:
                    return None  # not one complete line yet (or a file with no LF at all: below)
            # a document's fingerprint: size, modification time and the digest of its bytes
            if cursor and cursor.fingerprint.startswith(f"{stat.st_size}:{stat.st_mtime_ns}:"):
                return None  # untouched since it was read
            if time.time() - stat.st_mtime < self.settle:
                return None
            data = first + fh.read()
        digest = hashlib.sha256(data).hexdigest()[:20]
        if cursor and cursor.read_to == len(data) and cursor.fingerprint.endswith(f":{digest}"):
            return None  # touched, or put back, with the same content
        return Slice(channel, rel, 0, len(data), 0, 0, f"{len(data)}:{stat.st_mtime_ns}:{digest}", True)

    def _line_slice(self, channel: str, fh: BinaryIO, rel: str, stat: os.stat_result,
                    cursor: InboxCursor | None) -> Slice | None:
        size = stat.st_size
        # a modification time is trusted only once it is a second old: a file rewritten within
        # the clock's granularity of being read keeps the time it was read with
        settled = time.time_ns() - stat.st_mtime_ns > 1_000_000_000
        mtime = stat.st_mtime_ns if settled else 0
        if cursor and cursor.read_to == size and cursor.fingerprint.endswith(f":{mtime}") and mtime:
            return None  # untouched since it was read
        fh.seek(0)
        whole = fh.read(size)
        start, before = 0, 0
        prefix = hashlib.sha256()
        if cursor and cursor.read_to <= len(whole):
            prefix.update(memoryview(whole)[:cursor.read_to])
            if cursor.fingerprint.split(":", 1)[0] == _digest(prefix):
                start, before = cursor.read_to, cursor.records  # the same bytes: resume
            else:
                prefix = hashlib.sha256()  # replaced or changed within: from the start
        data = memoryview(whole)[start:]
        quoted = rel.lower().endswith(".csv")
        end, records = complete_records(bytes(data), quoted)
        if start == 0 and quoted:
            records -= 1  # the header
        if records <= 0:
            if start and mtime and cursor and not cursor.fingerprint.endswith(f":{mtime}"):
                # nothing new, and its time can now be trusted: record it (no records to read)
                return Slice(channel, rel, start, start, before, 0,
                             line_fingerprint(_digest(prefix), mtime), False)
            return None
        prefix.update(data[:end])
        return Slice(channel, rel, start, start + end, before, records,
                     line_fingerprint(_digest(prefix), mtime), False)

    def read(self, sl: Slice, reader: Reader) -> ChannelBatch | None:
        """Parse a slice with its channel's adapter (None for a slice of no records: only its
        cursor moves); raises ``UnreadableInput``."""
        path = self.root / sl.path
        if not sl.document and not sl.records:
            return None
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
