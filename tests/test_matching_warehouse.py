"""Matching through the warehouse: the registry (YAML and CSV, dated capacity), the signals read
from the items, the written matches and planning tables, what-if without writing, and the
query command's formats. The instance is tests/matching_warehouse.py, checked by hand."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.matching_warehouse import build

WEEK = "2026-W47"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, settings):
    from minsheng.matching import load_match_config
    from warehouse import resource
    from warehouse.loaders import match_week

    root = tmp_path_factory.mktemp("matching")
    db = root / "w.duckdb"
    build(db, root / "supply.yaml")
    config = load_match_config(settings.config_dir / "matching.yaml", settings.district.community_codes)
    con = resource.connect(db)
    try:
        for week in ("2026-W46", WEEK):
            match_week(con, week, config)
    finally:
        con.close()
    return {"db": db, "root": root, "config": config}


def _rows(db, sql, params=None):
    from warehouse.resource import connect

    con = connect(db, read_only=True)
    try:
        return con.execute(sql, params or {}).fetchall()
    finally:
        con.close()


def test_dated_capacity_keeps_each_week_its_own(warehouse):
    got = _rows(warehouse["db"], "select week, capacity, valid_from from capacity "
                                 "where service_id = 'elderly_base.daycare' order by week")
    assert got == [("2026-W46", 1, "2026-W46"), ("2026-W47", 2, "2026-W47")]
    assert _rows(warehouse["db"], "select location, schedule from services "
                                  "where service_id = 'elderly_base.daycare'") == [("C03", "周一至周五 8:30-17:30")]


def test_matches_follow_priority_eligibility_and_area(warehouse):
    got = {r[0].split(":")[1].split("#")[0]: r[1:] for r in _rows(
        warehouse["db"], "select item_id, status, service_id, reason, priority, fit_cost, travel_cost, "
                         "unmet_cost, cost from matches where week = $w", {"w": WEEK})}
    # two day-care places: the elderly person living alone (weight 2) and the urgent case from
    # C05 (weight 1.5, two steps from C03: travel 1.0) outweigh the 78-year-old (weight 1)
    assert got["e1"] == ("matched", "elderly_base.daycare", None, "elderly_alone", 1.0, 0.0, None, 1.0)
    assert got["e3"] == ("matched", "elderly_base.daycare", None, "urgent", 1.0, 1.0, None, 2.0)
    assert got["e2"][:3] == ("unmet", None, "no_capacity") and got["e2"][6:] == (10.0, 10.0)
    assert got["e4"][2] == "ineligible"   # a stated age of 45 is under the base's 60
    assert got["s1"][2] == "ineligible"   # the survey respondent is floating population
    assert got["s2"][:2] == ("matched", "centre.subsistence")
    assert got["p1"][:2] == ("matched", "mutual.C04.help") and got["p2"][2] == "no_capacity"
    assert got["p3"][2] == "out_of_area"
    assert got["k1"][2] == "no_provider" and got["o1"][2] == "unclassified"


def test_planning_tables(warehouse):
    db = warehouse["db"]
    reasons = dict(((r[0], r[1]), r[2]) for r in _rows(
        db, "select community, reason, items from unmet_reasons where week = $w", {"w": WEEK}))
    assert reasons[("C03", "no_capacity")] == 1 and reasons[("C03", "ineligible")] == 1
    top = _rows(db, "select service_id, value_per_unit, waiting, helps_community, helps_category "
                    "from capacity_value where week = $w and rank = 1", {"w": WEEK})
    assert top[0][0] == "elderly_base.daycare" and top[0][2:] == (1, "C03", "elderly_care")
    assert top[0][1] >= 9.0  # serves e2 (10 - 1), and brings C03 within the fairness margin
    fairness = {r[0]: r[1:] for r in _rows(
        db, "select community, exceeds, why from match_fairness where week = $w", {"w": WEEK})}
    assert fairness["C04"] == (True, "property: 1 unmet; only local services, all full (mutual.C04.help)")
    run = _rows(db, "select solver, items, matched, unmet from match_runs where week = $w", {"w": WEEK})
    assert run == [("min_cost_flow", 11, 4, 7)]
    gaps = _rows(db, "select sum(demand), sum(matched), sum(unmet) from gap_weekly where week = $w", {"w": WEEK})
    assert gaps == [(11, 4, 7)]


def test_all_data_checks_pass(warehouse):
    from warehouse.query import run_checks
    from warehouse.resource import connect

    con = connect(warehouse["db"], read_only=True)
    try:
        assert {k: v for k, v in run_checks(con).items() if v} == {}
    finally:
        con.close()


def test_rematching_changes_nothing(warehouse):
    from warehouse import resource
    from warehouse.loaders import match_week

    sql = "select * exclude (matched_at) from matches order by item_id"
    before = _rows(warehouse["db"], sql)
    con = resource.connect(warehouse["db"])
    try:
        match_week(con, WEEK, warehouse["config"])
    finally:
        con.close()
    assert _rows(warehouse["db"], sql) == before


def test_what_if_prints_the_change_and_writes_nothing(warehouse):
    from flows.cli import app

    db = warehouse["db"]
    before = (db.stat().st_mtime_ns, _rows(db, "select * from matches order by item_id"))
    res = CliRunner().invoke(app, ["match", "--week", WEEK, "--what-if", "elderly_base.daycare:+1",
                                   "--what-if", "mutual.C04.help@C06:+1", "--format", "json", "--db", str(db)])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    changed = {(r["community"], r["category"]): (r["matched_change"], r["unmet_change"]) for r in rows}
    assert changed == {("C03", "elderly_care"): (1, -1), ("C06", "property"): (1, -1)}
    assert (db.stat().st_mtime_ns, _rows(db, "select * from matches order by item_id")) == before
    bad = CliRunner().invoke(app, ["match", "--what-if", "nope:+1", "--db", str(db)])
    assert bad.exit_code == 2 and "nope" in bad.output


def test_query_lists_and_prints_markdown(warehouse):
    from flows.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["query", "--list"])
    assert "capacity_value" in listed.output and "fairness" in listed.output
    res = runner.invoke(app, ["query", "capacity_value", "-p", f"week={WEEK}", "--format", "markdown",
                              "--db", str(warehouse["db"])])
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[0].startswith("| rank | provider_name |") and lines[1].startswith("|---|")
    assert "| 日间托老 |" in lines[2]


# --- the registry ------------------------------------------------------------------------------

CSV_HEAD = "provider_id,provider_name,provider_kind,service_id,service_name,categories,area,unit,capacity,from_week,min_age,resident_types,location\n"


def test_registry_from_csv_with_dated_capacity(tmp_path, settings):
    from minsheng.supply import load_registry

    path = tmp_path / "supply.csv"
    path.write_text(CSV_HEAD
                    + "elderly_base,养老基地,base,elderly_base.daycare,日间托老,elderly_care:primary,all,人次,20,2026-W40,60,,C03\n"
                    + "elderly_base,养老基地,base,elderly_base.daycare,日间托老,elderly_care:primary,all,人次,40,2026-W45,60,,C03\n"
                    + "ngo.01,助残社,ngo,ngo.01.cases,助残,disability:primary daily_life:secondary,C01 C02,人次,7,,,户籍居民 流动人口,\n",
                    encoding="utf-8")
    registry = load_registry(path, settings.taxonomy, settings.district)
    (_, daycare), (_, ngo) = registry.services()
    assert daycare.capacity_in("2026-W39") is None
    assert daycare.capacity_in("2026-W44") == (20, "2026-W40") and daycare.capacity_in("2026-W47") == (40, "2026-W45")
    assert daycare.eligibility.min_age == 60 and daycare.location == "C03"
    assert ngo.area == ["C01", "C02"] and ngo.categories == {"disability": "primary", "daily_life": "secondary"}
    assert ngo.eligibility.resident_types == frozenset({"户籍居民", "流动人口"})


@pytest.mark.parametrize("row, message", [
    ("c,中心,centre,c.x,窗口,nonsense:primary,all,件,5,,,,", "row 2 (service c.x of provider c): unknown category ['nonsense']"),
    ("c,中心,centre,c.x,窗口,employment:primary,all,件,-5,,,,", "row 2 (c / c.x) field capacity: Input should be greater than or equal to 0"),
    ("c,中心,centre,c.x,窗口,employment:primary,all,,5,,,,", "row 2 (c / c.x) field unit: String should have at least 1 character"),
    ("c,中心,centre,c.x,窗口,employment:primary,C99,件,5,,,,", "row 2 (service c.x of provider c): unknown community ['C99']"),
])
def test_registry_errors_name_the_row(tmp_path, settings, row, message):
    from minsheng.supply import SupplyError, load_registry

    path = tmp_path / "supply.csv"
    path.write_text(CSV_HEAD + row + "\n", encoding="utf-8")
    with pytest.raises(SupplyError) as err:
        load_registry(path, settings.taxonomy, settings.district)
    assert str(err.value) == f"supply.csv: {message}"


def test_yaml_registry_errors_name_the_service(tmp_path, settings):
    from minsheng.supply import SupplyError, load_registry

    path = tmp_path / "supply.yaml"
    path.write_text("providers:\n- id: p\n  name: P\n  kind: ngo\n  services:\n"
                    "  - {id: p.a, name: A, categories: {culture: primary}, capacity: 3}\n",
                    encoding="utf-8")
    with pytest.raises(SupplyError, match=r"supply.yaml: p / p.a field unit: Field required"):
        load_registry(path, settings.taxonomy, settings.district)


def test_matching_config_is_checked(tmp_path, settings):
    import yaml

    from minsheng.matching import MatchConfigError, load_match_config

    raw = yaml.safe_load((settings.config_dir / "matching.yaml").read_text(encoding="utf-8"))
    communities = settings.district.community_codes
    assert load_match_config(settings.config_dir / "matching.yaml", communities).cost_model().travel[("C05", "C03")] == 1.0
    assert load_match_config(settings.config_dir / "matching.yaml", communities).notes == []
    # the adjacency table is optional: what it leaves out costs no travel, said in one note
    for adjacency, note in (({}, "has no adjacency table"),
                            ({k: v for k, v in raw["adjacency"].items() if k not in ("C09", "C10")} | {"C08": []},
                             "leaves out C12"),
                            ({f"C{n:02d}": [f"C{n + 1:02d}"] for n in (1, 2, 3, 4, 5, 7, 8, 9, 10, 11)},
                             "does not connect every community")):  # C01-C06 and C07-C12
        (tmp_path / "m.yaml").write_text(yaml.safe_dump(dict(raw, adjacency=adjacency), allow_unicode=True),
                                         encoding="utf-8")
        config = load_match_config(tmp_path / "m.yaml", communities)
        assert len(config.notes) == 1 and note in config.notes[0], config.notes
        assert ("C12", "C03") not in config.cost_model().travel
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(dict(raw, adjacency={"C01": ["C99"]}), allow_unicode=True),
                                     encoding="utf-8")
    with pytest.raises(MatchConfigError, match="communities the district does not have: C99"):
        load_match_config(tmp_path / "m.yaml", communities)
    raw = yaml.safe_load((settings.config_dir / "matching.yaml").read_text(encoding="utf-8"))
    raw["unmet_cost"] = 3.0
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(MatchConfigError, match="must exceed the dearest match"):
        load_match_config(tmp_path / "m.yaml", communities)
