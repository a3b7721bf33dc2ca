"""The workbench's routes: five pages (总览, 供需缺口, 服务方, 假设分析, 满意度), the drill-down
behind a gap cell, the review queue (role ``data``), downloads of every table, and login.

Each page is a function from the request's validated filters and a planners' connection to a
:class:`Page` (its tables and what the template shows); the page's route renders it, the
download route renders one of its tables as CSV or .xlsx. Filters are checked against the
weeks, communities, categories and services the snapshot and the district know before any
query runs: anything else is a 400 that says what was wrong.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.middleware.sessions import SessionMiddleware

from flows.web.auth import LoginThrottle, authenticate, csrf_token, csrf_valid, secret_key
from flows.web.export import to_csv, to_xlsx
from minsheng.domain import UNKNOWN_COMMUNITY
from minsheng.pii import mask_text
from minsheng.settings import Settings, WebUser, load_settings
from warehouse.planner import PlannerConnection, QueryError
from warehouse.query import execute
from warehouse.resource import Warehouse, WarehouseMissing
from warehouse.sql import read_sql

__all__ = ["BadRequest", "Page", "Table", "create_app"]

HERE = Path(__file__).resolve().parent
MAX_CHANGES = 8
_AMOUNT = re.compile(r"\d{1,6}")
_SERVICE = re.compile(r"[A-Za-z0-9_.:@-]{1,120}")

# every response: nothing from elsewhere, no framing, no sniffing
_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                               "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class BadRequest(ValueError):
    """A parameter the workbench does not know; the message says which and what it knows."""


class NotLoggedIn(Exception):
    pass


class Forbidden(Exception):
    pass


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[tuple[Any, ...]]

    @classmethod
    def of(cls, name: str, title: str, result: Any) -> Table:
        return cls(name, title, list(result.columns), [tuple(r) for r in result.rows])

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


@dataclass
class Page:
    template: str
    title: str
    tables: dict[str, Table] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, table: Table) -> Table:
        self.tables[table.name] = table
        return table


@dataclass
class Ctx:
    """One request's connection, settings and validated filters."""

    con: PlannerConnection
    settings: Settings
    request: Request
    weeks: list[str]
    week: str
    filters: dict[str, str]
    charts: dict[tuple[Any, ...], Any] = field(default_factory=dict)

    def chart(self, name: str, draw: Callable[[], Any]) -> str:
        """A chart as inline SVG, drawn once per snapshot and week (matplotlib takes seconds)."""
        from warehouse import charts

        source = self.con.source
        key = (name, self.week, source.published_at if source else None)
        if key not in self.charts:
            if len(self.charts) > 64:
                self.charts.clear()
            self.charts[key] = charts.to_svg(draw(), name)
        return self.charts[key]

    def q(self, name: str, **params: Any) -> Any:
        return execute(self.con, read_sql("queries", name), params)

    @property
    def names(self) -> dict[str, str]:
        return self.settings.taxonomy.names()

    @property
    def communities(self) -> dict[str, str]:
        out = {c.code: c.name for c in self.settings.district.communities}
        out.setdefault(UNKNOWN_COMMUNITY, "未定位")
        return out


# ---------------------------------------------------------------- filters


def _one(request: Request, key: str) -> str:
    values = request.query_params.getlist(key)
    if len(values) > 1:
        raise BadRequest(f"{key} is given {len(values)} times: give it once")
    return values[0].strip() if values else ""


def _check(key: str, value: str, known: list[str]) -> str:
    if value and value not in known:
        shown = ", ".join(known[:12]) + (" …" if len(known) > 12 else "")
        raise BadRequest(f"unknown {key} {value[:60]!r}: known {key}s are {shown}")
    return value


