"""Matching demand items to service capacity, one ISO week at a time.

The optimiser, :func:`match_optimal`, solves a min-cost flow (OR-Tools) over demand groups:
the items of one community, category, priority class and eligibility profile are
interchangeable, so the network stays small at any volume; each group's places are then
handed to its items in arrival order. The network::

    group --fit + travel cost--> service --weekly capacity--> sink
    group --unmet cost x priority weight--> community --up to its fairness target--> sink
                                                      --above the target, excess cost--> sink

Every cost is rounded to hundredths and solved as an integer, so the components recorded on
each match add up to the objective exactly. The unmet cost must exceed the dearest match, so
an item stays unmet only when every service that could take it is full.

Fairness (ours): a community's unmet share is measured over the items that some service could
take (right category, area and eligibility); items nothing could take are unmet whatever the
solver does. A first solve gives the district's share; if a community exceeds it by more
than the margin, its unmet items above ``share + margin`` cost ``excess`` more each and the
network is solved again. A community still above is reported with the reason.

The value of one more unit of capacity is read off the optimal flow: the cheapest cycle
through the service's arc to the sink in the residual network (a shortest path, scipy),
which is what re-solving with that capacity plus one would save.

:func:`match_greedy` is the skeleton's greedy assignment, kept as the baseline that the
benchmark and the tests measure the optimiser against.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass

REASONS = ("unclassified", "no_provider", "out_of_area", "ineligible", "no_capacity")  # why unmet
_SCALE = 100  # costs are solved in hundredths


def _cents(x: float) -> int:
    return round(x * _SCALE)


@pydantic_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Eligibility:
    """Who a service may take (HSDS eligibility). What an item does not reveal does not
    exclude it: the service checks at intake. Only known attributes rule an item out."""

    min_age: int | None = Field(default=None, ge=0)
    max_age: int | None = Field(default=None, ge=0)
    resident_types: frozenset[str] | None = None

    def admits(self, age: int | None, resident_type: str | None) -> bool:
        if age is not None:
            if self.min_age is not None and age < self.min_age:
                return False
            if self.max_age is not None and age > self.max_age:
                return False
        return resident_type is None or self.resident_types is None or resident_type in self.resident_types


ANYONE = Eligibility()


@dataclass(frozen=True, slots=True)
class Demand:
    item_id: str
    community: str
    category: str
    priority: str = "normal"      # class label, e.g. "elderly_alone+urgent"
    weight: float = 1.0           # multiplies the cost of leaving the item unmet
    age: int | None = None
    resident_type: str | None = None
    order: str = ""               # arrival, e.g. received time: first come, first served


@dataclass(frozen=True)
class Slot:
    """One service's capacity in one week."""

    service_id: str
    categories: Mapping[str, str]  # category -> primary | secondary
    area: frozenset[str]
    capacity: int
    location: str | None = None    # community it is delivered from; None: at home, window or phone
    eligibility: Eligibility = ANYONE


@dataclass(frozen=True, slots=True)
class Match:
    """The decision for one item, with its cost components: fit and travel for a match, the
    weighted unmet cost otherwise. ``cost`` is their sum."""

    item_id: str
    status: str                    # matched | unmet
    service_id: str | None = None
    fit: str | None = None
    reason: str | None = None
    cost: float = 0.0
    fit_cost: float | None = None
    travel_cost: float | None = None
    unmet_cost: float | None = None
    priority: str = "normal"
    weight: float = 1.0


@dataclass(frozen=True)
class CostModel:
    """Costs of one solve, in objective units (hundredths are kept, finer is rounded)."""

    fit: Mapping[str, float] = field(default_factory=lambda: {"primary": 1.0, "secondary": 2.0})
    unmet: float = 10.0
    travel: Mapping[tuple[str, str], float] = field(default_factory=dict)  # (item's, service's community)
    fairness_margin: float | None = None
    excess: float = 100.0

    def __post_init__(self) -> None:
        dearest = max(self.fit.values()) + max(self.travel.values(), default=0.0)
        if self.unmet <= dearest:
            raise ValueError(f"the unmet cost {self.unmet} must exceed the dearest match ({dearest}): "
                             "otherwise leaving an item unmet could be cheaper than serving it")

    def match_cents(self, community: str, category: str, slot: Slot) -> tuple[str, int, int]:
        fit = slot.categories[category]
        travel = self.travel.get((community, slot.location), 0.0) if slot.location else 0.0
        return fit, _cents(self.fit[fit]), _cents(travel)

    def unmet_cents(self, weight: float) -> int:
        return _cents(self.unmet * weight)


