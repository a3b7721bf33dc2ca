"""Heat, lifecycle and title of an issue, from its items.

**Messages, not fragments.** An issue's items are first grouped into *message units*: the
items of one feedback record (``feedback_id``) are one unit however many demand items it was
split into, and two records of the same resident whose texts are the same (after NFKC and
without whitespace or punctuation) are one unit (a repost). A unit's time is its earliest
item's, its likes the sum over its records of each record's likes (点赞数; the items of one
record carry the record's likes once), its channels those of its records. A unit without a
resident key counts as a resident of its own.

**Heat** of an issue at time ``T`` over the units with time ``t_u <= T`` (the code computes
exactly this)::

    d(t)  = 0.5 ** ((T - t) / half_life)                         recency decay
    M     = sum over units u of d(t_u)                            messages
    R     = sum over residents r of d(latest t_u of r)            distinct residents
    K     = sum over units u of d(t_u) * ln(1 + likes_u)          likes
    S     = sum over channels c of max over units u in c of d(t_u)
            - max over units u of d(t_u)                          cross-channel spread
    heat  = w_message * M + w_resident * R + w_likes * K + w_spread * S

With the defaults (:class:`HeatConfig`: half-life 7 days, every weight 1 except likes 0.5) a
single fresh message from one resident without likes has heat 2; six messages from five
residents over two channels this week have about 12.

**Lifecycle** at ``T`` (``this`` and ``last``: units in (T-7d, T] and (T-14d, T-7d], the
window being ``trend_window_days``):

* ``dormant`` — no item for more than ``quiet_days`` (the assigner's quiet period);
* ``new`` — first seen within the window;
* ``growing`` — ``this >= growth_ratio * last`` and ``this - last >= min_growth``;
* ``fading`` — ``this <= fade_ratio * last``;
* ``steady`` — otherwise. ``trend`` is ``this - last``.

**Hot list** (:func:`rank_hot`): the live issues with at least ``min_messages_hot`` (2)
message units, by heat. One message, however long, however many demand items it was split
into, is never a hot issue on its own.

**Title.** The issue's *most central text* is the item closest to the mean of its items'
embeddings (or, without embeddings, the item whose tokens are shared by most of the issue's
messages). Its keywords are the tokens (two characters or more, not part of the place name)
found in the most message units, weighted by an optional IDF. The title is the clause of the
central text that holds the most keywords (at most ``title_chars`` characters), prefixed by
the place's name when the clause does not name it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models.issues import IssueItem

__all__ = [
    "Heat",
    "HeatConfig",
    "IssueSummary",
    "MessageUnit",
    "Status",
    "issue_heat",
    "message_units",
    "rank_hot",
    "summarise_issue",
]

Status = Literal["new", "growing", "steady", "fading", "dormant"]
_DAY = 86400.0
_PUNCT = re.compile(r"[\s\W_]+")
_CLAUSE = re.compile(r"[，,。！!？?；;：:\n]+")


class HeatConfig(BaseModel):
    """Weights of the heat formula and the lifecycle thresholds (module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    half_life_days: float = Field(7.0, gt=0)
    w_message: float = Field(1.0, ge=0)
    w_resident: float = Field(1.0, ge=0)
    w_likes: float = Field(0.5, ge=0)
    w_spread: float = Field(1.0, ge=0)
    trend_window_days: float = Field(7.0, gt=0)
    growth_ratio: float = Field(1.5, ge=1)
    min_growth: int = Field(2, ge=1)
    fade_ratio: float = Field(0.5, ge=0, le=1)
    quiet_days: float = Field(14.0, gt=0)
    title_chars: int = Field(30, ge=8)
    min_messages_hot: int = Field(2, ge=1, description="fewest messages of a hot issue")


@dataclass(frozen=True, slots=True)
class MessageUnit:
    """One message (reposts merged): its records, resident, time, likes and channels."""

    feedback_ids: tuple[str, ...]
    resident: str | None
    at: datetime
    likes: int
    channels: frozenset[str]


@dataclass(frozen=True, slots=True)
class Heat:
    messages: int
    residents: int
    likes: int
    channels: tuple[str, ...]
    heat: float
    this_window: int
    last_window: int
    trend: int
    status: Status


@dataclass(frozen=True, slots=True)
class IssueSummary:
    title: str
    central_text: str
    central_item: str
    keywords: tuple[str, ...]


def _fingerprint(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text))


def message_units(items: Sequence[IssueItem]) -> list[MessageUnit]:
    """The message units of an issue's items (see the module docstring), in time order."""
    # union-find over feedback ids: a record's items are one; same resident + same text too
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    texts: dict[str, list[str]] = defaultdict(list)
    for it in items:
        parent.setdefault(it.feedback_id, it.feedback_id)
        texts[it.feedback_id].append(it.text)
    owner: dict[tuple[str, str], str] = {}
    resident_of: dict[str, str | None] = {}
    for it in items:
        resident_of.setdefault(it.feedback_id, it.resident)
    for fb, parts in texts.items():
        r = resident_of[fb]
        if r is None:
            continue
        key = (r, _fingerprint("".join(sorted(parts))))
        if key in owner:
            union(owner[key], fb)
        else:
            owner[key] = fb
    groups: dict[str, list[IssueItem]] = defaultdict(list)
    for it in items:
        groups[find(it.feedback_id)].append(it)
    units = []
    for members in groups.values():
        likes: dict[str, int] = {}
        for it in members:
            likes[it.feedback_id] = max(likes.get(it.feedback_id, 0), int(it.likes or 0))
        units.append(MessageUnit(
            feedback_ids=tuple(sorted(likes)),
            resident=next((it.resident for it in members if it.resident is not None), None),
            at=min(it.received_at for it in members),
            likes=sum(likes.values()),
            channels=frozenset(it.channel for it in members)))
    units.sort(key=lambda u: (u.at, u.feedback_ids))
    return units