def _weeks(con: PlannerConnection, cache: dict[tuple[Any, ...], Any]) -> list[dict[str, Any]]:
    """The weeks with data (``week_items``), read once per snapshot: every request checks its
    filters against them, and on a big warehouse they are a scan of every item."""
    key = ("weeks", con.source.published_at if con.source else None)
    if key not in cache:
        if len(cache) > 64:
            cache.clear()
        cache[key] = execute(con, read_sql("queries", "week_items")).to_records()
    return cache[key]


class ConnectionPool:
    """Planners' connections (``Warehouse.planner()``) kept open between requests while
    nothing has changed: neither the snapshot file (its inode and mtime) nor the live
    warehouse (size and mtime of the file and its WAL: a write there makes the snapshot stale,
    and the next connection publishes it again). Opening a connection costs more than a gap
    query on a materialised mart.

    DuckDB shares one instance per file path among a process's connections, so a connection
    opened while an old one is still in use would read the replaced snapshot: a connection is
    pooled only if it reads the snapshot it was opened for (``snapshot_info``)."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self._lock = threading.Lock()
        self._idle: list[tuple[PlannerConnection, ExitStack]] = []
        self._identity: tuple[Any, ...] | None = None

    def _current(self) -> tuple[Any, ...]:
        out: list[Any] = []
        for p in (self.wh.snapshot_path, self.wh.path, Path(f"{self.wh.path}.wal")):
            try:
                st = p.stat()
                out.append((st.st_ino, st.st_size, st.st_mtime_ns))
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    def _close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for _, stack in idle:
            stack.close()

    def invalidate(self) -> None:
        with self._lock:
            self._identity = None
            self._close_idle()

    @contextmanager
    def get(self) -> Iterator[PlannerConnection]:
        identity = self._current()
        with self._lock:
            if identity != self._identity:
                self._close_idle()
            held = self._idle.pop() if self._idle else None
        if held is None:
            stack = ExitStack()
            con = stack.enter_context(self.wh.planner())
            seen = execute(con, "select max(published_at) from snapshot_info").rows[0][0]
            poolable = con.source is not None and seen == con.source.published_at
            identity = self._current()  # opening may have published the snapshot
        else:
            con, stack = held
            poolable = True
        failed = True
        try:
            yield con
            failed = False
        except BadRequest:  # refused before or after a query: the connection is as it was
            failed = False
            raise
        finally:
            with self._lock:
                keep = not failed and poolable and self._current() == identity
                if keep:
                    self._identity = identity
                    self._idle.append((con, stack))
            if not keep:
                stack.close()


def _context(request: Request, con: PlannerConnection, settings: Settings, keys: tuple[str, ...],
             cache: dict[tuple[Any, ...], str]) -> Ctx:
    from warehouse.report import choose_week

    rows = _weeks(con, cache)
    weeks = [r["week"] for r in rows]
    if not weeks:
        raise BadRequest("the warehouse has no demand items yet: run `minsheng demo` or `minsheng process`")
    filters: dict[str, str] = {}
    week = _check("week", _one(request, "week"), weeks) or choose_week(rows).week
    filters["week"] = week
    if "community" in keys:
        codes = [c.code for c in settings.district.communities] + [UNKNOWN_COMMUNITY]
        filters["community"] = _check("community", _one(request, "community"), codes)
    if "category" in keys:
        filters["category"] = _check("category", _one(request, "category"),
                                     [*settings.taxonomy.codes, settings.taxonomy.other_code])
    return Ctx(con, settings, request, weeks, week, filters, cache)


# ---------------------------------------------------------------- pages


def overview(ctx: Ctx) -> Page:
    from warehouse import charts
    from warehouse.report import ReportContext, build_report

    s = ctx.settings
    data = build_report(ctx.con, ReportContext(ctx.week, s.district, s.taxonomy, generated_at=datetime.now()))
    page = Page("overview.html", "总览 Overview", data={"report": data})
    if data["trend"]:
        page.data["trend_svg"] = ctx.chart("trend", lambda: charts.demand_trend(data["trend"], data["names"], ctx.week))
    cats = data["categories"]
    page.add(Table("categories", "本周各类需求 Demand by category",
                   ["category", "name", "demand", "previous_demand", "matched", "unmet"],
                   [(r["category"], r["name"], r["demand"], r["previous_demand"], r["matched"], r["unmet"])
                    for r in cats]))
    page.add(Table("hot_issues", "热点问题 Hot issues", ["title", "place", "items", "residents", "heat", "status"],
                   [(h["title"], h["place"], h["items"], h["residents"], h["heat"], h["status"])
                    for h in data["hot_issues"] or []]))
    page.add(Table.of("emerging", "新出现的需求 Emerging needs", ctx.q("emerging", week=ctx.week)))
    return page


def gaps(ctx: Ctx) -> Page:
    f = ctx.filters
    table = Table.of("gaps", "供需缺口 Gaps", ctx.q("web_gaps", week=ctx.week, community=f["community"],
                                                    category=f["category"]))
    rows = table.records()
    communities = sorted({r["community"] for r in rows})
    categories = sorted({r["category"] for r in rows}, key=lambda c: (-sum(r["unmet"] for r in rows if r["category"] == c), c))
    grid = {(r["community"], r["category"]): r for r in rows}
    page = Page("gaps.html", "供需缺口 Gaps", data={
        "grid": grid, "grid_communities": communities, "grid_categories": categories,
        "total_unmet": sum(r["unmet"] for r in rows), "total_demand": sum(r["demand"] for r in rows),
    })
    page.add(table)
    return page


def cell(ctx: Ctx) -> Page:
    f = ctx.filters
    if not f["community"] or not f["category"]:
        raise BadRequest("a drill-down needs a community and a category (a cell of the gaps page)")
    result = ctx.q("cell_items", week=ctx.week, community=f["community"], category=f["category"])
    table = Table.of("items", "需求明细 Demand items", result)
    at = table.columns.index("text")
    # masked upstream; masking again is idempotent and keeps a number off the page whatever happened
    table.rows = [(*r[:at], mask_text(r[at] or ""), *r[at + 1:]) for r in table.rows]
    page = Page("cell.html", "需求明细 Demand items")
    page.add(table)
    return page


def providers(ctx: Ctx) -> Page:
    from warehouse import charts

    page = Page("providers.html", "服务方 Providers")
    util = page.add(Table.of("utilization", "服务利用率 Utilisation", ctx.q("utilization", week=ctx.week)))
    page.add(Table.of("capacity_value", "供给价值 Value of one more unit", ctx.q("capacity_value", week=ctx.week)))
    recs = util.records()
    if any(r["utilization"] is not None for r in recs):
        page.data["util_svg"] = ctx.chart("util", lambda: charts.utilisation(recs))
    return page


def _changes(ctx: Ctx, services: set[str]) -> list[tuple[str, str]]:
    """The what-if's capacity changes from the query string: (spec, label) pairs."""
    p = ctx.request.query_params
    cols = [p.getlist(k) for k in ("service", "op", "amount", "site")]
    n = max(len(c) for c in cols)
    if n > MAX_CHANGES:
        raise BadRequest(f"at most {MAX_CHANGES} capacity changes at once")
    codes = [c.code for c in ctx.settings.district.communities]
    out = []
    for i in range(n):
        service, op, amount, site = (c[i].strip() if i < len(c) else "" for c in cols)
        if not service:
            continue
        if not _SERVICE.fullmatch(service) or service not in services:
            raise BadRequest(f"unknown service {service[:60]!r}: pick one with capacity in {ctx.week}")
        if op not in ("+", "-", "="):
            raise BadRequest(f"unknown change {op[:10]!r}: +N, -N or =N")
        if not _AMOUNT.fullmatch(amount):
            raise BadRequest(f"the amount {amount[:20]!r} is not a whole number from 0 to 999999")
        _check("community", site, codes)
        if site and op != "+":
            raise BadRequest("a new site in a community adds capacity: use + with it")
        spec = f"{service}@{site}:+{amount}" if site else f"{service}:{op}{amount}"
        out.append((spec, spec))
    return out