@dataclass(frozen=True)
class Objective:
    matched: int
    unmet: int
    match_cost: float
    unmet_cost: float
    excess_items: int = 0          # unmet items above their community's fairness target

    @property
    def total(self) -> float:
        return round(self.match_cost + self.unmet_cost, 2)


@dataclass(frozen=True)
class FairnessRow:
    """One community's unmet share among the items some service could take."""

    community: str
    servable: int
    unmet: int
    unmet_share: float
    district_share: float
    margin: float | None
    exceeds: bool
    why: str | None = None


@dataclass(frozen=True)
class CapacityValue:
    """What one more unit of a service's capacity would save, and whom it would serve first."""

    service_id: str
    value: float
    waiting: int = 0               # unmet items that the service could take
    community: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class MatchResult:
    matches: list[Match]           # in the order of the demands given
    objective: Objective
    fairness: list[FairnessRow]
    capacity_values: list[CapacityValue] = field(default_factory=list)
    stats: Mapping[str, int] = field(default_factory=dict)


# --- the instance: groups of interchangeable items and the services each may use ----------


@dataclass
class _Group:
    key: tuple                                # community, category, priority, weight, eligibility profile
    community: str
    category: str
    priority: str
    weight: float
    items: list[int]                          # demand indices, in arrival order
    arcs: list[tuple[int, str, int, int]]     # (slot index, fit, fit cents, travel cents), cheapest first
    reason: str | None                        # why no service could take it; None if some could
    unmet_cents: int


class _Instance:
    def __init__(self, demands: Sequence[Demand], slots: Iterable[Slot], costs: CostModel,
                 other_label: str) -> None:
        self.demands = demands
        self.slots = sorted(slots, key=lambda s: s.service_id)
        ids = [s.service_id for s in self.slots]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate service id among the slots")
        self.costs = costs
        rules = sorted({s.eligibility for s in self.slots}, key=repr)
        rule_of = [rules.index(s.eligibility) for s in self.slots]
        serving: dict[str, list[int]] = {}
        for j, s in enumerate(self.slots):
            for cat in s.categories:
                serving.setdefault(cat, []).append(j)
        profiles: dict[tuple[int | None, str | None], tuple[bool, ...]] = {}
        buckets: dict[tuple, list[int]] = {}
        for i in sorted(range(len(demands)), key=lambda i: (demands[i].order, demands[i].item_id)):
            d = demands[i]
            profile = (d.age, d.resident_type)
            admitted = profiles.get(profile)
            if admitted is None:
                admitted = profiles[profile] = tuple(r.admits(*profile) for r in rules)
            buckets.setdefault((d.community, d.category, d.priority, d.weight, admitted), []).append(i)
        self.groups = []
        for key, items in sorted(buckets.items()):
            community, category, priority, weight, admitted = key
            offered = serving.get(category, [])
            local = [j for j in offered if community in self.slots[j].area]
            allowed = [j for j in local if admitted[rule_of[j]]]
            reason = ("unclassified" if category == other_label else "no_provider" if not offered
                      else "out_of_area" if not local else "ineligible" if not allowed else None)
            arcs = sorted(((j, *costs.match_cents(community, category, self.slots[j])) for j in allowed),
                          key=lambda a: (a[2] + a[3], self.slots[a[0]].service_id))
            self.groups.append(_Group(key, community, category, priority, weight, items, arcs, reason,
                                      costs.unmet_cents(weight)))

    def match(self, i: int, j: int, fit: str, fit_c: int, travel_c: int) -> Match:
        d = self.demands[i]
        return Match(d.item_id, "matched", self.slots[j].service_id, fit, None,
                     (fit_c + travel_c) / _SCALE, fit_c / _SCALE, travel_c / _SCALE, None,
                     d.priority, d.weight)

    def unmet(self, i: int, g: _Group) -> Match:
        d = self.demands[i]
        return Match(d.item_id, "unmet", reason=g.reason or "no_capacity", cost=g.unmet_cents / _SCALE,
                     unmet_cost=g.unmet_cents / _SCALE, priority=d.priority, weight=d.weight)


