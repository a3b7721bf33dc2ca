"""The online platform 云街道 (cloud sub-district): messages residents post, as JSON Lines, one
JSON array, .xlsx or CSV. The user name becomes a keyed pseudonym; the title (masked) is kept
beside the body and opens the text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from minsheng.channels.base import Channel, ChannelBatch, FeedbackRecord, Item, ReadContext
from minsheng.channels.tabular import read_tabular, require_columns
from minsheng.channels.times import parse_time
from minsheng.pii import mask_text
from minsheng.records import compose_text


def records(path: Path, ctx: ReadContext) -> Iterator[Item]:
    """Online-platform messages from any tabular export (JSON Lines, a JSON array, .xlsx or
    CSV). The title and the body are separate mapped fields; the text is both, joined by
    :func:`~minsheng.records.compose_text` as training joins them."""
    mapping = ctx.mapping
    f = mapping.fields
    inp = read_tabular(path, mapping.encoding)
    if inp.ragged_reason != "bad_json":  # a JSON object may leave a key out; a sheet may not
        require_columns(inp, [f[k] for k in REQUIRED if k in f], path.name)
    for n, raw in inp.ragged:
        yield ctx.reject(inp.pos(n), *inp.reason_for(n), raw)
    header = inp.header
    columns = {name: inp.table[col].to_pylist() if col in header else None for name, col in f.items()}
    for i, n in enumerate(inp.table["_row"].to_pylist()):
        pos = inp.pos(n)
        get = {name: (col[i] if col is not None else "") for name, col in columns.items()}
        raw = {f[name]: v for name, v in get.items() if columns[name] is not None}
        if not get.get("message_id"):
            yield ctx.reject(pos, "missing_key", "empty message id", raw)
            continue
        community = ctx.community(get.get("community"))
        if community is None:
            yield ctx.reject(pos, "unknown_community", f"unknown community {get.get('community')!r}", raw)
            continue
        try:
            received = parse_time(str(get.get("received_at") or ""), mapping.time_formats)
        except ValueError as exc:
            yield ctx.reject(pos, "bad_time", str(exc), raw)
            continue
        title = mask_text(str(get.get("title") or "").strip())
        text = mask_text(compose_text(get.get("title"), get.get("text")))
        if not text:
            yield ctx.reject(pos, "empty_text", "empty message", raw)
            continue
        if bad := ctx.implausible(pos, received, text, raw):
            yield bad
            continue
        user = str(get.get("user") or "")
        extra = {"title": title, "user_hash": ctx.pseudonym(user) if user else None}
        if likes := _count(get.get("likes")):  # only when there are some: earlier hashes stay valid
            extra["likes"] = likes
        yield FeedbackRecord("platform", str(get["message_id"]), received, community, text,
                             ctx.file, pos, extra=extra)


#: The fields a platform export must have; the others (community, user, title, likes) may be
#: left out of the mapping or the file.
REQUIRED = ("message_id", "received_at", "text")


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
    patterns=("platform/*.jsonl", "platform/*.json", "platform/*.xlsx", "platform/*.csv"),
    read=read,
    raw_table="raw_platform",
    key_column="message_id",
    columns=(("user_hash", pa.string()), ("title", pa.string()), ("likes", pa.int64())),
    free_text=("title",),
    resident_column="user_hash",
    likes_column="likes",
)
