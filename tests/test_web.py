"""The planners' workbench over plain HTTP (FastAPI's TestClient): every route, login and
roles, CSRF, downloads, and bad parameters refused with a 400 before any query runs."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.web_support import LAST, PASSWORDS, build_web_warehouse, web_settings

PAGES = ["/", "/gaps", f"/gaps/cell?week={LAST}&community=C03&category=elderly_care", "/providers",
         "/whatif", "/survey", "/review", "/download/gaps/gaps.csv"]


@pytest.fixture(scope="module")
def site(tmp_path_factory, settings):
    from flows.web import create_app
    from warehouse.resource import Warehouse

    root = tmp_path_factory.mktemp("web")
    db = build_web_warehouse(root)
    s = web_settings(settings, root)
    wh = Warehouse(db)
    return {"app": create_app(s, wh), "wh": wh, "db": db, "settings": s}


def _client(site):
    from fastapi.testclient import TestClient

    return TestClient(site["app"], base_url="http://127.0.0.1", follow_redirects=False)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def _login(site, name="wang"):
    c = _client(site)
    token = _csrf(c.get("/login").text)
    r = c.post("/login", data={"name": name, "password": PASSWORDS[name], "csrf": token, "next": "/"})
    assert r.status_code == 303, r.text
    return c


@pytest.fixture(scope="module")
def planner(site):
    return _login(site, "wang")


@pytest.fixture(scope="module")
def data_user(site):
    return _login(site, "li")


# ---------------------------------------------------------------- access


@pytest.mark.parametrize("path", PAGES)
def test_every_page_needs_a_login(site, path):
    r = _client(site).get(path)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")


def test_a_login_sets_an_httponly_samesite_session_cookie(site):
    c = _client(site)
    token = _csrf(c.get("/login").text)
    r = c.post("/login", data={"name": "wang", "password": PASSWORDS["wang"], "csrf": token,
                               "next": "/gaps"})
    assert r.status_code == 303 and r.headers["location"] == "/gaps"
    cookie = r.headers["set-cookie"].lower()
    assert "minsheng_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert c.get("/gaps").status_code == 200


def test_a_wrong_password_or_name_is_refused(site):
    c = _client(site)
    token = _csrf(c.get("/login").text)
    for name, password in [("wang", "wrong-password"), ("nobody", PASSWORDS["wang"])]:
        r = c.post("/login", data={"name": name, "password": password, "csrf": token})
        assert r.status_code == 401 and "wrong name or password" in r.text
    assert c.get("/").status_code == 303


def test_wrong_passwords_lock_the_name_for_a_while(site):
    from fastapi.testclient import TestClient

    from flows.web import create_app

    now = [1000.0]
    s = site["settings"].model_copy(update={"web": site["settings"].web.model_copy(
        update={"login_failures": 3, "login_lockout_minutes": 10})})
    app = create_app(s, site["wh"], clock=lambda: now[0])

    def attempt(password, name="wang"):
        c = TestClient(app, base_url="http://127.0.0.1", follow_redirects=False)
        return c.post("/login", data={"name": name, "password": password, "csrf": _csrf(c.get("/login").text)})

    assert [attempt("wrong-password").status_code for _ in range(3)] == [401, 401, 401]
    locked = attempt(PASSWORDS["wang"])  # the right password, during the lockout: refused
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) == 601
    assert "try again in 10 min" in locked.text
    assert attempt(PASSWORDS["li"], name="li").status_code == 303  # other names are not locked
    now[0] += 601
    assert attempt(PASSWORDS["wang"]).status_code == 303


def test_the_login_throttle_stays_bounded_under_a_flood_of_names():
    from flows.web.auth import LoginThrottle

    now = [0.0]
    t = LoginThrottle(3, 600, clock=lambda: now[0], max_names=100)
    for _ in range(3):
        t.failed("wang")
    assert t.retry_after("wang") == 600
    for i in range(50_000):  # made-up names, one wrong password each
        t.failed(f"name-{i}")
        now[0] += 0.001
    assert len(t) <= 101  # 100 counters and the one lock
    assert t.retry_after("wang") > 500  # the lock outlives the flood
    # a run of failures is forgotten a lockout after its last one
    t.failed("li")
    t.failed("li")
    now[0] += 601
    t.failed("li")
    assert t.retry_after("li") == 0 and t.retry_after("wang") == 0
    t.failed("li")
    t.failed("li")
    assert t.retry_after("li") == pytest.approx(600)


def test_a_login_without_its_csrf_token_fails(site):
    c = _client(site)
    c.get("/login")
    r = c.post("/login", data={"name": "wang", "password": PASSWORDS["wang"]})
    assert r.status_code == 403 and "CSRF" in r.text
    assert c.get("/").status_code == 303


def test_login_never_redirects_off_the_site(site):
    c = _client(site)
    token = _csrf(c.get("/login").text)
    r = c.post("/login", data={"name": "wang", "password": PASSWORDS["wang"], "csrf": token,
                               "next": "//evil.example.org/x"})
    assert r.headers["location"] == "/"


def test_logout_needs_the_token_and_ends_the_session(site):
    c = _login(site)
    assert c.post("/logout", data={}).status_code == 403
    assert c.get("/").status_code == 200
    token = _csrf(c.get("/").text)
    assert c.post("/logout", data={"csrf": token}).status_code == 303
    assert c.get("/").status_code == 303


def test_the_review_queue_is_for_the_data_role_only(planner, data_user):
    r = planner.get("/review")
    assert r.status_code == 403
    assert 'id="nav-review"' not in planner.get("/").text
    assert data_user.get("/review").status_code == 200
    assert 'id="nav-review"' in data_user.get("/").text
    assert planner.post("/review", data={"csrf": _csrf(planner.get("/").text)}).status_code == 403


# ---------------------------------------------------------------- pages


def test_the_overview_shows_the_weeks_totals_trend_and_tables(planner, site):
    r = planner.get("/")
    assert r.status_code == 200
    assert f'<span id="week">{LAST}</span>' in r.text
    from warehouse.query import run_query

    items, matched, unmet, _ = run_query(site["wh"], "select * from (" + open_sql("week_coverage") + ")",
                                         {"week": LAST}).rows[0]
    assert f'<b id="total-items">{items}</b>' in r.text
    assert f'<b id="total-unmet">{unmet}</b>' in r.text
    assert 'id="trend-chart"' in r.text and "<svg" in r.text
    assert 'id="table-categories"' in r.text


def open_sql(name):
    from warehouse.sql import read_sql

    return read_sql("queries", name)


def _gap_rows(site, week=LAST):
    from warehouse.query import run_query

    return run_query(site["wh"], open_sql("gaps"), {"week": week}).to_records()


def test_the_gaps_page_has_a_heat_map_cell_per_community_and_category(planner, site):
    r = planner.get(f"/gaps?week={LAST}")
    assert r.status_code == 200
    rows = _gap_rows(site)
    cells = re.findall(r'class="cell" data-community="([^"]+)" data-category="([^"]+)"', r.text)
    assert sorted(cells) == sorted((g["community"], g["category"]) for g in rows)
    assert f'<b id="gap-unmet">{sum(g["unmet"] for g in rows)}</b>' in r.text
    # each cell links to its drill-down, with the week in the link
    assert f'href="/gaps/cell?week={LAST}&amp;community=C03&amp;category=elderly_care"' in r.text


def test_the_gaps_filters_are_in_the_url_and_narrow_the_table(planner, site):
    r = planner.get(f"/gaps?week={LAST}&community=C03")
    cells = re.findall(r'data-community="([^"]+)"', r.text)
    assert cells and set(cells) == {"C03"}
    r = planner.get(f"/gaps?week={LAST}&category=elderly_care")
    assert set(re.findall(r'data-category="([^"]+)"', r.text)) == {"elderly_care"}
    # an earlier week is another answer
    earlier = planner.get("/gaps?week=2026-W41").text
    assert '<span id="week">2026-W41</span>' in earlier
    assert f'<b id="gap-demand">{sum(g["demand"] for g in _gap_rows(site, "2026-W41"))}</b>' in earlier


def test_a_cell_opens_the_masked_items_behind_it(planner, site):
    r = planner.get(f"/gaps/cell?week={LAST}&community=C03&category=elderly_care")
    assert r.status_code == 200
    cell = next(g for g in _gap_rows(site) if (g["community"], g["category"]) == ("C03", "elderly_care"))
    body = r.text.split('id="table-items"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr>") == cell["demand"]
    assert "家里老人需要日间照料" in body
    assert body.count(">unmet<") == cell["unmet"]


def test_a_drill_down_needs_a_cell(planner):
    r = planner.get(f"/gaps/cell?week={LAST}&community=C03")
    assert r.status_code == 400 and "a community and a category" in r.text


def test_the_providers_page_shows_utilisation_and_capacity_value(planner):
    r = planner.get(f"/providers?week={LAST}")
    assert r.status_code == 200
    assert "日间托老" in r.text and 'id="util-chart"' in r.text
    assert 'id="table-utilization"' in r.text and 'id="table-capacity_value"' in r.text


def test_a_what_if_shows_the_delta_and_writes_nothing(planner, site):
    import duckdb

    before = site["db"].stat().st_mtime_ns, site["db"].stat().st_size
    r = planner.get(f"/whatif?week={LAST}&service=elderly_base.daycare&op=%2B&amount=20&site=")
    assert r.status_code == 200, r.text
    from warehouse.loaders import what_if_week
    from minsheng.matching import CapacityChange, load_match_config

    s = site["settings"]
    config = load_match_config(s.matching_config, s.district.community_codes)
    con = duckdb.connect(str(site["db"]), read_only=True)
    try:
        expected = what_if_week(con, LAST, [CapacityChange.parse("elderly_base.daycare:+20")], config,
                                other_label=s.taxonomy.other_code)
    finally:
        con.close()
    gained = expected.after.matched - expected.before.matched
    assert gained > 0
    assert f'<b id="matched-delta">{gained:+d}</b>' in r.text
    delta = r.text.split('id="table-delta"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert delta.count("<tr>") == len(expected.cells)
    assert (site["db"].stat().st_mtime_ns, site["db"].stat().st_size) == before


def test_a_new_site_in_a_community_is_a_what_if_too(planner):
    r = planner.get(f"/whatif?week={LAST}&service=elderly_base.daycare&op=%2B&amount=5&site=C01")
    assert r.status_code == 200 and "elderly_base.daycare@C01:+5" in r.text


def test_the_what_if_form_alone_runs_nothing(planner):
    r = planner.get(f"/whatif?week={LAST}")
    assert r.status_code == 200
    assert 'id="whatif-form"' in r.text and 'id="whatif-result"' not in r.text
    assert "elderly_base.daycare" in r.text


def test_the_survey_page(planner):
    r = planner.get("/survey")
    assert r.status_code == 200
    assert 'id="table-satisfaction"' in r.text and "40" in r.text


def test_a_data_user_confirms_or_corrects_a_category(data_user, site):
    page = data_user.get("/review").text
    items = re.findall(r'name="item_id" value="([^"]+)"', page)
    assert len(items) == 3
    token = _csrf(page)
    r = data_user.post("/review", data={"item_id": items[0], "label": "culture"})
    assert r.status_code == 403  # no CSRF token
    r = data_user.post("/review", data={"item_id": items[0], "label": "no such label", "csrf": token})
    assert r.status_code == 400
    with site["wh"].connect(read_only=True) as con:
        assert con.execute("select status from review_queue where item_id = ?", [items[0]]).fetchall() == [("open",)]
    r = data_user.post("/review", data={"item_id": items[0], "label": "culture", "csrf": token})
    assert r.status_code == 303
    with site["wh"].connect(read_only=True) as con:
        row = con.execute("select status, label from review_queue where item_id = ?", [items[0]]).fetchall()
    assert row == [("corrected", "culture")]
    after = data_user.get("/review").text
    assert "culture recorded" in after, re.search(r"id=.flash.>[^<]*", after)
    assert items[0] not in re.findall(r'name="item_id" value="([^"]+)"', after)


# ---------------------------------------------------------------- downloads


def test_a_table_downloads_as_csv_with_the_pages_rows(planner, site):
    r = planner.get(f"/download/gaps/gaps.csv?week={LAST}&community=C03")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f"minsheng-gaps-gaps-{LAST}.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    expected = [g for g in _gap_rows(site) if g["community"] == "C03"]
    assert [(x["community"], x["category"], int(x["unmet"])) for x in rows] == \
           [(g["community"], g["category"], g["unmet"]) for g in expected]


def test_a_table_downloads_as_xlsx(planner, site):
    from openpyxl import load_workbook

    r = planner.get(f"/download/providers/utilization.xlsx?week={LAST}")
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    values = list(ws.values)
    assert values[0][:2] == ("provider_name", "service_name")
    assert any(v[1] == "日间托老" for v in values[1:])


def test_a_what_if_delta_downloads(planner):
    r = planner.get(f"/download/whatif/delta.csv?week={LAST}&service=elderly_base.daycare&op=%2B&amount=20")
    assert r.status_code == 200
    assert r.content.decode("utf-8-sig").splitlines()[0].startswith("community,category,matched_before")


def test_csv_and_xlsx_cells_never_run_as_formulas():
    from flows.web.export import safe_cell, to_csv

    assert [safe_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "ok", 3)] == \
           ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "ok", 3]
    text = to_csv(["a"], [("=HYPERLINK(\"x\")",)]).decode("utf-8-sig")
    assert text.splitlines()[1] == "\"'=HYPERLINK(\"\"x\"\")\""


def test_unknown_downloads_are_refused(planner):
    assert planner.get("/download/gaps/nothing.csv").status_code == 400
    assert planner.get("/download/gaps/gaps.pdf").status_code == 400
    assert planner.get("/download/secrets/gaps.csv").status_code == 400


# ---------------------------------------------------------------- bad parameters


@pytest.fixture
def executed(monkeypatch):
    """The parameters of every query the workbench runs."""
    import flows.web.app as web

    seen: list[dict] = []
    real = web.execute

    def spy(con, sql, params=None):
        seen.append(dict(params or {}))
        return real(con, sql, params)

    monkeypatch.setattr(web, "execute", spy)
    return seen


@pytest.mark.parametrize("query, message", [
    ("/gaps?week=2031-W01", "unknown week '2031-W01'"),
    ("/gaps?week=2026-W47' or 1=1 --", "unknown week"),
    ("/gaps?community=C01'; drop table matches; --", "unknown community"),
    ("/gaps?category=elderly_care' union select text from demand_items --", "unknown category"),
    ("/gaps?week=2026-W41&week=2026-W42", "given 2 times"),
    ("/download/gaps/gaps.csv?community=X9", "unknown community 'X9'"),
    (f"/whatif?week={LAST}&service=elderly_base.daycare&op=*&amount=2", "unknown change"),
    (f"/whatif?week={LAST}&service=elderly_base.daycare&op=%2B&amount=1e9", "not a whole number"),
    (f"/whatif?week={LAST}&service=x';select 1&op=%2B&amount=2", "unknown service"),
    (f"/whatif?week={LAST}&service=elderly_base.daycare&op=-&amount=2&site=C01", "adds capacity"),
])
def test_bad_parameters_are_a_400_and_reach_no_query(planner, executed, query, message):
    r = planner.get(query)
    assert r.status_code == 400, r.text
    assert message in r.text.replace("&#39;", "'")
    bad = [v for k, v in (kv.split("=", 1) for kv in query.split("?", 1)[1].split("&"))
           if k != "week" or "2031" in v or "'" in v]
    for params in executed:
        assert not set(map(str, params.values())) & set(bad), params


# ---------------------------------------------------------------- what every page shares


@pytest.mark.parametrize("path", ["/", "/gaps", "/providers", "/whatif", "/survey"])
def test_pages_fetch_nothing_from_elsewhere_and_forbid_it(planner, path):
    r = planner.get(path)
    assert r.status_code == 200
    refs = re.findall(r'(?:src|href|action)="([^"]*)"', r.text)
    assert refs and all(not re.match(r"[a-z]+:", u) and not u.startswith("//") for u in refs), refs
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"


def test_static_assets_are_served_locally(planner):
    assert planner.get("/static/style.css").status_code == 200
    assert planner.get("/static/app.js").status_code == 200


def test_hash_password_prints_an_argon2_hash_that_verifies():
    from typer.testing import CliRunner

    from flows.cli import app
    from flows.web.auth import authenticate
    from minsheng.settings import WebUser

    r = CliRunner().invoke(app, ["web", "hash-password", "--password", "a-long-secret"])
    assert r.exit_code == 0, r.output
    digest = r.output.strip()
    assert digest.startswith("$argon2id$")
    user = WebUser(name="z", password_hash=digest)
    assert authenticate([user], "z", "a-long-secret") == user
    assert authenticate([user], "z", "a-long-secreT") is None
    short = CliRunner().invoke(app, ["web", "hash-password", "--password", "short"])
    assert short.exit_code == 2


def test_the_secret_key_file_is_made_once_and_private(tmp_path, settings):
    from flows.web.auth import secret_key
    from minsheng.settings import WebSettings

    s = settings.model_copy(update={"data_dir": tmp_path, "web": WebSettings()})
    first = secret_key(s)
    path = tmp_path / "private" / "web-secret.key"
    assert path.stat().st_mode & 0o077 == 0
    assert secret_key(s) == first and len(first) > 40


def test_web_without_accounts_is_a_one_line_usage_error(site, monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.delenv("MINSHENG_WEB__USERS", raising=False)
    r = CliRunner().invoke(app, ["web", "--db", str(site["db"])])
    assert r.exit_code == 2
    assert "no workbench accounts" in r.output and len(r.output.strip().splitlines()) == 1


def test_the_pool_keeps_a_connection_until_the_snapshot_or_the_warehouse_changes(site, tmp_path):
    import shutil

    from flows.web.app import ConnectionPool
    from warehouse.resource import Warehouse

    # a copy: the site's own pool holds connections to its snapshot, and DuckDB would share them
    shutil.copy(site["db"], tmp_path / "w.duckdb")
    wh = Warehouse(tmp_path / "w.duckdb")
    pool = ConnectionPool(wh)
    with pool.get() as first:
        with pool.get() as second:  # in use: another one
            assert second is not first
    with pool.get() as again:
        assert again in (first, second)
    with wh.transaction() as con:  # a write to the live warehouse: the snapshot is stale
        con.execute("update demand_items set confidence = 0.42 where item_id = "
                    "(select min(item_id) from demand_items)")
    with pool.get() as fresh:
        assert fresh not in (first, second)
        assert fresh.execute("select count(*) from demand_items where confidence = 0.42").rows[0][0] == 1


def test_a_warehouse_without_survey_or_matching_still_serves_its_pages(tmp_path, settings):
    from fastapi.testclient import TestClient

    from flows.web import create_app
    from tests.report_warehouse import build
    from warehouse.resource import Warehouse

    build(tmp_path / "w.duckdb", registry=None, survey=False)
    s = web_settings(settings, tmp_path)
    c = TestClient(create_app(s, Warehouse(tmp_path / "w.duckdb")), base_url="http://127.0.0.1",
                   follow_redirects=False)
    token = _csrf(c.get("/login").text)
    assert c.post("/login", data={"name": "wang", "password": PASSWORDS["wang"], "csrf": token}).status_code == 303
    for path in ("/", "/gaps", "/providers", "/whatif"):
        assert c.get(path).status_code == 200, path
    r = c.get("/survey")
    assert r.status_code == 400 and "no satisfaction survey" in r.text
    assert "not matched yet" in c.get(f"/gaps/cell?week={LAST}&community=C03&category=elderly_care").text
