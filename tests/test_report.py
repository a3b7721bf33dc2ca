"""The weekly report: which week it picks, what it leaves out and says so, and its four forms
read back (Word with python-docx, Excel with openpyxl, PDF with pypdf, HTML in headless
Chromium). Warehouses are small and built in tests/report_warehouse.py."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from tests.report_warehouse import WEEKS, build

LAST = WEEKS[-1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (apt-get install chromium, or `make system-deps`)",
)

HOT_SQL = """
select title, place, items, residents, heat, trend, status, examples
from hot_issue_rows where week = $week order by heat desc
"""


def _ctx(settings, week=None):
    from warehouse.report import ReportContext

    return ReportContext(
        week, settings.district, settings.taxonomy, generated_at=datetime(2026, 11, 23, 8)
    )


def _data(db, settings, week=None):
    from warehouse.report import build_report
    from warehouse.resource import Warehouse

    with Warehouse(db).planner() as con:
        return build_report(con, _ctx(settings, week))


@pytest.fixture(scope="module")
def full(tmp_path_factory, settings):
    """Registry, survey and matching; data run to the last week's Sunday."""
    from warehouse.report import write_report
    from warehouse.resource import Warehouse

    root = tmp_path_factory.mktemp("report-full")
    db = root / "w.duckdb"
    build(db, registry=root / "supply.yaml")
    files = write_report(Warehouse(db), _ctx(settings), root / "reports")
    return {"db": db, "root": root, "files": files, "data": _data(db, settings)}


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """No registry, no survey, nothing matched; the last week's data stop on its Wednesday."""
    root = tmp_path_factory.mktemp("report-bare")
    db = root / "w.duckdb"
    build(db, registry=None, survey=False, last_day=3)
    return db


# ---------------------------------------------------------------- weeks


def _week(week, items, last):
    return {"week": week, "items": items, "last_received": last}


def test_the_default_week_is_the_latest_whose_sunday_the_data_reached():
    from warehouse.report import choose_week

    weeks = [
        _week("2026-W46", 900, datetime(2026, 11, 15, 22)),
        _week("2026-W47", 300, datetime(2026, 11, 18, 10)),
    ]  # stops on W47's Wednesday
    assert choose_week(weeks).week == "2026-W46"
    assert choose_week(weeks).complete
    weeks[1]["last_received"] = datetime(2026, 11, 22, 9)  # W47's Sunday morning
    assert choose_week(weeks).week == "2026-W47"


def test_with_no_complete_week_the_last_week_with_data_is_used_and_said_so():
    from warehouse.report import choose_week

    choice = choose_week([_week("2019-W28", 5, datetime(2019, 7, 11, 9))])  # a Thursday
    assert (choice.week, choice.complete) == ("2019-W28", False)
    assert "2019-07-11" in choice.why


def test_an_empty_warehouse_has_no_default_week():
    from warehouse.report import choose_week

    with pytest.raises(ValueError, match="no demand items"):
        choose_week([])


def test_a_thin_week_is_one_with_under_half_the_median_weeks_items():
    from warehouse.report import thin_week_note

    weeks = [_week(f"2026-W{n}", c, None) for n, c in ((44, 1000), (45, 980), (46, 1020), (47, 2))]
    note = thin_week_note(weeks, "2026-W47")
    assert note is not None and "2 demand items" in note and "990" in note
    assert thin_week_note(weeks, "2026-W45") is None
    assert thin_week_note(weeks[:1], "2026-W44") is None  # one week: nothing to compare with


def test_a_thin_last_week_says_so_in_the_report(tmp_path, settings):
    db = tmp_path / "w.duckdb"
    build(db, registry=None, survey=False, last_week_items=3)
    data = _data(db, settings)
    assert data["week"] == LAST  # its Sunday is in the data: complete, however thin
    assert any("Thin week: 15 demand items" in n for n in data["notes"])  # 3 + the 12 of the rise


# ---------------------------------------------------------------- what is left out


def test_a_bare_warehouse_reports_the_last_complete_week_and_leaves_out_what_it_lacks(
    bare, settings
):
    data = _data(bare, settings)
    assert data["week"] == WEEKS[-2]
    assert data["notes"] == []
    omitted = "\n".join(data["omitted"])
    assert "Satisfaction survey: left out" in omitted
    assert "Capacity: left out" in omitted
    assert f"week {WEEKS[-2]} has not been matched" in omitted
    assert data["survey"] is None and data["utilization"] == [] and data["heat"] == []
    assert data["totals"]["items"] > 0 and data["trend"]


def test_asking_for_a_week_cut_short_says_it_is_incomplete(bare, settings):
    data = _data(bare, settings, LAST)
    assert data["week"] == LAST
    assert any(n.startswith("本周尚未结束 Incomplete week") for n in data["notes"])


def test_an_unknown_week_is_a_one_line_error(bare, settings):
    with pytest.raises(ValueError, match="no demand items in week 2030-W01"):
        _data(bare, settings, "2030-W01")


