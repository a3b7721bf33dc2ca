"""Issues: the concrete problems residents keep raising, formed in one streaming pass.

Every demand item is assigned to an *issue*, a concrete problem at a place ("the lift of
阳光小区 3栋 keeps breaking down"). :class:`IssueAssigner` does it in a single pass, in the
spirit of first-story detection (Petrović, Osborne & Lavrenko, 2010): each item is compared
with the *live* issues that a locality-sensitive hash and two small indexes propose, joins
the best one when it is close enough, and otherwise opens a new issue (a "first story").

**Closeness** of item *x* to live issue *I* (the code computes exactly this)::

    score(x, I) = cos(v(x), c(I))                          text
                + place_same · a        if a > 0            same place: much closer
                - place_diff · (-a)     if a < 0            different named places: far
                + category_hint         if x's category is I's commonest category
                + community_hint        if x's community is I's commonest community
                - community_diff        if it is another and either is at a place (named, or
                                        "我们小区"), unless both name one gazetteer place
                - time_weight · gap / quiet_period          gap = max(0, t(x) - last_seen(I))

``v(x)`` is the item's text vector: its embedding and/or a hashed TF-IDF of its tokens, each
L2-normalised, weighted by ``embedding_weight`` and ``token_weight`` and concatenated, then
normalised (so that the cosine is the weighted mean of the two cosines). ``c(I)`` is the
normalised mean of its items' vectors. ``a`` is the place affinity in [-1, 1]: the strength
(:attr:`models.places.Place.strength`) of the strongest place key that the item shares with
the issue's places; but when both name a strong place (an estate, road, institution or
landmark), +1 if they share one and -1 if not, whatever weaker places they share; when they
share none and both name places of one weaker kind, minus the weaker side's strength; 0
when either names no place. The issue's places are the keys named by at least
``place_share`` of its items that name one. *x* joins the issue of highest score when that
score is at least ``join_threshold`` (ties: the issue opened first), else it opens one.

**Live and dormant.** The assigner's clock is the latest ``received_at`` it has seen (the
watermark). An issue whose last item is more than ``quiet_days`` older than the watermark is
*dormant*: it is retired from the indexes at that moment and never attracts an item again
(a problem raised again after a long quiet is a new issue). A late item is judged against
the issues live at the watermark. Retired issues are handed out once by
:meth:`IssueAssigner.pop_retired`; the state keeps only live issues, so it is bounded by the
items of the last ``quiet_days``, not by the history.

**Bounded cost.** Candidates for an item are the union of: the issues in its buckets of
``lsh_tables`` random-hyperplane hash tables of ``lsh_bits`` bits each over the issue
centroids (each bucket holds at most ``bucket_size`` issues, the most recently updated),
the live issues at each of its places (at most ``place_candidates`` per place) and the
most recent ``recent_candidates`` issues of its community × category. An item therefore
scores at most ``lsh_tables · bucket_size + places · place_candidates + recent_candidates``
issues, whatever the number of items seen. We chose LSH over an ANN library (hnswlib,
annoy, faiss) because issue centroids move with every item that joins: moving an issue is a
few dictionary operations here, a delete-and-insert in a graph index there; and because the
hash tables are plain data, so that a reloaded state behaves bit for bit as the original
(graph indexes draw levels from a generator whose state they do not save).

**Determinism.** The same items in the same order give the same assignments and the same
ids, whatever the batches they come in (:meth:`add_many` is a loop over :meth:`add`): an
issue's id is a hash of its first item's id and text, the random hyperplanes come from
``seed``, and nothing depends on wall-clock time or on Python's salted ``hash``. The state
serialises (:meth:`to_bytes` / :meth:`from_bytes`) between any two items. For batch and
streaming runs to agree, feed items in the same order (by ``received_at``, then ``item_id``).

**Corrections.** :meth:`add` of an item whose id is already in a live issue first removes
it (:meth:`remove`): its vector leaves the centroid, its counts leave the issue, an issue
left empty disappears; the corrected item is then assigned afresh and may move.
"""

from __future__ import annotations

import re

import hashlib
import heapq
import math
import pickle
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from models.places import Place

__all__ = [
    "Assignment",
    "IssueAssigner",
    "IssueConfig",
    "IssueItem",
    "IssueState",
    "issue_id_for",
]

_STATE_FORMAT = 2
_EPOCH_NAIVE = datetime(1970, 1, 1)


