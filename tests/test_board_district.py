"""Acceptance: a district that is not Nanping, brought with configuration only.

``minsheng generate --profile board`` writes a city's message board (the exports as .xlsx with
the board's columns, date-only times, no community column, seven department labels, no
survey, a registry of department offices, and its config folder). Through the CLI only:
init → validate → ingest → model train → process → match → report → check.
"""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from tests.conftest import point_settings_at

pytestmark = pytest.mark.slow

RECORDS = 600


@pytest.fixture(scope="module")
def board(prefect_harness, tmp_path_factory):
    from flows.cli import app

    root = tmp_path_factory.mktemp("board")
    mp = pytest.MonkeyPatch()
    point_settings_at(root, mp)
    mp.setenv("MINSHENG_CONFIG_DIR", "")
    mp.setenv("MINSHENG_DEBUG", "")
    runner = CliRunner()
    outputs: dict[str, str] = {}

    def run(step: str, *args: str) -> str:
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, f"{step}: {result.output}"
        outputs[step] = result.output
        return result.output

    out, cfg = root / "board", root / "district"
    run("generate", "generate", "--profile", "board", "--out", str(out), "--records", str(RECORDS))
    run("init", "init", str(cfg))
    for f in (out / "configs").glob("*.yaml"):  # the data team's edits of the starter
        shutil.copy(f, cfg / f.name)
    mp.setenv("MINSHENG_CONFIG_DIR", str(cfg))
    run("validate", "validate")
    run("ingest platform", "ingest", "platform", str(out))
    run("ingest hotline", "ingest", "hotline", str(out))
    run("train", "model", "train", "--data", str(out / "training" / "labelled.xlsx"),
        "--text-col", "留言主题", "--text-col", "留言详情", "--label-col", "一级分类")
    run("process", "process")
    run("match", "match")
    run("report", "report")
    run("check", "check")
    truth = json.loads((out / "truth" / "records.json").read_text(encoding="utf-8"))
    con = duckdb.connect(str(root / "data" / "minsheng.duckdb"), read_only=True)
    yield {"outputs": outputs, "truth": truth, "con": con, "reports": root / "reports"}
    con.close()
    mp.undo()


def test_every_row_loads_or_is_quarantined_for_a_reason_that_is_not_its_place(board):
    con = board["con"]
    loaded = con.execute("select count(*) from feedback").fetchone()[0]
    reasons = dict(con.execute("select reason, count(*) from quarantine group by reason").fetchall())
    assert loaded + sum(reasons.values()) == RECORDS
    assert "unknown_community" not in reasons
    assert loaded >= 0.95 * RECORDS
    print(f"\nboard: {loaded} of {RECORDS} rows loaded, quarantined {reasons or 'none'}")


def test_records_whose_text_names_a_place_get_the_right_community(board):
    truth = board["truth"]
    rows = board["con"].execute(
        "select feedback_id, any_value(community) from demand_items group by feedback_id").fetchall()
    named = [(f, c) for f, c in rows if truth[f]["community"]]
    right = sum(c == truth[f]["community"] for f, c in named)
    unnamed = [c for f, c in rows if not truth[f]["community"]]
    assert right >= 0.9 * len(named), f"{right} of {len(named)} placed right"
    assert unnamed.count("unknown") >= 0.8 * len(unnamed)  # nothing invented for the rest
    assert "unplaced" in board["outputs"]["check"]
    print(f"\nboard: {right} of {len(named)} records naming a place placed right "
          f"({right / len(named):.1%}); {unnamed.count('unknown')} of {len(unnamed)} naming none unplaced")


def test_matching_uses_the_mapped_categories(board):
    con = board["con"]
    from minsheng.demo.board import LABELS

    labels = dict(con.execute("select label, any_value(category) from demand_items group by label").fetchall())
    assert {label: code for label, (code, _, _) in LABELS.items() if label in labels} == labels
    served = {code for code, _, served in LABELS.values() if served}
    bad = con.execute("select category, count(*) from matches where reason = 'no_provider' group by category").fetchall()
    assert [c for c, _ in bad if c in served] == []
    matched = con.execute("select count(*) filter (where status = 'matched'), count(*) from matches").fetchone()
    truth = board["truth"]
    items = con.execute("select feedback_id, label from demand_items").fetchall()
    accuracy = sum(label == truth[f]["label"] for f, label in items) / len(items)
    assert accuracy >= 0.8
    print(f"\nboard: {matched[0]} of {matched[1]} items matched; labels mapped {len(labels)}; "
          f"label accuracy {accuracy:.1%}")


def test_the_report_has_no_empty_survey_section(board):
    html = next(board["reports"].glob("weekly-report-*.html")).read_text(encoding="utf-8")
    assert "Satisfaction survey: left out" in html
    assert "600 issued" not in html and "未定位 Unplaced" in html
