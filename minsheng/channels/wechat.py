"""WeChat mini-program messages (微信小程序): a JSON Lines export of openid, time, community
and text. The openid identifies a resident: it goes to the contacts, and the raw table keeps
only its pseudonym (for counting distinct residents)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from minsheng.channels.base import Channel, ChannelBatch, FeedbackRecord, Item, ReadContext
from minsheng.channels.jsonfile import UNDECODABLE, json_entries
from minsheng.channels.times import parse_time
from minsheng.pii import mask_text


def records(path: Path, ctx: ReadContext) -> Iterator[Item]:
    f = ctx.mapping.fields
    for pos, obj, error in json_entries(path, ctx.mapping.encoding):
        if error is not None or not isinstance(obj, dict):
            reason = "undecodable_bytes" if error == UNDECODABLE else "bad_json"
            yield ctx.reject(pos, reason, error or "not an object", obj)
            continue
        get = {name: obj.get(col) for name, col in f.items()}
        openid = str(get.get("user") or "").strip()
        if not openid:
            yield ctx.reject(pos, "missing_key", "empty openid", obj)
            continue
        community = ctx.community(get.get("community"))
        if community is None:
            yield ctx.reject(pos, "unknown_community", f"unknown community {get.get('community')!r}", obj)
            continue
        stamp = str(get.get("received_at") or "")
        try:
            received = parse_time(stamp, ctx.mapping.time_formats)
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
        # the export has no message id: a resident's message is its sender and its time. The
        # key must not reveal the openid, so it is a keyed digest of both.
        key = str(get.get("message_id") or "") or ctx.pseudonym(
            f"{openid}\x1f{received:%Y-%m-%dT%H:%M:%S}") + ctx.pseudonym(openid)[:4]
        yield FeedbackRecord("wechat", key, received, community, body, ctx.file, pos,
                             extra={"user_hash": ctx.pseudonym(openid)},
                             contacts={"openid": openid})


def read(path: Path, ctx: ReadContext) -> ChannelBatch:
    return CHANNEL.batch(path.name, records(path, ctx))


CHANNEL = Channel(
    name="wechat",
    patterns=("wechat/*.jsonl", "wechat/*.json"),
    read=read,
    raw_table="raw_wechat",
    key_column="message_key",
    columns=(("user_hash", pa.string()),),
    contacts=("openid",),
    resident_column="user_hash",
)
