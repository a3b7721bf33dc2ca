"""The planners' workbench in a real browser: Playwright driving Debian's Chromium against the
app served by uvicorn on a free port. Logs in, filters the gaps page, opens a drill-down, runs
a what-if, downloads a CSV; a screenshot of each page goes to the test's temp folder, and no
console error and no request to anywhere else is allowed."""

from __future__ import annotations

import csv
import io
import shutil
import socket
import threading
import time

import pytest

from tests.web_support import LAST, PASSWORDS, build_web_warehouse, web_settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None,
                       reason="Chromium is not installed (apt-get install chromium, or `make system-deps`)"),
]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, settings):
    import uvicorn

    from flows.web import create_app
    from warehouse.resource import Warehouse

    root = tmp_path_factory.mktemp("web-browser")
    db = build_web_warehouse(root)
    app = create_app(web_settings(settings, root), Warehouse(db))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "the workbench did not start"
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "db": db}
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser_page(server):
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    elsewhere: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: None if r.url.startswith(server["url"]) else elsewhere.append(r.url))
            page.expected_errors = []  # type: ignore[attr-defined]  # a test's own: a 403 it asked for
            yield page
        finally:
            browser.close()
    assert [e for e in errors if not any(x in e for x in page.expected_errors)] == []
    assert elsewhere == []


def _login(page, server, name="wang"):
    page.goto(server["url"] + "/gaps")
    assert "/login" in page.url  # no page without a login
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("#login")
    page.wait_for_url(f"{server['url']}/gaps*")


def test_a_planner_filters_drills_down_runs_a_what_if_and_downloads(browser_page, server, tmp_path):
    page = browser_page
    _login(page, server)
    assert page.locator("#week").inner_text() == LAST
    page.screenshot(path=str(tmp_path / "gaps.png"), full_page=True)

    # filter: one community (the select submits the form on change)
    page.select_option("#f-community", "C03")
    page.wait_for_url("**community=C03**")
    communities = {c.get_attribute("data-community") for c in page.locator("a.cell").all()}
    assert communities == {"C03"}

    # drill down into a cell
    page.click('a.cell[data-category="elderly_care"]')
    page.wait_for_url("**/gaps/cell?**")
    rows = page.locator("#table-items tbody tr")
    assert rows.count() > 12  # the planted rise in the last week
    assert "家里老人需要日间照料" in rows.first.inner_text()
    page.screenshot(path=str(tmp_path / "cell.png"), full_page=True)

    # download the items as CSV and check its rows
    with page.expect_download() as dl:
        page.click("#table-items a.dl-csv")
    text = (dl.value.path()).read_text(encoding="utf-8-sig")
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == rows.count()
    assert {r["category"] for r in records} == {"elderly_care"}

    # a what-if: 20 more day-care places
    page.click("#nav-whatif")
    page.wait_for_url("**/whatif**")
    page.locator("select.w-service").first.select_option("elderly_base.daycare")
    page.locator("select.w-op").first.select_option("+")
    page.locator("input.w-amount").first.fill("20")
    page.click("#run-whatif")
    page.wait_for_selector("#whatif-result")
    assert int(page.locator("#matched-delta").inner_text()) > 0
    assert "service=elderly_base.daycare" in page.url  # the link holds the what-if
    assert page.locator("#table-delta tbody tr").count() > 0
    page.screenshot(path=str(tmp_path / "whatif.png"), full_page=True)

    for name, chart in (("overview", "#trend-chart svg"), ("providers", "#util-chart svg"),
                        ("survey", ".bar .pos")):
        page.click(f"#nav-{name}")
        page.wait_for_load_state("load")
        assert page.locator("h1").count() == 1
        box = page.locator(chart).first.bounding_box()
        assert box is not None and box["width"] > 20 and box["height"] > 5, name
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
    for shot in tmp_path.glob("*.png"):
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_a_form_post_without_its_csrf_token_fails(browser_page, server, tmp_path):
    page = browser_page
    _login(page, server, "li")
    page.goto(server["url"] + "/review")
    page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
    assert page.locator("form.review-form").count() == 3
    page.expected_errors.append("status of 403")
    # take the token out of the first form, then send it
    page.evaluate("document.querySelector('form.review-form input[name=csrf]').value = ''")
    with page.expect_response(lambda r: r.url.endswith("/review") and r.request.method == "POST") as resp:
        page.locator("form.review-form button").first.click()
    assert resp.value.status == 403
    assert "CSRF" in page.locator("#error-message").inner_text()
