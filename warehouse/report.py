"""The weekly matching report: one self-contained HTML file per ISO week.

Every figure comes from a named query in ``queries/`` over a read-only connection, so the
report shows exactly what a planner gets from ``minsheng query``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from minsheng.domain import District, Taxonomy
from warehouse.query import QueryResult, execute
from warehouse.resource import Warehouse
from warehouse.sql import read_sql


@dataclass
class ReportContext:
    week: str
    district: District
    taxonomy: Taxonomy


def _q(con: Any, name: str, week: str) -> QueryResult:
    return execute(con, read_sql("queries", name), {"week": week})


def _by_reason(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``unmet_by_reason`` rows summed over communities: reason × category, largest first."""
    totals: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["reason"], r["category"])
        totals[key] = totals.get(key, 0) + r["items"]
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"reason": reason, "category": category, "items": n} for (reason, category), n in ranked]


def latest_week(wh: Warehouse) -> str:
    with wh.planner() as con:
        row = con.execute("select max(week) from demand_items").fetchall()[0]
    if row[0] is None:
        raise ValueError("the warehouse has no demand items yet")
    return row[0]


def build_report(wh: Warehouse, ctx: ReportContext) -> dict[str, Any]:
    """Gather the report's tables for one week."""
    with wh.planner() as con:
        names = ctx.taxonomy.names()
        communities = {c.code: c.name for c in ctx.district.communities}
        q = {name: _q(con, name, ctx.week) for name in (
            "week_channels", "week_categories", "week_keywords", "gaps", "utilization",
            "emerging", "unmet_by_reason", "satisfaction", "survey_response",
            "quarantine_summary", "capacity_value", "fairness",
        )}
        totals = con.execute(
            "select count(*), count(*) filter (where status = 'matched'), "
            "count(*) filter (where status = 'unmet') from matches where week = $week",
            {"week": ctx.week},
        ).fetchall()[0]
    items, matched, unmet = totals
    if not items:
        raise ValueError(f"no matched demand items for week {ctx.week}")
    keywords = dict(q["week_keywords"].rows)
    paper = {i.code: i for i in ctx.district.survey.items}
    returned, valid = q["survey_response"].rows[0]
    survey_items = [dict(r, paper=round(100 * paper[r["item_code"]].positive, 1),
                         group=paper[r["item_code"]].group)
                    for r in q["satisfaction"].to_records()]
    overall = [r["positive_pct"] for r in survey_items if r["group"] == "overall"]
    return {
        "week": ctx.week,
        "district": ctx.district.name,
        "generated_at": datetime.now().strftime("%Y-%m-%d %H:%M"),
        "names": names,
        "communities": communities,
        "totals": {"items": items, "matched": matched, "unmet": unmet,
                   "unmet_share": unmet / items},
        "channels": q["week_channels"].to_records(),
        "categories": [dict(r, keywords=keywords.get(r["category"], ""))
                       for r in q["week_categories"].to_records()],
        "gaps": q["gaps"].to_records()[:15],
        "utilization": q["utilization"].to_records(),
        "emerging": q["emerging"].to_records(),
        "unmet_reasons": _by_reason(q["unmet_by_reason"].to_records()),
        "survey": {
            "issued": ctx.district.survey.issued, "returned": returned, "valid": valid,
            "valid_rate": valid / ctx.district.survey.issued if valid else 0.0,
            "items": survey_items,
            # the case study's headline figure: mean approval over the five overall dimensions
            "overall_approval": sum(overall) / len(overall) if overall else None,
        },
        "quarantine": q["quarantine_summary"].to_records(),
        "capacity_value": q["capacity_value"].to_records()[:10],
        "fairness": q["fairness"].to_records(),
    }


def render_report(data: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("warehouse", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("weekly_report.html.j2").render(**data)


def write_report(wh: Warehouse, ctx: ReportContext, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"weekly-report-{ctx.week}.html"
    path.write_text(render_report(build_report(wh, ctx)), encoding="utf-8")
    return path
