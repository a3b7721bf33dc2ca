"""The weekly report's tables as an Excel workbook (openpyxl): one sheet per table, the header
row frozen and filtered, columns sized to their content, numbers stored as numbers (shares
as numbers formatted as percentages), so a planner can sort, sum and chart them."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

PERCENT = "0.0%"
DECIMAL = "0.0"
HEADER_FILL = PatternFill("solid", fgColor="F4F4F4")


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Mapping[str, Any]], Any]
    number_format: str | None = None


@dataclass(frozen=True)
class Sheet:
    title: str  # at most 31 characters (Excel's limit)
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]


def _key(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda r: r.get(name)


def report_sheets(data: Mapping[str, Any]) -> list[Sheet]:
    """The tables of a report (``warehouse.report.build_report``) that have rows."""
    names, comms = data["names"], data["communities"]
    community = [
        Column("社区 community", _key("community")),
        Column("社区名 name", lambda r: comms.get(r["community"], "")),
    ]
    category = [
        Column("类别 category", _key("category")),
        Column("类别名 name", lambda r: names.get(r["category"], r["category"])),
    ]
    sheets = [
        Sheet(
            "缺口 gaps",
            [
                *community,
                *category,
                Column("需求 demand", _key("demand")),
                Column("名义供给 capacity", _key("capacity"), DECIMAL),
                Column("已匹配 matched", _key("matched")),
                Column("未满足 unmet", _key("unmet")),
                Column("未满足比例 unmet share", _key("unmet_share"), PERCENT),
            ],
            data["heat"],
        ),
        Sheet(
            "未满足原因 unmet reasons",
            [
                *community,
                *category,
                Column("原因 reason", _key("reason")),
                Column("条目 items", _key("items")),
                Column("优先条目 priority items", _key("priority_items")),
                Column("未满足成本 unmet cost", _key("unmet_cost"), DECIMAL),
            ],
            data["unmet_by_reason"],
        ),
        Sheet(
            "类别 categories",
            [
                *category,
                Column("需求 demand", _key("demand")),
                Column("上周 previous", _key("previous_demand")),
                Column("已匹配 matched", _key("matched")),
                Column("未满足 unmet", _key("unmet")),
                Column("关键词 keywords", _key("keywords")),
            ],
            data["categories"],
        ),
        Sheet(
            "趋势 trend",
            [Column("周 week", _key("week")), *category, Column("需求 demand", _key("demand"))],
            data["trend"],
        ),
        Sheet(
            "利用率 utilisation",
            [
                Column("提供方 provider", _key("provider_name")),
                Column("服务 service", _key("service_name")),
                Column("容量 capacity", _key("capacity")),
                Column("已匹配 matched", _key("matched")),
                Column("利用率 utilisation", _key("utilization"), PERCENT),
            ],
            data["utilization"],
        ),
        Sheet(
            "供给价值 capacity value",
            [
                Column("排名 rank", _key("rank")),
                Column("提供方 provider", _key("provider_name")),
                Column("服务 service", _key("service_name")),
                Column("单位 unit", _key("unit")),
                Column("容量 capacity", _key("capacity")),
                Column("已匹配 matched", _key("matched")),
                Column("+1 的价值 value of +1", _key("value_per_unit"), DECIMAL),
                Column("等待 waiting", _key("waiting")),
                Column("受益社区 helps community", _key("helps_community")),
                Column(
                    "受益类别 helps category",
                    lambda r: names.get(r["helps_category"], r["helps_category"]),
                ),
            ],
            data["capacity_value"],
        ),
        Sheet(
            "公平性 fairness",
            [
                *community,
                Column("可服务 servable", _key("servable")),
                Column("未满足 unmet", _key("unmet")),
                Column("未满足比例 unmet share", _key("unmet_share"), PERCENT),
                Column("全街道 district share", _key("district_share"), PERCENT),
                Column("超出容差 exceeds", _key("exceeds")),
                Column("原因 why", _key("why")),
            ],
            data["fairness"],
        ),
        Sheet(
            "新需求 emerging",
            [
                *community,
                *category,
                Column("本周 demand", _key("demand")),
                Column("往周均值 baseline", _key("baseline"), DECIMAL),
                Column("倍数 ratio", _key("ratio"), "0.00"),
                Column("z", _key("z"), DECIMAL),
            ],
            data["emerging"],
        ),
    ]
    if data.get("hot_issues"):
        sheets.append(
            Sheet(
                "热点问题 hot issues",
                [
                    Column("问题 issue", _key("title")),
                    Column("地点 place", _key("place")),
                    Column("条目 items", _key("items")),
                    Column("居民 residents", _key("residents")),
                    Column("热度 heat", _key("heat"), DECIMAL),
                    Column("状态 status", _key("status")),
                    Column("走势 trend", lambda r: " ".join(map(str, r["trend"]))),
                ],
                data["hot_issues"],
            )
        )
    return [s for s in sheets if s.rows]


def _width(value: Any) -> int:
    """Display width: East Asian wide characters take two columns."""
    text = f"{value:.1%}" if isinstance(value, float) else str(value if value is not None else "")
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fill(ws: Any, sheet: Sheet) -> None:
    ws.append([c.header for c in sheet.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="center")
    for row in sheet.rows:
        ws.append([c.value(row) for c in sheet.columns])
    for j, col in enumerate(sheet.columns, start=1):
        if col.number_format:
            for (cell,) in ws.iter_rows(min_row=2, min_col=j, max_col=j):
                cell.number_format = col.number_format
        widest = max([_width(col.header), *(_width(col.value(r)) for r in sheet.rows)])
        ws.column_dimensions[get_column_letter(j)].width = min(60, widest + 2)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions


def write_xlsx(data: Mapping[str, Any], path: Path) -> Path:
    """Write the report's tables to ``path``: a first sheet saying what the workbook holds,
    then one sheet per table with rows."""
    wb = Workbook()
    about = wb.active
    about.title = "说明 about"
    about.append(["区域 district", data["district"]])
    about.append(["周 week", data["week"]])
    about.append(["生成 generated", data["generated_at"]])
    for line in [*data["notes"], *data["omitted"]]:
        about.append(["说明 note", line])
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 100
    for sheet in report_sheets(data):
        _fill(wb.create_sheet(sheet.title[:31]), sheet)
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    wb.save(tmp)
    tmp.replace(path)
    return path