def issue_heat(items: Sequence[IssueItem], at: datetime,
               config: HeatConfig | None = None) -> Heat:
    """Heat and lifecycle of an issue at time ``at`` (items after ``at`` are ignored)."""
    cfg = config or HeatConfig()
    units = [u for u in message_units(items) if u.at <= at]
    if not units:
        return Heat(0, 0, 0, (), 0.0, 0, 0, 0, "dormant")
    hl = cfg.half_life_days * _DAY

    def decay(t: datetime) -> float:
        return 0.5 ** ((at - t).total_seconds() / hl)

    d = [decay(u.at) for u in units]
    m = sum(d)
    latest: dict[str, float] = {}
    anonymous = 0.0
    for u, du in zip(units, d, strict=True):
        if u.resident is None:
            anonymous += du
        else:
            latest[u.resident] = max(latest.get(u.resident, 0.0), du)
    r = sum(latest.values()) + anonymous
    k = sum(du * math.log1p(u.likes) for u, du in zip(units, d, strict=True))
    per_channel: dict[str, float] = {}
    for u, du in zip(units, d, strict=True):
        for c in u.channels:
            per_channel[c] = max(per_channel.get(c, 0.0), du)
    s = sum(per_channel.values()) - max(d)
    heat = cfg.w_message * m + cfg.w_resident * r + cfg.w_likes * k + cfg.w_spread * s

    window = timedelta(days=cfg.trend_window_days)
    this = sum(1 for u in units if at - window < u.at)
    last = sum(1 for u in units if at - 2 * window < u.at <= at - window)
    first_seen = units[0].at
    last_seen = max(it.received_at for it in items if it.received_at <= at)
    status: Status
    if at - last_seen > timedelta(days=cfg.quiet_days):
        status = "dormant"
    elif at - first_seen <= window:
        status = "new"
    elif this >= cfg.growth_ratio * last and this - last >= cfg.min_growth:
        status = "growing"
    elif this <= cfg.fade_ratio * last:
        status = "fading"
    else:
        status = "steady"
    residents = len({u.resident for u in units if u.resident is not None}) + sum(
        1 for u in units if u.resident is None)
    return Heat(
        messages=len(units), residents=residents, likes=sum(u.likes for u in units),
        channels=tuple(sorted(per_channel)), heat=round(heat, 6), this_window=this,
        last_window=last, trend=this - last, status=status)


def rank_hot(heats: Mapping[str, Heat], n: int = 10,
             config: HeatConfig | None = None) -> list[str]:
    """The ``n`` hottest issues: not dormant, at least ``min_messages_hot`` messages, by heat
    (then id, for a stable order)."""
    cfg = config or HeatConfig()
    ok = [(h.heat, k) for k, h in heats.items()
          if h.status != "dormant" and h.messages >= cfg.min_messages_hot]
    ok.sort(key=lambda x: (-x[0], x[1]))
    return [k for _, k in ok[:n]]


def summarise_issue(items: Sequence[IssueItem], place_name: str | None = None,
                    idf: Mapping[str, float] | None = None, k: int = 3,
                    config: HeatConfig | None = None) -> IssueSummary:
    """Title, most central text and keywords of an issue (module docstring)."""
    cfg = config or HeatConfig()
    if not items:
        raise ValueError("an issue without items has no title")
    ordered = sorted(items, key=lambda it: (it.received_at, it.item_id))
    units = message_units(ordered)
    unit_of = {fb: n for n, u in enumerate(units) for fb in u.feedback_ids}
    df: Counter[str] = Counter()
    seen: set[tuple[int, str]] = set()
    for it in ordered:
        u = unit_of[it.feedback_id]
        for t in set(it.tokens):
            if (u, t) not in seen:
                seen.add((u, t))
                df[t] += 1
    # central text
    embs = [it.embedding for it in ordered]
    if all(e is not None for e in embs):
        mat = np.vstack([np.asarray(e, dtype=np.float64) for e in embs])
        norms = np.linalg.norm(mat, axis=1, keepdims=True)
        mat = np.divide(mat, norms, out=np.zeros_like(mat), where=norms > 0)
        centre = mat.mean(axis=0)
        scores = mat @ centre
    else:
        scores = np.array([
            sum(df[t] for t in set(it.tokens)) / math.sqrt(max(len(set(it.tokens)), 1))
            for it in ordered])
    central = ordered[int(np.argmax(scores))]
    # keywords
    median = float(np.median(list(idf.values()))) if idf else 1.0
    place = place_name or ""

    def weight(t: str) -> float:
        return df[t] * (idf.get(t, median) if idf else 1.0)

    cands = [t for t in df if len(t) >= 2 and t not in place and not t.isdigit()
             and not t.startswith("[")]
    keywords = tuple(sorted(cands, key=lambda t: (-weight(t), t))[:k])
    # title: the clause of the central text with most keywords
    clauses = [c.strip() for c in _CLAUSE.split(central.text) if c.strip()]
    if not clauses:
        clauses = [central.text.strip()]
    best = max(clauses, key=lambda c: (sum(kw in c for kw in keywords), len(c) >= 6, -clauses.index(c)))
    title = best[: cfg.title_chars]
    if place and place not in title:
        title = f"{place}：{title}"[: cfg.title_chars + len(place) + 1]
    return IssueSummary(title=title, central_text=central.text, central_item=central.item_id,
                        keywords=keywords)