class IssueConfig(BaseModel):
    """Weights and bounds of issue assignment (see the module docstring for the formula)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    join_threshold: float = Field(0.7, description="least score to join an issue")
    place_same: float = Field(0.35, ge=0, description="bonus per unit of shared-place strength")
    place_diff: float = Field(0.6, ge=0, description="penalty per unit of place conflict")
    place_share: float = Field(0.25, gt=0, le=1,
                               description="share of an issue's placed items that makes a place its own")
    category_hint: float = Field(0.15, ge=0)
    community_hint: float = Field(0.05, ge=0)
    community_diff: float = Field(0.3, ge=0, description="penalty for another community without a shared place")
    time_weight: float = Field(0.1, ge=0, description="penalty for a full quiet period of gap")
    quiet_days: float = Field(14.0, gt=0, description="an issue quiet this long is dormant")
    embedding_weight: float = Field(0.7, ge=0)
    token_weight: float = Field(0.3, ge=0, description="weight of the hashed TF-IDF of tokens")
    hash_dim: int = Field(128, ge=16, description="dimensions of the hashed token vector")
    lsh_tables: int = Field(10, ge=1, le=64)
    lsh_bits: int = Field(8, ge=1, le=30)
    bucket_size: int = Field(12, ge=1)
    place_candidates: int = Field(32, ge=1)
    recent_candidates: int = Field(16, ge=0)
    seed: int = 20261125


#: Words by which a resident speaks of a place of their own without naming it (their estate,
#: building, stairwell, lift, gate): such a problem is local, as one at a named place is.
_LOCAL_CUES = re.compile("小区|楼道|楼栋|楼上|楼下|单元|号楼|电梯|院子|院坝|隔壁|我们这|我家门口")


@dataclass(frozen=True, slots=True)
class IssueItem:
    """One demand item as issue assignment sees it (masked text only)."""

    item_id: str
    feedback_id: str
    resident: str | None
    channel: str
    received_at: datetime
    community: str | None
    category: str | None
    text: str
    tokens: tuple[str, ...] = ()
    embedding: np.ndarray | None = field(default=None, compare=False)
    likes: int = 0
    places: tuple[Place, ...] = ()


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where an item went: its issue, whether it opened it, and the score it joined with."""

    item_id: str
    issue_id: str
    opened: bool
    score: float | None


@dataclass(frozen=True, slots=True)
class IssueState:
    """A snapshot of one issue as the assigner knows it."""

    issue_id: str
    first_seen: datetime
    last_seen: datetime
    items: int
    item_ids: tuple[str, ...]
    place_key: str | None
    place_name: str | None
    places: Mapping[str, int]
    categories: Mapping[str, int]
    communities: Mapping[str, int]
    channels: Mapping[str, int]
    live: bool


def issue_id_for(item_id: str, text: str) -> str:
    """The id of an issue opened by this item: stable across runs and batchings."""
    h = hashlib.blake2b(f"{item_id}\x00{text}".encode(), digest_size=8).hexdigest()
    return f"I{h}"


def _seconds(dt: datetime) -> float:
    if dt.tzinfo is None:
        return (dt - _EPOCH_NAIVE).total_seconds()
    return dt.timestamp()


def _mode(c: Counter[str]) -> str | None:
    # commonest, ties to the first counted (Counter keeps insertion order)
    best, n = None, 0
    for k, v in c.items():
        if v > n:
            best, n = k, v
    return best


class _Issue:
    __slots__ = ("bands", "categories", "channels", "communities", "first", "first_dt", "id",
                 "last", "last_dt", "members", "n_placed", "place_names", "place_strength",
                 "places", "profile", "seq", "slot", "top_category", "top_community")

    def __init__(self, issue_id: str, slot: int, seq: int) -> None:
        self.id = issue_id
        self.slot = slot
        self.seq = seq
        self.members: dict[str, None] = {}
        self.first = math.inf
        self.last = -math.inf
        self.first_dt: datetime | None = None
        self.last_dt: datetime | None = None
        self.places: Counter[str] = Counter()
        self.place_strength: dict[str, float] = {}
        self.place_names: dict[str, str] = {}
        self.n_placed = 0
        self.categories: Counter[str] = Counter()
        self.communities: Counter[str] = Counter()
        self.channels: Counter[str] = Counter()
        self.bands: tuple[int, ...] = ()
        self.top_category: str | None = None     # _mode(categories), kept up to date
        self.top_community: str | None = None
        self.profile: dict[str, float] | None = None  # _issue_places, None: to compute


