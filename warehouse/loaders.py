"""Warehouse writes for reference data, the supply registry and matching results."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import duckdb
import pyarrow as pa

from minsheng.domain import District, Taxonomy
from minsheng.matching import Demand, Slot, greedy_match
from minsheng.supply import Registry, area_of


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], where: str = "") -> None:
    con.execute(f"delete from {table} {where}")
    if rows:
        con.register("_rows", pa.Table.from_pylist(rows))
        try:
            cols = ", ".join(rows[0])
            con.execute(f"insert into {table} ({cols}) select {cols} from _rows")
        finally:
            con.unregister("_rows")


def load_reference(con: duckdb.DuckDBPyConnection, district: District, taxonomy: Taxonomy) -> None:
    con.execute("begin transaction")
    _replace(con, "communities", [
        {"community": c.code, "name": c.name, "registered": c.registered,
         "nongzhuanfei": c.nongzhuanfei, "elderly": c.elderly, "floating": c.floating}
        for c in district.communities
    ])
    rows = [{"category": c.code, "name": c.name, "category_group": c.group, "served": c.served}
            for c in taxonomy.categories]
    rows.append({"category": taxonomy.other_code, "name": taxonomy.other["name"],
                 "category_group": "other", "served": False})
    _replace(con, "categories", rows)
    con.execute("commit")


def load_supply(
    con: duckdb.DuckDBPyConnection, registry: Registry, district: District, weeks: Sequence[str]
) -> int:
    """Replace the registry tables, and set the capacity of ``weeks`` from the registry.
    Capacity of other weeks is kept: past weeks keep the capacity they had."""
    pairs = registry.services()
    con.execute("begin transaction")
    _replace(con, "providers", [{"provider_id": p.id, "name": p.name, "kind": p.kind}
                                for p in registry.providers])
    _replace(con, "services", [
        {"service_id": s.id, "provider_id": p.id, "name": s.name, "unit": s.unit,
         "eligibility": json.dumps(s.eligibility, ensure_ascii=False)}
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
        {"service_id": s.id, "week": w, "capacity": s.capacity} for _, s in pairs for w in weeks
    ], where=f"where week in ({week_list})" if weeks else "where false")
    con.execute("commit")
    return len(pairs)


_VULNERABLE = re.compile(r"独居|孤寡|空巢|残疾|聋哑|低保户|困难户|失能|瘫痪")
_URGENT = re.compile(r"紧急|马上|立刻|尽快|急需|危险|漏水|停水|停电")


def priority_of(text: str) -> int:
    """Vulnerable groups and urgent wording go first (a rule of ours, stated in the README)."""
    return 2 * bool(_VULNERABLE.search(text)) + bool(_URGENT.search(text))


def match_week(con: duckdb.DuckDBPyConnection, week: str, *, other_label: str = "other") -> dict[str, int]:
    """(Re)match every demand item of one week against that week's capacity."""
    items = con.execute(
        "select item_id, community, category, text, received_at from demand_items where week = ?",
        [week],
    ).fetchall()
    demands = [Demand(i, c, cat, priority_of(t), str(r)) for i, c, cat, t, r in items]
    services = con.execute("""
        select c.service_id, c.capacity,
               (select list(community order by community) from service_areas a where a.service_id = c.service_id),
               (select map(list(category order by category), list(fit order by category))
                  from service_categories sc where sc.service_id = c.service_id)
        from capacity c where c.week = ? order by c.service_id
    """, [week]).fetchall()
    slots = [Slot(sid, dict(cats or {}), frozenset(area or ()), cap) for sid, cap, area, cats in services]
    results = greedy_match(demands, slots, other_label=other_label)
    by_id = {d.item_id: d for d in demands}
    rows = [
        {"item_id": m.item_id, "week": week, "community": by_id[m.item_id].community,
         "category": by_id[m.item_id].category, "status": m.status, "service_id": m.service_id,
         "fit": m.fit, "reason": m.reason, "cost": m.cost}
        for m in results
    ]
    con.execute("begin transaction")
    con.execute("delete from matches where week = ?", [week])
    if rows:
        con.register("_rows", pa.Table.from_pylist(rows))
        try:
            con.execute("insert into matches select *, now()::timestamp from _rows")
        finally:
            con.unregister("_rows")
    con.execute("commit")
    matched = sum(m.status == "matched" for m in results)
    return {"items": len(results), "matched": matched, "unmet": len(results) - matched}
