"""The weekly report's charts: pure functions from the report's tables to matplotlib figures,
and one way to write a figure as inline SVG (for HTML and PDF) or PNG (for Word).

SVG keeps text as text (``svg.fonttype = 'none'``) with a list of CJK font families, so the
reader's own fonts draw the Chinese labels and the text stays searchable and copyable. PNG
has to draw the glyphs itself: :func:`cjk_font` finds a CJK font on this machine (Debian's
``fonts-noto-cjk`` in CI) and the PNG style puts it first.

Figures are built with the object API (``matplotlib.figure.Figure``, no pyplot), inside an
``rc_context``, so nothing here changes matplotlib's global state.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import matplotlib
import matplotlib.ticker
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

#: Families asked for in SVG, in order: what a reader in China or elsewhere is likely to have.
READER_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "WenQuanYi Micro Hei",
    "Hiragino Sans GB",
    "SimHei",
    "Noto Sans SC",
)
#: Families that draw Chinese, looked for on this machine for PNG output.
_CJK_CANDIDATES = READER_FONTS + (
    "Noto Serif CJK SC",
    "Source Han Serif SC",
    "WenQuanYi Zen Hei",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
)

#: The utilisation chart shows at most this many services, busiest first.
MAX_SERVICES = 30

_PALETTE = (
    "#c0392b",
    "#2e86c1",
    "#27ae60",
    "#8e44ad",
    "#f39c12",
    "#16a085",
    "#d35400",
    "#2c3e50",
    "#7f8c8d",
)
_HEAT = LinearSegmentedColormap.from_list("unmet", ["#fdf2e9", "#f5b041", "#c0392b", "#641e16"])


@dataclass(frozen=True)
class RenderedChart:
    """One chart in both forms: ``svg`` (inline, text as text) and ``png`` (bytes)."""

    name: str
    title: str
    svg: str
    png: bytes


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The family of a font on this machine that draws Chinese, or None."""
    from matplotlib import font_manager

    have = {f.name for f in font_manager.fontManager.ttflist}
    found = next((name for name in _CJK_CANDIDATES if name in have), None)
    if found is None:
        # matplotlib's font list is cached on disk: a font installed after the cache was
        # written (`make system-deps` after a first run) is only seen once it is rebuilt
        font_manager.fontManager = font_manager._load_fontmanager(try_read_cache=False)
        have = {f.name for f in font_manager.fontManager.ttflist}
        found = next((name for name in _CJK_CANDIDATES if name in have), None)
    return found


def _style(for_png: bool) -> dict[str, Any]:
    families = list(READER_FONTS)
    if for_png and (found := cjk_font()) is not None:
        families = [found, *[f for f in families if f != found]]
    return {
        "svg.fonttype": "none",
        "svg.hashsalt": "minsheng",  # deterministic ids; each chart adds its own salt below
        "font.family": ["sans-serif"],
        "font.sans-serif": [*families, "DejaVu Sans"],
        "axes.unicode_minus": False,  # CJK fonts often lack U+2212
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.titleweight": "bold",
        "axes.labelsize": 9,
        "xtick.labelsize": 8,
        "ytick.labelsize": 8,
        "legend.fontsize": 8,
        "legend.frameon": False,
    }


@contextmanager
def _context(for_png: bool = False) -> Iterator[None]:
    with matplotlib.rc_context(_style(for_png)):
        yield


# ---------------------------------------------------------------- output