def test_the_html_of_a_bare_warehouse_has_no_empty_sections(bare, settings):
    from warehouse.report import render_report

    html = render_report(_data(bare, settings))
    assert 'id="survey"' not in html and "issued" not in html and "0 returned" not in html
    assert 'id="utilisation"' not in html and 'id="gaps"' not in html
    assert "Satisfaction survey: left out" in html
    assert 'id="chart-demand-trend"' in html and 'id="chart-unmet-heatmap"' not in html


def test_the_full_report_has_every_section(full):
    data = full["data"]
    assert data["week"] == LAST and data["has_matching"] and data["has_registry"]
    assert data["survey"]["valid"] == 40 and data["survey"]["issued"] == 600
    assert data["totals"]["matched"] + data["totals"]["unmet"] == data["totals"]["items"]
    assert [o for o in data["omitted"] if "Hot issues" not in o] == []
    assert {r["week"] for r in data["trend"]} == set(WEEKS)


# ---------------------------------------------------------------- hot issues


@pytest.fixture
def hot_stage(monkeypatch, full):
    """A hot-issue stage: its named query, over a table of its own."""
    import duckdb

    from warehouse import report

    con = duckdb.connect(str(full["db"]))
    try:
        con.execute(
            "create or replace table hot_issue_rows (week varchar, title varchar, place varchar, "
            "items integer, residents integer, heat double, trend integer[], status varchar, "
            "examples varchar[])"
        )
        con.execute(
            "insert into hot_issue_rows values "
            f"('{LAST}', '响水社区日间照料排队', '响水社区', 17, 15, 8.2, [2, 3, 3, 5, 17], '上升 rising', "
            "['老人日间照料排不上，电话13812345678', '日间照料名额太少']), "
            f"('{LAST}', '丹龙社区电梯故障', '丹龙社区', 6, 5, 3.1, [0, 0, 6], '新出现 new', ['电梯坏了'])"
        )
    finally:
        con.close()
    real = report.read_sql
    monkeypatch.setattr(
        report,
        "read_sql",
        lambda kind, name: (
            HOT_SQL if (kind, name) == ("queries", "hot_issues") else real(kind, name)
        ),
    )
    yield


def test_hot_issues_are_shown_with_their_trend_and_masked_examples(hot_stage, full, settings):
    from warehouse.report import render_report

    data = _data(full["db"], settings)
    hot = data["hot_issues"]
    assert [h["title"] for h in hot] == ["响水社区日间照料排队", "丹龙社区电梯故障"]
    assert hot[0]["trend"] == [2, 3, 3, 5, 17]
    assert hot[0]["examples"][0] == "老人日间照料排不上，电话[手机号]"
    html = render_report(data)
    assert 'id="hot-issues"' in html and 'id="chart-hot-issues"' in html
    assert "13812345678" not in html and "2→3→3→5→17" in html
    assert 'data-chart="spark-0"' in html


def test_without_a_hot_issue_query_the_section_is_left_out_with_one_line(full):
    assert full["data"]["hot_issues"] is None
    assert any("Hot issues: left out" in o for o in full["data"]["omitted"])
    assert 'id="hot-issues"' not in full["files"].html.read_text(encoding="utf-8")


def test_a_hot_issue_stage_that_has_not_run_is_left_out_with_one_line(monkeypatch, bare, settings):
    from warehouse import report

    real = report.read_sql
    monkeypatch.setattr(
        report, "read_sql", lambda kind, name: HOT_SQL if name == "hot_issues" else real(kind, name)
    )
    data = _data(bare, settings)
    assert data["hot_issues"] is None
    assert any("hot-issue stage has not run" in o for o in data["omitted"])


# ---------------------------------------------------------------- the four forms


def test_write_report_returns_every_form(full):
    files = full["files"]
    assert files.week == LAST
    for kind, path in files.paths().items():
        assert path.exists() and path.stat().st_size > 0, kind
        assert path.name == f"weekly-report-{LAST}.{kind}"
    if CHROMIUM:
        assert files.pdf is not None and files.notes == ()


def test_the_word_file_has_headings_tables_and_the_charts(full):
    import docx

    doc = docx.Document(str(full["files"].docx))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings[0] == "南坪街道 公共服务供需匹配周报"
    for h in (
        "主要需求 Top demands",
        "供需缺口 Gaps by community × category",
        "服务利用率 Provider utilisation",
        "满意度调查 Satisfaction survey",
        "数据质量 Data quality (quarantine)",
    ):
        assert h in headings
    assert len(doc.inline_shapes) == 3  # demand trend, heat map, utilisation
    images = [r for r in doc.part.rels.values() if "image" in r.reltype]
    assert all(r.target_part.blob[:8] == b"\x89PNG\r\n\x1a\n" for r in images)
    gaps = next(
        t
        for t in doc.tables
        if t.rows[0].cells[0].text == "社区 community"
        and t.rows[0].cells[-1].text == "未满足比例 share"
    )
    data = full["data"]
    assert len(gaps.rows) == 1 + len(data["gaps"])
    first = data["gaps"][0]
    assert gaps.rows[1].cells[5].text == str(first["unmet"])
    assert (
        doc.styles["Normal"].element.rPr.rFonts.get(
            "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia"
        )
        == "Microsoft YaHei"
    )


