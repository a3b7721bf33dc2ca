"""``minsheng issues …``: the hot issues a planner works with — find, read, merge, split.

Merges and splits are planners' decisions, kept in ``issue_decisions`` and applied over the
assignment on every run, so a decision survives re-runs and later data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

issues_app = typer.Typer(help="Hot issues: search, show, merge or split them by hand.",
                         no_args_is_help=True, add_completion=False)

DbOpt = Annotated[Optional[Path], typer.Option("--db", help="warehouse file")]


def _query(name: str, params: dict[str, str], db: Path | None) -> None:
    from flows.cli import _print_result
    from flows.context import RunContext
    from warehouse.query import run_query
    from warehouse.sql import read_sql

    _print_result(run_query(RunContext.load(db).warehouse, read_sql("queries", name), params), "table")


@issues_app.command()
def search(word: Annotated[str, typer.Argument(help="a word of the title, the place or the items")],
           db: DbOpt = None) -> None:
    """Issues whose title, place or items mention WORD, hottest first."""
    _query("issue_search", {"word": word}, db)


@issues_app.command()
def show(issue_id: Annotated[str, typer.Argument(help="an issue id (see `issues search`)")],
         db: DbOpt = None) -> None:
    """An issue's demand items, masked, in time order."""
    _query("issue", {"id": issue_id}, db)


def _decide(db: Path | None, decide) -> str:  # type: ignore[no-untyped-def]
    from flows.context import RunContext
    from warehouse.issues import IssueSettings

    ctx = RunContext.load(db)
    heat = IssueSettings(ctx.settings.issues, ctx.settings.heat).heat
    with ctx.warehouse.transaction() as con:
        out = decide(con, heat)
    ctx.warehouse.publish_snapshot()
    return out


@issues_app.command()
def merge(issue_id: Annotated[str, typer.Argument(help="the issue that is the same problem as INTO")],
          into: Annotated[str, typer.Argument(help="the issue it joins")],
          reason: Annotated[str, typer.Option(help="why (kept with the decision)")] = "",
          db: DbOpt = None) -> None:
    """Merge an issue into another; kept over re-runs."""
    from warehouse.issues import merge_issues

    _decide(db, lambda con, heat: merge_issues(con, issue_id, into, reason, heat))
    typer.echo(f"{issue_id} → {into}")


@issues_app.command()
def split(issue_id: Annotated[str, typer.Argument(help="the issue to split")],
          items: Annotated[list[str], typer.Argument(help="the item ids that are another problem")],
          reason: Annotated[str, typer.Option(help="why (kept with the decision)")] = "",
          db: DbOpt = None) -> None:
    """Move items out of an issue into a new one; kept over re-runs."""
    from warehouse.issues import split_issue

    new = _decide(db, lambda con, heat: split_issue(con, issue_id, items, reason, heat))
    typer.echo(f"{len(items)} item(s) of {issue_id} → {new}")
