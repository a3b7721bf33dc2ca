"""Channel adapters: read one export file and yield normalised records or rejections.

Each adapter is a pure generator over one file. It never raises for a bad row: the row comes
out as a :class:`Rejected` with its position and a reason code, and the good rows go on.
:class:`UnreadableInput` is raised only when the file as a whole cannot be read.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from minsheng.domain import ChannelMapping, District, iso_week
from minsheng.pii import mask_text

CHANNELS = ("survey", "hotline", "platform", "meeting")
TZ = ZoneInfo("Asia/Shanghai")


class UnreadableInput(Exception):
    """The input as a whole cannot be read (missing, undecodable, not the expected format)."""


@dataclass(frozen=True)
class FeedbackRecord:
    """One resident utterance, masked, with its provenance. ``extra`` holds channel columns
    for the raw table; ``contacts`` holds personal fields for the ``pii`` schema only."""

    channel: str
    key: str
    received_at: datetime  # naive, Asia/Shanghai wall time
    community: str
    text: str
    source_file: str
    source_pos: str
    extra: dict[str, object] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)
    answers: tuple[tuple[str, str, str | None, int | None], ...] = ()

    @property
    def feedback_id(self) -> str:
        return f"{self.channel}:{self.key}"

    @property
    def week(self) -> str:
        return iso_week(self.received_at)

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            [self.received_at.isoformat(), self.community, self.text, self.extra, self.answers],
            ensure_ascii=False, sort_keys=True, default=str,
        )
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Rejected:
    channel: str
    source_file: str
    source_pos: str
    reason: str
    message: str
    raw: str  # masked before it is stored

    @property
    def quarantine_id(self) -> str:
        key = "|".join((self.channel, self.source_file, self.source_pos, self.reason))
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


Item = FeedbackRecord | Rejected


# --- decoding ---------------------------------------------------------------------------

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_bytes(data: bytes, preferred: str | None = None) -> tuple[str, str]:
    """Decode an export, trusting a BOM first, then strict UTF-8, then the channel's
    declared encoding, then GB18030. Returns (text, encoding)."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data.decode(enc), enc
    candidates = ["utf-8"] + ([preferred] if preferred else []) + ["gb18030"]
    for enc in dict.fromkeys(candidates):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise UnreadableInput("not decodable as UTF-8, UTF-16 or GB18030")


def read_text(path: Path, preferred: str | None = None) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror}") from exc
    return decode_bytes(data, preferred)[0]


# --- times ------------------------------------------------------------------------------

_CN_TIME = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2})[时:](\d{1,2})分?(?:(\d{1,2})秒?)?)?$"
)


def parse_time(value: str, formats: list[str]) -> datetime:
    """Parse a time into naive Asia/Shanghai wall time. Raises ValueError."""
    value = value.strip()
    if not value:
        raise ValueError("empty time")
    for fmt in formats:
        try:
            dt = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return _local(dt)
    m = _CN_TIME.match(value)
    if m:
        y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
        return datetime(y, mo, d, h, mi, s)
    try:
        return _local(datetime.fromisoformat(value))
    except ValueError:
        pass
    if re.fullmatch(r"\d{5}(\.\d+)?", value):  # Excel serial date (1900 system)
        # Excel stores times as day fractions: round to the second it displayed
        return datetime(1899, 12, 30) + timedelta(seconds=round(float(value) * 86400))
    raise ValueError(f"unrecognised time {value!r}")


def _local(dt: datetime) -> datetime:
    if dt.tzinfo is not None:
        dt = dt.astimezone(TZ).replace(tzinfo=None)
    return dt


# --- adapters ---------------------------------------------------------------------------


class _Context:
    def __init__(self, channel: str, path: Path, mapping: ChannelMapping, district: District):
        self.channel = channel
        self.path = path
        self.file = path.name
        self.mapping = mapping
        self.communities = district.community_by_name()

    def reject(self, pos: str, reason: str, message: str, raw: object) -> Rejected:
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
        return Rejected(self.channel, self.file, pos, reason, message, mask_text(text)[:2000])

    def community(self, value: object) -> str | None:
        return self.communities.get(str(value or "").strip())