def _summarise(inst: _Instance, matches: list[Match],
               excess_items: int = 0) -> tuple[Objective, list[FairnessRow]]:
    """The objective of an assignment, and each community's share of unmet servable items."""
    match_c = sum(_cents(m.cost) for m in matches if m.status == "matched")
    unmet_c = sum(_cents(m.cost) for m in matches if m.status == "unmet")
    n_matched = sum(m.status == "matched" for m in matches)
    objective = Objective(n_matched, len(matches) - n_matched, match_c / _SCALE, unmet_c / _SCALE,
                          excess_items)
    servable: Counter[str] = Counter()
    unmet: Counter[str] = Counter()
    short: dict[str, Counter[int]] = {}  # community -> group index -> unmet items
    for gi, g in enumerate(inst.groups):
        if g.reason:
            continue
        servable[g.community] += len(g.items)
        n = sum(matches[i].status == "unmet" for i in g.items)
        unmet[g.community] += n
        if n:
            short.setdefault(g.community, Counter())[gi] = n
    total = sum(servable.values())
    district = sum(unmet.values()) / total if total else 0.0
    margin = inst.costs.fairness_margin
    rows = []
    for c in sorted(servable):
        share = unmet[c] / servable[c]
        exceeds = margin is not None and share > district + margin + 1e-9
        rows.append(FairnessRow(c, servable[c], unmet[c], round(share, 4), round(district, 4), margin,
                                exceeds, _why(inst, short[c]) if exceeds else None))
    return objective, rows


def _why(inst: _Instance, short: Counter[int]) -> str:
    """Why a community stays above the fairness target: its unmet items per category, and the
    services that could take them (all full, or the solver would have used them)."""
    per_category: Counter[str] = Counter()
    reachable: dict[str, set[int]] = {}
    for gi, n in short.items():
        g = inst.groups[gi]
        per_category[g.category] += n
        reachable.setdefault(g.category, set()).update(a[0] for a in g.arcs)
    community = frozenset({inst.groups[next(iter(short))].community})
    parts = []
    for category, n in sorted(per_category.items(), key=lambda kv: (-kv[1], kv[0])):
        slots = sorted(reachable[category])  # slots are in service id order
        names = [inst.slots[j].service_id for j in slots]
        local = all(inst.slots[j].area == community for j in slots)
        shared = "only local services" if local else "services shared with other communities"
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        parts.append(f"{category}: {n} unmet; {shared}, all full ({listed})")
    return "; ".join(parts)


# --- the optimiser ------------------------------------------------------------------------


_Kept = Mapping[tuple[tuple, str | None], int]  # (group key, service id or None for unmet) -> items


