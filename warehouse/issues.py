"""Hot issues in the warehouse: the loader's assignment of a merged part's demand items to
issues (:mod:`models.issues`), the issue tables it keeps up to date, and planners' merges and
splits.

The assignment runs in the single loader, inside the transaction that merges a part
(``warehouse.staging.merge_part``): the part's new items in (received_at, item_id) order,
starting from the assigner state saved with the previous part, and the new state is saved
with this one. So a part merged once is assigned once, a crash before the commit leaves the
old state, and the same records in the same order — in one batch part or in streaming
micro-batches — give the same issues. A corrected record's old items leave their issues
(:meth:`IssueAssigner.remove`) before its new items are assigned.

The tables ``issues`` and ``issue_weeks`` are recomputed from the items for every issue a part
touches (heat, lifecycle and title: :mod:`models.heat`), over ``issue_membership``, the
assignment with the planners' decisions applied.
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb
import numpy as np

from minsheng.domain import iso_week, week_start
from models.heat import HeatConfig, issue_heat, summarise_issue
from models.issues import IssueAssigner, IssueConfig, IssueItem
from models.places import Place

__all__ = ["IssueSettings", "assign_part", "merge_issues", "refresh_issues", "split_issue"]


class IssueSettings:
    """The assigner's and the heat's configuration (``issues:`` and ``heat:`` in settings)."""

    def __init__(self, issues: dict[str, Any] | None = None, heat: dict[str, Any] | None = None) -> None:
        self.issues = IssueConfig(**(issues or {}))
        self.heat = HeatConfig(**({"quiet_days": self.issues.quiet_days} | (heat or {})))


def _places(raw: str | None) -> tuple[Place, ...]:
    if not raw:
        return ()
    return tuple(Place(kind=p["kind"], name=p["name"], key=p["key"], strength=p["strength"],
                       named=p["named"], entry=p.get("entry"), community=p.get("community"),
                       detail=p.get("detail")) for p in json.loads(raw))


_ITEM_COLUMNS = """
    d.item_id, d.feedback_id, s.resident, d.channel, d.received_at, d.community, d.category,
    d.text, d.tokens, d.embedding, coalesce(s.likes, 0) as likes, d.places
