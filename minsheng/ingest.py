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
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from minsheng.clock import Clock, SystemClock
from minsheng.domain import ChannelMapping, District, iso_week
from minsheng.pii import mask_text
from minsheng.textcheck import looks_mojibake

CHANNELS = ("survey", "hotline", "platform", "meeting")
TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class IngestLimits:
    """What counts as plausible: longer texts and times outside the range are quarantined."""

    max_chars: int = 5000
    earliest: date = date(2000, 1, 1)
    future_tolerance: timedelta = timedelta(days=1)


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
    def extra_json(self) -> str:
        """Channel columns and answers in canonical JSON; empty when there are none."""
        if not self.extra and not self.answers:
            return ""
        return json.dumps([self.extra, self.answers], ensure_ascii=False, sort_keys=True, default=str)

    @property
    def content_hash(self) -> str:
        """md5 of time, community, text and channel columns: the same formula as the
        warehouse loader's SQL (warehouse/store.py), which hashes bulk loads."""
        payload = "\x1f".join(
            (self.received_at.strftime("%Y-%m-%dT%H:%M:%S"), self.community, self.text, self.extra_json)
        )
        return hashlib.md5(payload.encode("utf-8")).hexdigest()


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
    def __init__(self, channel: str, path: Path, mapping: ChannelMapping, district: District,
                 clock: Clock | None = None, limits: IngestLimits | None = None):
        self.channel = channel
        self.path = path
        self.file = path.name
        self.mapping = mapping
        self.communities = district.community_by_name()
        self.limits = limits or IngestLimits()
        self.latest = (clock or SystemClock()).now() + self.limits.future_tolerance

    def reject(self, pos: str, reason: str, message: str, raw: object) -> Rejected:
        text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
        return Rejected(self.channel, self.file, pos, reason, mask_text(message), mask_text(text)[:65536])

    def community(self, value: object) -> str | None:
        return self.communities.get(str(value or "").strip())

    def implausible(self, pos: str, received: datetime, text: str, raw: object) -> Rejected | None:
        """The checks every channel shares after parsing: time range, length, mojibake."""
        if received.date() < self.limits.earliest or received > self.latest:
            return self.reject(pos, "implausible_time", f"time {received} is outside the plausible range", raw)
        if len(text) > self.limits.max_chars:
            return self.reject(pos, "text_too_long",
                               f"text of {len(text)} characters (limit {self.limits.max_chars})", raw)
        if text and looks_mojibake(text):
            return self.reject(pos, "mojibake", "text looks mis-decoded", raw)
        return None


def read_hotline(path: Path, mapping: ChannelMapping, district: District, *,
                 clock: Clock | None = None, limits: IngestLimits | None = None) -> Iterator[Item]:
    """Hotline work orders, CSV or .xlsx: one row per order. Validation runs over the whole
    file at once (``minsheng.tabular``); this yields its result row by row."""
    from minsheng.tabular import TabularError, validate_hotline_file

    try:
        v = validate_hotline_file(path, mapping, district, clock=clock, limits=limits or IngestLimits())
    except TabularError as exc:
        raise UnreadableInput(str(exc)) from exc
    for row in v.good.to_pylist():
        contacts = {"caller_phone": row["caller_phone"]} if row["caller_phone"] else {}
        yield FeedbackRecord("hotline", row["order_id"], row["received_at"], row["community"],
                             row["text"], path.name, f"row {row['_row']}", contacts=contacts)
    for row in v.rejected.to_pylist():
        pos = f"row {row['_row']}" if row["_row"] is not None else "row ?"
        yield Rejected("hotline", path.name, pos, row["reason"], row["message"], row["payload"])


def read_platform(path: Path, mapping: ChannelMapping, district: District, *,
                  clock: Clock | None = None, limits: IngestLimits | None = None) -> Iterator[Item]:
    """Online-platform messages: JSON Lines, or one JSON array of messages."""
    ctx = _Context("platform", path, mapping, district, clock, limits)
    f = mapping.fields
    text = read_text(path, mapping.encoding).lstrip("\ufeff")
    if text.lstrip().startswith("["):
        try:
            entries = [(f"item {n}", obj, None) for n, obj in enumerate(json.loads(text), start=1)]
        except json.JSONDecodeError as exc:
            raise UnreadableInput(f"{path.name}: not a JSON array: {exc.msg} at line {exc.lineno}") from exc
    else:
        entries = []
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                entries.append((f"line {line_no}", json.loads(line), None))
            except json.JSONDecodeError as exc:
                entries.append((f"line {line_no}", line, exc.msg))
    for pos, obj, error in entries:
        if error is not None or not isinstance(obj, dict):
            yield ctx.reject(pos, "bad_json", error or "not an object", obj)
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
        body = mask_text(str(get.get("text") or "").strip())
        if not body:
            yield ctx.reject(pos, "empty_text", "empty message", obj)
            continue
        if bad := ctx.implausible(pos, received, body, obj):
            yield bad
            continue
        user = str(get.get("user") or "")
        extra = {
            "title": mask_text(str(get.get("title") or "")),
            "user_hash": hashlib.sha256(user.encode()).hexdigest()[:16] if user else None,
        }
        yield FeedbackRecord("platform", str(get["message_id"]), received, community, body,
                             ctx.file, pos, extra=extra)