def to_svg(fig: Figure, salt: str) -> str:
    """The figure as an ``<svg>`` element to inline in HTML: no XML prolog or DOCTYPE, ids
    made unique by ``salt`` (several charts share one page), scaled to its container."""
    buf = io.StringIO()
    with _context(), matplotlib.rc_context({"svg.hashsalt": f"minsheng-{salt}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, count=1, flags=re.DOTALL)
    # matplotlib names its groups figure_1, axes_1, ... in every file: one page holds several
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{salt}-\1"', svg)
    svg = re.sub(r'(url\(#|href="#)([^)"]+)', rf"\1{salt}-\2", svg)
    return svg.replace(
        "<svg ",
        f'<svg role="img" class="chart-svg" data-chart="{salt}" '
        'style="max-width:100%;height:auto" ',
        1,
    )


def to_png(fig: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG bytes, drawn with a CJK font found on this machine."""
    buf = io.BytesIO()
    # "sans-serif" is resolved when the figure is drawn: here, to the CJK font found
    with _context(for_png=True):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def render(name: str, title: str, fig: Figure) -> RenderedChart:
    svg = to_svg(fig, name)
    # the layout is in inches, whatever the output: keep the one the SVG computed (a third
    # of a chart's time goes to constrained layout)
    fig.set_layout_engine("none")
    return RenderedChart(name, title, svg, to_png(fig))


# ---------------------------------------------------------------- charts


def _short_week(week: str) -> str:
    return week.split("-")[-1] if "-W" in week else week


def demand_trend(
    rows: Sequence[Mapping[str, Any]],
    names: Mapping[str, str],
    report_week: str | None = None,
    columns: int = 5,
) -> Figure:
    """Small multiples: one panel of weekly demand items per category, largest first, the
    report's week in red. ``rows``: ``{week, category, demand}``. Each panel has its own
    scale (its title gives the week's count and the change from the week before), so that
    a small category's rise is as visible as a large one's."""
    weeks = sorted({r["week"] for r in rows})
    at = {w: i for i, w in enumerate(weeks)}
    series: dict[str, list[int]] = {}
    for r in rows:
        series.setdefault(r["category"], [0] * len(weeks))[at[r["week"]]] += int(r["demand"])
    last = at.get(report_week, len(weeks) - 1) if weeks else 0
    ranked = sorted(series, key=lambda c: (-series[c][last], -sum(series[c]), c))
    ncols = max(1, min(columns, len(ranked)))
    nrows = max(1, math.ceil(len(ranked) / ncols))
    with _context():
        fig = Figure(figsize=(8.4, 0.4 + 1.25 * nrows), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True)
        x = list(range(len(weeks)))
        for k, ax in enumerate(axes.flat):
            if k >= len(ranked):
                ax.set_axis_off()
                continue
            values = series[ranked[k]]
            colours = ["#c0392b" if i == last else "#aab7b8" for i in x]
            ax.bar(x, values, color=colours, width=0.75, linewidth=0)
            change = values[last] - values[last - 1] if last > 0 else None
            delta = "" if change is None else f" ({change:+d})"
            ax.set_title(
                f"{names.get(ranked[k], ranked[k])} {values[last]}{delta}",
                fontsize=8,
                fontweight="bold",
                loc="left",
            )
            ax.tick_params(labelsize=6, length=2)
            ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(3, integer=True))
            ax.set_xticks(
                [0, len(weeks) - 1] if len(weeks) > 1 else x,
                [_short_week(weeks[0]), _short_week(weeks[-1])]
                if len(weeks) > 1
                else [_short_week(w) for w in weeks],
            )
        span = f", {_short_week(weeks[0])}–{_short_week(weeks[-1])}" if weeks else ""
        fig.suptitle(
            f"各类需求周趋势 Demand items by category per week{span}",
            fontsize=11,
            fontweight="bold",
        )
    return fig


def unmet_heatmap(
    cells: Sequence[Mapping[str, Any]], communities: Mapping[str, str], names: Mapping[str, str]
) -> Figure:
    """Community × category heat map of the unmet share. ``cells``: ``{community, category,
    demand, unmet}``; a cell without demand stays blank. Each cell is labelled with its
    percentage, and the axes are ordered by unmet items, largest first."""
    by_comm: dict[str, int] = {}
    by_cat: dict[str, int] = {}
    grid: dict[tuple[str, str], tuple[int, int]] = {}
    for c in cells:
        if not c["demand"]:
            continue
        grid[(c["community"], c["category"])] = (int(c["unmet"]), int(c["demand"]))
        by_comm[c["community"]] = by_comm.get(c["community"], 0) + int(c["unmet"])
        by_cat[c["category"]] = by_cat.get(c["category"], 0) + int(c["unmet"])
    rows = sorted(by_comm, key=lambda k: (-by_comm[k], k))
    cols = sorted(by_cat, key=lambda k: (-by_cat[k], k))
    matrix = [
        [(grid[(r, c)][0] / grid[(r, c)][1]) if (r, c) in grid else math.nan for c in cols]
        for r in rows
    ]
    with _context():
        fig = Figure(
            figsize=(max(5.0, 1.9 + 0.42 * len(cols)), max(2.4, 1.5 + 0.3 * len(rows))),
            layout="constrained",
        )
        ax = fig.subplots()
        ax.set_facecolor("#e5e7e9")  # a cell without demand shows the grey behind it
        image = ax.imshow(matrix or [[math.nan]], cmap=_HEAT, vmin=0.0, vmax=1.0, aspect="auto")
        for i, r in enumerate(rows):
            for j, c in enumerate(cols):
                if (r, c) in grid:
                    share = matrix[i][j]
                    ax.text(
                        j,
                        i,
                        f"{100 * share:.0f}",
                        ha="center",
                        va="center",
                        fontsize=6.5,
                        color="white" if share >= 0.6 else "#222",
                    )
        ax.set_xticks(
            range(len(cols)),
            [names.get(c, c) for c in cols],
            rotation=55,
            ha="right",
            rotation_mode="anchor",
        )
        ax.set_yticks(
            range(len(rows)),
            [f"{communities.get(r, r)} {r}" if r in communities else r for r in rows],
        )
        ax.tick_params(length=0)
        for side in ("left", "bottom"):
            ax.spines[side].set_visible(False)
        ax.set_title("未满足比例 Unmet share by community × category (%)")
        bar = fig.colorbar(image, ax=ax, shrink=0.8, format=lambda v, _: f"{100 * v:.0f}%")
        bar.outline.set_visible(False)
        bar.ax.tick_params(labelsize=7)
    return fig


def utilisation(rows: Sequence[Mapping[str, Any]], limit: int = MAX_SERVICES) -> Figure:
    """Horizontal bars of each service's utilisation (matched / capacity), busiest first.
    ``rows``: ``{provider_name, service_name, capacity, matched, utilization}``; services
    without capacity are left out. With more than ``limit`` services, the busiest and the
    least used halves are shown (full services are many and alike; the spare capacity is
    what a planner can move), with a line for those between."""
    usable = [r for r in rows if r.get("utilization") is not None]
    usable.sort(key=lambda r: (-float(r["utilization"]), -int(r["matched"]), r["service_name"]))
    gap = 0
    shown: list[Mapping[str, Any] | None] = list(usable)
    if len(usable) > limit:
        half = limit // 2
        gap = len(usable) - 2 * half
        shown = [*usable[:half], None, *usable[-half:]]
    with _context():
        fig = Figure(figsize=(8.0, max(2.0, 0.9 + 0.22 * len(shown))), layout="constrained")
        ax = fig.subplots()
        y = list(range(len(shown)))
        values = [float(r["utilization"]) if r else 0.0 for r in shown]
        colours = ["#c0392b" if v >= 0.95 else "#f39c12" if v >= 0.8 else "#2e86c1" for v in values]
        ax.barh(y, values, color=colours, height=0.7, linewidth=0)
        labels = []
        for yi, r in zip(y, shown, strict=True):
            if r is None:
                labels.append(f"… {gap} 项服务 more services …")
                ax.axhline(yi, color="#bbb", linewidth=0.6, linestyle=":")
                continue
            labels.append(_clip(_service_label(r["provider_name"], r["service_name"]), 30))
            ax.annotate(
                f"{100 * float(r['utilization']):.0f}%  {r['matched']}/{r['capacity']}",
                (float(r["utilization"]), yi),
                va="center",
                fontsize=6.5,
                xytext=(3, 0),
                textcoords="offset points",
            )
        ax.set_yticks(y, labels)
        ax.invert_yaxis()
        ax.axvline(1.0, color="#555", linewidth=0.8, linestyle="--")
        ax.set_xlim(0, max([1.0, *values]) * 1.18)
        ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        ax.set_xlabel("利用率 utilisation (matched / capacity)")
        full = sum(v >= 0.95 for v in (float(r["utilization"]) for r in usable))
        which = (
            f"the {limit // 2} busiest and {limit // 2} least used of {len(usable)} services"
            if gap
            else f"{len(usable)} services"
        )
        fig.suptitle(
            f"服务利用率 Provider utilisation: {which}, {full} at 95% or more",
            fontsize=10,
            fontweight="bold",
        )
    return fig


def hot_issue_trends(
    issues: Sequence[Mapping[str, Any]], weeks: Sequence[str], top: int = 6
) -> Figure:
    """Weekly items of the hottest issues. ``issues``: ``{title, trend}`` with ``trend`` one
    count per week, oldest first, ending at the report's week; ``weeks`` names the last
    weeks (as many as the longest trend)."""
    shown = list(issues)[:top]
    span = max((len(i["trend"]) for i in shown), default=0)
    labels = [_short_week(w) for w in list(weeks)[-span:]] if span else []
    labels = [""] * (span - len(labels)) + labels
    with _context():
        fig = Figure(figsize=(8.0, 3.0), layout="constrained")
        ax = fig.subplots()
        for i, issue in enumerate(shown):
            trend = [int(v) for v in issue["trend"]]
            x = list(range(span - len(trend), span))
            colour = _PALETTE[i % len(_PALETTE)]
            ax.plot(
                x,
                trend,
                marker="o",
                markersize=3,
                linewidth=1.6,
                color=colour,
                label=_clip(str(issue["title"]), 18),
            )
        ax.set_xticks(range(span), labels)
        ax.set_ylabel("条目 items")
        ax.set_ylim(bottom=0)
        ax.set_title("热点问题走势 Hot issues, items per week")
        fig.legend(loc="outside right upper")
    return fig


def sparkline(values: Sequence[int | float]) -> Figure:
    """A small line of a weekly trend, its last point marked: for a table cell."""
    with _context():
        fig = Figure(figsize=(1.3, 0.32))
        ax = fig.add_axes((0.02, 0.12, 0.96, 0.76))
        ax.plot(range(len(values)), values, color="#c0392b", linewidth=1.2)
        if values:
            ax.plot([len(values) - 1], [values[-1]], "o", color="#c0392b", markersize=2.5)
        ax.set_axis_off()
        ax.margins(x=0.04, y=0.15)
    return fig


def _service_label(provider: str, service: str) -> str:
    """A mutual-aid group's service is often named after the group: say it once."""
    return (
        service
        if service.startswith(provider) or provider in service
        else f"{provider} · {service}"
    )


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def report_charts(data: Mapping[str, Any]) -> list[RenderedChart]:
    """Every chart the report's data allows, in report order (see ``warehouse.report``)."""
    names, communities = data["names"], data["communities"]
    out = []
    if data.get("trend"):
        out.append(
            render(
                "demand-trend",
                "各类需求周趋势 Demand by category",
                demand_trend(data["trend"], names, data["week"]),
            )
        )
    if data.get("heat"):
        out.append(
            render(
                "unmet-heatmap",
                "未满足比例 Unmet share",
                unmet_heatmap(data["heat"], communities, names),
            )
        )
    if data.get("utilization") and any(u["utilization"] is not None for u in data["utilization"]):
        out.append(
            render(
                "utilisation", "服务利用率 Provider utilisation", utilisation(data["utilization"])
            )
        )
    if data.get("hot_issues"):
        out.append(
            render(
                "hot-issues",
                "热点问题走势 Hot issues",
                hot_issue_trends(data["hot_issues"], data["trend_weeks"]),
            )
        )
    return out