class _Member:
    __slots__ = ("category", "channel", "community", "dt", "issue", "places", "row", "t")

    def __init__(self, issue: _Issue, row: int, t: float, dt: datetime,
                 places: tuple[tuple[str, float, str], ...], category: str | None,
                 community: str | None, channel: str) -> None:
        self.issue = issue
        self.row = row
        self.t = t
        self.dt = dt
        self.places = places
        self.category = category
        self.community = community
        self.channel = channel


class _Rows:
    """A growable float matrix with a free list (vectors of live items or issues)."""

    def __init__(self, dim: int, dtype: Any, capacity: int = 1024) -> None:
        self.data = np.zeros((capacity, dim), dtype=dtype)
        self.norms = np.zeros(capacity, dtype=np.float64)
        self.free: list[int] = []
        self.size = 0

    def alloc(self) -> int:
        if self.free:
            return self.free.pop()
        if self.size == len(self.data):
            # grow by a quarter: at a million live rows, doubling would leave up to half of
            # a gigabyte-sized matrix unused
            cap = max(1024, len(self.data) + len(self.data) // 4)
            grown = np.zeros((cap, self.data.shape[1]), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
            norms = np.zeros(cap, dtype=np.float64)
            norms[: self.size] = self.norms[: self.size]
            self.norms = norms
        self.size += 1
        return self.size - 1

    def release(self, row: int) -> None:
        self.data[row] = 0
        self.norms[row] = 0
        self.free.append(row)


class IssueAssigner:
    """Streaming, deterministic assignment of demand items to issues.

    Parameters
    ----------
    config:
        :class:`IssueConfig` (defaults documented there and in the module docstring).
    idf:
        Token weights for the hashed TF-IDF (e.g. ``Segmenter().keyword_extractor.idf_freq``,
        jieba's IDF table); tokens missing from it get its median. ``None``: weight 1.
        Only used when ``config.token_weight > 0``.
    """

    def __init__(self, config: IssueConfig | None = None,
                 idf: Mapping[str, float] | None = None) -> None:
        self.config = config or IssueConfig()
        self._idf = dict(idf) if idf is not None else None
        self._idf_default = float(np.median(list(self._idf.values()))) if self._idf else 1.0
        self._dim: int | None = None
        self._emb_dim: int | None = None
        self._issues: dict[int, _Issue] = {}          # seq (never reused) -> issue
        self._ids: dict[str, _Issue] = {}
        self._members: dict[str, _Member] = {}
        self._tables: list[dict[int, dict[int, None]]] = [
            {} for _ in range(self.config.lsh_tables)]
        self._by_place: dict[str, dict[int, None]] = {}
        self._recent: dict[tuple[str | None, str | None], dict[int, None]] = {}
        self._heap: list[tuple[float, int]] = []  # (last, seq), lazy
        self._watermark = -math.inf
        self._wm_dt: datetime | None = None
        self._seq = 0
        self._retired: list[IssueState] = []
        self._token_cache: dict[str, tuple[int, float]] = {}
        self._seq_row = np.full(1024, -1, dtype=np.int64)   # issue seq -> centroid row, -1: gone
        self._planes: np.ndarray | None = None
        self._powers = (1 << np.arange(self.config.lsh_bits, dtype=np.int64))
        self._items: _Rows | None = None
        self._sums: _Rows | None = None   # per issue: the sum of its items' vectors, and its norm

    # -- public ---------------------------------------------------------------------------------

    def add(self, item: IssueItem) -> Assignment:
        """Assign one item (re-assign it if its id is already in a live issue)."""
        if item.item_id in self._members:
            self.remove(item.item_id)
        v = self._vector(item)
        t = _seconds(item.received_at)
        if t > self._watermark:
            self._watermark, self._wm_dt = t, item.received_at
            self._retire_quiet()
        places = tuple((p.key, p.strength, p.name) for p in item.places)
        best, best_score = None, -math.inf
        seqs, rows, by_place = self._candidates(v, places, item)
        if len(seqs):
            scores = self._score(seqs, rows, by_place, v, places, item, t)
            k = int(np.argmax(scores))  # first max: candidates are in opening order
            best, best_score = self._issues[int(seqs[k])], float(scores[k])
        opened = best is None or best_score < self.config.join_threshold
        if opened:
            best = self._open(item)
        assert best is not None
        self._join(best, item, v, t, places, (item.community, item.category))
        return Assignment(item.item_id, best.id, opened, None if opened else round(best_score, 6))

    def add_many(self, items: Iterable[IssueItem]) -> list[Assignment]:
        """:meth:`add` for each item in order (exactly the same result as one by one)."""
        return [self.add(x) for x in items]

    def remove(self, item_id: str) -> str | None:
        """Take a live item out of its issue; return that issue's id (``None`` if the item is
        not in a live issue). An issue left empty is dropped."""
        m = self._members.pop(item_id, None)
        if m is None:
            return None
        issue = m.issue
        assert self._items is not None and self._sums is not None
        self._sums.data[issue.slot] -= self._items.data[m.row].astype(np.float32)
        self._items.release(m.row)
        del issue.members[item_id]
        self._uncount(issue, m)
        if not issue.members:
            self._drop(issue)
            return issue.id
        times = [(self._members[i].t, self._members[i].dt) for i in issue.members]
        issue.first, issue.first_dt = min(times, key=lambda x: x[0])
        issue.last, issue.last_dt = max(times, key=lambda x: x[0])
        heapq.heappush(self._heap, (issue.last, issue.seq))
        self._refresh(issue)
        return issue.id

    def issue_of(self, item_id: str) -> str | None:
        m = self._members.get(item_id)
        return m.issue.id if m else None

    def issues(self) -> list[IssueState]:
        """Snapshots of the live issues, in opening order."""
        return [self._state(i, live=True) for i in sorted(self._ids.values(), key=lambda i: i.seq)]

    def pop_retired(self) -> list[IssueState]:
        """Issues that went dormant since the last call (each handed out once)."""
        out, self._retired = self._retired, []
        return out

    @property
    def watermark(self) -> datetime | None:
        """The latest ``received_at`` seen (the assigner's clock)."""
        return self._wm_dt

    def __len__(self) -> int:
        return len(self._ids)

    # -- vectors --------------------------------------------------------------------------------

    def _vector(self, item: IssueItem) -> np.ndarray:
        cfg = self.config
        parts: list[np.ndarray] = []
        emb = item.embedding
        if cfg.embedding_weight > 0:
            if emb is None:
                if self._emb_dim is None and cfg.token_weight == 0:
                    raise ValueError(
                        f"item {item.item_id}: no embedding, and token_weight is 0")
                e = np.zeros(self._emb_dim or 0, dtype=np.float64)
            else:
                e = np.asarray(emb, dtype=np.float64).ravel()
                if self._emb_dim is None:
                    self._emb_dim = e.shape[0]
                elif e.shape[0] != self._emb_dim:
                    raise ValueError(
                        f"item {item.item_id}: embedding of {e.shape[0]} dimensions, "
                        f"the assigner's are {self._emb_dim}")
                n = float(np.sqrt(e @ e))
                if n > 0:
                    e = e * (math.sqrt(cfg.embedding_weight) / n)
            parts.append(e)
        if cfg.token_weight > 0:
            parts.append(self._hashed(item.tokens) * math.sqrt(cfg.token_weight))
        v = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if self._dim is None:
            self._init_dim(v.shape[0])
        n = float(np.sqrt(v @ v))
        if n > 0:
            v = v / n
        return v.astype(np.float32)

    def _hashed(self, tokens: Sequence[str]) -> np.ndarray:
        dim = self.config.hash_dim
        out = np.zeros(dim, dtype=np.float64)
        if not tokens:
            return out
        cache = self._token_cache
        for tok, count in Counter(tokens).items():
            hit = cache.get(tok)
            if hit is None:
                h = zlib.crc32(tok.encode("utf-8"))
                w = self._idf.get(tok, self._idf_default) if self._idf is not None else 1.0
                hit = (h % dim, w if (h >> 31) & 1 else -w)
                if len(cache) < 500_000:
                    cache[tok] = hit
            out[hit[0]] += hit[1] * (1.0 + math.log(count))
        n = float(np.sqrt(out @ out))
        return out / n if n > 0 else out

    def _init_dim(self, dim: int) -> None:
        cfg = self.config
        self._dim = dim
        rng = np.random.default_rng(cfg.seed)
        self._planes = rng.standard_normal((cfg.lsh_tables * cfg.lsh_bits, dim)).astype(np.float32)
        # an item's vector is kept only to leave its issue's sum on remove(): half precision
        # is enough there and halves the largest part of the state
        self._items = _Rows(dim, np.float16)
        self._sums = _Rows(dim, np.float32)

    def _bands(self, v: np.ndarray) -> tuple[int, ...]:
        assert self._planes is not None
        bits = (self._planes @ v > 0).reshape(self.config.lsh_tables, self.config.lsh_bits)
        return tuple(int(x) for x in bits.astype(np.int64) @ self._powers)

    # -- candidates and scores ------------------------------------------------------------------

    def _candidates(self, v: np.ndarray, places: tuple[tuple[str, float, str], ...],
                    item: IssueItem) -> tuple[np.ndarray, np.ndarray, set[int]]:
        """Candidate issues as (seqs in opening order, their rows, the seqs proposed by a
        shared place)."""
        none = np.zeros(0, dtype=np.int64)
        if not self._issues:
            return none, none, set()
        found: dict[int, None] = {}
        for table, band in zip(self._tables, self._bands(v), strict=True):
            bucket = table.get(band)
            if bucket:
                found.update(bucket)
        by_place: set[int] = set()
        for key, _, _ in places:
            bucket = self._by_place.get(key)
            if bucket:
                by_place.update(bucket)
        found.update(dict.fromkeys(by_place))
        recent = self._recent.get((item.community, item.category))
        if recent:
            found.update(recent)
        # opening order, so that argmax breaks ties toward the older issue; an entry of an
        # issue that is gone is skipped (indexes are cleaned when an issue goes, but a key the
        # issue lost by a removal may linger: it only proposes a candidate)
        seqs = np.fromiter(found, dtype=np.int64, count=len(found))
        seqs.sort()
        rows = self._seq_row[seqs]
        keep = rows >= 0
        return seqs[keep], rows[keep], by_place

    def _score(self, seqs: np.ndarray, rows: np.ndarray, by_place: set[int], v: np.ndarray,
               places: tuple[tuple[str, float, str], ...], item: IssueItem,
               t: float) -> np.ndarray:
        cfg = self.config
        assert self._sums is not None
        issues = self._issues
        # cosine with the centroid: the sum's product with v over the sum's norm
        norms = self._sums.norms[rows]
        dots = (self._sums.data[rows] @ v).astype(np.float64)
        scores = np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)
        # The extras add at most place_same (a shared place) + the two hints: a candidate
        # whose text is further below the threshold cannot join, so its extras are not
        # computed and its score stays below the threshold. Exact, not a heuristic.
        hints = cfg.category_hint + cfg.community_hint
        reach_text = cfg.join_threshold - hints
        reach_place = reach_text - cfg.place_same
        quiet = cfg.quiet_days * 86400.0
        for k in np.flatnonzero(scores >= reach_place):
            seq = int(seqs[k])
            if scores[k] < reach_text and seq not in by_place:
                continue
            issue = issues[seq]
            extra = 0.0
            a = self._affinity(places, issue) if places and issue.n_placed else 0.0
            extra += cfg.place_same * a if a > 0 else cfg.place_diff * a
            if item.category is not None and issue.top_category == item.category:
                extra += cfg.category_hint
            if item.community is not None and issue.top_community == item.community:
                extra += cfg.community_hint
            elif (item.community is not None and issue.top_community is not None
                  and (places or issue.n_placed or _LOCAL_CUES.search(item.text))
                  and not (a >= 1.0 and self._shares_gazetteer_place(places, issue))):
                # a problem at a place, raised in another community: another problem, unless
                # both name a place the district's gazetteer knows (a name the patterns found
                # in two communities is likely a kind of place, not one place). "我们小区的电梯"
                # is at a place too, the resident's own, unnamed. A question that names no
                # place (a district-wide rule) is one issue wherever it is asked.
                extra -= cfg.community_diff
            gap = t - issue.last
            if gap > 0:
                extra -= cfg.time_weight * gap / quiet
            scores[k] += extra
        return scores

    def _issue_places(self, issue: _Issue) -> dict[str, float]:
        """The issue's own places: keys named by ``place_share`` of its placed items."""
        if issue.profile is None:
            need = self.config.place_share * issue.n_placed
            issue.profile = {k: issue.place_strength[k] for k, n in issue.places.items()
                             if n >= need} if issue.n_placed else {}
        return issue.profile

    def _shares_gazetteer_place(self, places: tuple[tuple[str, float, str], ...], issue: _Issue) -> bool:
        mine = self._issue_places(issue)
        return any(k.startswith("gaz:") and k in mine for k, _, _ in places)

    def _affinity(self, places: tuple[tuple[str, float, str], ...], issue: _Issue) -> float:
        if not places:
            return 0.0
        mine = self._issue_places(issue)
        if not mine:
            return 0.0
        # two strong places decide alone: a shared weak key (the same generic market of
        # one community) does not bring two different estates together
        strong_a = {k for k, s, _ in places if s >= 1.0}
        strong_b = {k for k, s in mine.items() if s >= 1.0}
        if strong_a and strong_b:
            return 1.0 if strong_a & strong_b else -1.0
        shared = [s for k, s, _ in places if k in mine]
        if shared:
            return max(shared)
        a_strong = max(s for _, s, _ in places)
        b_strong = max(mine.values())
        kinds_a = {k.split(":", 1)[0] for k, _, _ in places}
        kinds_b = {k.split(":", 1)[0] for k in mine}
        if kinds_a & kinds_b:
            return -min(a_strong, b_strong)
        return 0.0

    # -- issue bookkeeping ----------------------------------------------------------------------

    def _open(self, item: IssueItem) -> _Issue:
        assert self._sums is not None
        base = issue_id_for(item.item_id, item.text)
        issue_id, n = base, 1
        while issue_id in self._ids:
            n += 1
            issue_id = f"{base}-{n}"
        slot = self._sums.alloc()
        self._seq += 1
        issue = _Issue(issue_id, slot, self._seq)
        self._issues[issue.seq] = issue
        self._ids[issue_id] = issue
        self._set_row(issue.seq, slot)
        return issue

    def _set_row(self, seq: int, row: int) -> None:
        if seq >= len(self._seq_row):
            grown = np.full(max(2 * len(self._seq_row), seq + 1), -1, dtype=np.int64)
            grown[: len(self._seq_row)] = self._seq_row
            self._seq_row = grown
        self._seq_row[seq] = row

    def _join(self, issue: _Issue, item: IssueItem, v: np.ndarray, t: float,
              places: tuple[tuple[str, float, str], ...],
              recent: tuple[str | None, str | None]) -> None:
        assert self._items is not None and self._sums is not None
        row = self._items.alloc()
        self._items.data[row] = v
        self._sums.data[issue.slot] += v
        m = _Member(issue, row, t, item.received_at, places, item.category, item.community,
                    item.channel)
        self._members[item.item_id] = m
        issue.members[item.item_id] = None
        if t < issue.first:
            issue.first, issue.first_dt = t, item.received_at
        if t > issue.last:
            issue.last, issue.last_dt = t, item.received_at
            heapq.heappush(self._heap, (t, issue.seq))
        self._count(issue, m)
        self._refresh(issue, recent)

    def _count(self, issue: _Issue, m: _Member) -> None:
        if m.places:
            issue.n_placed += 1
            for key, strength, name in dict.fromkeys(m.places):
                issue.places[key] += 1
                issue.place_strength[key] = strength
                issue.place_names.setdefault(key, name)
        if m.category is not None:
            issue.categories[m.category] += 1
        if m.community is not None:
            issue.communities[m.community] += 1
        issue.channels[m.channel] += 1
        issue.top_category = _mode(issue.categories)
        issue.top_community = _mode(issue.communities)
        issue.profile = None

    def _uncount(self, issue: _Issue, m: _Member) -> None:
        def dec(c: Counter[str], k: str) -> None:
            c[k] -= 1
            if c[k] <= 0:
                del c[k]

        if m.places:
            issue.n_placed -= 1
            for key, _, _ in dict.fromkeys(m.places):
                dec(issue.places, key)
                if key not in issue.places:
                    issue.place_strength.pop(key, None)
                    issue.place_names.pop(key, None)
                    bucket = self._by_place.get(key)
                    if bucket is not None:
                        bucket.pop(issue.seq, None)
                        if not bucket:
                            del self._by_place[key]
        if m.category is not None:
            dec(issue.categories, m.category)
        if m.community is not None:
            dec(issue.communities, m.community)
        dec(issue.channels, m.channel)
        issue.top_category = _mode(issue.categories)
        issue.top_community = _mode(issue.communities)
        issue.profile = None

    def _refresh(self, issue: _Issue,
                 recent: tuple[str | None, str | None] | None = None) -> None:
        """Recompute the centroid and move the issue to the front of its indexes."""
        assert self._sums is not None
        s = self._sums.data[issue.slot]
        s64 = s.astype(np.float64)
        self._sums.norms[issue.slot] = float(np.sqrt(s64 @ s64))
        bands = self._bands(s)   # the signs of the projections do not depend on the scale
        cap = self.config.bucket_size
        old = issue.bands or (None,) * len(bands)
        for table, b_old, b_new in zip(self._tables, old, bands, strict=True):
            if b_old is not None and b_old != b_new:
                bucket = table.get(b_old)
                if bucket is not None:
                    bucket.pop(issue.seq, None)
                    if not bucket:
                        del table[b_old]
            bucket = table.setdefault(b_new, {})
            bucket.pop(issue.seq, None)
            bucket[issue.seq] = None
            while len(bucket) > cap:
                bucket.pop(next(iter(bucket)))
        issue.bands = bands
        for key in issue.places:
            bucket = self._by_place.setdefault(key, {})
            bucket.pop(issue.seq, None)
            bucket[issue.seq] = None
            while len(bucket) > self.config.place_candidates:
                bucket.pop(next(iter(bucket)))
        if recent is not None and self.config.recent_candidates:
            bucket = self._recent.setdefault(recent, {})
            bucket.pop(issue.seq, None)
            bucket[issue.seq] = None
            while len(bucket) > self.config.recent_candidates:
                bucket.pop(next(iter(bucket)))

    def _unindex(self, issue: _Issue) -> None:
        for table, band in zip(self._tables, issue.bands, strict=False):
            bucket = table.get(band)
            if bucket is not None:
                bucket.pop(issue.seq, None)
                if not bucket:
                    del table[band]
        for key in issue.places:
            bucket = self._by_place.get(key)
            if bucket is not None:
                bucket.pop(issue.seq, None)
                if not bucket:
                    del self._by_place[key]
        coms = list(issue.communities) or [None]
        cats = list(issue.categories) or [None]
        for com in coms:
            for cat in cats:
                bucket = self._recent.get((com, cat))
                if bucket is not None:
                    bucket.pop(issue.seq, None)
                    if not bucket:
                        del self._recent[(com, cat)]

    def _drop(self, issue: _Issue) -> None:
        assert self._sums is not None
        self._unindex(issue)
        del self._issues[issue.seq]
        del self._ids[issue.id]
        self._seq_row[issue.seq] = -1
        self._sums.release(issue.slot)

    def _retire_quiet(self) -> None:
        horizon = self._watermark - self.config.quiet_days * 86400.0
        heap = self._heap
        while heap and heap[0][0] < horizon:
            last, seq = heapq.heappop(heap)
            issue = self._issues.get(seq)
            if issue is None or issue.last != last:
                continue  # stale entry: the issue moved on, or is gone
            self._retired.append(self._state(issue, live=False))
            assert self._items is not None
            for item_id in issue.members:
                m = self._members.pop(item_id)
                self._items.release(m.row)
            self._drop(issue)

    def _state(self, issue: _Issue, live: bool) -> IssueState:
        mine = self._issue_places(issue)
        key = max(mine, key=lambda k: (issue.places[k], mine[k]), default=None) if mine else None
        assert issue.first_dt is not None and issue.last_dt is not None
        return IssueState(
            issue_id=issue.id, first_seen=issue.first_dt, last_seen=issue.last_dt,
            items=len(issue.members), item_ids=tuple(issue.members),
            place_key=key, place_name=issue.place_names.get(key) if key else None,
            places=dict(issue.places), categories=dict(issue.categories),
            communities=dict(issue.communities), channels=dict(issue.channels), live=live)

    # -- serialisation --------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """The whole state (plain data and numpy arrays, pickled): load it with
        :meth:`from_bytes` and go on exactly as if never stopped."""
        issues = []
        for issue in sorted(self._ids.values(), key=lambda i: i.seq):
            issues.append({
                "id": issue.id, "slot": issue.slot, "seq": issue.seq,
                "members": list(issue.members), "first": issue.first, "last": issue.last,
                "first_dt": issue.first_dt, "last_dt": issue.last_dt,
                "places": dict(issue.places), "place_strength": dict(issue.place_strength),
                "place_names": dict(issue.place_names), "n_placed": issue.n_placed,
                "categories": dict(issue.categories), "communities": dict(issue.communities),
                "channels": dict(issue.channels), "bands": issue.bands,
            })
        members = {k: (m.issue.seq, m.row, m.t, m.dt, m.places, m.category, m.community,
                       m.channel) for k, m in self._members.items()}
        rows = {}
        for name in ("_items", "_sums"):
            r = getattr(self, name)
            rows[name] = None if r is None else (r.data[: r.size].copy(), r.norms[: r.size].copy(),
                                                 list(r.free))
        state = {
            "format": _STATE_FORMAT, "config": self.config.model_dump(), "idf": self._idf,
            "dim": self._dim, "emb_dim": self._emb_dim, "issues": issues, "members": members,
            "tables": [{b: list(s) for b, s in t.items()} for t in self._tables],
            "by_place": {k: list(v) for k, v in self._by_place.items()},
            "recent": [(k, list(v)) for k, v in self._recent.items()],
            "heap": list(self._heap), "watermark": self._watermark, "wm_dt": self._wm_dt,
            "seq": self._seq,
            "retired": self._retired, "rows": rows,
        }
        return pickle.dumps(state, protocol=5)

    @classmethod
    def from_bytes(cls, data: bytes) -> IssueAssigner:
        state = pickle.loads(data)  # noqa: S301 - our own state file
        if state.get("format") != _STATE_FORMAT:
            raise ValueError(f"issue state format {state.get('format')!r}, expected "
                             f"{_STATE_FORMAT}: rebuild it by re-running the items")
        self = cls(IssueConfig(**state["config"]), state["idf"])
        self._emb_dim = state["emb_dim"]
        if state["dim"] is not None:
            self._init_dim(state["dim"])
            for name, saved in state["rows"].items():
                data_, norms, free = saved
                r = getattr(self, name)
                r.data = np.zeros((max(len(data_), 1024), data_.shape[1]), dtype=data_.dtype)
                r.data[: len(data_)] = data_
                r.norms = np.zeros(len(r.data), dtype=np.float64)
                r.norms[: len(norms)] = norms
                r.size = len(data_)
                r.free = list(free)
        for d in state["issues"]:
            issue = _Issue(d["id"], d["slot"], d["seq"])
            issue.first, issue.last = d["first"], d["last"]
            issue.first_dt, issue.last_dt = d["first_dt"], d["last_dt"]
            issue.places = Counter(d["places"])
            issue.place_strength = d["place_strength"]
            issue.place_names = d["place_names"]
            issue.n_placed = d["n_placed"]
            issue.categories = Counter(d["categories"])
            issue.communities = Counter(d["communities"])
            issue.channels = Counter(d["channels"])
            issue.bands = tuple(d["bands"])
            issue.top_category = _mode(issue.categories)
            issue.top_community = _mode(issue.communities)
            issue.members = dict.fromkeys(d["members"])
            self._issues[issue.seq] = issue
            self._ids[issue.id] = issue
            self._set_row(issue.seq, issue.slot)
        for k, (seq, row, t, dt, places, cat, com, ch) in state["members"].items():
            self._members[k] = _Member(self._issues[seq], row, t, dt, places, cat, com, ch)
        self._tables = [{b: dict.fromkeys(s) for b, s in t.items()} for t in state["tables"]]
        self._by_place = {k: dict.fromkeys(v) for k, v in state["by_place"].items()}
        self._recent = {tuple(k): dict.fromkeys(v) for k, v in state["recent"]}
        self._heap = list(state["heap"])
        self._watermark = state["watermark"]
        self._wm_dt = state["wm_dt"]
        self._seq = state["seq"]
        self._retired = list(state["retired"])
        return self

    def fingerprint(self) -> str:
        """SHA-256 of the assignment-relevant state: equal for equal states."""
        h = hashlib.sha256()
        for issue in sorted(self._ids.values(), key=lambda i: i.seq):
            h.update(repr((issue.id, list(issue.members), issue.first, issue.last,
                           sorted(issue.places.items()), issue.bands)).encode())
            if self._sums is not None:
                h.update(self._sums.data[issue.slot].tobytes())
        h.update(repr(self._watermark).encode())
        return h.hexdigest()