"""


def _issue_items(rows: Iterable[tuple[Any, ...]]) -> list[IssueItem]:
    return [IssueItem(item_id, feedback_id, resident, channel, received_at, community, category, text,
                      tuple((tokens or "").split()),
                      np.asarray(embedding, dtype=np.float32) if embedding is not None else None,
                      int(likes), _places(places))
            for (item_id, feedback_id, resident, channel, received_at, community, category, text, tokens,
                 embedding, likes, places) in rows]


def _load_state(con: duckdb.DuckDBPyConnection, config: IssueConfig) -> IssueAssigner:
    row = con.execute("select state from issue_state order by seq desc limit 1").fetchall()
    if not row:
        return IssueAssigner(config)
    return IssueAssigner.from_bytes(bytes(row[0][0]))


def assign_part(con: duckdb.DuckDBPyConnection, part_id: str, items_table: str, retracted: Sequence[str],
                cfg: IssueSettings) -> dict[str, int]:
    """Assign the items of ``items_table`` (a temp table of the part's demand items, already
    in ``demand_items``) to issues; ``retracted`` are item ids the merge removed (a corrected
    record's old items). Call inside the merge's transaction. Returns counts."""
    assigner = _load_state(con, cfg.issues)
    touched: set[str] = set()
    gone: list[str] = []
    new_ids = {r[0] for r in con.execute(f"select item_id from {items_table}").fetchall()}
    for item_id in retracted:
        if item_id in new_ids:
            continue  # assigned again below (add() moves it)
        issue = assigner.remove(item_id)
        if issue is None:  # its issue is dormant: only the warehouse still holds the item
            found = con.execute("select issue_id from issue_membership where item_id = ?", [item_id]).fetchall()
            issue = found[0][0] if found else None
        if issue is not None:
            touched.add(issue)
        gone.append(item_id)
    rows = con.execute(f"""
        select {_ITEM_COLUMNS}
        from {items_table} as d
        left join feedback_signals as s using (feedback_id)
        order by d.received_at, d.item_id
    """).fetchall()
    assignments = assigner.add_many(_issue_items(rows))
    before = dict(con.execute(f"""
        select m.item_id, m.issue_id from issue_membership as m
        where m.item_id in (select item_id from {items_table})
    """).fetchall())
    touched |= set(before.values())
    if gone:
        con.execute("delete from issue_items where item_id in (select unnest($ids))", {"ids": gone})
    if assignments:
        import pyarrow as pa

        table = pa.table({
            "item_id": [a.item_id for a in assignments], "issue_id": [a.issue_id for a in assignments],
            "opened": [a.opened for a in assignments], "score": pa.array([a.score for a in assignments], pa.float64()),
            "part_id": [part_id] * len(assignments),
        })
        con.register("_assigned", table)
        con.execute("insert or replace into issue_items select * from _assigned")
        con.unregister("_assigned")
    retired = assigner.pop_retired()
    touched |= {a.issue_id for a in assignments} | {r.issue_id for r in retired}
    effective = {r[0] for r in con.execute(
        "select distinct issue_id from issue_membership where item_id in (select unnest($ids)) "
        "union select unnest($issues)", {"ids": [a.item_id for a in assignments],
                                         "issues": sorted(touched)}).fetchall()}
    watermark = assigner.watermark
    refresh_issues(con, sorted(effective), watermark, cfg.heat)
    seq = con.execute("select coalesce(max(seq), 0) + 1 from issue_state").fetchall()[0][0]
    con.execute("insert into issue_state values (?, ?, ?, ?, ?)",
                [part_id, seq, watermark, assigner.to_bytes(), assigner.fingerprint()])
    return {"issues_assigned": len(assignments), "issues_opened": sum(a.opened for a in assignments),
            "issues_touched": len(effective)}


def _weeks(first: datetime, until: datetime) -> list[str]:
    out, week = [], iso_week(first)
    while week_start(week) <= until.date():
        out.append(week)
        week = iso_week(week_start(week) + timedelta(days=7))
    return out


def refresh_issues(con: duckdb.DuckDBPyConnection, issue_ids: Sequence[str], at: datetime | None,
                   heat: HeatConfig) -> int:
    """Recompute ``issues`` and ``issue_weeks`` rows of ``issue_ids`` from their items (over
    ``issue_membership``) at time ``at`` (the watermark); an issue left without items is
    deleted. Returns the issues written."""
    if not issue_ids:
        return 0
    con.execute("delete from issues where issue_id in (select unnest($ids))", {"ids": list(issue_ids)})
    con.execute("delete from issue_weeks where issue_id in (select unnest($ids))", {"ids": list(issue_ids)})
    rows = con.execute(f"""
        select m.issue_id, {_ITEM_COLUMNS}
        from issue_membership as m
        join demand_items as d using (item_id)
        left join feedback_signals as s using (feedback_id)
        where m.issue_id in (select unnest($ids))
        order by m.issue_id, d.received_at, d.item_id
    """, {"ids": list(issue_ids)}).fetchall()
    by_issue: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for r in rows:
        by_issue[r[0]].append(r[1:])
    now = datetime.now().replace(microsecond=0)
    issues_out, weeks_out = [], []
    for issue_id, raw in by_issue.items():
        items = _issue_items(raw)
        t = at or max(i.received_at for i in items)
        t = max(t, max(i.received_at for i in items))
        h = issue_heat(items, t, heat)
        place = _commonest_place(items)
        summary = summarise_issue(items, place, config=heat)
        issues_out.append({
            "issue_id": issue_id, "title": summary.title, "place": place,
            "keywords": list(summary.keywords),
            "communities": [c for c, _ in Counter(i.community for i in items if i.community).most_common()],
            "categories": json.dumps(dict(Counter(i.category for i in items if i.category).most_common()),
                                     ensure_ascii=False),
            "channels": list(h.channels), "first_seen": min(i.received_at for i in items),
            "last_seen": max(i.received_at for i in items), "items": len(items), "messages": h.messages,
            "residents": h.residents, "likes": h.likes, "heat": h.heat, "trend": h.trend,
            "status": h.status, "central_item": summary.central_item, "updated_at": now,
        })
        for week in _weeks(items[0].received_at, t):
            end = datetime.combine(week_start(week) + timedelta(days=7), datetime.min.time()) - timedelta(seconds=1)
            at_end = min(end, t)
            upto = [i for i in items if i.received_at <= at_end]
            wh = issue_heat(upto, at_end, heat)
            if wh.status == "dormant" and not any(iso_week(i.received_at) == week for i in upto):
                continue
            in_week = [i for i in upto if iso_week(i.received_at) == week]
            weeks_out.append({
                "issue_id": issue_id, "week": week, "items": len(in_week),
                "messages": len({i.feedback_id for i in in_week}),
                "residents": wh.residents, "likes": wh.likes, "heat": wh.heat, "status": wh.status,
            })
    _insert(con, "issues", issues_out)
    _insert(con, "issue_weeks", weeks_out)
    return len(issues_out)


def _commonest_place(items: Sequence[IssueItem]) -> str | None:
    counts = Counter()
    names: dict[str, str] = {}
    for i in items:
        for p in i.places:
            if p.named:
                counts[p.key] += p.strength
                names.setdefault(p.key, p.name)
    return names[counts.most_common(1)[0][0]] if counts else None


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    import pyarrow as pa

    con.register("_rows", pa.Table.from_pylist(rows))
    cols = ", ".join(rows[0])
    con.execute(f"insert into {table} ({cols}) select {cols} from _rows")
    con.unregister("_rows")


def _decision_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:20]


def _members(con: duckdb.DuckDBPyConnection, issue_id: str) -> list[str]:
    return [r[0] for r in con.execute(
        "select item_id from issue_membership where issue_id = ? order by item_id", [issue_id]).fetchall()]


def merge_issues(con: duckdb.DuckDBPyConnection, issue_id: str, into: str, reason: str,
                 heat: HeatConfig, at: datetime | None = None) -> str:
    """Record a planner's decision that ``issue_id`` is the same problem as ``into``; returns
    the decision id. Applied on every run (``issue_membership``)."""
    if issue_id == into:
        raise ValueError("an issue cannot be merged into itself")
    for i in (issue_id, into):
        if not _members(con, i):
            raise KeyError(f"no issue {i!r}: see `minsheng issues search`")
    decision = _decision_id("merge", issue_id, into)
    con.execute("update issue_decisions set into_issue = ? where kind = 'merge' and into_issue = ?", [into, issue_id])
    con.execute("insert or replace into issue_decisions values (?, 'merge', ?, ?, null, ?, ?, now()::timestamp)",
                [decision, issue_id, into, reason, getpass.getuser()])
    refresh_issues(con, [issue_id, into], at, heat)
    return decision


def split_issue(con: duckdb.DuckDBPyConnection, issue_id: str, item_ids: Sequence[str], reason: str,
                heat: HeatConfig, at: datetime | None = None) -> str:
    """Record a planner's decision that ``item_ids`` of ``issue_id`` are another problem: they
    form a new issue (its id returned). Applied on every run (``issue_membership``)."""
    members = set(_members(con, issue_id))
    if not members:
        raise KeyError(f"no issue {issue_id!r}: see `minsheng issues search`")
    if missing := sorted(set(item_ids) - members):
        raise KeyError(f"not items of {issue_id}: {', '.join(missing)}")
    if set(item_ids) == members:
        raise ValueError("splitting every item out of an issue changes nothing")
    decision = _decision_id("split", issue_id, *sorted(item_ids))
    new = f"S{decision[:16]}"
    con.execute("insert or replace into issue_decisions values (?, 'split', ?, ?, ?, ?, ?, now()::timestamp)",
                [decision, issue_id, new, sorted(item_ids), reason, getpass.getuser()])
    refresh_issues(con, [issue_id, new], at, heat)
    return new
