"""Small warehouses for the report tests: demand items over several weeks (a deterministic
random mix of communities and categories), optionally a supply registry with the weeks
matched, survey answers, and a last week that is thin or cut short."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa

from minsheng.domain import week_range, week_start

REGISTRY = """\
providers:
- id: centre
  name: 公共服务中心
  kind: centre
  location: C01
  services:
  - {id: centre.subsistence, name: 城镇低保窗口, categories: {subsistence: primary}, unit: 件, capacity: 6}
- id: elderly_base
  name: 养老托老服务基地
  kind: base
  location: C03
  services:
  - {id: elderly_base.daycare, name: 日间托老, categories: {elderly_care: primary}, unit: 人次, capacity: 5}
  - {id: elderly_base.home, name: 居家养老上门服务, categories: {elderly_care: secondary}, unit: 人次, capacity: 2}
- id: culture_base
  name: 文化服务基地
  kind: base
  location: C02
  services:
  - {id: culture_base.rooms, name: 文体活动室, categories: {culture: primary}, unit: 场, capacity: 30}
- id: mutual.C04
  name: 丹龙物业互助会
  kind: mutual_aid
  services:
  - {id: mutual.C04.help, name: 物业互助, categories: {property: primary}, area: [C04], unit: 件, capacity: 2}
"""

COMMUNITIES = ("C01", "C02", "C03", "C04")
CATEGORIES = ("elderly_care", "property", "parking", "subsistence", "culture")
TEXTS = {
    "elderly_care": "家里老人需要日间照料，希望社区帮忙",
    "property": "小区电梯又坏了，物业不管",
    "parking": "小区停车位太少，晚上没地方停",
    "subsistence": "想了解低保怎么申请",
    "culture": "希望活动室周末也开放",
}
WEEKS = tuple(week_range("2026-W40", 8))


def build(
    db: Path,
    *,
    registry: Path | None,
    survey: bool = True,
    weeks: tuple[str, ...] = WEEKS,
    last_week_items: int | None = None,
    last_day: int = 7,
    seed: int = 7,
) -> None:
    """Migrate ``db`` and fill it. ``registry``: where to write the supply registry, which is
    then loaded and every week matched (None: no registry, nothing matched). The last week has
    ``last_week_items`` items (default: like the others) received up to its day ``last_day``
    (1 = Monday, 7 = Sunday)."""
    from minsheng.matching import load_match_config
    from minsheng.settings import load_settings
    from minsheng.supply import load_registry
    from warehouse import resource
    from warehouse.loaders import load_reference, load_supply, match_week

    s = load_settings()
    rng = random.Random(seed)
    rows = []
    for w_i, week in enumerate(weeks):
        monday = datetime.combine(week_start(week), datetime.min.time())
        last = w_i == len(weeks) - 1
        cells = [(c, k) for c in COMMUNITIES for k in CATEGORIES]
        counts = {cell: rng.randint(1, 5) for cell in cells}
        if last and last_week_items is not None:
            counts = {cell: 0 for cell in cells}
            for n in range(last_week_items):
                counts[cells[n % len(cells)]] += 1
        if last:
            counts[("C03", "elderly_care")] += 12  # a rise in the last week
        n = 0
        for (community, category), k in counts.items():
            for _ in range(k):
                days = (last_day if last else 7) - 1
                at = monday + timedelta(
                    days=rng.randint(0, days), hours=rng.randint(8, 20), minutes=rng.randint(0, 59)
                )
                key = f"{week}-{n}"
                n += 1
                rows.append(
                    {
                        "item_id": f"hotline:{key}#0",
                        "feedback_id": f"hotline:{key}",
                        "channel": "hotline",
                        "received_at": at,
                        "week": week,
                        "community": community,
                        "text": TEXTS[category],
                        "tokens": "",
                        "keywords": ["老人"] if category == "elderly_care" else ["小区"],
                        "category": category,
                        "confidence": 0.9,
                        "top3": "[]",
                        "content_hash": key,
                        "model_version": "test",
                        "processed_at": at,
                    }
                )
        if last:  # the clock of the data: one item on the last day, whatever the dice said
            rows[-1]["received_at"] = monday + timedelta(days=last_day - 1, hours=21)
    con = resource.connect(db)
    try:
        resource.migrate(con)
        load_reference(con, s.district, s.taxonomy)
        con.register("_items", pa.Table.from_pylist(rows))
        con.execute("insert into demand_items by name select * from _items")
        if survey:
            _survey(con, s.district, rng)
        if registry is not None:
            registry.write_text(REGISTRY, encoding="utf-8")
            load_supply(
                con, load_registry(registry, s.taxonomy, s.district), s.district, list(weeks)
            )
            config = load_match_config(s.config_dir / "matching.yaml", s.district.community_codes)
            for week in weeks:
                match_week(con, week, config)
    finally:
        con.close()


def _survey(con, district, rng: random.Random) -> None:
    for r in range(40):
        rid = f"R{r:03d}"
        con.execute(
            "insert into raw_survey values (?, timestamp '2026-10-01 10:00', '户籍居民', 'C01', "
            "null, ?, 'survey.csv', ?, now()::timestamp)",
            [rid, rid, f"row {r + 2}"],
        )
        for item in district.survey.items:
            polarity = rng.choice([1, 1, 1, 0, -1])
            con.execute(
                "insert into survey_answers values (?, ?, ?, ?, ?)",
                [rid, item.code, item.name, item.options[1 - polarity], polarity],
            )
