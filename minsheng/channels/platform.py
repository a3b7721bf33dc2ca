"""The online platform 云街道 (cloud sub-district): messages residents post, as JSON Lines or
one JSON array. The user name becomes a keyed pseudonym; the title (masked) is kept beside the body."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from minsheng.channels.base import Channel, ChannelBatch, FeedbackRecord, Item, ReadContext
from minsheng.channels.jsonfile import json_entries
from minsheng.channels.times import parse_time
from minsheng.pii import mask_text


def records(path: Path, ctx: ReadContext) -> Iterator[Item]:
    """Online-platform messages: JSON Lines, or one JSON array of messages."""
    mapping = ctx.mapping
    f = mapping.fields
    for pos, obj, error in json_entries(path, mapping.encoding):
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
            "title": str(get.get("title") or ""),
            "user_hash": ctx.pseudonym(user) if user else None,
        }
        if likes := _count(get.get("likes")):  # only when there are some: earlier hashes stay valid
            extra["likes"] = likes
        yield FeedbackRecord("platform", str(get["message_id"]), received, community, body,
                             ctx.file, pos, extra=extra)


def _count(value: object) -> int:
    """A like count as exports write it (12, "12", "1.2万" is not supported: 0), never negative."""
    try:
        return max(0, int(float(str(value).strip()))) if value not in (None, "") else 0
    except (ValueError, OverflowError):
        return 0


def read(path: Path, ctx: ReadContext) -> ChannelBatch:
    return CHANNEL.batch(path.name, records(path, ctx))


CHANNEL = Channel(
    name="platform",
    patterns=("platform/*.jsonl", "platform/*.json"),
    read=read,
    raw_table="raw_platform",
    key_column="message_id",
    columns=(("user_hash", pa.string()), ("title", pa.string()), ("likes", pa.int64())),
    free_text=("title",),
    resident_column="user_hash",
    likes_column="likes",
)