def whatif(ctx: Ctx) -> Page:
    from minsheng.matching import CapacityChange, load_match_config
    from warehouse.loaders import what_if_week

    s = ctx.settings
    services = ctx.q("week_services", week=ctx.week)
    page = Page("whatif.html", "假设分析 What-if")
    page.add(Table.of("services", "本周服务 Services this week", services))
    ids = {r[0] for r in services.rows}
    changes = _changes(ctx, ids)
    page.data["changes"] = [c for c, _ in changes]
    page.data["rows"] = (list(zip(*(ctx.request.query_params.getlist(k) for k in ("service", "op", "amount", "site")),
                                  strict=False)) + [("", "+", "", "")] * MAX_CHANGES)[:max(3, len(changes) + 1)]
    if not changes:
        return page
    config = load_match_config(s.matching_config, s.district.community_codes)
    try:
        result = what_if_week(ctx.con, ctx.week, [CapacityChange.parse(c) for c, _ in changes], config,
                              other_label=s.taxonomy.other_code)
    except KeyError as exc:
        raise BadRequest(str(exc).strip('"')) from None
    b, a = result.before, result.after
    page.data["summary"] = {"matched_before": b.matched, "matched_after": a.matched,
                            "unmet_before": b.unmet, "unmet_after": a.unmet}
    page.add(Table("delta", "变化 Change per community × category",
                   ["community", "category", "matched_before", "matched_after", "matched_change",
                    "unmet_before", "unmet_after", "unmet_change"],
                   [(c.community, c.category, c.matched_before, c.matched_after, c.matched_after - c.matched_before,
                     c.unmet_before, c.unmet_after, c.unmet_after - c.unmet_before) for c in result.cells]))
    return page


