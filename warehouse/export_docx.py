"""The weekly report as a Word document (python-docx): the HTML report's sections as headings,
its tables as Word tables (header row repeated on each page), its charts as PNG pictures
drawn from the same figures as the HTML's SVG.

Chinese text is set in the East Asian font slot of every style (``w:eastAsia``), so Word and
WPS draw it with a Chinese font rather than a Latin one's fallback."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from warehouse.charts import RenderedChart

LATIN_FONT = "Arial"
EAST_ASIAN_FONT = "Microsoft YaHei"  # 微软雅黑: on every office PC; others substitute a CJK font
CHART_WIDTH = Cm(16.5)


def _fonts(doc: Any) -> None:
    for name in ("Normal", "Title", "Heading 1", "Heading 2", "List Bullet", "Caption"):
        style = doc.styles[name]
        style.font.name = LATIN_FONT
        rpr = style.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            rpr.append(fonts)
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
            fonts.set(qn(attr), EAST_ASIAN_FONT if attr == "w:eastAsia" else LATIN_FONT)
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme"):
            fonts.attrib.pop(qn(theme), None)  # a theme font would win over the names above
    doc.styles["Normal"].font.size = Pt(10)


def _repeat_header(row: Any) -> None:
    props = row._tr.get_or_add_trPr()
    flag = OxmlElement("w:tblHeader")
    flag.set(qn("w:val"), "true")
    props.append(flag)


def _fmt(value: Any, kind: str | None) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * float(value):.0f}%"
    if kind == "pct1":
        return f"{float(value):.1f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _table(
    doc: Any,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    kinds: Sequence[str | None] | None = None,
) -> None:
    """A table; ``kinds`` per column: None (text), "n" (number, right-aligned), "pct" (a share
    shown as a percentage), "pct1" (a percentage with one decimal)."""
    kinds = list(kinds or [None] * len(headers))
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Light Grid Accent 1"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.text = text
    _repeat_header(table.rows[0])
    for row in rows:
        cells = table.add_row().cells
        for cell, value, kind in zip(cells, row, kinds, strict=True):
            cell.text = _fmt(value, kind)
            if kind is not None:
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in table.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                for run in p.runs:
                    run.font.size = Pt(8.5)
    doc.add_paragraph()


def _chart(doc: Any, chart: RenderedChart | None, caption: str | None = None) -> None:
    if chart is None:
        return
    doc.add_picture(io.BytesIO(chart.png), width=CHART_WIDTH)
    doc.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if caption:
        doc.add_paragraph(caption, style="Caption")


def write_docx(data: Mapping[str, Any], charts: Sequence[RenderedChart], path: Path) -> Path:
    """Write the report (``warehouse.report.build_report``) with its charts to ``path``."""
    names, comms = data["names"], data["communities"]
    chart = {c.name: c for c in charts}
    doc = Document()
    _fonts(doc)
    for section in doc.sections:
        section.left_margin = section.right_margin = Cm(2)
        section.top_margin = section.bottom_margin = Cm(1.8)
    doc.add_heading(f"{data['district']} 公共服务供需匹配周报", level=0)
    sub = doc.add_paragraph(
        f"Weekly matching report · ISO week {data['week']} · generated {data['generated_at']}"
    )
    sub.runs[0].font.color.rgb = RGBColor(0x66, 0x66, 0x66)

    doc.add_heading("本周概况 Summary", level=1)
    for note in data["notes"]:
        doc.add_paragraph(note).runs[0].bold = True
    t = data["totals"]
    line = f"需求条目 demand items: {t['items']}"
    if data["has_matching"]:
        line += (
            f" · 已匹配 matched: {t['matched']} · 未满足 unmet: {t['unmet']} "
            f"({100 * t['unmet_share']:.1f}%)"
        )
    doc.add_paragraph(line)
    _table(
        doc,
        ["渠道 channel", "记录 records", "需求条目 items"],
        [(c["channel"], c["records"], c["demand_items"]) for c in data["channels"]],
        [None, "n", "n"],
    )
    if data["omitted"]:
        doc.add_paragraph("本期未包含 Not in this report").runs[0].bold = True
        for o in data["omitted"]:
            doc.add_paragraph(o, style="List Bullet")

    doc.add_heading("主要需求 Top demands", level=1)
    _chart(doc, chart.get("demand-trend"))
    matched_cols = data["has_matching"]
    _table(
        doc,
        [
            "类别 category",
            "需求 demand",
            "上周 previous",
            *(["已匹配 matched", "未满足 unmet"] if matched_cols else []),
            "关键词 keywords",
        ],
        [
            (
                c["name"],
                c["demand"],
                c["previous_demand"],
                *((c["matched"], c["unmet"]) if matched_cols else ()),
                c["keywords"],
            )
            for c in data["categories"]
        ],
        [None, "n", "n", *(["n", "n"] if matched_cols else []), None],
    )

    if data.get("hot_issues"):
        doc.add_heading("热点问题 Hot issues", level=1)
        _chart(doc, chart.get("hot-issues"))
        _table(
            doc,
            [
                "问题 issue",
                "地点 place",
                "条目 items",
                "居民 residents",
                "热度 heat",
                "走势 trend",
                "状态 status",
            ],
            [
                (
                    h["title"] + "".join(f"\n“{e}”" for e in h["examples"]),
                    h["place"],
                    h["items"],
                    h["residents"],
                    round(h["heat"], 1),
                    "→".join(map(str, h["trend"])),
                    h["status"],
                )
                for h in data["hot_issues"]
            ],
            [None, None, "n", "n", "n", None, None],
        )

    if data["has_matching"]:
        doc.add_heading("供需缺口 Gaps by community × category", level=1)
        _chart(doc, chart.get("unmet-heatmap"), "每格为未满足条目占需求的百分比；空白格本周无需求")
        _table(
            doc,
            [
                "社区 community",
                "类别 category",
                "需求 demand",
                "名义供给 capacity",
                "已匹配 matched",
                "未满足 unmet",
                "未满足比例 share",
            ],
            [
                (
                    f"{comms.get(g['community'], '')} {g['community']}".strip(),
                    names.get(g["category"], g["category"]),
                    g["demand"],
                    g["capacity"],
                    g["matched"],
                    g["unmet"],
                    g["unmet_share"],
                )
                for g in data["gaps"]
            ],
            [None, None, "n", "n", "n", "n", "pct"],
        )
        doc.add_heading("未满足原因 Why needs went unmet", level=1)
        _table(
            doc,
            ["原因 reason", "类别 category", "条目 items"],
            [
                (r["reason"], names.get(r["category"], r["category"]), r["items"])
                for r in data["unmet_reasons"]
            ],
            [None, None, "n"],
        )

    if data["utilization"]:
        doc.add_heading("服务利用率 Provider utilisation", level=1)
        _chart(doc, chart.get("utilisation"))
        _table(
            doc,
            [
                "提供方 provider",
                "服务 service",
                "容量 capacity",
                "已匹配 matched",
                "利用率 utilisation",
            ],
            [
                (
                    u["provider_name"],
                    u["service_name"],
                    u["capacity"],
                    u["matched"],
                    u["utilization"],
                )
                for u in data["utilization"]
            ],
            [None, None, "n", "n", "pct"],
        )

    if data["has_registry"] and data["has_matching"]:
        doc.add_heading("哪里增加供给最有效 Where one more unit of capacity helps most", level=1)
        if data["capacity_value"]:
            _table(
                doc,
                [
                    "#",
                    "提供方 provider",
                    "服务 service",
                    "容量 capacity",
                    "+1 的价值 value",
                    "等待 waiting",
                    "主要受益 helps",
                ],
                [
                    (
                        c["rank"],
                        c["provider_name"],
                        c["service_name"],
                        f"{c['capacity']} {c['unit']}",
                        c["value_per_unit"],
                        c["waiting"],
                        f"{comms.get(c['helps_community'], c['helps_community'] or '')} "
                        f"{names.get(c['helps_category'], c['helps_category'] or '')}".strip(),
                    )
                    for c in data["capacity_value"]
                ],
                ["n", None, None, "n", "n", "n", None],
            )
        else:
            doc.add_paragraph(
                "No service is short this week: one more unit would serve no one waiting."
            )

    if data["fairness"]:
        doc.add_heading("公平性 Fairness across communities", level=1)
        _table(
            doc,
            [
                "社区 community",
                "可服务 servable",
                "未满足 unmet",
                "未满足比例",
                "全街道 district",
                "超出 exceeds",
                "原因 why",
            ],
            [
                (
                    f"{comms.get(f['community'], '')} {f['community']}".strip(),
                    f["servable"],
                    f["unmet"],
                    f["unmet_share"],
                    f["district_share"],
                    "yes" if f["exceeds"] else "no",
                    f["why"] or "",
                )
                for f in data["fairness"]
            ],
            [None, "n", "n", "pct", "pct", None, None],
        )

    doc.add_heading("新出现的需求 Emerging needs", level=1)
    if data["emerging"]:
        _table(
            doc,
            [
                "社区 community",
                "类别 category",
                "本周 this week",
                "往周均值 baseline",
                "倍数 ratio",
            ],
            [
                (
                    f"{comms.get(e['community'], '')} {e['community']}".strip(),
                    names.get(e["category"], e["category"]),
                    e["demand"],
                    e["baseline"],
                    f"{e['ratio']}×",
                )
                for e in data["emerging"]
            ],
            [None, None, "n", "n", "n"],
        )
    else:
        doc.add_paragraph("No community × category cell is at least twice its earlier weekly mean.")

    if (s := data["survey"]) is not None:
        doc.add_heading("满意度调查 Satisfaction survey", level=1)
        parts = [f"发放 issued {s['issued']}"] if s["issued"] else []
        parts += [f"回收 returned {s['returned']}", f"有效 valid {s['valid']}"]
        if s["valid_rate"] is not None:
            parts.append(f"有效回收率 {100 * s['valid_rate']:.0f}%")
        if s["overall_approval"] is not None:
            parts.append(
                f"总体评价加权赞成率 overall weighted approval {s['overall_approval']:.1f}%"
            )
        doc.add_paragraph(" · ".join(parts))
        paper = s["has_paper"]
        _table(
            doc,
            [
                "指标 item",
                "有效回答 answered",
                "赞成/满意 %",
                "一般 %",
                "不赞成/不满意 %",
                *(["参考值 reference %"] if paper else []),
            ],
            [
                (
                    f"{r['item_code']} {r['item_name']}",
                    r["answered"],
                    r["positive_pct"],
                    r["neutral_pct"],
                    r["negative_pct"],
                    *((r["paper"],) if paper else ()),
                )
                for r in s["items"]
            ],
            [None, "n", "pct1", "pct1", "pct1", *(["pct1"] if paper else [])],
        )

    doc.add_heading("数据质量 Data quality (quarantine)", level=1)
    if data["quarantine"]:
        _table(
            doc,
            ["渠道 channel", "原因 reason", "行 rows"],
            [(q["channel"], q["reason"], q["rows"]) for q in data["quarantine"]],
            [None, None, "n"],
        )
    else:
        doc.add_paragraph("No row has been quarantined.")
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    doc.save(str(tmp))
    tmp.replace(path)
    return path
