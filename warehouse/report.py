"""The weekly matching report, for people: one ISO week as HTML (charts inline as SVG), Word,
PDF, and the gap tables as Excel.

Every figure comes from a named query in ``queries/``, gathered by :func:`build_report` over
one read-only connection, so the report shows exactly what a planner gets from
``minsheng query`` and the connection can be swapped for any read-only one.

**The report fits the data.**

- *Default week*: the latest complete ISO week with demand items. A week is complete when the
  data's own clock (the latest ``received_at`` of any demand item, district wall time) has
  reached the week's Sunday. The data's clock never runs past the last week it holds, so
  "Sunday has ended" would always drop the last week of an export that ends on a Sunday
  evening (the demo's does); a record received on the Sunday says the export covers the
  week. When no week is complete (an export of a few days), the last week with data is used
  and the report says so. The wall clock plays no part: a district's past exports report the
  same whenever they are read.
- *Thin weeks*: a week with fewer than half the demand items of the median week (over the
  weeks with data) says so in one line.
- *Sections without data are left out*, each with one line saying why: the survey (no
  questionnaire in the warehouse), capacity (no supply registry loaded), matching (the week
  has not been matched), hot issues (that stage has not run).

**Hot issues.** When the warehouse has a named query ``hot_issues`` (param ``week``), its
rows are the report's hot issues, hottest first: ``title``, ``place``, ``items``,
``residents`` (distinct residents or feedback records), ``heat`` (a score, higher is
hotter), ``trend`` (items per week, a list oldest first ending at the report's week),
``status`` (e.g. 新出现 new, 上升 rising, 持续 ongoing, 回落 falling) and ``examples`` (at
most two masked texts). Without it, the section is left out with one line.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import jinja2

from minsheng.domain import UNKNOWN_COMMUNITY, District, Taxonomy, week_start
from minsheng.pii import mask_text
from warehouse.planner import QueryError
from warehouse.query import QueryResult, execute
from warehouse.resource import Warehouse
from warehouse.sql import read_sql

#: The demand chart covers at most this many weeks with data, ending at the report's week.
TREND_WEEKS = 12
#: A week with fewer items than this share of the median week is called thin.
THIN_SHARE = 0.5
#: Rows of the gap table in HTML and Word (the heat map and the .xlsx have every cell).
GAP_ROWS = 15
HOT_ISSUES = 10


@dataclass
class ReportContext:
    """What the report needs besides the warehouse. ``week`` None: the default week."""

    week: str | None
    district: District
    taxonomy: Taxonomy
    generated_at: datetime | None = None  # the clock, for tests; default now


@dataclass(frozen=True)
class WeekChoice:
    week: str
    complete: bool
    why: str  # one line


@dataclass(frozen=True)
class ReportFiles:
    """Every form of one week's report. ``pdf`` is None when no PDF engine was found;
    ``notes`` then says why, in one line each."""

    week: str
    html: Path
    docx: Path
    xlsx: Path
    pdf: Path | None
    notes: tuple[str, ...] = ()
    seconds: dict[str, float] = field(default_factory=dict)

    def paths(self) -> dict[str, Path]:
        out = {"html": self.html, "docx": self.docx, "pdf": self.pdf, "xlsx": self.xlsx}
        return {k: v for k, v in out.items() if v is not None}


# ---------------------------------------------------------------- weeks


def _sunday(week: str) -> date:
    return date.fromordinal(week_start(week).toordinal() + 6)


def choose_week(weeks: list[dict[str, Any]]) -> WeekChoice:
    """The default week from ``week_items`` rows (``week``, ``items``, ``last_received``):
    the latest complete week (the data's clock has reached its Sunday), else the last week
    with data."""
    if not weeks:
        raise ValueError("the warehouse has no demand items yet: run `minsheng process` first")
    clock = max(r["last_received"] for r in weeks)
    complete = [r["week"] for r in weeks if clock.date() >= _sunday(r["week"])]
    if complete:
        week = max(complete)
        return WeekChoice(week, True, f"the latest complete week with data (data run to "
                                      f"{clock:%Y-%m-%d %H:%M})")
    week = max(r["week"] for r in weeks)
    return WeekChoice(week, False, f"no week is complete yet (data run to {clock:%Y-%m-%d %H:%M}, "
                                   f"before {week}'s Sunday): the last week with data")


def thin_week_note(weeks: list[dict[str, Any]], week: str) -> str | None:
    """One line when ``week`` has fewer than ``THIN_SHARE`` of the median week's items."""
    counts = {r["week"]: int(r["items"]) for r in weeks}
    if len(counts) < 2 or week not in counts:
        return None
    median = statistics.median(counts.values())
    if counts[week] >= THIN_SHARE * median:
        return None
    return (f"本周数据偏少 Thin week: {counts[week]} demand items against a median of "
            f"{median:g} a week over {len(counts)} weeks with data; read its shares with care.")


# ---------------------------------------------------------------- gathering


def _q(con: Any, name: str, **params: Any) -> QueryResult:
    return execute(con, read_sql("queries", name), params)


def _by_reason(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``unmet_by_reason`` rows summed over communities: reason × category, largest first."""
    totals: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r["reason"], r["category"])
        totals[key] = totals.get(key, 0) + r["items"]
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))
    return [{"reason": reason, "category": category, "items": n} for (reason, category), n in ranked]


def _hot_issues(con: Any, week: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    try:
        sql = read_sql("queries", "hot_issues")
    except KeyError:
        return None, "热点问题 Hot issues: left out — this installation has no hot-issue stage."
    try:
        rows = execute(con, sql, {"week": week}).to_records()
    except (duckdb.CatalogException, QueryError):
        return None, "热点问题 Hot issues: left out — the hot-issue stage has not run on this warehouse."
    issues = []
    for r in rows[:HOT_ISSUES]:
        issues.append({
            "title": r["title"], "place": r.get("place") or "", "items": int(r["items"]),
            "residents": int(r["residents"]) if r.get("residents") is not None else None,
            "heat": float(r["heat"]), "trend": [int(v or 0) for v in (r.get("trend") or [])],
            "status": r.get("status") or "",
            # masked upstream; masking is idempotent, and a report never shows a number
            "examples": [mask_text(t) for t in (r.get("examples") or [])[:2]],
        })
    if not issues:
        return None, f"热点问题 Hot issues: left out — no hot issue in {week}."
    return issues, None


def _require(weeks: list[dict[str, Any]], week: str) -> None:
    if week not in {r["week"] for r in weeks}:
        known = ", ".join(r["week"] for r in weeks[-6:]) or "none"
        raise ValueError(f"no demand items in week {week} (latest weeks with data: {known})")


def check_week(wh: Warehouse, week: str | None) -> str:
    """The week a report of ``week`` would cover (None: the default week); a ``ValueError``
    saying which weeks have data when it has none. For a command to check before it runs."""
    with wh.planner() as con:
        weeks = _q(con, "week_items").to_records()
    if week is None:
        return choose_week(weeks).week
    _require(weeks, week)
    return week


def build_report(con: Any, ctx: ReportContext) -> dict[str, Any]:
    """Gather the report's tables for one week over a read-only connection ``con``."""
    weeks = _q(con, "week_items").to_records()
    if ctx.week is None:
        choice = choose_week(weeks)
    else:
        _require(weeks, ctx.week)
        clock = max(r["last_received"] for r in weeks)
        complete = clock.date() >= _sunday(ctx.week)
        choice = WeekChoice(ctx.week, complete, "as asked" if complete else
                            f"data run to {clock:%Y-%m-%d %H:%M}, before {ctx.week}'s Sunday")
    week = choice.week
    names = ctx.taxonomy.names()
    communities = {c.code: c.name for c in ctx.district.communities}
    communities.setdefault(UNKNOWN_COMMUNITY, "未定位")  # records no place could be found for
    q = {name: _q(con, name, week=week) for name in (
        "week_channels", "week_categories", "week_keywords", "gaps", "utilization",
        "emerging", "unmet_by_reason", "satisfaction", "survey_response",
        "quarantine_summary", "capacity_value", "fairness", "unplaced_share",
    )}
    trend = _q(con, "category_trend", week=week, weeks=TREND_WEEKS).to_records()
    items, matched, unmet, services = _q(con, "week_coverage", week=week).rows[0]
    has_matching = matched + unmet > 0
    has_registry = services > 0
    omitted: list[str] = []
    if not has_registry:
        omitted.append("服务利用率与供给价值 Capacity: left out — no supply registry has been "
                       "loaded (`minsheng match --supply FILE`).")
    if not has_matching:
        omitted.append(f"供需缺口 Gaps and unmet needs: left out — week {week} has not been matched "
                       f"(`minsheng match --week {week}`).")
    survey = _survey(ctx.district, q, omitted)
    hot, why_not_hot = _hot_issues(con, week)
    if why_not_hot:
        omitted.append(why_not_hot)
    keywords = dict(q["week_keywords"].rows)
    notes = []
    if not choice.complete:
        notes.append(f"本周尚未结束 Incomplete week: {choice.why}.")
    if (thin := thin_week_note(weeks, week)) is not None:
        notes.append(thin)
    trend_weeks = sorted({r["week"] for r in trend})
    return {
        "week": week,
        "week_choice": choice,
        "district": ctx.district.name,
        "generated_at": (ctx.generated_at or datetime.now()).strftime("%Y-%m-%d %H:%M"),
        "names": names,
        "communities": communities,
        "notes": notes,
        "omitted": omitted,
        "has_matching": has_matching,
        "has_registry": has_registry,
        "totals": {"items": items, "matched": matched, "unmet": unmet,
                   "unmet_share": unmet / items if items and has_matching else 0.0},
        "channels": q["week_channels"].to_records(),
        "categories": [dict(r, keywords=keywords.get(r["category"], ""))
                       for r in q["week_categories"].to_records()],
        "trend": trend,
        "trend_weeks": trend_weeks,
        "gaps": q["gaps"].to_records()[:GAP_ROWS] if has_matching else [],
        "heat": q["gaps"].to_records() if has_matching else [],
        "utilization": q["utilization"].to_records() if has_registry and has_matching else [],
        "emerging": q["emerging"].to_records(),
        "unmet_by_reason": q["unmet_by_reason"].to_records() if has_matching else [],
        "unmet_reasons": _by_reason(q["unmet_by_reason"].to_records()) if has_matching else [],
        "survey": survey,
        "hot_issues": hot,
        "quarantine": q["quarantine_summary"].to_records(),
        "placement": q["unplaced_share"].to_records(),
        "capacity_value": q["capacity_value"].to_records()[:10] if has_registry else [],
        "fairness": q["fairness"].to_records() if has_matching else [],
    }


def _survey(district: District, q: dict[str, QueryResult], omitted: list[str]) -> dict[str, Any] | None:
    design = getattr(district, "survey", None)  # optional for a district without a survey
    returned, valid = q["survey_response"].rows[0]
    if not valid:
        omitted.append("满意度调查 Satisfaction survey: left out — " + (
            "no questionnaire has been ingested (`minsheng ingest survey FILE`)." if design else
            "the district runs no survey (district.yaml has no survey block)."))
        return None
    paper = {i.code: i for i in design.items} if design else {}
    items = [dict(r, paper=round(100 * paper[r["item_code"]].positive, 1) if r["item_code"] in paper else None,
                  group=paper[r["item_code"]].group if r["item_code"] in paper else None)
             for r in q["satisfaction"].to_records()]
    overall = [r["positive_pct"] for r in items if r["group"] == "overall"]
    issued = design.issued if design else None
    return {
        "issued": issued, "returned": returned, "valid": valid,
        "valid_rate": valid / issued if issued else None,
        "items": items,
        "has_paper": any(r["paper"] is not None for r in items),
        # the case study's headline figure: mean approval over the five overall dimensions
        "overall_approval": sum(overall) / len(overall) if overall else None,
    }


# ---------------------------------------------------------------- writing


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("warehouse", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )


def render_report(data: dict[str, Any], charts: list[Any] | None = None) -> str:
    """The report as one self-contained HTML page (charts inline as SVG, no external asset)."""
    from warehouse import charts as chart_lib

    rendered = chart_lib.report_charts(data) if charts is None else charts
    sparks = [chart_lib.to_svg(chart_lib.sparkline(i["trend"]), f"spark-{n}") if i["trend"] else ""
              for n, i in enumerate(data.get("hot_issues") or [])]
    return _env().get_template("weekly_report.html.j2").render(
        **data, charts={c.name: c for c in rendered}, sparklines=sparks)


def write_report(wh: Warehouse, ctx: ReportContext, out_dir: Path, *,
                 chromium: str | None = None) -> ReportFiles:
    """Write the week's report as HTML, Word, Excel and PDF into ``out_dir``. A missing PDF
    engine leaves the PDF out (``ReportFiles.notes`` says why); the other forms are written."""
    from warehouse import charts as chart_lib
    from warehouse.export_docx import write_docx
    from warehouse.export_pdf import PdfUnavailable, html_to_pdf
    from warehouse.export_xlsx import write_xlsx

    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    with wh.planner() as con:  # the planners' sandboxed read path, as `minsheng query`
        data = build_report(con, ctx)
    seconds["gather"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    rendered = chart_lib.report_charts(data)
    seconds["charts"] = time.perf_counter() - t0
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"weekly-report-{data['week']}"
    t0 = time.perf_counter()
    html = stem.with_suffix(".html")
    html.write_text(render_report(data, rendered), encoding="utf-8")
    seconds["html"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    docx = write_docx(data, rendered, stem.with_suffix(".docx"))
    seconds["docx"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    xlsx = write_xlsx(data, stem.with_suffix(".xlsx"))
    seconds["xlsx"] = time.perf_counter() - t0
    notes: list[str] = []
    pdf: Path | None = None
    t0 = time.perf_counter()
    try:
        pdf = html_to_pdf(html, stem.with_suffix(".pdf"), chromium=chromium)
    except PdfUnavailable as exc:
        stem.with_suffix(".pdf").unlink(missing_ok=True)  # never leave an older week's PDF beside
        notes.append(f"PDF not written: {exc}")
    seconds["pdf"] = time.perf_counter() - t0
    if chart_lib.cjk_font() is None:
        notes.append("charts in the Word file may show boxes for Chinese: no CJK font found "
                     "(install Debian's fonts-noto-cjk)")
    return ReportFiles(data["week"], html, docx, xlsx, pdf, tuple(notes), seconds)