def survey(ctx: Ctx) -> Page:
    response = ctx.q("survey_response")
    returned, valid = response.rows[0]
    if not valid:
        raise BadRequest("the district has no satisfaction survey in the warehouse "
                         "(`minsheng ingest survey FILE`)")
    page = Page("survey.html", "满意度 Survey", data={"returned": returned, "valid": valid})
    page.add(Table.of("satisfaction", "满意度 Satisfaction", ctx.q("satisfaction")))
    return page


def review(ctx: Ctx) -> Page:
    page = Page("review.html", "复核 Review queue")
    page.add(Table.of("queue", "待复核 Open review items", ctx.q("review_queue")))
    return page


#: page name → (builder, the filters it reads, the role it needs)
PAGES: dict[str, tuple[Callable[[Ctx], Page], tuple[str, ...], str]] = {
    "overview": (overview, ("week",), "planner"),
    "gaps": (gaps, ("week", "community", "category"), "planner"),
    "cell": (cell, ("week", "community", "category"), "planner"),
    "providers": (providers, ("week",), "planner"),
    "whatif": (whatif, ("week",), "planner"),
    "survey": (survey, ("week",), "planner"),
    "review": (review, ("week",), "data"),
}
PATHS = {"overview": "/", "gaps": "/gaps", "cell": "/gaps/cell", "providers": "/providers",
         "whatif": "/whatif", "survey": "/survey", "review": "/review"}
NAV = [("overview", "总览"), ("gaps", "供需缺口"), ("providers", "服务方"), ("whatif", "假设分析"),
       ("survey", "满意度"), ("review", "复核")]


# ---------------------------------------------------------------- the app