class _Network:
    """The min-cost flow network of an instance's servable groups.

    With ``keep`` (a baseline's flows), every cost is scaled so that, among the solutions of
    least cost, the one that keeps most of the baseline wins: what-if answers then show what
    the change causes, not a switch between equally good solutions.
    """

    def __init__(self, inst: _Instance, keep: _Kept | None = None) -> None:
        from ortools.graph.python import min_cost_flow

        self.inst = inst
        self.groups = [gi for gi, g in enumerate(inst.groups) if not g.reason]
        self.communities = sorted({inst.groups[gi].community for gi in self.groups})
        n_g, n_s = len(self.groups), len(inst.slots)
        self.slot_node = n_g
        community_node = {c: n_g + n_s + k for k, c in enumerate(self.communities)}
        self.sink = n_g + n_s + len(self.communities)
        self.unit = 1 + sum(len(inst.groups[gi].items) for gi in self.groups) if keep else 1
        tails: list[int] = []
        heads: list[int] = []
        caps: list[int] = []
        costs: list[int] = []

        def arc(t: int, h: int, cap: int, cost: int, kept: int = 0) -> list[int]:
            out = []
            parts = [(cost * self.unit - 1, kept)] if kept else []  # the baseline's share, a little cheaper
            for c, n in [*parts, (cost * self.unit, cap)]:
                tails.append(t)
                heads.append(h)
                caps.append(n)
                costs.append(c)
                out.append(len(tails) - 1)
            return out

        self.group_arcs: list[list[list[int]]] = []  # per group: arcs to each service, then unmet
        self.servable: Counter[str] = Counter()
        keep = keep or {}
        for node, gi in enumerate(self.groups):
            g = inst.groups[gi]
            n = len(g.items)
            self.servable[g.community] += n
            self.group_arcs.append([
                arc(node, n_g + j, n, f + t, keep.get((g.key, inst.slots[j].service_id), 0))
                for j, _, f, t in g.arcs])
            self.group_arcs[-1].append(arc(node, community_node[g.community], n, g.unmet_cents,
                                           keep.get((g.key, None), 0)))
        for j, s in enumerate(inst.slots):
            arc(n_g + j, self.sink, s.capacity, 0)
        self.target_arcs = {c: arc(community_node[c], self.sink, self.servable[c], 0)[0]
                            for c in self.communities}
        excess = _cents(inst.costs.excess)
        self.excess_arcs = {c: arc(community_node[c], self.sink, self.servable[c], excess)[0]
                            for c in self.communities} if inst.costs.fairness_margin is not None else {}
        self.tails, self.heads = np.array(tails, np.int64), np.array(heads, np.int64)
        self.caps, self.costs = np.array(caps, np.int64), np.array(costs, np.int64)
        self.flow = min_cost_flow.SimpleMinCostFlow()
        self.flow.add_arcs_with_capacity_and_unit_cost(self.tails, self.heads, self.caps, self.costs)
        supplies = [len(inst.groups[gi].items) for gi in self.groups]
        self.flow.set_nodes_supplies(np.arange(self.sink + 1, dtype=np.int64),
                                     np.array([*supplies, *[0] * (n_s + len(self.communities)),
                                               -sum(supplies)], np.int64))
        self.solves = 0

    def solve(self) -> np.ndarray:
        status = self.flow.solve()
        if status != self.flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow did not solve: status {status}")
        self.solves += 1
        return self.flow.flows(np.arange(len(self.tails), dtype=np.int64))

    def unmet_by_community(self, flows: np.ndarray) -> dict[str, int]:
        return {c: int(flows[a]) + (int(flows[self.excess_arcs[c]]) if self.excess_arcs else 0)
                for c, a in self.target_arcs.items()}

    def set_targets(self, targets: Mapping[str, int]) -> None:
        for c, a in self.target_arcs.items():
            self.flow.set_arc_capacity(a, targets[c])
            self.caps[a] = targets[c]

    def marginal_values(self, flows: np.ndarray) -> list[CapacityValue]:
        """Saving from one more unit at each service: minus the shortest path from the sink
        back to the service in the residual network, if negative."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import shortest_path

        fwd = flows < self.caps
        back = flows > 0
        u = np.concatenate([self.tails[fwd], self.heads[back]])
        v = np.concatenate([self.heads[fwd], self.tails[back]])
        w = np.concatenate([self.costs[fwd], -self.costs[back]]).astype(float)
        # parallel arcs (a community's target and excess arcs): keep the cheapest
        order = np.lexsort((w, v, u))
        u, v, w = u[order], v[order], w[order]
        first = np.ones(len(u), bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        n = self.sink + 1
        # explicit zero-cost arcs are arcs for csgraph, as long as they stay stored
        graph = csr_matrix((w[first], (u[first], v[first])), shape=(n, n))
        dist, pred = shortest_path(graph, method="J", directed=True, indices=self.sink,
                                   return_predecessors=True)
        waiting = Counter[int]()
        for node, gi in enumerate(self.groups):
            for j, *_ in self.inst.groups[gi].arcs:
                waiting[j] += int(flows[self.group_arcs[node][-1]].sum())
        out = []
        for j, s in enumerate(self.inst.slots):
            node = self.slot_node + j
            saving = -dist[node]
            if not np.isfinite(saving) or saving <= 0:
                out.append(CapacityValue(s.service_id, 0.0, waiting[j]))
                continue
            group = self._first_served(pred, node)
            g = self.inst.groups[self.groups[group]] if group is not None else None
            out.append(CapacityValue(s.service_id, round(saving / _SCALE, 2), waiting[j],
                                     g.community if g else None, g.category if g else None))
        return out

    def _first_served(self, pred: np.ndarray, node: int) -> int | None:
        """The group whose unmet item the extra unit ends up serving: on the path from the sink,
        the group reached right after its community node."""
        path = [node]
        while path[-1] != self.sink and pred[path[-1]] >= 0:
            path.append(int(pred[path[-1]]))
        first_community = self.slot_node + len(self.inst.slots)
        for a, b in zip(path, path[1:]):  # walking back: b precedes a
            if first_community <= b < self.sink and a < self.slot_node:
                return a
        return None


def match_optimal(demands: Sequence[Demand], slots: Iterable[Slot], costs: CostModel = CostModel(),
                  *, other_label: str = "other", capacity_values: bool = True) -> MatchResult:
    """Assign items to services at least total cost (fit, travel, weighted unmet cost), within
    capacity, area and eligibility, and within the fairness margin where capacity allows.
    Deterministic: the same demands and slots, in any order, give the same matches."""
    return _optimise(_Instance(demands, slots, costs, other_label), capacity_values=capacity_values)[0]


def _optimise(inst: _Instance, *, keep: _Kept | None = None,
              capacity_values: bool = False) -> tuple[MatchResult, dict[tuple[tuple, str | None], int]]:
    """Solve an instance; also returns its flows, for a later solve to ``keep``."""
    net = _Network(inst, keep)
    flows = net.solve()
    excess = 0
    margin = inst.costs.fairness_margin
    if margin is not None and net.servable:
        unmet = net.unmet_by_community(flows)
        share = sum(unmet.values()) / sum(net.servable.values())
        limit = {c: int(net.servable[c] * (share + margin) + 1e-9) for c in net.communities}
        if any(unmet[c] > limit[c] for c in net.communities):
            net.set_targets(limit)
            flows = net.solve()
            excess = sum(int(flows[a]) for a in net.excess_arcs.values())
    matches: list[Match | None] = [None] * len(inst.demands)
    kept: dict[tuple[tuple, str | None], int] = {}
    for node, gi in enumerate(net.groups):
        g = inst.groups[gi]
        pos = 0
        for arcs, (j, fit, f, t) in zip(net.group_arcs[node], g.arcs):
            n = int(flows[arcs].sum())
            for i in g.items[pos:pos + n]:
                matches[i] = inst.match(i, j, fit, f, t)
            pos += n
            kept[g.key, inst.slots[j].service_id] = n
        for i in g.items[pos:]:
            matches[i] = inst.unmet(i, g)
        kept[g.key, None] = len(g.items) - pos
    for g in inst.groups:
        if g.reason:
            for i in g.items:
                matches[i] = inst.unmet(i, g)
    done: list[Match] = matches  # type: ignore[assignment]  # every index is set above
    objective, fairness = _summarise(inst, done, excess)
    values = net.marginal_values(flows) if capacity_values and keep is None else []
    stats = {"groups": len(inst.groups), "arcs": len(net.tails), "solves": net.solves}
    return MatchResult(done, objective, fairness, values, stats), kept


def match_greedy(demands: Sequence[Demand], slots: Iterable[Slot], costs: CostModel = CostModel(),
                 *, other_label: str = "other") -> MatchResult:
    """The baseline: items by priority weight, then arrival; each takes the cheapest service
    with a place left (among equals, the one with most places left)."""
    inst = _Instance(demands, slots, costs, other_label)
    left = [s.capacity for s in inst.slots]
    matches: list[Match | None] = [None] * len(demands)
    queue = sorted(((i, g) for g in inst.groups for i in g.items),
                   key=lambda x: (-x[1].weight, demands[x[0]].order, demands[x[0]].item_id))
    for i, g in queue:
        open_ = [a for a in g.arcs if left[a[0]] > 0]
        if not open_:
            matches[i] = inst.unmet(i, g)
            continue
        j, fit, f, t = min(open_, key=lambda a: (a[2] + a[3], -left[a[0]], inst.slots[a[0]].service_id))
        left[j] -= 1
        matches[i] = inst.match(i, j, fit, f, t)
    done: list[Match] = matches  # type: ignore[assignment]
    objective, fairness = _summarise(inst, done)
    return MatchResult(done, objective, fairness, [], {"groups": len(inst.groups)})


# --- what if --------------------------------------------------------------------------------

_CHANGE = re.compile(r"(?P<service>[^@:\s]+)(?:@(?P<community>[^:\s]+))?:(?P<op>[-+=])(?P<amount>\d+)")


@dataclass(frozen=True)
class CapacityChange:
    """``SERVICE:+20``, ``SERVICE:-5``, ``SERVICE:=30``; ``SERVICE@C03:+20`` is a new site of the
    service that serves C03 only, from C03."""

    service_id: str
    op: Literal["+", "-", "="]
    amount: int
    community: str | None = None

    @classmethod
    def parse(cls, spec: str) -> CapacityChange:
        m = _CHANGE.fullmatch(spec.strip())
        if not m or (m["community"] and m["op"] != "+"):
            raise ValueError(f"cannot read capacity change {spec!r}: write SERVICE:+N, SERVICE:-N, "
                             "SERVICE:=N or SERVICE@COMMUNITY:+N")
        return cls(m["service"], m["op"], int(m["amount"]), m["community"])  # type: ignore[arg-type]


def apply_changes(slots: Iterable[Slot], changes: Iterable[CapacityChange]) -> list[Slot]:
    out = {s.service_id: s for s in slots}
    for c in changes:
        s = out.get(c.service_id)
        if s is None:
            raise KeyError(f"no service {c.service_id!r} has capacity this week")
        if c.community:
            if c.amount:
                site = Slot(f"{s.service_id}@{c.community}", s.categories, frozenset({c.community}),
                            c.amount, c.community, s.eligibility)
                out[site.service_id] = site
            continue
        capacity = {"+": s.capacity + c.amount, "-": max(0, s.capacity - c.amount), "=": c.amount}[c.op]
        out[s.service_id] = Slot(s.service_id, s.categories, s.area, capacity, s.location, s.eligibility)
    return list(out.values())


@dataclass(frozen=True)
class CellChange:
    community: str
    category: str
    matched_before: int
    matched_after: int
    unmet_before: int
    unmet_after: int


@dataclass(frozen=True)
class WhatIf:
    before: Objective
    after: Objective
    cells: list[CellChange]  # community x category cells whose matched or unmet count changed


def what_if(demands: Sequence[Demand], slots: Sequence[Slot], changes: Iterable[CapacityChange],
            costs: CostModel = CostModel(), *, other_label: str = "other") -> WhatIf:
    """Solve the week as it is and with the capacity changes; compare per community x category.
    Among equally good answers with the changes, the one closest to the week as it is wins."""
    before, kept = _optimise(_Instance(demands, slots, costs, other_label))
    after, _ = _optimise(_Instance(demands, apply_changes(slots, changes), costs, other_label), keep=kept)

    def tally(result: MatchResult) -> Counter[tuple[str, str, str]]:
        return Counter((d.community, d.category, m.status) for d, m in zip(demands, result.matches))

    b, a = tally(before), tally(after)
    cells = sorted({(c, k) for c, k, _ in b})
    rows = [CellChange(c, k, b[c, k, "matched"], a[c, k, "matched"], b[c, k, "unmet"], a[c, k, "unmet"])
            for c, k in cells]
    changed = [r for r in rows if (r.matched_before, r.unmet_before) != (r.matched_after, r.unmet_after)]
    return WhatIf(before.objective, after.objective, changed)


# --- configuration: configs/matching.yaml ------------------------------------------------------


class PriorityRule(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = Field(ge=1)
    pattern: str  # over the masked text; RE2 syntax, which the warehouse evaluates


class PriorityConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    urgent: PriorityRule
    vulnerable: dict[str, PriorityRule]

    def classify(self, urgent: bool, groups: Iterable[str]) -> tuple[str, float]:
        """Label and weight of an item: its weightiest vulnerable group, times urgency."""
        found = sorted(groups, key=lambda g: (-self.vulnerable[g].weight, g))
        label = "+".join([*found[:1], *(["urgent"] if urgent else [])]) or "normal"
        weight = (self.vulnerable[found[0]].weight if found else 1.0) * (self.urgent.weight if urgent else 1.0)
        return label, weight


class FairnessConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    margin: float | None = Field(default=0.10, ge=0)
    excess_cost: float = Field(default=100.0, gt=0)


class ResidentSignals(BaseModel):
    """How an item's resident type is known: the survey's respondent type where it names one,
    else wording in the text."""

    model_config = ConfigDict(extra="forbid")
    survey_types: list[str] = Field(default_factory=list)
    patterns: dict[str, str] = Field(default_factory=dict)  # resident type -> pattern


class MatchConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fit_cost: dict[Literal["primary", "secondary"], float]
    unmet_cost: float = Field(gt=0)
    travel_cost_per_hop: float = Field(ge=0)
    adjacency: dict[str, list[str]] = Field(default_factory=dict)  # optional: none, no travel cost
    priority: PriorityConfig
    fairness: FairnessConfig = Field(default_factory=FairnessConfig)
    age_pattern: str = r"(\d{1,3})岁"
    resident_types: ResidentSignals = Field(default_factory=ResidentSignals)
    #: what the config leaves out and what that means (said once per run by its users)
    notes: list[str] = Field(default_factory=list, exclude=True)

    @model_validator(mode="after")
    def _patterns_compile(self) -> MatchConfig:
        for pattern in [self.age_pattern, self.priority.urgent.pattern,
                        *(r.pattern for r in self.priority.vulnerable.values()),
                        *self.resident_types.patterns.values()]:
            re.compile(pattern)
        return self

    def hops(self) -> dict[tuple[str, str], int]:
        """Steps between communities over the adjacency table."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import shortest_path

        names = sorted({*self.adjacency, *(n for ns in self.adjacency.values() for n in ns)})
        index = {c: k for k, c in enumerate(names)}
        pairs = [(index[a], index[b]) for a, ns in self.adjacency.items() for b in ns]
        rows, cols = zip(*pairs) if pairs else ((), ())
        graph = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(names), len(names)))
        dist = shortest_path(graph, directed=False, unweighted=True)
        return {(a, b): int(dist[index[a], index[b]]) for a in names for b in names
                if np.isfinite(dist[index[a], index[b]])}

    def cost_model(self) -> CostModel:
        travel = {pair: self.travel_cost_per_hop * h for pair, h in self.hops().items() if h}
        return CostModel(dict(self.fit_cost), self.unmet_cost, travel, self.fairness.margin,
                         self.fairness.excess_cost)


