"""Masking of personal data in free text.

Residents write phone numbers, ID numbers and addresses into their messages. Every text is
masked before it reaches an analytical table, a report or a log; the placeholders keep the
sentence readable for the classifier (``我电话[手机号]``). :func:`mask` returns only the kinds
and counts of what it found, never the values, so callers can log the result.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_digit(first17: str) -> str:
    """GB 11643 check character of the first 17 digits of a resident ID number."""
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def is_valid_id_number(value: str) -> bool:
    value = value.upper()
    return (
        len(value) == 18
        and value[:17].isdigit()
        and value[0] != "0"
        and id_check_digit(value[:17]) == value[17]
    )


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Digit runs are matched whole (no digit on either side) so that a mobile number is never
# found inside an ID number or a bank card. _DIGITS finds a whole run of digit groups (split
# by spaces or hyphens); a run is one number if _NUMBER matches it whole (at most 24
# characters after a +86) and it classifies as one, else the stretches of its groups that
# are numbers are masked (_mask_run), so that two numbers written one space apart are both
# masked.
_DIGITS = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?\d[\d -]{5,}\d[Xx]?(?![0-9A-Za-z])")
_NUMBER = re.compile(r"(?:\+?86[- ]?)?\d[\d -]{5,22}\d[Xx]?")
_GROUP = re.compile(r"[^ -]+")
_LONGEST = len("+86 ") + 24 + len("X")  # the longest _NUMBER match
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Addresses are found by their literal anchor (a road suffix before a house number, or a
# unit), then extended back over the road name: a pattern that starts with the road name
# itself is retried at every position and costs ten times as much.
_HOUSE_SRC = (
    r"(?:路|街|巷|大道|大街)\d+号(?:附\d+号)?(?:\d+(?:栋|幢|号楼))?(?:\d+单元)?"
    r"(?:\d+(?:楼|层))?(?:\d+(?:室|号)?)?"
)
_UNIT_SRC = r"(?:\d+(?:栋|幢|号楼))?\d+单元(?:\d+(?:楼|层))?(?:\d+(?:室|号)?)?"
_HOUSE = re.compile(_HOUSE_SRC)
_UNIT = re.compile(_UNIT_SRC)
_ROAD_NAME = re.compile(r"[\u4e00-\u9fff]{1,8}$")
_ANY_DIGIT = re.compile(r"\d")

PLACEHOLDERS = {
    "mobile": "[手机号]",
    "landline": "[电话]",
    "id_number": "[身份证号]",
    "bank_card": "[银行卡号]",
    "email": "[邮箱]",
    "address": "[地址]",
}


@dataclass(frozen=True)
class MaskResult:
    text: str
    found: Counter[str] = field(default_factory=Counter)

    @property
    def had_pii(self) -> bool:
        return bool(self.found)


def _classify_digits(raw: str) -> str | None:
    digits = re.sub(r"[^\dXx]", "", raw)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if len(digits) == 18 and is_valid_id_number(digits):
        return "id_number"
    if len(digits) == 11 and digits[0] == "1" and digits[1] in "3456789":
        return "mobile"
    if digits.startswith("0") and 10 <= len(digits) <= 12:
        return "landline"
    if len(digits) in (7, 8) and raw.strip()[0] in "2345678":
        return "landline"  # local number without area code
    if 15 <= len(digits) <= 19 and digits.isdigit() and luhn_ok(digits):
        return "bank_card"
    if len(digits) == 18:
        return "id_number"  # check digit off: still an ID-shaped number, mask it anyway
    return None


def _classify_number(raw: str) -> str | None:
    """The kind of ``raw`` (a stretch of a digit run) if it is one number, as _DIGITS would
    have matched it whole."""
    return _classify_digits(raw) if _NUMBER.fullmatch(raw) else None


def _mask_run(raw: str, found: Counter[str]) -> str:
    """A digit run (a _DIGITS match) with its numbers masked: the run whole if it is one
    number (as before runs were cut), else the stretches of whole groups that are numbers (a
    landline ``010-12345678``, a card in groups of four, ``+86 138 1234 5678``), chosen to
    mask the most digits, then to take the fewest ID-shaped numbers with a wrong check digit,
    then the fewest stretches. Masking the result again changes nothing: a stretch left
    unmasked that is a number would have masked more digits."""
    # (a _DIGITS match of up to 24 characters is a _NUMBER match)
    kind = _classify_digits(raw) if len(raw) <= 24 or _NUMBER.fullmatch(raw) else None
    if kind is not None:
        found[kind] += 1
        return PLACEHOLDERS[kind]
    return _split_run(raw, found)


_Stretch = tuple[int, int, str, int]


def _split_run(raw: str, found: Counter[str]) -> str:
    """_mask_run for a run that is not one number as a whole."""
    groups = [(g.start(), g.end()) for g in _GROUP.finditer(raw)]
    n = len(groups)
    if n < 2:
        return raw
    # best[i]: the score of groups[i:] and the stretch (start, end, kind, next group) that
    # group i begins, if any. a run may begin with a + that _DIGITS would skip on its own.
    best: list[tuple[tuple[int, int, int], _Stretch | None]] = [((0, 0, 0), None)] * (n + 1)
    for i in range(n - 1, -1, -1):
        score, choice = best[i + 1][0], None
        a = groups[i][0]
        starts = (a, a + 1) if raw[a] == "+" else (a,)
        ndigits = 0
        for j in range(i, n):
            b = groups[j][1]
            ndigits += b - groups[j][0]
            if b - a > _LONGEST or ndigits > 20:
                break
            if ndigits < 7:
                continue
            for start in starts:
                stretch = raw[start:b]
                kind = _classify_number(stretch)
                if kind is None:
                    continue
                weak = kind == "id_number" and not is_valid_id_number(
                    re.sub(r"[^\dXx]", "", stretch))
                rest = best[j + 1][0]
                cand = (rest[0] + ndigits, rest[1] - weak, rest[2] - 1)
                if cand > score:
                    score, choice = cand, (start, b, kind, j + 1)
        best[i] = (score, choice)
    out, done, i = [], 0, 0
    while i < n:
        choice = best[i][1]
        if choice is None:
            i += 1
            continue
        start, end, kind, i = choice
        found[kind] += 1
        out += [raw[done:start], PLACEHOLDERS[kind]]
        done = end
    return "".join(out) + raw[done:]


def _mask_addresses(text: str, found: Counter[str]) -> str:
    # a road name never reaches back into the house number before it, and a unit that
    # overlaps a house number (its road name, or its end) is masked together with it
    spans: list[tuple[int, int]] = []
    end = 0
    for m in _HOUSE.finditer(text):
        road = _ROAD_NAME.search(text, end, m.start())
        spans.append((road.start() if road else m.start(), m.end()))
        end = m.end()
    spans += [m.span() for m in _UNIT.finditer(text)]
    if not spans:
        return text
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    for a, b in reversed(merged):
        text = text[:a] + PLACEHOLDERS["address"] + text[b:]
    found["address"] += len(merged)
    return text


def mask(text: str) -> MaskResult:
    """Replace personal data in ``text`` with placeholders; idempotent."""
    found: Counter[str] = Counter()

    def digits(m: re.Match[str]) -> str:
        raw = m.group(0)
        if len(raw) <= 24:  # the common case, as _mask_run
            kind = _classify_digits(raw)
            if kind is not None:
                found[kind] += 1
                return PLACEHOLDERS[kind]
            return _split_run(raw, found)
        return _mask_run(raw, found)

    def email(m: re.Match[str]) -> str:
        found["email"] += 1
        return PLACEHOLDERS["email"]

    out = _EMAIL.sub(email, text) if "@" in text else text
    if "号" in out or "单元" in out:
        out = _mask_addresses(out, found)
    if _ANY_DIGIT.search(out):
        out = _DIGITS.sub(digits, out)
    return MaskResult(out, found)


def mask_text(text: str) -> str:
    return mask(text).text


def user_pseudonym(value: str) -> str:
    """A stable pseudonym for a user name or account id, so that distinct residents can be
    counted without storing who they are."""
    import hashlib

    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


# Every text that mask() can change matches this (RE2 syntax, evaluated by Arrow or DuckDB
# in C++): a digit run long enough to be a number of interest, an e-mail, an address fragment,
# or a digit that is not ASCII (``\d`` above matches any Unicode digit, such as full-width
# ones, which the ASCII alternatives would miss).
PREFILTER = r"[0-9][0-9 -]{5,}[0-9]|@|(?:路|街|巷|大道|大街)[0-9]+号|[0-9]单元|[^\P{Nd}0-9]"

# The patterns above in RE2 syntax, for the validating SQL (warehouse/ingest/validate_hotline.sql)
# that masks the common shapes itself. ASCII digits only: a text with any other digit is
# masked by mask(). ``road_house`` is a house number with its road name (pii._ROAD_NAME);
# ``before_road_house`` finds one whose road name follows a digit or a unit character, where
# a unit may overlap it; ``number_run`` is a maximal run that a _DIGITS match cannot cross.
_ROAD_HOUSE = r"[\x{4e00}-\x{9fff}]{0,8}" + _HOUSE_SRC
SQL_PATTERNS = {
    "house": _HOUSE_SRC.replace(r"\d", "[0-9]"),
    "unit": _UNIT_SRC.replace(r"\d", "[0-9]"),
    "road_house": _ROAD_HOUSE.replace(r"\d", "[0-9]"),
    "before_road_house": "[0-9栋幢号楼单元层室]" + _ROAD_HOUSE.replace(r"\d", "[0-9]"),
    "number_run": r"[0-9A-Za-z+]+(?:[ -]+[0-9A-Za-z+]+)*",
}


def mask_array(
    values: pa.Array | pa.ChunkedArray, flags: pa.Array | pa.ChunkedArray | None = None,
) -> pa.Array | pa.ChunkedArray:
    """Mask a whole column: only the texts that the prefilter flags go through :func:`mask`.
    Same result as masking every element. ``flags`` may come precomputed, e.g. from the
    validating SQL, which evaluates :data:`PREFILTER` on all cores (or flags only the texts
    it could not mask itself). The column is not copied: only the chunks holding a flagged
    text are rebuilt."""
    if flags is None:
        flags = pc.match_substring_regex(values, PREFILTER)
    hits = true_positions(flags)
    if len(hits) == 0:
        return values
    masked = [mask(t).text for t in values.take(hits).to_pylist()]
    return replace_at(values, hits, masked)


def true_positions(flags: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Positions of the true elements of a boolean column (null counts as false)."""
    if len(flags) == 0:  # (pc.indices_nonzero crashes on a chunked array without chunks)
        return np.empty(0, dtype=np.int64)
    return np.flatnonzero(pc.fill_null(flags, False).to_numpy(zero_copy_only=False))


def replace_at(values: pa.Array | pa.ChunkedArray, positions: np.ndarray, new: list[str]) -> pa.Array | pa.ChunkedArray:
    """``values`` with the elements at ``positions`` (ascending) replaced by ``new``,
    rebuilding only the chunks that hold one."""
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    out, start, k = [], 0, 0
    for chunk in chunks:
        end = start + len(chunk)
        j = int(np.searchsorted(positions, end))
        if j > k:
            mask_ = np.zeros(len(chunk), dtype=bool)
            mask_[positions[k:j] - start] = True
            chunk = pc.replace_with_mask(chunk, pa.array(mask_), pa.array(new[k:j], type=values.type))
        out.append(chunk)
        start, k = end, j
    return pa.chunked_array(out, type=values.type) if isinstance(values, pa.ChunkedArray) else out[0]
