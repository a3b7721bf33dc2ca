"""Which encoding an export is in, and its text: the one sniffer every channel uses.

Districts send UTF-8 (with or without a BOM), GB18030/GBK from Excel on Chinese Windows, and
UTF-16 ("Unicode text" exports, sometimes without a BOM). The order of trust: a BOM; then the
NUL pattern of BOM-less UTF-16 (NULs in the odd bytes: little-endian, in the even ones:
big-endian); then strict UTF-8; then the channel's declared encoding; then GB18030.

A file damaged in a few places (a stray ``\\xff``, CESU-8 surrogates, a character cut by a
truncation) is still in its encoding: it is decoded with U+FFFD for the damaged bytes, and the
mojibake check quarantines the rows that hold one. Only a file in none of the encodings —
damage everywhere — is unreadable as a whole.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from minsheng.channels.base import UnreadableInput

#: Bytes read to decide a file's encoding.
SAMPLE = 1 << 16
#: A text may be damaged in two places plus this share of its (other) non-ASCII characters to
#: be read with replacement characters; a GBK file read as UTF-8 is damaged at nearly every
#: Chinese character.
MAX_DAMAGE = 0.02


def utf16_without_bom(sample: bytes) -> str | None:
    """``utf-16-le`` / ``utf-16-be`` when the sample looks like BOM-less UTF-16, None
    otherwise. Two signs: many NULs all on one side of the byte pairs (ASCII characters in
    UTF-16), or, for text that is mostly Chinese and so has few NULs, line breaks as code units
    of one byte order (``0a 00`` / ``00 0a`` on a pair boundary) with the sample read in that
    order nearly all plausible characters. A one-line file of Chinese text without a BOM shows
    neither sign and is not recognised."""
    head = sample[:4096]
    nuls = head.count(b"\x00")
    if nuls >= 8 and nuls * 10 >= len(head):
        odd, even = head[1::2].count(0), head[0::2].count(0)
        if odd >= 4 * max(even, 1):
            return "utf-16-le"
        if even >= 4 * max(odd, 1):
            return "utf-16-be"
        return None
    if _damage(head, "utf-8", final=False) == 0:  # text that reads as UTF-8 is UTF-8
        return None
    pairs = [head[i:i + 2] for i in range(0, len(head) - 1, 2)]
    for encoding, breaks in (("utf-16-le", (b"\n\x00", b"\r\x00")), ("utf-16-be", (b"\x00\n", b"\x00\r"))):
        if any(p in breaks for p in pairs) and _plausible(head[:len(pairs) * 2].decode(encoding, "replace")):
            return encoding
    return None


_PLAUSIBLE = re.compile("[\t\n\r -~\u00a0-\u00ff\u2000-\u206f\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _plausible(text: str, share: float = 0.9) -> bool:
    """Nearly all of ``text`` is what a Chinese export holds: ASCII, CJK ideographs and
    punctuation, full-width forms. UTF-8 or GB18030 bytes read as UTF-16 give code units
    spread over the whole range (Hangul, private use, surrogates), far below the share."""
    return bool(text) and len(_PLAUSIBLE.findall(text)) >= share * len(text)


def _damage(data: bytes, encoding: str, final: bool) -> int | None:
    """Damaged places (runs of undecodable bytes) when ``data`` is read as ``encoding``: 0 when
    it decodes strictly, None when there are too many for the data to be in that encoding."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=final)
        return 0
    except UnicodeDecodeError:
        pass
    except LookupError:
        return None
    text = codecs.getincrementaldecoder(encoding)("replace").decode(data, final=final)
    runs = len(re.findall("\ufffd+", text))
    good = sum(1 for ch in text if ord(ch) > 127 and ch != "\ufffd")
    if text.count("\ufffd") > max(8, 0.1 * len(text)):  # damage everywhere: not this encoding
        return None
    return runs if runs <= 2 + MAX_DAMAGE * good else None


def sniff_encoding(sample: bytes, preferred: str | None = None) -> str:
    """The encoding of a file from its first bytes (a multi-byte character cut at the end of
    the sample is allowed). Raises :class:`UnreadableInput` when none fits, even with a few
    damaged characters."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if utf16 := utf16_without_bom(sample):
        return utf16
    candidates = list(dict.fromkeys(["utf-8", preferred or "gb18030", "gb18030"]))
    damage = {enc: _damage(sample, enc, final=False) for enc in candidates}
    for enc in candidates:  # strictly decodable, in the order of trust
        if damage[enc] == 0:
            return enc
    for enc in candidates:  # damaged in a few places, in the same order
        if damage[enc] is not None:
            return enc
    raise UnreadableInput("not decodable as UTF-8, UTF-16 or GB18030")


#: What a damaged byte decodes to for a reader that quarantines the row holding it
#: (``undecodable_bytes``) rather than judging its text: a noncharacter, so it is valid UTF-8
#: that Arrow carries, and no export writes it (one that does is read with U+FFFD instead).
DAMAGE_MARK = "\U0010fffe"


def _mark_damage(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return DAMAGE_MARK, exc.end


codecs.register_error("minsheng-mark-damage", _mark_damage)


def decode_marked(data: bytes, encoding: str) -> str:
    """``data`` decoded, each undecodable byte (sequence) as :data:`DAMAGE_MARK`; with U+FFFD
    when the data itself holds the mark (then a mark would not tell damage)."""
    try:
        genuine = DAMAGE_MARK.encode(encoding) in data
    except (UnicodeError, LookupError):
        genuine = False
    return data.decode(encoding, errors="replace" if genuine else "minsheng-mark-damage")


def unmark(text: str) -> str:
    """A text as it is shown and stored: damaged bytes as U+FFFD."""
    return text.replace(DAMAGE_MARK, "\ufffd")


def decode_bytes(data: bytes, preferred: str | None = None, *, mark: bool = False) -> tuple[str, str]:
    """A whole export as text, without a BOM: (text, encoding). Damaged bytes become U+FFFD
    where the text is otherwise in its encoding (:data:`DAMAGE_MARK` with ``mark``)."""
    encoding = sniff_encoding(data[:SAMPLE], preferred)
    # a sample that is valid UTF-8 may still be followed by GB18030 further down
    fallbacks = [preferred or "gb18030", "gb18030"] if encoding == "utf-8" else []
    candidates = list(dict.fromkeys([encoding, *fallbacks]))
    for enc in candidates:
        try:
            return data.decode(enc).lstrip("\ufeff"), enc
        except UnicodeDecodeError:
            continue
    for enc in candidates:
        if _damage(data, enc, final=True) is not None:
            text = decode_marked(data, enc) if mark else data.decode(enc, errors="replace")
            return text.lstrip("\ufeff"), enc
    raise UnreadableInput("not decodable as UTF-8, UTF-16 or GB18030")


def read_text(path: Path, preferred: str | None = None, *, mark: bool = False) -> str:
    """A text export's content; :class:`UnreadableInput` if it cannot be read or decoded.
    With ``mark``, damaged bytes are :data:`DAMAGE_MARK` (else U+FFFD)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror}") from exc
    return decode_bytes(data, preferred, mark=mark)[0]