def _csv_rows(text: str, required: list[str], path: Path) -> tuple[list[str], Iterator[list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration as exc:
        raise UnreadableInput(f"{path.name}: empty file") from exc
    missing = [c for c in required if c not in header]
    if missing:
        raise UnreadableInput(f"{path.name}: missing columns {', '.join(missing)}")
    return header, reader


def read_hotline(path: Path, mapping: ChannelMapping, district: District) -> Iterator[Item]:
    """Hotline work orders: one CSV row per order."""
    ctx = _Context("hotline", path, mapping, district)
    f = mapping.fields
    header, rows = _csv_rows(read_text(path, mapping.encoding), list(f.values()), path)
    idx = {name: header.index(col) for name, col in f.items()}
    for line_no, row in enumerate(rows, start=2):
        pos = f"line {line_no}"
        if len(row) != len(header):
            yield ctx.reject(pos, "ragged_row", f"{len(row)} fields, header has {len(header)}", ",".join(row))
            continue
        get = {name: row[i].strip() for name, i in idx.items()}
        if not get["order_id"]:
            yield ctx.reject(pos, "missing_key", "empty order id", get)
            continue
        community = ctx.community(get["community"])
        if community is None:
            yield ctx.reject(pos, "unknown_community", f"unknown community {get['community']!r}", get)
            continue
        try:
            received = parse_time(get["received_at"], mapping.time_formats)
        except ValueError as exc:
            yield ctx.reject(pos, "bad_time", str(exc), get)
            continue
        text = mask_text(get["text"])
        if not text:
            yield ctx.reject(pos, "empty_text", "empty transcript", get)
            continue
        contacts = {"caller_phone": get["caller_phone"]} if get.get("caller_phone") else {}
        yield FeedbackRecord("hotline", get["order_id"], received, community, text, ctx.file, pos,
                             contacts=contacts)


def read_platform(path: Path, mapping: ChannelMapping, district: District) -> Iterator[Item]:
    """Online-platform messages: JSON Lines, one message per line."""
    ctx = _Context("platform", path, mapping, district)
    f = mapping.fields
    for line_no, line in enumerate(read_text(path, mapping.encoding).splitlines(), start=1):
        if not line.strip():
            continue
        pos = f"line {line_no}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ctx.reject(pos, "bad_json", exc.msg, line)
            continue
        if not isinstance(obj, dict):
            yield ctx.reject(pos, "bad_json", "not an object", line)
            continue
        get = {name: obj.get(col) for name, col in f.items()}
        if not get.get("message_id"):
            yield ctx.reject(pos, "missing_key", "empty message id", obj)
            continue
        community = ctx.community(get.get("community"))
        if community is None:
            yield ctx.reject(pos, "unknown_community", f"unknown community {get.get('community')!r}", obj)
            continue
        try:
            received = parse_time(str(get.get("received_at") or ""), mapping.time_formats)
        except ValueError as exc:
            yield ctx.reject(pos, "bad_time", str(exc), obj)
            continue
        text = mask_text(str(get.get("text") or "").strip())
        if not text:
            yield ctx.reject(pos, "empty_text", "empty message", obj)
            continue
        user = str(get.get("user") or "")
        extra = {
            "title": mask_text(str(get.get("title") or "")),
            "user_hash": hashlib.sha256(user.encode()).hexdigest()[:16] if user else None,
        }
        yield FeedbackRecord("platform", str(get["message_id"]), received, community, text,
                             ctx.file, pos, extra=extra)


_LIST_ITEM = re.compile(r"^\s*(?:\d+[.、)）]|[-*•])\s*(.+?)\s*$", re.M)
_HEADING = re.compile(r"^#{1,6}\s*(.+?)\s*$", re.M)


def read_meeting(path: Path, mapping: ChannelMapping, district: District) -> Iterator[Item]:
    """Mutual-aid meeting notes: a header block, then the demands as a list under a
    heading containing 诉求 (or 需求). Each list item is one record keyed by the file hash
    and its character span."""
    ctx = _Context("meeting", path, mapping, district)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror}") from exc
    text = decode_bytes(raw, mapping.encoding)[0]
    sha = hashlib.sha256(raw).hexdigest()
    labels = mapping.header_labels
    header = {}
    for name, label in labels.items():
        m = re.search(rf"^{re.escape(label)}\s*[:：]\s*(.+?)\s*$", text, re.M)
        header[name] = m.group(1) if m else ""
    community = ctx.community(header.get("community"))
    if community is None:
        yield ctx.reject("header", "unknown_community", f"unknown community {header.get('community')!r}", text[:500])
        return
    try:
        day = parse_time(header.get("date", ""), mapping.time_formats)
    except ValueError as exc:
        yield ctx.reject("header", "bad_time", str(exc), text[:500])
        return
    section = _demand_section(text)
    if section is None:
        yield ctx.reject("body", "no_demands", "no 诉求/需求 section with a list", text[:500])
        return
    start, end = section
    n = 0
    for m in _LIST_ITEM.finditer(text, start, end):
        item = m.group(1)
        n += 1
        span = (m.start(1), m.end(1))
        pos = f"chars {span[0]}-{span[1]}"
        masked = mask_text(item)
        if not masked:
            yield ctx.reject(pos, "empty_text", "empty item", item)
            continue
        extra = {
            "file_sha256": sha, "meeting_date": day.date(), "group_name": header.get("group") or None,
            "item_no": n, "span_start": span[0], "span_end": span[1],
        }
        # Meetings are held in the afternoon; noon keeps event time inside the meeting day.
        yield FeedbackRecord("meeting", f"{sha[:16]}:{span[0]}-{span[1]}", day.replace(hour=12),
                             community, masked, ctx.file, pos, extra=extra)


def _demand_section(text: str) -> tuple[int, int] | None:
    headings = list(_HEADING.finditer(text))
    for i, h in enumerate(headings):
        if "诉求" in h.group(1) or "需求" in h.group(1):
            end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
            return h.end(), end
    return None


_POLARITY = {"赞成": 1, "满意": 1, "一般": 0, "不赞成": -1, "不满意": -1}


def read_survey(path: Path, mapping: ChannelMapping, district: District) -> Iterator[Item]:
    """Questionnaire export: one row per returned questionnaire. Invalid questionnaires are
    rejected; valid ones carry their Likert answers and the open answer as text (which may be
    empty: such a record feeds the satisfaction table but is no demand)."""
    ctx = _Context("survey", path, mapping, district)
    f = mapping.fields
    header, rows = _csv_rows(read_text(path, mapping.encoding), list(f.values()), path)
    idx = {name: header.index(col) for name, col in f.items()}
    items = district.survey.items
    item_cols: list[int] = []
    for n, item in enumerate(items, start=mapping.item_offset):
        prefix = (mapping.item_prefix or "{n}、").format(n=n)
        col = next((i for i, h in enumerate(header) if h.startswith(prefix)), None)
        if col is None:
            raise UnreadableInput(f"{path.name}: no column for survey item {item.code} ({prefix}…)")
        item_cols.append(col)
    max_blank = district.survey.max_blank_items
    for line_no, row in enumerate(rows, start=2):
        pos = f"line {line_no}"
        if len(row) != len(header):
            yield ctx.reject(pos, "ragged_row", f"{len(row)} fields, header has {len(header)}", ",".join(row))
            continue
        get = {name: row[i].strip() for name, i in idx.items()}
        if not get["response_id"]:
            yield ctx.reject(pos, "missing_key", "empty response id", get)
            continue
        community = ctx.community(get["community"])
        if community is None:
            yield ctx.reject(pos, "invalid_questionnaire", "community missing or unknown", get)
            continue
        if not get["respondent_type"]:
            yield ctx.reject(pos, "invalid_questionnaire", "respondent type missing", get)
            continue
        answers = []
        bad = None
        for item, col in zip(items, item_cols, strict=True):
            value = row[col].strip() or None
            if value is not None and value not in item.options:
                bad = f"{item.code}: {value!r} is not one of {'/'.join(item.options)}"
                break
            answers.append((item.code, item.name, value, _POLARITY.get(value) if value else None))
        if bad:
            yield ctx.reject(pos, "bad_answer", bad, get)
            continue
        blanks = sum(a[2] is None for a in answers)
        if blanks > max_blank:
            yield ctx.reject(pos, "invalid_questionnaire", f"{blanks} of {len(items)} items blank", get)
            continue
        try:
            received = parse_time(get["submitted_at"], mapping.time_formats)
        except ValueError as exc:
            yield ctx.reject(pos, "bad_time", str(exc), get)
            continue
        open_answer = mask_text(get.get("open_answer", ""))
        if open_answer in {"无", "没有", "暂无", "无意见", "/", "-"}:
            open_answer = ""
        extra = {"respondent_type": get["respondent_type"]}
        yield FeedbackRecord("survey", get["response_id"], received, community, open_answer,
                             ctx.file, pos, extra=extra, answers=tuple(answers))


READERS = {
    "survey": read_survey,
    "hotline": read_hotline,
    "platform": read_platform,
    "meeting": read_meeting,
}

PATTERNS = {
    "survey": ("survey/*.csv",),
    "hotline": ("hotline/*.csv",),
    "platform": ("platform/*.jsonl",),
    "meeting": ("meetings/*.md", "meetings/*.txt"),
}


def discover(inputs: Path, channel: str) -> list[Path]:
    """The files of one channel under an inputs folder laid out as ``minsheng generate`` does."""
    return sorted(p for pattern in PATTERNS[channel] for p in inputs.glob(pattern))
