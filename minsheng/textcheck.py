"""Mis-decoded text (mojibake) detection.

A file decoded with the wrong codec still yields strings, so mojibake must be caught per
field: UTF-8 bytes read as GBK ("鎯崇敵璇?"), UTF-8 read as Latin-1/CP1252 ("æƒ³ç”³"),
replacement characters, and the classic "锟斤拷" left by a GBK/UTF-8 round trip. A text is
mojibake when re-encoding it with the wrong codec and decoding as UTF-8 gives back
different, valid text.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from minsheng.pii import true_positions

_CJK = re.compile(r"[\u4e00-\u9fff]")
# Cheap superset for Arrow: replacement character, the GBK round-trip marker, Latin-1
# letters (rare in Chinese resident text), or characters typical of UTF-8 read as GBK.
HINT = r"[\x{FFFD}\x{00C0}-\x{00FF}]|锟斤拷|[鍙鐢璇绀浣鏈鎴涓嶅鍦鍚缁鏂閿鐨鐞瀹杩娌鑰閲绋鐪]"


def looks_mojibake(text: str) -> bool:
    if "\ufffd" in text or "锟斤拷" in text:
        return True
    for wrong in ("gbk", "cp1252", "latin-1"):
        try:
            fixed = text.encode(wrong).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if fixed != text and _CJK.search(fixed):
            return True
    return False


def mojibake_flags(values: pa.Array | pa.ChunkedArray, hint: pa.Array | pa.ChunkedArray | None = None) -> pa.Array:
    """Boolean array: which texts look mis-decoded. Only the texts that match :data:`HINT`
    (given, or evaluated here by Arrow) are checked in Python."""
    if hint is None:
        hint = pc.match_substring_regex(values, HINT)
    idx = true_positions(hint)
    flags = np.zeros(len(values), dtype=bool)
    for i, text in zip(idx, values.take(idx).to_pylist() if len(idx) else [], strict=True):
        flags[i] = looks_mojibake(text)
    return pa.array(flags)
