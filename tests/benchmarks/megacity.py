"""A year of megacity volume in the warehouse, for the read benchmarks (bench_warehouse, bench_web).

52 ISO weeks of demand items (24 million is Beijing 12345's year), each matched or unmet, the
supply registry of a generated demo district (services, areas, weekly capacity), and hot issues:
one item in ten belongs to an issue of about fifty items, with its weekly heat rows. Items are
inserted in week order, as the loader appends parts, so that DuckDB's zone maps let a week's
read skip the other weeks' row groups.

    build(db, items, settings)          # the warehouse file
    open_or_build(db, items, settings, reuse=True)   # keep a built one (``.built`` marker)
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

WEEKS = [f"2026-W{w:02d}" for w in range(1, 53)]
MONDAY_W01 = "2025-12-29"
ISSUE_SHARE = 10        # one item in ten belongs to an issue
ISSUE_SIZE = 50         # items per issue


def _supply(con, settings) -> None:
    from minsheng.demo.generate import generate_district
    from minsheng.supply import load_registry
    from warehouse.loaders import load_supply

    with tempfile.TemporaryDirectory() as tmp:
        generate_district(Path(tmp), 1, 7, district=settings.district, taxonomy=settings.taxonomy)
        registry = load_registry(Path(tmp) / "supply.yaml", settings.taxonomy, settings.district)
        load_supply(con, registry, settings.district, WEEKS)


def build(db: Path, items: int, settings, *, memory_limit: str = "8GB") -> dict[str, float]:
    """Write the warehouse ``db`` with ``items`` demand items over ``WEEKS``. Returns seconds per step."""
    from warehouse import resource
    from warehouse.loaders import load_reference

    times: dict[str, float] = {}
    con = resource.connect(db)
    try:
        con.execute(f"set memory_limit = '{memory_limit}'")
        con.execute("set preserve_insertion_order = true")
        resource.migrate(con)
        load_reference(con, settings.district, settings.taxonomy)
        t = time.perf_counter()
        _supply(con, settings)
        times["supply"] = time.perf_counter() - t
        communities = settings.district.community_codes
        categories = settings.taxonomy.codes
        con.execute("create temp table c as select unnest($c) as community, generate_subscripts($c, 1) - 1 as k",
                    {"c": communities})
        con.execute("create temp table k as select unnest($k) as category, generate_subscripts($k, 1) - 1 as k",
                    {"k": categories})
        per_week = items // len(WEEKS)
        nc, nk = len(communities), len(categories)
        t = time.perf_counter()
        for w, week in enumerate(WEEKS):  # one week per insert, as the loader's parts arrive
            con.execute(f"""
                insert into demand_items by name
                select 'mc:' || i || '#0' as item_id, 'mc:' || i as feedback_id,
                       ['hotline', 'platform', 'wechat'][1 + i % 3] as channel,
                       timestamp '{MONDAY_W01}' + to_days({w * 7}) + to_seconds((i * 37 % 604800)::bigint)
                           as received_at,
                       '{week}' as week, c.community,
                       '小区电梯又坏了，物业不管，第' || (i % 997) || '次反映，电话[电话]' as text,
                       '' as tokens, ['电梯'] as keywords, k.category,
                       0.5 + (i % 50) / 100.0 as confidence, '[]' as top3, md5(i::varchar) as content_hash,
                       'bench' as model_version, timestamp '{MONDAY_W01}' + to_days({w * 7 + 7}) as processed_at
                from range({w * per_week}, {(w + 1) * per_week}) t(i)
                join c on c.k = (i * 7 + i // 13) % {nc}
                join k on k.k = (i * 3 + i // 7) % {nk}
                order by received_at, i
            """)
            con.execute(f"""
                insert into matches by name
                select item_id, week, community, category,
                       case when hash(item_id) % 3 = 0 then 'unmet' else 'matched' end as status,
                       case when hash(item_id) % 3 = 0 then null else 'svc' end as service_id,
                       case when hash(item_id) % 3 = 0 then 'no_capacity' end as reason,
                       processed_at as matched_at
                from demand_items where week = '{week}'
            """)
        times["items"] = time.perf_counter() - t
        t = time.perf_counter()
        _issues(con)
        times["issues"] = time.perf_counter() - t
        con.execute("checkpoint")
    finally:
        con.close()
    return times


def _issues(con) -> None:
    """Issues over one item in ``ISSUE_SHARE``: consecutive such items of a week in groups of
    ``ISSUE_SIZE``, and their week rows (heat grows with the items)."""
    con.execute(f"""
        insert into issue_items by name
        select item_id, 'I' || week || '-' || (row_number() over (partition by week order by item_id) // {ISSUE_SIZE})
                   as issue_id,
               false as opened, 0.8 as score, 'mc-' || week as part_id
        from demand_items
        where hash(item_id) % {ISSUE_SHARE} = 0
    """)
    con.execute("""
        insert into issue_weeks by name
        select m.issue_id, d.week, count(*) as items, count(distinct d.feedback_id) as messages,
               count(distinct d.feedback_id) as residents, 0 as likes,
               count(*) * 1.5 + (hash(m.issue_id) % 100) / 10.0 as heat, 'growing' as status
        from issue_items as m
        join demand_items as d using (item_id)
        group by m.issue_id, d.week
    """)
    con.execute("""
        insert into issues by name
        select w.issue_id, '某小区电梯反复故障' as title, '阳光小区' as place, ['电梯'] as keywords,
               [any_value(d.community)] as communities, '{}' as categories, ['hotline'] as channels,
               min(d.received_at) as first_seen, max(d.received_at) as last_seen,
               count(*) as items, count(distinct d.feedback_id) as messages,
               count(distinct d.feedback_id) as residents, 0 as likes,
               count(*) * 1.5 as heat, 0 as trend, 'growing' as status, min(d.item_id) as central_item,
               max(d.processed_at) as updated_at
        from issue_items as w
        join demand_items as d using (item_id)
        group by w.issue_id
    """)


def open_or_build(db: Path, items: int, settings, *, reuse: bool) -> tuple[Path, dict[str, float]]:
    """``db``, built unless ``reuse`` and a build of the same size finished there (its marker)."""
    db = Path(db)
    marker = db.with_name(db.name + ".built")
    if reuse and db.exists() and marker.exists() and marker.read_text().strip() == str(items):
        return db, {}
    for stale in (db, Path(f"{db}.wal"), marker):
        stale.unlink(missing_ok=True)
    db.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    times = build(db, items, settings)
    times["build"] = time.perf_counter() - t
    marker.write_text(str(items))
    return db, times