class MatchConfigError(ValueError):
    pass


def load_match_config(path: Path, communities: Sequence[str]) -> MatchConfig:
    """Read ``matching.yaml``. The adjacency table is optional: travel between communities it
    does not connect costs nothing (said in ``notes``); a community it names that the district
    does not have is an error. The unmet cost must exceed the dearest match."""
    try:
        config = MatchConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise MatchConfigError(f"cannot read matching config {path}: {exc.strerror}") from exc
    except (ValidationError, re.error) as exc:
        raise MatchConfigError(f"{path.name}: {' '.join(str(exc).split())}") from exc
    named = {*config.adjacency, *(n for ns in config.adjacency.values() for n in ns)}
    if unknown := sorted(named - set(communities)):
        raise MatchConfigError(f"{path.name}: adjacency names communities the district does not have: "
                               f"{', '.join(unknown)} (district.yaml lists {', '.join(communities)})")
    if not named:
        config.notes.append(f"{path.name} has no adjacency table: travel between communities costs nothing")
    elif missing := sorted(set(communities) - named):
        config.notes.append(f"{path.name}: adjacency leaves out {', '.join(missing)}: travel to and from "
                            "them costs nothing")
    elif len(config.hops()) != len(named) ** 2:
        config.notes.append(f"{path.name}: the adjacency table does not connect every community: travel "
                            "between unconnected ones costs nothing")
    try:
        config.cost_model()
    except ValueError as exc:
        raise MatchConfigError(f"{path.name}: {exc}") from exc
    return config
