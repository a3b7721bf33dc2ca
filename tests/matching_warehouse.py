"""A small warehouse for the matching tests: a registry of three providers and a dozen demand
items whose optimum, reasons and signals can be checked by hand (see test_matching_warehouse)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa

REGISTRY = """\
providers:
- id: centre
  name: 公共服务中心
  kind: centre
  location: C01
  services:
  - {id: centre.subsistence, name: 城镇低保窗口, categories: {subsistence: primary}, unit: 件,
     capacity: 5, eligibility: {resident_types: [户籍居民]}, location: null}
- id: elderly_base
  name: 养老托老服务基地
  kind: base
  location: C03
  services:
  - id: elderly_base.daycare
    name: 日间托老
    categories: {elderly_care: primary}
    unit: 人次
    capacity: [{from: 2026-W46, capacity: 1}, {from: 2026-W47, capacity: 2}]
    eligibility: {min_age: 60}
    schedule: 周一至周五 8:30-17:30
- id: mutual.C04
  name: 丹龙物业互助会
  kind: mutual_aid
  services:
  - {id: mutual.C04.help, name: 物业互助, categories: {property: primary}, area: [C04], unit: 件, capacity: 1}
"""

# item, channel, week, community, category, masked text
ITEMS = [
    ("e1", "hotline", "2026-W47", "C03", "elderly_care", "隔壁独居老人一个人住，希望有人照顾"),
    ("e2", "hotline", "2026-W47", "C03", "elderly_care", "我母亲今年78岁了，想申请日间托老"),
    ("e3", "platform", "2026-W47", "C05", "elderly_care", "老人摔倒了，情况紧急"),
    ("e4", "hotline", "2026-W47", "C03", "elderly_care", "我今年45岁了，想去托老所帮忙"),
    ("s1", "survey", "2026-W47", "C02", "subsistence", "想了解低保怎么申请"),
    ("s2", "hotline", "2026-W47", "C02", "subsistence", "想申请低保"),
    ("p1", "hotline", "2026-W47", "C04", "property", "电梯坏了"),
    ("p2", "hotline", "2026-W47", "C04", "property", "楼道没人打扫"),
    ("p3", "hotline", "2026-W47", "C06", "property", "物业不管事"),
    ("k1", "hotline", "2026-W47", "C01", "parking", "停车位太少"),
    ("o1", "hotline", "2026-W47", "C01", "other", "随便说两句"),
    ("e5", "hotline", "2026-W46", "C03", "elderly_care", "老人需要人照顾"),
]


def build(db: Path, registry_path: Path) -> None:
    """Migrate ``db``, load reference data and the registry, and insert the items (the survey
    item's respondent is floating population)."""
    from minsheng.settings import load_settings
    from minsheng.supply import load_registry
    from warehouse import resource
    from warehouse.loaders import load_reference, load_supply

    s = load_settings()
    registry_path.write_text(REGISTRY, encoding="utf-8")
    con = resource.connect(db)
    try:
        resource.migrate(con)
        load_reference(con, s.district, s.taxonomy)
        load_supply(con, load_registry(registry_path, s.taxonomy, s.district), s.district,
                    ["2026-W46", "2026-W47"])
        when = {"2026-W46": datetime(2026, 11, 10, 9), "2026-W47": datetime(2026, 11, 17, 9)}
        rows = pa.Table.from_pylist([
            {"item_id": f"{channel}:{key}#0", "feedback_id": f"{channel}:{key}", "channel": channel,
             "received_at": when[week].replace(minute=n), "week": week, "community": community,
             "text": text, "tokens": "", "category": category, "confidence": 0.9, "top3": "[]",
             "content_hash": key, "model_version": "test", "processed_at": when[week]}
            for n, (key, channel, week, community, category, text) in enumerate(ITEMS)
        ])
        con.register("_items", rows)
        con.execute("insert into demand_items by name select * from _items")
        con.execute("""
            insert into raw_survey (response_id, received_at, respondent_type, community,
                                    open_answer, content_hash, source_file, source_pos, ingested_at)
            values ('s1', timestamp '2026-11-17 09:04', '流动人口', 'C02', '想了解低保怎么申请',
                    'h', 'survey.csv', 'row 2', now()::timestamp)
        """)
    finally:
        con.close()
