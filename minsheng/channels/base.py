"""What every channel shares: the :class:`Channel` spec, the records and rejections a reader
yields, the Arrow batch one input file becomes, and the checks every reader makes.

A reader is a pure function of one file: it never raises for a bad row (the row comes out as
a :class:`Rejected` with its position and a reason code, and the good rows go on);
:class:`UnreadableInput` is raised only when the file as a whole cannot be read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from minsheng.clock import Clock, SystemClock
from minsheng.domain import ChannelMapping, District, iso_week
from minsheng.pii import ephemeral_key, mask_text, mask_value, user_pseudonym
from minsheng.textcheck import looks_mojibake


class UnreadableInput(Exception):
    """The input as a whole cannot be read (missing, undecodable, not the expected format)."""


@dataclass(frozen=True)
class IngestLimits:
    """What counts as plausible: longer texts and times outside the range are quarantined."""

    max_chars: int = 5000
    earliest: date = date(2000, 1, 1)
    future_tolerance: timedelta = timedelta(days=1)


@dataclass(frozen=True)
class FeedbackRecord:
    """One resident utterance, masked, with its provenance. ``extra`` holds the channel's own
    columns for its raw table; ``contacts`` holds personal fields for the ``pii`` store only."""

    channel: str
    key: str
    received_at: datetime  # naive, the district's wall time
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
        return content_hash(self.received_at, self.community, self.text, self.extra_json)


def content_hash(received_at: datetime, community: str, text: str, extra_json: str) -> str:
    """md5 of time, community, text and channel columns: the formula of the warehouse loader's
    SQL (``warehouse/loader.py``), which hashes bulk loads."""
    payload = "\x1f".join((received_at.strftime("%Y-%m-%dT%H:%M:%S"), community, text, extra_json))
    return hashlib.md5(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Rejected:
    channel: str
    source_file: str
    source_pos: str
    reason: str
    message: str
    raw: str  # masked before it is stored


Item = FeedbackRecord | Rejected

REJECTED_SCHEMA = pa.schema([("source_pos", pa.string()), ("reason", pa.string()),
                             ("message", pa.string()), ("payload", pa.string())])
#: Columns every channel's records carry in a batch (its own columns follow).
COMMON_SCHEMA = pa.schema([("key", pa.string()), ("received_at", pa.timestamp("us")),
                           ("community", pa.string()), ("text", pa.string()),
                           ("extra_json", pa.string()), ("source_pos", pa.string()),
                           ("_ord", pa.int64())])


@dataclass
class ChannelBatch:
    """One input file's output, as Arrow: ``records`` has key, received_at, community, text,
    extra_json, source_pos, _ord (input order) and the channel's raw columns; ``contacts``
    has key, field, value, _ord; ``answers`` (survey) has key, item_code, item_name, answer,
    polarity, _ord; ``rejected`` has source_pos, reason, message, payload."""

    channel: str
    source_file: str
    records: pa.Table
    rejected: pa.Table
    contacts: pa.Table | None = None
    answers: pa.Table | None = None

    def items(self) -> list[Item]:
        """The batch as records and rejections again, records first (as a reader yields them,
        for tools and tests that look at one record at a time)."""
        common = set(COMMON_SCHEMA.names)
        contacts: dict[str, dict[str, str]] = {}
        if self.contacts is not None:
            for c in self.contacts.to_pylist():
                if c["value"]:
                    contacts.setdefault(c["key"], {})[c["field"]] = c["value"]
        answers: dict[str, list[tuple[str, str, str | None, int | None]]] = {}
        if self.answers is not None:
            for a in self.answers.to_pylist():
                answers.setdefault(a["key"], []).append(
                    (a["item_code"], a["item_name"], a["answer"], a["polarity"]))
        out: list[Item] = [
            FeedbackRecord(self.channel, r["key"], r["received_at"], r["community"], r["text"],
                           self.source_file, r["source_pos"],
                           extra={k: v for k, v in r.items() if k not in common},
                           contacts=contacts.get(r["key"], {}),
                           answers=tuple(answers.get(r["key"], ())))
            for r in self.records.to_pylist()
        ]
        out += [Rejected(self.channel, self.source_file, q["source_pos"], q["reason"], q["message"],
                         q["payload"]) for q in self.rejected.to_pylist()]
        return out

    def feedback_rows(self) -> list[dict[str, object]]:
        """The records as the text stage's input rows (``feedback`` view columns), content
        hash included; rows without text (a survey without an open answer) are no feedback."""
        out = []
        for r in self.records.to_pylist():
            if not r["text"]:
                continue
            out.append({
                "feedback_id": f"{self.channel}:{r['key']}", "channel": self.channel,
                "received_at": r["received_at"], "week": iso_week(r["received_at"]),
                "community": r["community"], "text": r["text"],
                "content_hash": content_hash(r["received_at"], r["community"], r["text"], r["extra_json"]),
                "source_file": self.source_file, "source_pos": r["source_pos"],
            })
        return out


Reader = Callable[[Path, "ReadContext"], ChannelBatch]


@dataclass(frozen=True)
class Channel:
    """Everything the product knows about one channel, in one place.

    ``patterns`` find its files under an inputs folder (as ``minsheng generate`` lays them
    out); ``read`` turns one file into a :class:`ChannelBatch`; the records land in
    ``raw_table`` (created by the channel's migration) keyed by ``key_column``, with the
    common columns, ``text_column`` for the text and ``columns`` for its own; ``contacts``
    name the personal fields that go to the ``pii`` store only; ``free_text`` names the own
    columns a resident writes freely (a meeting's group line, a survey answer, a title),
    masked as the text is, here, for every reader. A row whose text is empty is
    still stored when ``text_optional`` (a survey without an open answer feeds the
    satisfaction table) but is no feedback.
    """

    name: str
    patterns: tuple[str, ...]
    read: Reader
    raw_table: str
    key_column: str
    columns: tuple[tuple[str, pa.DataType], ...] = ()
    text_column: str = "text"
    text_optional: bool = False
    contacts: tuple[str, ...] = ()
    #: own columns that can carry free text (masked in :meth:`batch` as the text is)
    free_text: tuple[str, ...] = ()
    #: the raw column that tells one resident from another (a pseudonym), if the channel has one
    resident_column: str | None = None
    #: the raw column of a message's likes (点赞数), if the channel has one
    likes_column: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    def records_schema(self) -> pa.Schema:
        return pa.schema(list(COMMON_SCHEMA) + [pa.field(n, t) for n, t in self.columns])

    def batch(self, source_file: str, items: Iterable[Item]) -> ChannelBatch:
        """Records and rejections from a row-wise reader, as a batch."""
        records: list[FeedbackRecord] = []
        rejected: list[Rejected] = []
        for item in items:
            if isinstance(item, Rejected):
                rejected.append(item)
                continue
            if self.free_text and any(item.extra.get(c) for c in self.free_text):
                item = dataclasses.replace(item, extra={
                    k: mask_value(v) if k in self.free_text else v for k, v in item.extra.items()})
            records.append(item)
        rows = []
        for n, r in enumerate(records):
            row = {"key": r.key, "received_at": r.received_at, "community": r.community,
                   "text": r.text, "extra_json": r.extra_json, "source_pos": r.source_pos, "_ord": n}
            row.update({c: r.extra.get(c) for c in self.column_names})
            rows.append(row)
        # contacts and answers carry their record's input order: where a key repeats, the
        # loader keeps the last record's, as it keeps the last record
        contacts = [{"key": r.key, "field": k, "value": v, "_ord": n}
                    for n, r in enumerate(records) for k, v in r.contacts.items() if v]
        answers = [{"key": r.key, "item_code": c, "item_name": nm, "answer": a, "polarity": p, "_ord": n}
                   for n, r in enumerate(records) for c, nm, a, p in r.answers]
        return ChannelBatch(
            self.name, source_file, pa.Table.from_pylist(rows, schema=self.records_schema()),
            pa.Table.from_pylist([{"source_pos": q.source_pos, "reason": q.reason,
                                   "message": q.message, "payload": q.raw} for q in rejected],
                                 schema=REJECTED_SCHEMA),
            pa.Table.from_pylist(contacts) if contacts else None,
            pa.Table.from_pylist(answers) if answers else None,
        )


class ReadContext:
    """What a reader needs beyond the file: the channel's field mapping, the district's
    communities, the clock and the plausibility limits; and the checks every channel shares."""

    def __init__(self, channel: str, path: Path, mapping: ChannelMapping, district: District,
                 clock: Clock | None = None, limits: IngestLimits | None = None,
                 pseudonym_key: bytes | None = None):
        self.channel = channel
        self.path = path
        self.file = path.name
        self.mapping = mapping
        self.district = district
        self.communities = district.placement()
        self.clock = clock or SystemClock()
        self.limits = limits or IngestLimits()
        self.latest = self.clock.now() + self.limits.future_tolerance
        # (without settings, e.g. a test reading one file: a key of this process only)
        self.pseudonym_key = pseudonym_key or ephemeral_key()

    def pseudonym(self, value: str) -> str:
        """A resident's name or account id as a keyed pseudonym (``minsheng.pii.user_pseudonym``)."""
        return user_pseudonym(value, self.pseudonym_key)

    def reject(self, pos: str, reason: str, message: str, raw: object) -> Rejected:
        # a structure is masked value by value (keys too) before it is written as JSON: JSON
        # would write a line break inside a number as \\n, which no longer reads as a space
        text = mask_text(raw) if isinstance(raw, str) else json.dumps(
            mask_value(raw), ensure_ascii=False, default=lambda v: mask_text(str(v)))
        return Rejected(self.channel, self.file, pos, reason, mask_text(message), text[:65536])

    def community(self, value: object) -> str | None:
        """The code a community value names; ``unknown`` when it is blank, says "not known"
        or the mapping has no community field (the text stage places such a record); None
        when it names no community of the district (``unknown_community``)."""
        text = str(value if value is not None else "").strip()
        return self.communities.get(text) or self.communities.get(text.lower())

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
