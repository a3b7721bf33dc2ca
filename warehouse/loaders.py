"""Warehouse writes for reference data, the supply registry and matching results."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Literal

import duckdb
import pyarrow as pa

from minsheng.domain import UNKNOWN_COMMUNITY, District, Taxonomy
from minsheng.matching import (
    CapacityChange,
    Demand,
    Eligibility,
    MatchConfig,
    MatchResult,
    Slot,
    WhatIf,
    match_greedy,
    match_optimal,
    what_if,
)
from minsheng.supply import Registry, area_of
from warehouse.sql import transaction


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], where: str = "") -> None:
    con.execute(f"delete from {table} {where}")
    _insert(con, table, pa.Table.from_pylist(rows))


def load_reference(con: duckdb.DuckDBPyConnection, district: District, taxonomy: Taxonomy) -> None:
    with transaction(con):
        _replace(con, "communities", [
            {"community": c.code, "name": c.name, "registered": c.registered,
             "nongzhuanfei": c.nongzhuanfei, "elderly": c.elderly, "floating": c.floating}
            for c in district.communities
        ] + [{"community": UNKNOWN_COMMUNITY, "name": "未定位", "registered": None,
              "nongzhuanfei": None, "elderly": None, "floating": None}])
        rows = [{"category": c.code, "name": c.name, "category_group": c.group, "served": c.served}
                for c in taxonomy.categories]
        rows.append({"category": taxonomy.other_code, "name": taxonomy.other["name"],
                     "category_group": "other", "served": False})
        _replace(con, "categories", rows)


def load_supply(
    con: duckdb.DuckDBPyConnection, registry: Registry, district: District, weeks: Sequence[str]
) -> int:
    """Replace the registry tables, and set the capacity of ``weeks`` from the registry (the
    snapshot in force each week). Capacity of other weeks is kept: past weeks keep the
    capacity they had."""
    pairs = registry.services()
    with transaction(con):
        _replace(con, "providers", [{"provider_id": p.id, "name": p.name, "kind": p.kind}
                                    for p in registry.providers])
        _replace(con, "services", [
            {"service_id": s.id, "provider_id": p.id, "name": s.name, "unit": s.unit,
             "eligibility": json.dumps(_eligibility_json(s.eligibility), ensure_ascii=False),
             "location": s.location or p.location, "schedule": s.schedule}
            for p, s in pairs
        ])
        _replace(con, "service_categories", [
            {"service_id": s.id, "category": cat, "fit": fit}
            for _, s in pairs for cat, fit in s.categories.items()
        ])
        _replace(con, "service_areas", [
            {"service_id": s.id, "community": c} for _, s in pairs for c in area_of(s, district)
        ])
        week_list = ", ".join(f"'{w}'" for w in weeks)
        _replace(con, "capacity", [
            {"service_id": s.id, "week": w, "capacity": cap[0], "valid_from": cap[1]}
            for _, s in pairs for w in weeks if (cap := s.capacity_in(w)) is not None
        ], where=f"where week in ({week_list})" if weeks else "where false")
    return len(pairs)


def _eligibility_json(e: Eligibility) -> dict[str, object]:
    out: dict[str, object] = {k: v for k, v in (("min_age", e.min_age), ("max_age", e.max_age)) if v is not None}
    if e.resident_types is not None:
        out["resident_types"] = sorted(e.resident_types)
    return out


def week_instance(
    con: duckdb.DuckDBPyConnection, week: str, config: MatchConfig
) -> tuple[list[Demand], list[Slot]]:
    """The demand items of one week, with the signals matching needs, and that week's slots.

    Priority, age and resident type are read from the masked text by the configured patterns
    (and the resident type from the survey's respondent type); the text itself stays in the
    warehouse. Where the text stage has judged an item urgent, that judgement is used.
    """
    vulnerable = sorted(config.priority.vulnerable)
    residents = sorted(config.resident_types.patterns)
    params: dict[str, object] = {
        "week": week, "urgent": config.priority.urgent.pattern, "age": config.age_pattern,
        "survey_types": config.resident_types.survey_types,
        **{f"v{k}": config.priority.vulnerable[g].pattern for k, g in enumerate(vulnerable)},
        **{f"r{k}": config.resident_types.patterns[t] for k, t in enumerate(residents)},
        **{f"rt{k}": t for k, t in enumerate(residents)},
    }
    has_urgent = con.execute(
        "select count(*) from information_schema.columns "
        "where table_name = 'demand_items' and column_name = 'urgent'"
    ).fetchone()[0]
    urgent = "coalesce(d.urgent, regexp_matches(d.text, $urgent))" if has_urgent else "regexp_matches(d.text, $urgent)"
    flags = "".join(f", regexp_matches(d.text, $v{k})" for k in range(len(vulnerable)))
    by_text = "".join(f" when regexp_matches(d.text, $r{k}) then $rt{k}" for k in range(len(residents)))
    rows = con.execute(f"""
        select d.item_id, d.community, d.category, strftime(d.received_at, '%Y-%m-%dT%H:%M:%S'),
               try_cast(nullif(regexp_extract(d.text, $age, 1), '') as integer),
               case when list_contains($survey_types, s.respondent_type) then s.respondent_type
                    {by_text} end,
               {urgent}{flags}
        from demand_items as d
        left join raw_survey as s on d.channel = 'survey' and d.feedback_id = 'survey:' || s.response_id
        where d.week = $week
    """, params).fetchall()
    classes: dict[tuple[bool, ...], tuple[str, float]] = {}
    demands = []
    for item_id, community, category, order, age, resident, *hits in rows:
        key = tuple(bool(h) for h in hits)
        if key not in classes:
            classes[key] = config.priority.classify(key[0], [g for g, h in zip(vulnerable, key[1:]) if h])
        label, weight = classes[key]
        demands.append(Demand(item_id, community, category, label, weight, age, resident, order))
    services = con.execute("""
        select c.service_id, c.capacity, s.location, s.eligibility,
               (select list(community order by community) from service_areas a where a.service_id = c.service_id),
               (select map(list(category order by category), list(fit order by category))
                  from service_categories sc where sc.service_id = c.service_id)
        from capacity as c
        join services as s using (service_id)
        where c.week = ?
        order by c.service_id
    """, [week]).fetchall()
    slots = [Slot(sid, dict(cats or {}), frozenset(area or ()), cap, loc,
                  Eligibility(**json.loads(elig or "{}")))
             for sid, cap, loc, elig, area, cats in services]
    return demands, slots


def match_week(
    con: duckdb.DuckDBPyConnection, week: str, config: MatchConfig, *, other_label: str = "other",
    solver: Literal["min_cost_flow", "greedy"] = "min_cost_flow",
) -> MatchResult:
    """(Re)match every demand item of one week against that week's capacity, and write the
    matches, the run, each community's fairness standing and the value of more capacity, in
    one transaction. ``greedy`` is the baseline the benchmark compares against."""
    started = time.perf_counter()
    demands, slots = week_instance(con, week, config)
    costs = config.cost_model()
    result = (match_optimal(demands, slots, costs, other_label=other_label) if solver == "min_cost_flow"
              else match_greedy(demands, slots, costs, other_label=other_label))
    ms = result.matches
    matches = pa.table({
        "item_id": [m.item_id for m in ms],
        "week": pa.array([week] * len(ms), pa.string()),
        "community": [d.community for d in demands],
        "category": [d.category for d in demands],
        "status": [m.status for m in ms],
        "service_id": pa.array([m.service_id for m in ms], pa.string()),
        "fit": pa.array([m.fit for m in ms], pa.string()),
        "reason": pa.array([m.reason for m in ms], pa.string()),
        "cost": pa.array([m.cost for m in ms], pa.float64()),
        "fit_cost": pa.array([m.fit_cost for m in ms], pa.float64()),
        "travel_cost": pa.array([m.travel_cost for m in ms], pa.float64()),
        "unmet_cost": pa.array([m.unmet_cost for m in ms], pa.float64()),
        "priority": [m.priority for m in ms],
        "weight": pa.array([m.weight for m in ms], pa.float64()),
    })
    o = result.objective
    with transaction(con):
        for table in ("matches", "match_runs", "match_fairness", "capacity_values"):
            con.execute(f"delete from {table} where week = ?", [week])
        _insert(con, "matches", matches, "matched_at")
        _insert(con, "match_fairness", pa.Table.from_pylist([
            {"week": week, "community": f.community, "servable": f.servable, "unmet": f.unmet,
             "unmet_share": f.unmet_share, "district_share": f.district_share, "margin": f.margin,
             "exceeds": f.exceeds, "why": f.why} for f in result.fairness
        ]))
        _insert(con, "capacity_values", pa.Table.from_pylist([
            {"week": week, "service_id": v.service_id, "value": v.value, "waiting": v.waiting,
             "community": v.community, "category": v.category} for v in result.capacity_values
        ]))
        _insert(con, "match_runs", pa.Table.from_pylist([{
            "week": week, "solver": solver, "items": len(ms), "matched": o.matched, "unmet": o.unmet,
            "match_cost": o.match_cost, "unmet_cost": o.unmet_cost, "objective": o.total,
            "excess_items": o.excess_items, "fairness_margin": costs.fairness_margin,
            "groups": result.stats["groups"], "seconds": round(time.perf_counter() - started, 3),
        }]), "matched_at")
    return result


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table, stamp: str | None = None) -> None:
    """Insert an Arrow table by column name; ``stamp`` names a timestamp column set to now."""
    if not rows.num_rows:
        return
    con.register("_rows", rows)
    try:
        cols = ", ".join(rows.column_names)
        if stamp:
            con.execute(f"insert into {table} ({cols}, {stamp}) select {cols}, now()::timestamp from _rows")
        else:
            con.execute(f"insert into {table} ({cols}) select {cols} from _rows")
    finally:
        con.unregister("_rows")


def what_if_week(
    con: duckdb.DuckDBPyConnection, week: str, changes: Sequence[CapacityChange], config: MatchConfig,
    *, other_label: str = "other",
) -> WhatIf:
    """The week solved as it is and with ``changes``; reads only."""
    demands, slots = week_instance(con, week, config)
    return what_if(demands, slots, changes, config.cost_model(), other_label=other_label)