def create_app(settings: Settings | None = None, warehouse: Warehouse | None = None, *,
               clock: Callable[[], float] = time.monotonic) -> FastAPI:
    """The workbench over ``warehouse`` (default: the settings' warehouse); ``clock`` times
    login lockouts."""
    settings = settings or load_settings()
    wh = warehouse or Warehouse.from_settings(settings)
    web = settings.web
    app = FastAPI(title="minsheng workbench", docs_url=None, redoc_url=None, openapi_url=None,
                  root_path=web.root_path)
    app.add_middleware(SessionMiddleware, secret_key=secret_key(settings), session_cookie="minsheng_session",
                       max_age=int(web.session_hours * 3600), same_site="lax", https_only=web.https_only)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    templates = Jinja2Templates(directory=HERE / "templates")
    has_survey = settings.district.survey is not None
    chart_cache: dict[tuple[Any, ...], Any] = {}
    pool = ConnectionPool(wh)
    throttle = LoginThrottle(web.login_failures, web.login_lockout_minutes * 60, clock)
    app.state.pool = pool  # pool.invalidate() closes the idle connections (tests, benchmarks)

    @app.middleware("http")
    async def headers(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        for k, v in _HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    def current_user(request: Request) -> WebUser | None:
        name = request.session.get("user")
        return next((u for u in web.users if u.name == name), None) if name else None

    def require(request: Request, role: str) -> WebUser:
        user = current_user(request)
        if user is None:
            raise NotLoggedIn
        if role == "data" and user.role != "data":
            raise Forbidden
        return user

    def render(request: Request, template: str, status: int = 200, **data: Any) -> HTMLResponse:
        user = current_user(request)
        nav = [(n, label) for n, label in NAV
               if (n != "survey" or has_survey) and (n != "review" or (user and user.role == "data"))]
        return templates.TemplateResponse(request, template, {
            "user": user, "csrf": csrf_token(request.session), "nav": nav, "paths": PATHS,
            "district": settings.district.name, "qs": _qs, "root": request.scope.get("root_path", ""),
            "flash": request.session.pop("flash", None), **data,
        }, status_code=status)

    @app.exception_handler(NotLoggedIn)
    async def _login_first(request: Request, exc: NotLoggedIn) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{request.scope.get('root_path', '')}/login?{urlencode({'next': target})}", 303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return render(request, "error.html", 403, title="不允许 Forbidden",
                      message="this page is for the data team (role data)")

    @app.exception_handler(BadRequest)
    async def _bad(request: Request, exc: BadRequest) -> Response:
        return render(request, "error.html", 400, title="参数有误 Bad request", message=str(exc))

    def build(request: Request, name: str) -> tuple[Page, Ctx]:
        fn, keys, role = PAGES[name]
        require(request, role)
        try:
            with pool.get() as con:
                ctx = _context(request, con, settings, keys, chart_cache)
                return fn(ctx), ctx
        except WarehouseMissing as exc:
            raise BadRequest(str(exc)) from None
        except QueryError as exc:
            raise BadRequest(f"the query could not run: {exc}") from None

    def show(request: Request, name: str) -> HTMLResponse:
        page, ctx = build(request, name)
        return render(request, page.template, page=page, ctx=ctx, name=name, names=ctx.names,
                      communities=ctx.communities, labels={**ctx.names, **ctx.communities}, filters=ctx.filters, weeks=ctx.weeks,
                      query=request.url.query, **page.data)

    @app.get("/", response_class=HTMLResponse)
    def _overview(request: Request) -> HTMLResponse:
        return show(request, "overview")

    @app.get("/gaps", response_class=HTMLResponse)
    def _gaps(request: Request) -> HTMLResponse:
        return show(request, "gaps")

    @app.get("/gaps/cell", response_class=HTMLResponse)
    def _cell(request: Request) -> HTMLResponse:
        return show(request, "cell")

    @app.get("/providers", response_class=HTMLResponse)
    def _providers(request: Request) -> HTMLResponse:
        return show(request, "providers")

    @app.get("/whatif", response_class=HTMLResponse)
    def _whatif(request: Request) -> HTMLResponse:
        return show(request, "whatif")

    @app.get("/survey", response_class=HTMLResponse)
    def _survey(request: Request) -> HTMLResponse:
        return show(request, "survey")

    @app.get("/review", response_class=HTMLResponse)
    def _review(request: Request) -> HTMLResponse:
        return show(request, "review")

    @app.post("/review", response_class=HTMLResponse)
    async def _review_post(request: Request) -> Response:
        from warehouse.review import correct

        require(request, "data")
        form = await request.form()
        if not csrf_valid(request.session, form.get("csrf")):
            return render(request, "error.html", 403, title="表单已过期 Form expired",
                          message="the form's CSRF token is missing or wrong: reload the page and try again")
        item_id, label = str(form.get("item_id", "")), str(form.get("label", "")).strip()
        taxonomy = settings.taxonomy
        labels = [*taxonomy.codes, taxonomy.other_code, *taxonomy.label_map]
        _check("label", label, labels)
        if not label or not item_id:
            raise BadRequest("a review needs the item and its label")
        try:
            with wh.transaction() as con:
                correct(con, item_id, label)
        except KeyError as exc:
            raise BadRequest(str(exc).strip('"')) from None
        pool.invalidate()  # the next read publishes the snapshot again (Warehouse.planner)
        request.session["flash"] = f"{item_id}: {label} recorded"
        return RedirectResponse(f"{request.scope.get('root_path', '')}/review", 303)

    @app.get("/download/{name}/{table}.{fmt}")
    def _download(request: Request, name: str, table: str, fmt: str) -> Response:
        if name not in PAGES or fmt not in ("csv", "xlsx"):
            raise BadRequest(f"no download {name}/{table}.{fmt}: pages are {', '.join(PAGES)}, formats csv and xlsx")
        page, ctx = build(request, name)
        if table not in page.tables:
            raise BadRequest(f"page {name} has no table {table!r}: it has {', '.join(page.tables)}")
        t = page.tables[table]
        stem = f"minsheng-{name}-{table}-{ctx.week}"
        if fmt == "csv":
            return Response(to_csv(t.columns, t.rows), media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
        return Response(to_xlsx(table, t.columns, t.rows),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})

    @app.get("/login", response_class=HTMLResponse)
    def _login_form(request: Request, next: str = "/") -> HTMLResponse:
        return render(request, "login.html", next=_local(next), error=None)

    @app.post("/login", response_class=HTMLResponse)
    async def _login(request: Request) -> Response:
        form = await request.form()
        target = _local(str(form.get("next", "/")))
        if not csrf_valid(request.session, form.get("csrf")):
            return render(request, "login.html", 403, next=target,
                          error="the form had expired (CSRF token missing or wrong): try again")
        name = str(form.get("name", ""))
        wait = throttle.retry_after(name)
        if wait:
            minutes = max(1, round(wait / 60))
            response = render(request, "login.html", 429, next=target,
                              error=f"too many wrong passwords for this name: try again in {minutes} min")
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        user = authenticate(web.users, name, str(form.get("password", "")))
        if user is None:
            throttle.failed(name)
            return render(request, "login.html", 401, next=target, error="wrong name or password")
        throttle.succeeded(name)
        request.session.clear()  # a fresh session (and CSRF token) on login
        request.session["user"] = user.name
        return RedirectResponse(f"{request.scope.get('root_path', '')}{target}", 303)

    @app.post("/logout")
    async def _logout(request: Request) -> Response:
        form = await request.form()
        if not csrf_valid(request.session, form.get("csrf")):
            return render(request, "error.html", 403, title="表单已过期 Form expired",
                          message="the form's CSRF token is missing or wrong: reload the page and try again")
        request.session.clear()
        return RedirectResponse(f"{request.scope.get('root_path', '')}/login", 303)

    @app.get("/healthz")
    def _health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _local(target: str) -> str:
    """Only a path of this app is a place to go after login (no open redirect)."""
    return target if target.startswith("/") and not target.startswith(("//", "/\\")) else "/"


def _qs(filters: dict[str, str], **over: str) -> str:
    merged = {k: v for k, v in {**filters, **over}.items() if v}
    return urlencode(merged)