def meeting_text(path: Path, encoding: str | None = None) -> str:
    """The text of a meeting note: Markdown or plain text as is; a .docx rendered as
    Markdown (headings as ``##``, list paragraphs as ``1.``) so that one parser serves all."""
    if path.suffix.lower() != ".docx":
        return read_text(path, encoding).lstrip("\ufeff")
    import docx  # python-docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # a broken zip or not a Word file
        raise UnreadableInput(f"{path.name}: cannot open as .docx: {exc}") from exc
    lines = []
    for para in document.paragraphs:
        body = para.text.strip()
        if not body:
            continue
        style = (para.style.name if para.style is not None else "").lower()
        numbered = para._p.pPr is not None and para._p.pPr.numPr is not None
        if style.startswith(("heading", "title")):
            lines += ["", f"## {body}", ""]
        elif numbered or "list" in style:
            lines.append(f"1. {body}")
        else:
            lines += [body, ""]
    return "\n".join(lines) + "\n"


def read_meeting(path: Path, mapping: ChannelMapping, district: District, *,
                 clock: Clock | None = None, limits: IngestLimits | None = None) -> Iterator[Item]:
    """Mutual-aid meeting notes (.md, .txt, .docx): a header block, then the demands as a
    list after a heading (or a short line) that names 诉求 or 需求. Each list item is one
    record, keyed by the file's hash and the item's character span in the note's text."""
    ctx = _Context("meeting", path, mapping, district, clock, limits)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror}") from exc
    text = meeting_text(path, mapping.encoding)
    sha = hashlib.sha256(raw).hexdigest()
    header = {}
    for name, label in mapping.header_labels.items():
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
    items = demand_list_items(text)
    if not items:
        yield ctx.reject("body", "no_demands", "no list after a 诉求/需求 heading", text[:500])
        return
    # Meetings are held in the afternoon; noon keeps event time inside the meeting day.
    received = day.replace(hour=12)
    for n, (start, end) in enumerate(items, start=1):
        pos = f"chars {start}-{end}"
        item = re.sub(r"\s*\n\s*", "", text[start:end])
        masked = mask_text(item)
        if not masked:
            yield ctx.reject(pos, "empty_text", "empty item", item)
            continue
        if bad := ctx.implausible(pos, received, masked, item):
            yield bad
            continue
        extra = {
            "file_sha256": sha, "meeting_date": day.date(), "group_name": header.get("group") or None,
            "item_no": n, "span_start": start, "span_end": end,
        }
        yield FeedbackRecord("meeting", f"{sha[:16]}:{start}-{end}", received, community, masked,
                             ctx.file, pos, extra=extra)


def demand_list_items(text: str) -> list[tuple[int, int]]:
    """Character spans of the list items under the first block that names 诉求/需求,
    parsed with markdown-it (CommonMark)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    spans: list[tuple[int, int]] = []
    in_section = False
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type in ("heading_open", "paragraph_open") and depth == 0:
            inline = tokens[i + 1].content if i + 1 < len(tokens) else ""
            names_demands = ("诉求" in inline or "需求" in inline) and len(inline) <= 20
            if tok.type == "heading_open" or names_demands:
                if spans:
                    break
                in_section = names_demands
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif tok.type == "inline" and in_section and depth == 1 and tok.map:
            first, last = tok.map
            first_line = tok.content.split("\n", 1)[0]
            start = text.find(first_line, starts[first])
            end = starts[last] if last < len(starts) else len(text)
            while end > start and text[end - 1].isspace():
                end -= 1
            spans.append((start, end))
    return spans


_POLARITY = {"赞成": 1, "满意": 1, "一般": 0, "不赞成": -1, "不满意": -1}


def read_survey(path: Path, mapping: ChannelMapping, district: District, *,
                clock: Clock | None = None, limits: IngestLimits | None = None) -> Iterator[Item]:
    """Questionnaire export: one row per returned questionnaire. Invalid questionnaires are
    rejected; valid ones carry their Likert answers and the open answer as text (which may be
    empty: such a record feeds the satisfaction table but is no demand)."""
    from minsheng.tabular import TabularError, read_tabular

    ctx = _Context("survey", path, mapping, district, clock, limits)
    f = mapping.fields
    try:
        inp = read_tabular(path, mapping.encoding)
    except TabularError as exc:
        raise UnreadableInput(str(exc)) from exc
    header = [c for c in inp.table.column_names if c != "_row"]
    missing = [c for c in f.values() if c not in header]
    if missing:
        raise UnreadableInput(f"{path.name}: missing columns {', '.join(missing)}")
    for n, raw in inp.ragged:
        yield ctx.reject(f"row {n}", "ragged_row", "fields do not match the header", raw)
    numbers = inp.table["_row"].to_pylist()
    rows = zip(*(inp.table[c].to_pylist() for c in header), strict=True)
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
    for row_no, row in zip(numbers, rows, strict=True):
        pos = f"row {row_no}"
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
        if bad := ctx.implausible(pos, received, open_answer, get):
            yield bad
            continue
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
    "survey": ("survey/*.csv", "survey/*.xlsx"),
    "hotline": ("hotline/*.csv", "hotline/*.xlsx"),
    "platform": ("platform/*.jsonl", "platform/*.json"),
    "meeting": ("meetings/*.md", "meetings/*.txt", "meetings/*.docx"),
}


def discover(inputs: Path, channel: str) -> list[Path]:
    """The files of one channel under an inputs folder laid out as ``minsheng generate`` does."""
    return sorted(p for pattern in PATTERNS[channel] for p in inputs.glob(pattern))
