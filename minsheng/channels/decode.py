"""Which encoding an export is in, and its text: the one sniffer every channel uses.

Districts send UTF-8 (with or without a BOM), GB18030/GBK from Excel on Chinese Windows, and
UTF-16 ("Unicode text" exports, sometimes without a BOM). The order of trust: a BOM; then the
NUL pattern of BOM-less UTF-16; then strict UTF-8; then the channel's declared encoding; then
GB18030.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from minsheng.channels.base import UnreadableInput

#: Bytes read to decide a file's encoding.
SAMPLE = 1 << 16


def sniff_encoding(sample: bytes, preferred: str | None = None) -> str:
    """The encoding of a file from its first bytes (a multi-byte character cut at the end of
    the sample is allowed). Raises :class:`UnreadableInput` when none fits."""
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
    raise UnreadableInput("not decodable as UTF-8, UTF-16 or GB18030")


def decode_bytes(data: bytes, preferred: str | None = None) -> tuple[str, str]:
    """A whole export as text, without a BOM: (text, encoding)."""
    encoding = sniff_encoding(data[:SAMPLE], preferred)
    # a sample that is valid UTF-8 may still be followed by GB18030 further down
    fallbacks = [preferred or "gb18030", "gb18030"] if encoding == "utf-8" else []
    for enc in dict.fromkeys([encoding, *fallbacks]):
        try:
            return data.decode(enc).lstrip("\ufeff"), enc
        except UnicodeDecodeError:
            continue
    raise UnreadableInput("not decodable as UTF-8, UTF-16 or GB18030")


def read_text(path: Path, preferred: str | None = None) -> str:
    """A text export's content; :class:`UnreadableInput` if it cannot be read or decoded."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror}") from exc
    return decode_bytes(data, preferred)[0]
