"""Matching demand items to service capacity, one week at a time.

The walking skeleton uses a greedy assignment: items in priority order, each to the
cheapest eligible service with capacity left. It is correct (never over capacity, every item
decided, every unmet item has a reason) but not optimal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

FIT_COST = {"primary": 1.0, "secondary": 2.0}


@dataclass(frozen=True)
class Demand:
    item_id: str
    community: str
    category: str
    priority: int = 0  # higher first
    order: str = ""    # tie-break, e.g. received time


@dataclass(frozen=True)
class Slot:
    service_id: str
    categories: dict[str, str]  # category -> primary | secondary
    area: frozenset[str]
    capacity: int


@dataclass(frozen=True)
class Match:
    item_id: str
    status: str              # matched | unmet
    service_id: str | None = None
    fit: str | None = None
    reason: str | None = None
    cost: float | None = None


def unmet_reason(d: Demand, slots: Sequence[Slot], other_label: str) -> str:
    if d.category == other_label:
        return "unclassified"
    serving = [s for s in slots if d.category in s.categories]
    if not serving:
        return "no_provider"
    if not any(d.community in s.area for s in serving):
        return "out_of_area"
    return "no_capacity"


def greedy_match(
    demands: Iterable[Demand], slots: Sequence[Slot], *, other_label: str = "other"
) -> list[Match]:
    """Assign each demand to the cheapest service that serves its category in its community
    and has capacity left; deterministic for the same inputs."""
    by_category: dict[str, list[Slot]] = {}
    for s in sorted(slots, key=lambda s: s.service_id):
        for cat in s.categories:
            by_category.setdefault(cat, []).append(s)
    left = {s.service_id: s.capacity for s in slots}
    out = []
    for d in sorted(demands, key=lambda d: (-d.priority, d.order, d.item_id)):
        candidates = [
            s for s in by_category.get(d.category, ())
            if d.community in s.area and left[s.service_id] > 0
        ]
        if not candidates:
            out.append(Match(d.item_id, "unmet", reason=unmet_reason(d, slots, other_label)))
            continue
        # cheapest fit first; among equals the service with most capacity left spreads load
        best = min(candidates, key=lambda s: (FIT_COST[s.categories[d.category]], -left[s.service_id], s.service_id))
        left[best.service_id] -= 1
        fit = best.categories[d.category]
        out.append(Match(d.item_id, "matched", best.service_id, fit, None, FIT_COST[fit]))
    return out
