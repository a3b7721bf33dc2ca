"""The channels residents reach the district through, one module each, in one registry.

A channel is a :class:`~minsheng.channels.base.Channel` spec: where its files are, how one file
is read into records and rejections, which raw table holds them under which key, its own
columns and which fields are personal. Everything else — ingestion, the streaming inbox, the
``feedback`` view, the duplicate-key check — is built from the registry. Adding a channel is
one module here (its ``CHANNEL``), one migration (its raw table), one mapping in
``configs/channels.yaml`` and its tests.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from minsheng.channels import hotline, meeting, platform, survey, wechat
from minsheng.channels.base import (
    Channel,
    ChannelBatch,
    FeedbackRecord,
    IngestLimits,
    Item,
    ReadContext,
    Rejected,
    UnreadableInput,
)
from minsheng.clock import Clock
from minsheng.domain import ChannelMapping, District

__all__ = [
    "CHANNELS",
    "Channel",
    "ChannelBatch",
    "FeedbackRecord",
    "IngestLimits",
    "Item",
    "ReadContext",
    "Rejected",
    "UnreadableInput",
    "channel_of",
    "discover",
    "get",
    "read_file",
]

#: Every channel by name, in the order ingestion runs them.
CHANNELS: dict[str, Channel] = {
    c.name: c for c in (survey.CHANNEL, hotline.CHANNEL, platform.CHANNEL, meeting.CHANNEL,
                        wechat.CHANNEL)
}


def get(name: str) -> Channel:
    """The channel called ``name``; a one-line error naming the known ones otherwise."""
    try:
        return CHANNELS[name]
    except KeyError:
        raise KeyError(f"unknown channel {name!r}; one of {', '.join(CHANNELS)}") from None


def discover(inputs: Path, name: str) -> list[Path]:
    """The files of one channel under an inputs folder laid out as ``minsheng generate`` does."""
    return sorted(p for pattern in get(name).patterns for p in Path(inputs).glob(pattern))


def channel_of(rel: str) -> str | None:
    """The channel whose place in the inputs layout holds ``rel`` (relative to the folder)."""
    path = PurePosixPath(rel)
    return next((c.name for c in CHANNELS.values() if any(path.match(p) for p in c.patterns)), None)


def read_file(name: str, path: Path, mapping: ChannelMapping, district: District, *,
              clock: Clock | None = None, limits: IngestLimits | None = None,
              pseudonym_key: bytes | None = None) -> ChannelBatch:
    """Read and validate one input file of a channel into a batch of records and rejections.
    Raises :class:`UnreadableInput` only when the file as a whole cannot be read.
    ``pseudonym_key`` (``Settings.pseudonym_key()``) keys residents' pseudonyms; without it
    they hold for this process only."""
    return get(name).read(path, ReadContext(name, path, mapping, district, clock, limits, pseudonym_key))
