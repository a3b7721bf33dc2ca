"""Masking of personal data in free text.

Residents write phone numbers, ID numbers and addresses into their messages. Every text is
masked before it reaches an analytical table, a report or a log; the placeholders keep the
sentence readable for the classifier (``我电话[手机号]``). :func:`mask` returns only the kinds
and counts of what it found, never the values, so callers can log the result.

Numbers are looked for in a normalised view of the text (:func:`normalise`: NFKC, so that
full-width digits and letters are ASCII; every kind of space, and line breaks, as one space;
every dash as ``-``; zero-width characters dropped), and the spans found there are replaced in
the text as written: what is not personal data is stored as the resident wrote it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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


# --- normalisation -------------------------------------------------------------------------

_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad")
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"})
_ASCII_SPACE = re.compile(r"[\t\n\x0b\x0c\r\x1c-\x1f]")


@lru_cache(maxsize=8192)
def _norm_char(ch: str) -> str:
    if ch in _ZERO_WIDTH:
        return ""
    if ch.isspace():
        return " "
    out = unicodedata.normalize("NFKC", ch).translate(_DASHES)
    return " " if out.isspace() else "".join(c for c in out if c not in _ZERO_WIDTH)


# characters that stay as they are: printable ASCII, the space, han, and the CJK punctuation
# that no pattern looks at (NFKC would turn ， into , for nothing)
_KEPT = "\u3001\u3002\uff0c\uff01\uff1f\uff08\uff09\uff1a\uff1b\u201c\u201d\u2018\u2019\u3010\u3011\u300a\u300b\u2026\u300c\u300d"
_PLAIN = re.compile(f"[ -~\u4e00-\u9fff{_KEPT}]*")


def _plain(ch: str) -> bool:
    return " " <= ch <= "~" or "\u4e00" <= ch <= "\u9fff" or ch in _KEPT


def normalise(text: str) -> tuple[str, list[int] | None]:
    """The view of ``text`` that masking searches, and for each of its characters the
    position of the character of ``text`` it comes from (None: the same positions)."""
    if _PLAIN.fullmatch(text):
        return text, None
    # by the distinct characters, in C (str.translate), not by a loop over every character:
    # that loop took seconds on a multi-megabyte text
    table = {ord(c): _norm_char(c) for c in set(text) if not _plain(c)}
    view = text.translate(table)
    uneven = [chr(k) for k, v in table.items() if len(v) != 1]
    if not uneven:
        return view, None
    # some characters go (zero-width) or become several (NFKC): positions are mapped, one
    # loop step per such character
    out: list[str] = []
    origin: list[int] = []
    done = 0
    for m in re.finditer("[" + "".join(re.escape(c) for c in uneven) + "]", text):
        i = m.start()
        if i > done:
            out.append(text[done:i].translate(table))
            origin += range(done, i)
        n = table[ord(text[i])]
        out.append(n)
        origin += [i] * len(n)
        done = i + 1
    out.append(text[done:].translate(table))
    origin += range(done, len(text))
    return "".join(out), origin


# --- the kinds -----------------------------------------------------------------------------

# Digit runs are matched whole (no digit on either side) so that a mobile number is never
# found inside an ID number or a bank card. _DIGITS finds a whole run of digit groups (split
# by spaces or hyphens); a run is one number if _NUMBER matches it whole (at most 24
# characters after a +86) and it classifies as one, else the stretches of its groups that
# are numbers are masked (_split_run), so that two numbers written one space apart are both
# masked.
_DIGITS = re.compile(r"(?<![0-9A-Za-z])(?:\+?86[- ]?)?\d[\d -]{5,}\d[Xx]?(?![0-9A-Za-z])")
_NUMBER = re.compile(r"(?:\+?86[- ]?)?\d[\d -]{5,22}\d[Xx]?")
_GROUP = re.compile(r"[^ -]+")
_LONGEST = len("+86 ") + 24 + len("X")  # the longest _NUMBER match
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# a date is no number: 2026-11-03, 2026.11.3, 20261103 (YYYY-MM-DD with - . or a space, or
# none); as the whole of a digit run or of a stretch of one
_DATE_SRC = (r"(?:19|20)[0-9]{2}(?:(?P<sep>[-. ])(?:0?[1-9]|1[0-2])(?P=sep)(?:0?[1-9]|[12][0-9]|3[01])"
             r"|(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01]))")
_DATE = re.compile(_DATE_SRC)
# an amount (23456789元, ¥2345678) is no local phone number
_AMOUNT_AFTER = frozenset("元块万亿%")
_AMOUNT_BEFORE = frozenset("¥$")
# the old 15-digit resident ID: area code, YYMMDD, sequence
_ID15 = re.compile(r"[1-9][0-9]{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}")
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
# a building and a room without a unit (7栋301室, 7号楼502, 3座1203室), or a room alone (301室);
# not a building with a count (3栋20户)
_ROOM = re.compile(r"\d+(?:栋|幢|号楼|座)-?(?:\d+(?:楼|层))?(?:\d+室|\d{3,4}(?![\d户人家个位]))"
                   r"|(?<![\d])\d{3,4}室")
_ROAD_NAME = re.compile(r"[\u4e00-\u9fff]{1,8}$")
_ANY_DIGIT = re.compile(r"\d")
_SURNAMES = (
    "欧阳|司马|诸葛|上官|东方|皇甫|令狐|慕容|司徒|公孙|尉迟|夏侯|"
    "[王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘"
    "祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾"
    "尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师"
    "和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝]"
)
_TITLED_NAME = re.compile(rf"(?:{_SURNAMES})(?:先生|女士|小姐|师傅)")
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# 京A12345, 渝B·D12345 (new energy: six after the letter); at least one digit after the letter
_PLATE = re.compile(rf"[{_PROVINCES}][A-Za-z][·•・. -]?(?=[A-Za-z0-9]{{0,5}}[0-9])[A-Za-z0-9]{{5,6}}"
                    r"(?![A-Za-z0-9])")
_QQ = re.compile(r"(?i)(?<![a-z])(?:qq|扣扣)(?:号码|号)?(?:是|为)?[:： ]*(?P<id>[1-9][0-9]{4,11})(?![0-9])")
_WECHAT = re.compile(r"(?i)(?<![a-z])(?:微信|weixin|vx|wx|v信)(?:号码|号)?(?:是|为)?[:： ]*"
                     r"(?P<id>[a-z0-9][-_a-z0-9]{5,19})(?![-_a-z0-9])"
                     r"|(?<![A-Za-z0-9_])(?P<bare>wx(?:id)?_[-_A-Za-z0-9]{4,})")
# a mobile right after letters (tel13907776789); a letter after it is an identifier's
_LETTERED_MOBILE = re.compile(r"(?<=[A-Za-z_])(?:\+?86)?1[3-9][0-9]{9}(?![0-9A-Za-z])")
_DOTTED = re.compile(r"(?<![\d.])\d{2,4}(?:\.\d{3,4}){2,3}(?![\d.])")
_CN_DIGIT = str.maketrans("零〇一二三四五六七八九幺", "001234567891")
_CN_RUN = re.compile(r"(?<![0-9零〇一二三四五六七八九幺])[0-9零〇一二三四五六七八九幺]"
                     r"(?:[ -]?[0-9零〇一二三四五六七八九幺]){6,}(?![0-9零〇一二三四五六七八九幺])")
_CN_NUMERAL = re.compile(r"[零〇一二三四五六七八九幺]")

PLACEHOLDERS = {
    "mobile": "[手机号]",
    "landline": "[电话]",
    "id_number": "[身份证号]",
    "bank_card": "[银行卡号]",
    "email": "[邮箱]",
    "address": "[地址]",
    "name": "[姓名]",
    "plate": "[车牌]",
    "qq": "[QQ号]",
    "wechat": "[微信号]",
}
_REPASS_LIMIT = 20_000
_SENTINEL = "\ue000"  # stands for a masked span in the view: no letter, digit or han


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
        if _DATE.fullmatch(raw.strip()):
            return None  # 2026-11-03, 20261103
        return "landline"  # local number without area code
    if len(digits) == 15 and _ID15.fullmatch(digits):
        return "id_number"
    if 16 <= len(digits) <= 19 and digits.isdigit() and luhn_ok(digits):
        return "bank_card"
    if len(digits) == 18:
        return "id_number"  # check digit off: still an ID-shaped number, mask it anyway
    return None


def _classify_number(raw: str) -> str | None:
    """The kind of ``raw`` (a stretch of a digit run) if it is one number, as _DIGITS would
    have matched it whole."""
    return _classify_digits(raw) if _NUMBER.fullmatch(raw) else None


_Span = tuple[int, int, str]
_Stretch = tuple[int, int, str, int]


def _run_spans(raw: str) -> list[_Span]:
    """The numbers of a digit run (a _DIGITS match), relative to it: the run whole if it is
    one number, else the stretches of whole groups that are numbers (a landline
    ``010-12345678``, a card in groups of four, ``+86 138 1234 5678``), chosen to mask the
    most digits, then to take the fewest ID-shaped numbers with a wrong check digit, then the
    fewest stretches. Masking the result again changes nothing: a stretch left unmasked that
    is a number would have masked more digits."""
    # (a _DIGITS match of up to 24 characters is a _NUMBER match)
    kind = _classify_digits(raw) if len(raw) <= 24 or _NUMBER.fullmatch(raw) else None
    if kind is not None:
        return [(0, len(raw), kind)]
    groups = [(g.start(), g.end()) for g in _GROUP.finditer(raw)]
    n = len(groups)
    if n < 2:
        return []
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
    out: list[_Span] = []
    i = 0
    while i < n:
        choice = best[i][1]
        if choice is None:
            i += 1
            continue
        start, end, kind, i = choice
        out.append((start, end, kind))
    return out


def _address_spans(view: str) -> list[_Span]:
    # a road name never reaches back into the house number before it, and a unit that
    # overlaps a house number (its road name, or its end) is masked together with it
    spans: list[tuple[int, int]] = []
    end = 0
    for m in _HOUSE.finditer(view):
        road = _ROAD_NAME.search(view, end, m.start())
        spans.append((road.start() if road else m.start(), m.end()))
        end = m.end()
    spans += [m.span() for m in _UNIT.finditer(view)]
    spans += [m.span() for m in _ROOM.finditer(view)]
    merged: list[list[int]] = []
    for a, b in sorted(spans):
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b, "address") for a, b in merged]


def _digit_spans(view: str) -> list[_Span]:
    out: list[_Span] = []
    for m in _DIGITS.finditer(view):
        for a, b, kind in _run_spans(m.group(0)):
            a, b = m.start() + a, m.start() + b
            if kind == "landline" and (view[b:b + 1] in _AMOUNT_AFTER or view[a - 1:a] in _AMOUNT_BEFORE):
                continue  # an amount
            out.append((a, b, kind))
    return out


def _cn_spans(view: str) -> list[_Span]:
    """Phone and ID numbers read out in Chinese numerals (一三九…, 幺三九…)."""
    if not _CN_HINT.search(view):
        return []
    out: list[_Span] = []
    for m in _CN_RUN.finditer(view):
        raw = m.group(0)
        if not _CN_NUMERAL.search(raw):
            continue  # ASCII digits only: _digit_spans' case
        digits = re.sub(r"[ -]", "", raw.translate(_CN_DIGIT))
        kind = _classify_digits(digits)
        if kind in ("mobile", "id_number", "bank_card") or (kind == "landline" and digits[0] == "0"):
            out.append((m.start(), m.end(), kind))
    return out


def _dotted_spans(view: str) -> list[_Span]:
    if "." not in view:
        return []
    out: list[_Span] = []
    for m in _DOTTED.finditer(view):
        digits = m.group(0).replace(".", "")
        kind = _classify_digits(digits)
        if kind in ("mobile", "id_number", "bank_card") or (kind == "landline" and digits[0] == "0"):
            out.append((m.start(), m.end(), kind))
    return out


_ID_CUES = ("qq", "扣扣", "微信", "weixin", "vx", "wx", "v信")
_TITLES = ("先生", "女士", "小姐", "师傅")
_CN_HINT = re.compile(r"[零〇一二三四五六七八九幺][ -]?[零〇一二三四五六七八九幺0-9]")
_LETTER = re.compile(r"[A-Za-z_]1")


def _id_spans(view: str) -> list[_Span]:
    low = view.lower()
    if not any(c in low for c in _ID_CUES):
        return []
    out: list[_Span] = []
    for pattern, kind in ((_QQ, "qq"), (_WECHAT, "wechat")):
        for m in pattern.finditer(view):
            g = "id" if m.group("id") is not None else "bare"
            out.append((*m.span(g), kind))
    return out


# in this order; each finder sees the spans found before it as masked (_SENTINEL)
_FINDERS = (
    lambda v: [(*m.span(), "email") for m in _EMAIL.finditer(v)] if "@" in v else [],
    _id_spans,
    lambda v: [(*m.span(), "plate") for m in _PLATE.finditer(v)],
    lambda v: [(*m.span(), "name") for m in _TITLED_NAME.finditer(v)] if any(t in v for t in _TITLES) else [],
    lambda v: _address_spans(v) if ("号" in v or "单元" in v or "栋" in v or "幢" in v or "座" in v
                                    or "室" in v) else [],
    _cn_spans,
    _dotted_spans,
    lambda v: [(*m.span(), "mobile") for m in _LETTERED_MOBILE.finditer(v)] if _LETTER.search(v) else [],
    lambda v: _digit_spans(v) if _ANY_DIGIT.search(v) else [],
)


def pii_spans(text: str) -> list[_Span]:
    """The personal data in ``text``: (start, end, kind), in order, not overlapping."""
    view, origin = normalise(text)
    spans: list[_Span] = []
    for find in _FINDERS:
        found = find(view)
        if not found:
            continue
        spans += found
        chars = list(view)
        for a, b, _ in found:
            chars[a:b] = _SENTINEL * (b - a)
        view = "".join(chars)
    spans.sort()
    if origin is None:
        return spans
    return [(origin[a], origin[b - 1] + 1, kind) for a, b, kind in spans]


def mask(text: str) -> MaskResult:
    """Replace personal data in ``text`` with placeholders; idempotent. Everything else stays
    as written."""
    found: Counter[str] = Counter()
    # a placeholder can cut a run that was no number as a whole into one that is one (a
    # mobile beside a number read out in numerals, an id after 微信 that ran into a phone
    # number): masked again until nothing changes; each pass masks more. (Texts over
    # _REPASS_LIMIT characters, which ingestion quarantines anyway, get one pass.)
    for _ in range(6):
        spans = pii_spans(text)
        if not spans:
            break
        out, done = [], 0
        for a, b, kind in spans:
            if a < done:  # (two spans of one original character)
                continue
            found[kind] += 1
            out += [text[done:a], PLACEHOLDERS[kind]]
            done = b
        out.append(text[done:])
        text = "".join(out)
        if len(text) > _REPASS_LIMIT:
            break
    return MaskResult(text, found)


def mask_text(text: str) -> str:
    return mask(text).text


def mask_value(value: object) -> object:
    """A value as it may be stored: strings masked, lists, tuples and dicts (keys too)
    masked inside, anything else as it is."""
    if isinstance(value, str):
        return mask(value).text if value else value
    if isinstance(value, dict):
        return {mask_value(k): mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(v) for v in value)
    return value


# --- pseudonyms ----------------------------------------------------------------------------

def user_pseudonym(value: str, key: bytes) -> str:
    """A stable pseudonym for a user name or account id, so that distinct residents can be
    counted without storing who they are: HMAC-SHA256 under the install's secret key (an
    unkeyed hash of a phone number used as a user name is reversed by trying all numbers)."""
    if not key:
        raise ValueError("a pseudonym needs a key (settings: privacy.pseudonym_key)")
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


class PseudonymKeyError(ValueError):
    """The pseudonym key cannot be read."""


def load_pseudonym_key(secret: str | None, key_file: Path) -> bytes:
    """The pseudonym key: ``secret`` if given (``MINSHENG_PRIVACY__PSEUDONYM_KEY``), else the
    key file, which is generated (32 random bytes, hex, mode 0600) the first time. The same
    key must stay in use: another key gives every resident another pseudonym."""
    if secret:
        return secret.encode("utf-8")
    key_file = Path(key_file)
    try:
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            if key_file.parent.stat().st_mode & 0o077:
                key_file.parent.chmod(0o700)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(secrets.token_hex(32) + "\n")
        key = key_file.read_text(encoding="utf-8").strip()
    except FileExistsError:
        key = key_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PseudonymKeyError(f"cannot read or create the pseudonym key file {key_file}: "
                                f"{exc.strerror}; set MINSHENG_PRIVACY__PSEUDONYM_KEY or "
                                "privacy.pseudonym_key_file") from None
    if not key:
        raise PseudonymKeyError(f"the pseudonym key file {key_file} is empty: restore it from "
                                "a backup (a new key gives every resident a new pseudonym)")
    return key.encode("utf-8")


def ephemeral_key() -> bytes:
    """A key for one process, for tools and tests that read a file without settings:
    pseudonyms under it match nothing stored."""
    return _EPHEMERAL


_EPHEMERAL = secrets.token_bytes(32)


# Every text that mask() can change matches this (RE2 syntax, evaluated by Arrow or DuckDB
# in C++): a digit run long enough to be a number of interest, an e-mail, an address fragment,
# a name with a title, any cue of the kinds the validating SQL leaves to Python (:data:`HARD`),
# or a digit that is not ASCII (``\\d`` above matches any Unicode digit, such as full-width
# ones, which the ASCII alternatives would miss).
_NL = r"\t\n\x0b\x0c\r\x1c-\x1f\x{85}"
# what the validating SQL does not mask itself: the text goes to mask() whole. characters
# NFKC or the space mapping change where they matter (full-width letters, @, dashes, wide and
# zero-width spaces, circled or super-/subscript digits, CJK compatibility forms), a line break
# inside a number, dotted numbers, dates and amounts (which look like local numbers), letters right before a mobile, Chinese numerals, and the cues of names, plates, QQ and
# WeChat ids, and rooms
HARD = "|".join([
    r"[\x{ff20}-\x{ff5a}\x{ff0d}\x{ff0e}\x{fe63}\x{fe58}\x{2010}-\x{2015}\x{2212}]",
    r"[\x{a0}\x{ad}\x{1680}\x{2000}-\x{200d}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}]",
    r"[\x{b2}\x{b3}\x{b9}\x{bc}-\x{be}\x{2070}-\x{209f}\x{2150}-\x{218f}\x{2460}-\x{24ff}\x{2776}-\x{2793}"
    r"\x{3220}-\x{325f}\x{3280}-\x{32bf}\x{f900}-\x{faff}\x{2f00}-\x{2fdf}\x{2e80}-\x{2eff}\x{1d400}-\x{1d7ff}]",
    rf"[0-9][ {_NL}-]*[{_NL}][ {_NL}-]*[0-9]",
    r"[0-9]{2,4}\.[0-9]{3,4}\.[0-9]",
    r"(?:^|[^0-9])(?:19|20)[0-9]{2}(?:(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
    + "".join(rf"|{s}(?:0?[1-9]|1[0-2]){s}(?:0?[1-9]|[12][0-9]|3[01])" for s in ("-", r"\.", " "))
    + ")(?:[^0-9]|$)",
    r"[0-9][0-9 -]{5,}[0-9][元块万亿%]|[¥$][0-9 -]{6,}",
    r"[A-Za-z_]1[3-9][0-9]{9}",
    r"[零〇一二三四五六七八九幺][零〇一二三四五六七八九幺0-9 -]{5,}[零〇一二三四五六七八九幺0-9]",
    rf"(?:{_SURNAMES})(?:先生|女士|小姐|师傅)",
    rf"[{_PROVINCES}][A-Za-z]",
    r"(?i)(?:qq|扣扣|微信|weixin|vx|wx|v信)",
    r"[0-9](?:栋|幢|号楼|座)-?[0-9]|[0-9]室",
])
PREFILTER = (r"[0-9][0-9 -]{5,}[0-9]|@|(?:路|街|巷|大道|大街)[0-9]+号|[0-9]单元|[^\P{Nd}0-9]|"
             + HARD)

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
    "pii_hard_cue": HARD,
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
