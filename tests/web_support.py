"""A small warehouse for the workbench tests (tests/report_warehouse.py: eight weeks, a
registry, every week matched, a survey) with a few low-confidence items in the review queue,
and settings with two accounts."""

from __future__ import annotations

from pathlib import Path

from tests.report_warehouse import WEEKS, build

PASSWORDS = {"wang": "planner-pass-1", "li": "data-pass-22"}
LAST = WEEKS[-1]


def build_web_warehouse(root: Path) -> Path:
    from warehouse import resource
    from warehouse.review import refresh_review_queue

    db = root / "w.duckdb"
    build(db, registry=root / "supply.yaml")
    con = resource.connect(db)
    try:
        con.execute("update demand_items set confidence = 0.41 "
                    "where item_id in (select item_id from demand_items order by item_id limit 3)")
        refresh_review_queue(con, 0.6)
    finally:
        con.close()
    return db


def web_settings(base, root: Path):
    from argon2 import PasswordHasher

    from minsheng.settings import WebSettings, WebUser

    hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)  # fast in tests
    users = [WebUser(name="wang", role="planner", password_hash=hasher.hash(PASSWORDS["wang"])),
             WebUser(name="li", role="data", password_hash=hasher.hash(PASSWORDS["li"]))]
    return base.model_copy(update={
        "web": WebSettings(users=users, secret_key="test-secret-" + "x" * 32),
        "data_dir": root, "db": root / "w.duckdb",
    })