def test_the_excel_file_has_a_sheet_per_table_with_numbers_as_numbers(full):
    import openpyxl

    wb = openpyxl.load_workbook(full["files"].xlsx)
    assert wb.sheetnames[:3] == ["说明 about", "缺口 gaps", "未满足原因 unmet reasons"]
    assert "利用率 utilisation" in wb.sheetnames and "趋势 trend" in wb.sheetnames
    ws = wb["缺口 gaps"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["社区 community", "社区名 name", "类别 category", "类别名 name"]
    assert ws.freeze_panes == "A2"
    data = full["data"]
    assert ws.max_row == 1 + len(data["heat"])
    share = header.index("未满足比例 unmet share") + 1
    demand = header.index("需求 demand") + 1
    for row in ws.iter_rows(min_row=2):
        assert isinstance(row[demand - 1].value, int)
        assert isinstance(row[share - 1].value, (int, float)) and 0 <= row[share - 1].value <= 1
        assert row[share - 1].number_format == "0.0%"
    assert sum(r[demand - 1].value for r in ws.iter_rows(min_row=2)) == data["totals"]["items"]
    assert ws.column_dimensions["B"].width >= 10  # sized to the Chinese names


@needs_chromium
def test_the_pdf_shows_the_chinese_text_and_the_charts(full):
    import pypdf

    reader = pypdf.PdfReader(str(full["files"].pdf))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "公共服务供需匹配周报" in text and LAST in text
    assert "各类需求周趋势" in text and "未满足比例" in text  # chart titles: SVG text stays text
    assert "养老服务" in text and "需求条目" in text
    # copied text is the ideographs themselves, not look-alike Kangxi radicals (⽬ for 目)
    assert [c for c in text if 0x2E80 <= ord(c) <= 0x2FDF] == []
    fonts = {
        str(o.get("/BaseFont"))
        for page in reader.pages
        for f in (page["/Resources"].get("/Font") or {}).values()
        for o in [f.get_object()]
    }
    assert any("WenQuanYi" in f or "CJK" in f for f in fonts), fonts  # embedded, not the reader's


def test_without_a_pdf_engine_the_other_forms_are_written_and_one_line_says_why(
    bare, settings, tmp_path
):
    from warehouse.report import write_report
    from warehouse.resource import Warehouse

    stale = tmp_path / f"weekly-report-{WEEKS[-2]}.pdf"
    stale.write_bytes(b"%PDF- an earlier run's")
    files = write_report(
        Warehouse(bare), _ctx(settings), tmp_path, chromium="/nonexistent/chromium"
    )
    assert files.pdf is None and not stale.exists()
    assert [n for n in files.notes if n.startswith("PDF not written")] == [
        "PDF not written: no Chromium found (/nonexistent/chromium): install Debian's chromium "
        "(apt-get install chromium)"
    ]
    assert files.html.exists() and files.docx.exists() and files.xlsx.exists()
    assert set(files.paths()) == {"html", "docx", "xlsx"}


# ---------------------------------------------------------------- in a real browser


@needs_chromium
@pytest.mark.browser
def test_the_html_renders_in_chromium_with_every_chart_visible(full, tmp_path):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(full["files"].html.resolve().as_uri(), wait_until="load")
            charts = page.locator("figure.chart svg")
            assert charts.count() == 3
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 100, i
            labels = page.locator("figure.chart svg text").all_text_contents()
            assert "养老服务" in "".join(labels)  # chart text is text, in the reader's fonts
            assert page.locator("#report-week").inner_text() == LAST
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert requests == [full["files"].html.resolve().as_uri()]  # nothing fetched but the page
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 50_000


# ---------------------------------------------------------------- the command


def test_the_report_command_prints_every_form(prefect_harness, full, monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setenv("MINSHENG_REPORT_DIR", str(tmp_path / "out"))
    result = CliRunner().invoke(app, ["report", "--db", str(full["db"]), "--week", WEEKS[-2]])
    assert result.exit_code == 0, result.output
    printed = dict(
        line.split(maxsplit=1)
        for line in result.stdout.splitlines()
        if line[:5].rstrip().endswith(":")
    )
    expected = {"html:", "docx:", "xlsx:"} | ({"pdf:"} if CHROMIUM else set())
    assert set(printed) == expected
    for kind, path in printed.items():
        assert Path(path) == (tmp_path / "out" / f"weekly-report-{WEEKS[-2]}.{kind[:-1]}").resolve()


def test_the_report_command_names_a_bad_week_in_one_line(prefect_harness, full):
    from typer.testing import CliRunner

    from flows.cli import app

    result = CliRunner().invoke(app, ["report", "--db", str(full["db"]), "--week", "2030-W01"])
    assert result.exit_code == 2
    assert "no demand items in week 2030-W01" in result.output and "Traceback" not in result.output
