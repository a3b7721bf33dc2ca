"""How a run reports: its final state (FAILED with a one-line message when it should), and the
artifacts a data team reads in the Prefect UI."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.states import Failed

from flows.context import RunContext


def finish(result: Any, problems: list[str]) -> Any:
    """The run's result, or — when something is wrong — a FAILED state whose message lists
    the problems on one line and whose data is still the result (the counts)."""
    if not problems:
        return result
    return Failed(message=" · ".join(problems), data=result)


def artifact_key(ctx: RunContext, kind: str) -> str:
    """A Prefect artifact key for ``kind`` that names the warehouse, so that two districts
    (two warehouses) served by one Prefect server never overwrite each other's artifacts."""
    path = ctx.warehouse.path.resolve()
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "warehouse"
    return f"{kind}-{stem}-{hashlib.sha256(str(path).encode()).hexdigest()[:6]}"


def publish_ingest_artifacts(ctx: RunContext, channel: str, files: list[dict[str, Any]],
                             unreadable: list[dict[str, str]], total: dict[str, int]) -> None:
    """Counts per file, and the quarantine of this run by file and reason."""
    table = [{k: v for k, v in f.items() if k != "reasons"} for f in files]
    table += [{"file": u["file"], "error": u["error"]} for u in unreadable]
    table.append({"file": "total", **total})
    create_table_artifact(key=artifact_key(ctx, f"ingest-{channel}"), table=table,
                          description=f"minsheng ingestion counts for channel {channel}")
    lines = [f"# Quarantine, channel {channel}", "", "| file | reason | rows |", "|---|---|---|"]
    lines += [f"| {f['file']} | {reason} | {n} |" for f in files for reason, n in sorted(f["reasons"].items())]
    lines += [f"| {u['file']} | unreadable: {u['error']} | all |" for u in unreadable]
    if len(lines) == 4:
        lines.append("| — | nothing quarantined | 0 |")
    create_markdown_artifact(key=artifact_key(ctx, f"quarantine-{channel}"), markdown="\n".join(lines),
                             description=f"minsheng quarantine summary for channel {channel}")


def publish_report_artifacts(ctx: RunContext, headline: dict[str, Any], report: str) -> None:
    """The week's headline figures, and a link to the report's files."""
    week = headline["week"]
    md = "\n".join([
        f"# Weekly matching report {week}", "",
        f"- feedback records: {headline['records']}",
        f"- demand items: {headline['items']}",
        f"- matched: {headline['matched']}",
        f"- unmet: {headline['unmet']} ({100 * headline['unmet_share']:.1f}%)",
        "", f"Files: `{Path(report).parent}`",
    ])
    create_markdown_artifact(key=artifact_key(ctx, "weekly-report"), markdown=md,
                             description=f"minsheng weekly report {week}: headline figures")
    create_link_artifact(key=artifact_key(ctx, "weekly-report-files"), link=Path(report).resolve().as_uri(),
                         link_text=f"weekly report {week}", description="the report's files")
