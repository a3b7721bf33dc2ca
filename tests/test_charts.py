"""The report's charts: pure functions from tables to figures, written as inline SVG (text kept
as text) and as PNG drawn with a CJK font."""

from __future__ import annotations

import math
import re
import warnings

import pytest

from warehouse import charts

NAMES = {
    "elderly_care": "养老服务",
    "property": "物业服务",
    "parking": "停车",
    "culture": "文化服务",
}
COMMUNITIES = {"C01": "南湖社区", "C02": "江南社区", "C03": "响水社区"}
WEEKS = [f"2026-W{n}" for n in range(40, 48)]


def _trend():
    base = {"elderly_care": 20, "property": 30, "parking": 8, "culture": 4}
    rows = [
        {"week": w, "category": c, "demand": b + i}
        for i, w in enumerate(WEEKS)
        for c, b in base.items()
    ]
    rows.append({"week": WEEKS[-1], "category": "culture", "demand": 60})  # culture jumps last week
    return rows


def test_svg_is_an_inline_element_whose_chinese_labels_are_text():
    svg = charts.to_svg(charts.demand_trend(_trend(), NAMES, WEEKS[-1]), "demand-trend")
    assert (
        svg.startswith("<svg ")
        and "<?xml" not in svg
        and "DOCTYPE" not in svg
        and "<metadata" not in svg
    )
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert any("养老服务" in t for t in texts)
    assert "Noto Sans CJK SC" in svg and "Microsoft YaHei" in svg  # the reader's fonts draw it
    assert "<path" in svg and 'data-chart="demand-trend"' in svg


def test_svg_is_deterministic_and_two_charts_share_no_ids():
    a = charts.to_svg(charts.demand_trend(_trend(), NAMES), "a")
    assert a == charts.to_svg(charts.demand_trend(_trend(), NAMES), "a")
    b = charts.to_svg(charts.demand_trend(_trend(), NAMES), "b")
    ids = lambda s: set(re.findall(r'\bid="([^"]+)"', s))
    assert ids(a) and not ids(a) & ids(b)
    refs = set(re.findall(r"url\(#([^)]+)\)", a))
    assert refs and refs <= ids(a)  # every clip path it uses is its own


def test_demand_trend_has_a_panel_per_category_largest_this_week_first():
    fig = charts.demand_trend(_trend(), NAMES, WEEKS[-1])
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == 4
    titles = [ax.get_title(loc="left") for ax in panels]
    # culture: 4 + 7 + 60 = 71 in the last week, 4 + 6 = 10 the week before
    assert titles[0] == "文化服务 71 (+61)"
    assert titles[1:] == ["物业服务 37 (+1)", "养老服务 27 (+1)", "停车 15 (+1)"]
    bars = panels[0].patches
    assert len(bars) == len(WEEKS) and bars[-1].get_height() == 71


def test_heat_map_leaves_cells_without_demand_blank_and_labels_the_share():
    cells = [
        {"community": "C01", "category": "property", "demand": 4, "unmet": 3},
        {"community": "C02", "category": "property", "demand": 2, "unmet": 0},
        {"community": "C02", "category": "parking", "demand": 5, "unmet": 5},
        {"community": "C03", "category": "parking", "demand": 0, "unmet": 0},
    ]
    fig = charts.unmet_heatmap(cells, COMMUNITIES, NAMES)
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    rows = [t.get_text() for t in ax.get_yticklabels()]
    cols = [t.get_text() for t in ax.get_xticklabels()]
    assert rows == ["江南社区 C02", "南湖社区 C01"]  # by unmet items; C03 had no demand
    assert cols == ["停车", "物业服务"]
    assert grid[0][0] == 1.0 and grid[0][1] == 0.0 and grid[1][1] == 0.75
    assert math.isnan(float(grid.filled(math.nan)[1][0]))  # C01 × parking: no demand
    assert sorted(t.get_text() for t in ax.texts) == ["0", "100", "75"]


def test_utilisation_shows_the_busiest_and_least_used_when_there_are_many():
    rows = [
        {
            "provider_name": f"P{i:02d}",
            "service_name": f"S{i:02d}",
            "capacity": 10,
            "matched": i % 11,
            "utilization": (i % 11) / 10,
        }
        for i in range(40)
    ]
    rows.append(
        {
            "provider_name": "X",
            "service_name": "no capacity",
            "capacity": 0,
            "matched": 0,
            "utilization": None,
        }
    )
    fig = charts.utilisation(rows, limit=10)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 11 and labels[5] == "… 30 项服务 more services …"
    assert "no capacity" not in " ".join(labels)
    values = [p.get_width() for p in fig.axes[0].patches]
    shown = values[:5] + values[6:]  # the sixth bar is the line for those between
    assert shown == sorted(shown, reverse=True) and shown[0] == 1.0 and shown[-4:] == [0.0] * 4
    assert len(charts.utilisation(rows[:8]).axes[0].get_yticklabels()) == 8


def test_a_mutual_aid_group_named_in_its_service_is_named_once():
    fig = charts.utilisation(
        [
            {
                "provider_name": "丹龙物业互助会",
                "service_name": "丹龙物业互助会志愿服务",
                "capacity": 2,
                "matched": 1,
                "utilization": 0.5,
            },
            {
                "provider_name": "养老托老服务基地",
                "service_name": "日间托老",
                "capacity": 5,
                "matched": 5,
                "utilization": 1.0,
            },
        ]
    )
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [
        "养老托老服务基地 · 日间托老",
        "丹龙物业互助会志愿服务",
    ]


def test_hot_issue_trends_align_shorter_trends_to_the_report_week():
    fig = charts.hot_issue_trends(
        [
            {"title": "电梯故障", "trend": [1, 2, 9]},
            {"title": "日间照料排队", "trend": [3, 3, 4, 5, 8]},
        ],
        WEEKS,
    )
    ax = fig.axes[0]
    first, second = ax.get_lines()
    assert list(first.get_xdata()) == [2, 3, 4] and list(second.get_xdata()) == [0, 1, 2, 3, 4]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W43", "W44", "W45", "W46", "W47"]


@pytest.mark.skipif(
    charts.cjk_font() is None, reason="no CJK font on this machine (apt-get install fonts-noto-cjk)"
)
def test_png_is_drawn_with_a_cjk_font_and_misses_no_glyph():
    fig = charts.unmet_heatmap(
        [{"community": "C01", "category": "elderly_care", "demand": 3, "unmet": 1}],
        COMMUNITIES,
        NAMES,
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = charts.to_png(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert [str(w.message) for w in caught if "missing" in str(w.message).lower()] == []


def test_the_report_gets_the_charts_its_data_allows():
    data = {
        "week": WEEKS[-1],
        "names": NAMES,
        "communities": COMMUNITIES,
        "trend": _trend(),
        "trend_weeks": WEEKS,
        "heat": [],
        "utilization": [],
        "hot_issues": None,
    }
    assert [c.name for c in charts.report_charts(data)] == ["demand-trend"]
    data["heat"] = [{"community": "C01", "category": "parking", "demand": 2, "unmet": 2}]
    data["utilization"] = [
        {"provider_name": "P", "service_name": "S", "capacity": 1, "matched": 1, "utilization": 1.0}
    ]
    data["hot_issues"] = [{"title": "停车难", "trend": [1, 4]}]
    rendered = charts.report_charts(data)
    assert [c.name for c in rendered] == [
        "demand-trend",
        "unmet-heatmap",
        "utilisation",
        "hot-issues",
    ]
    assert all(c.svg.startswith("<svg") and c.png[:4] == b"\x89PNG" for c in rendered)
