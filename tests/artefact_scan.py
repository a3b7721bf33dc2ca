"""Where does a planted number end up? A scan of every file under a folder for given strings,
for the tests of issue 11's item 5 ("no personal data in artefacts either").

Raw bytes are not enough: DuckDB compresses strings (FSST, dictionaries), Parquet pages are
Snappy- or Zstd-compressed, joblib may zlib its pickles, and a saved model may be a zip. So
each file is read the way its format stores text, and every needle is looked for in UTF-8,
UTF-16 and GB18030:

- ``.duckdb`` files: every row of every table and view, opened read-only;
- ``.parquet`` files: every column, read with pyarrow;
- zip archives (by magic): each member, recursively;
- gzip, bz2, xz and zlib streams (by magic): decompressed, recursively;
- anything else: its bytes.

Folders named in ``skip`` (the contacts file's ``private/``) are not scanned.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    path: str      # the file, and the member or table inside it after "::"
    needle: str


def _forms(needle: str) -> list[bytes]:
    return [needle.encode(enc) for enc in ("utf-8", "utf-16-le", "gb18030")]


def _decompressed(data: bytes) -> bytes | None:
    try:
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
        if data[:3] == b"BZh":
            return bz2.decompress(data)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(data)
        if data[:1] == b"\x78" and data[1:2] in (b"\x01", b"\x5e", b"\x9c", b"\xda"):
            return zlib.decompress(data)
    except (OSError, EOFError, lzma.LZMAError, zlib.error, ValueError):
        return None
    return None


def _duckdb_text(path: Path) -> bytes:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"attach '{str(path).replace(chr(39), chr(39) * 2)}' as scanned (read_only)")
        names = con.execute("select schema_name, table_name from duckdb_tables() where database_name = 'scanned' "
                            "union all select schema_name, view_name from duckdb_views() "
                            "where database_name = 'scanned' and not internal").fetchall()
        out = []
        for schema, table in names:
            rows = con.execute(f'select * from scanned."{schema}"."{table}"').fetchall()
            out.append(f"{schema}.{table}:{rows!r}")
        return "\n".join(out).encode("utf-8")
    finally:
        con.close()


def _parquet_text(data: bytes) -> bytes:
    import pyarrow.parquet as pq

    return repr(pq.read_table(io.BytesIO(data)).to_pylist()).encode("utf-8")


def _texts(name: str, data: bytes, depth: int = 0) -> Iterator[tuple[str, bytes]]:
    """(where, bytes) for a file's content and what its format hides."""
    yield name, data
    if depth > 3:
        return
    if data[:4] == b"PAR1":
        try:
            yield f"{name}::rows", _parquet_text(data)
        except Exception:  # noqa: BLE001 - a damaged file is still scanned as bytes
            pass
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for member in zf.namelist():
                    yield from _texts(f"{name}::{member}", zf.read(member), depth + 1)
        except zipfile.BadZipFile:
            pass
    inner = _decompressed(data)
    if inner is not None:
        yield from _texts(f"{name}::decompressed", inner, depth + 1)


def scan(root: Path, needles: Iterable[str], *, skip: Iterable[str] = ("private",)) -> list[Finding]:
    """Every (file, needle) where a needle is found under ``root``, in any of the forms above."""
    root = Path(root)
    forms = {n: _forms(n) for n in needles if n}
    skipped = set(skip)
    found: list[Finding] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if skipped & set(path.relative_to(root).parts[:-1]):
            continue
        data = path.read_bytes()
        texts = list(_texts(str(path.relative_to(root)), data))
        if path.suffix == ".duckdb" or data[:16].find(b"DUCK") >= 0:
            try:
                texts.append((f"{path.relative_to(root)}::tables", _duckdb_text(path)))
            except Exception:  # noqa: BLE001 - not a database after all, or locked: bytes only
                pass
        for needle, variants in forms.items():
            where = next((w for w, text in texts if any(v in text for v in variants)), None)
            if where is not None:
                found.append(Finding(where, needle))
    return found
