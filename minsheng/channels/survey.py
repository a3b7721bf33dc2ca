"""The satisfaction survey: a questionnaire export (CSV, .xlsx or JSON), one row per returned
questionnaire, its Likert answers and an open question whose answer is itself demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from minsheng.channels.base import (
    Channel,
    ChannelBatch,
    FeedbackRecord,
    Item,
    ReadContext,
    UnreadableInput,
)
from minsheng.channels.tabular import read_tabular, require_columns
from minsheng.channels.times import parse_time
from minsheng.domain import UNKNOWN_COMMUNITY
from minsheng.pii import mask_text

_POLARITY = {"赞成": 1, "满意": 1, "一般": 0, "不赞成": -1, "不满意": -1}


def records(path: Path, ctx: ReadContext) -> Iterator[Item]:
    """Questionnaire export: one row per returned questionnaire. Invalid questionnaires are
    rejected; valid ones carry their Likert answers and the open answer as text (which may be
    empty: such a record feeds the satisfaction table but is no demand)."""
    mapping, district = ctx.mapping, ctx.district
    if district.survey is None:
        raise UnreadableInput(f"{path.name}: district.yaml describes no survey: add a survey block "
                              "(its items) before ingesting questionnaires")
    f = mapping.fields
    inp = read_tabular(path, mapping.encoding)
    header = inp.header
    require_columns(inp, list(f.values()), path.name)
    for n, raw in inp.ragged:
        yield ctx.reject(inp.pos(n), *inp.reason_for(n), raw)
    numbers = inp.table["_row"].to_pylist()
    rows = zip(*(inp.table[c].to_pylist() for c in header), strict=True)
    idx = {name: header.index(col) for name, col in f.items() if col in header}
    items = district.survey.items
    item_cols: list[int] = []
    for n, item in enumerate(items, start=mapping.item_offset):
        prefix = (mapping.item_prefix or "{n}、").format(n=n)
        col = next((i for i, h in enumerate(header) if h.startswith(prefix)), None)
        if col is None:
            raise UnreadableInput(f"{path.name}: no column for survey item {item.code} ({prefix}…)")
        item_cols.append(col)
    max_blank = district.survey.max_blank_items
    for row_no, row in zip(numbers, rows, strict=True):
        pos = inp.pos(row_no)
        get = {name: row[i].strip() for name, i in idx.items()}
        if not get["response_id"]:
            yield ctx.reject(pos, "missing_key", "empty response id", get)
            continue
        # the community question is one a valid questionnaire answers (the case study's
        # validity rule: blank is invalid); a questionnaire without one is placed from its text
        if "community" not in get:
            community: str | None = UNKNOWN_COMMUNITY
        elif get["community"]:
            community = ctx.community(get["community"])
        else:
            community = None
        if community is None:
            yield ctx.reject(pos, "invalid_questionnaire", "community missing or unknown", get)
            continue
        if not get["respondent_type"]:
            yield ctx.reject(pos, "invalid_questionnaire", "respondent type missing", get)
            continue
        answers = []
        bad = None
        for item, col in zip(items, item_cols, strict=True):
            value = row[col].strip() or None
            if value is not None and value not in item.options:
                bad = f"{item.code}: {value!r} is not one of {'/'.join(item.options)}"
                break
            answers.append((item.code, item.name, value, _POLARITY.get(value) if value else None))
        if bad:
            yield ctx.reject(pos, "bad_answer", bad, get)
            continue
        blanks = sum(a[2] is None for a in answers)
        if blanks > max_blank:
            yield ctx.reject(pos, "invalid_questionnaire", f"{blanks} of {len(items)} items blank", get)
            continue
        try:
            received = parse_time(get["submitted_at"], mapping.time_formats)
        except ValueError as exc:
            yield ctx.reject(pos, "bad_time", str(exc), get)
            continue
        open_answer = mask_text(get.get("open_answer", ""))
        if open_answer in {"无", "没有", "暂无", "无意见", "/", "-"}:
            open_answer = ""
        if bad := ctx.implausible(pos, received, open_answer, get):
            yield bad
            continue
        extra = {"respondent_type": get["respondent_type"]}
        yield FeedbackRecord("survey", get["response_id"], received, community, open_answer,
                             ctx.file, pos, extra=extra, answers=tuple(answers))


def read(path: Path, ctx: ReadContext) -> ChannelBatch:
    return CHANNEL.batch(path.name, records(path, ctx))


CHANNEL = Channel(
    name="survey",
    patterns=("survey/*.csv", "survey/*.xlsx", "survey/*.json", "survey/*.jsonl"),
    read=read,
    raw_table="raw_survey",
    key_column="response_id",
    columns=(("respondent_type", pa.string()),),
    free_text=("respondent_type",),
    text_column="open_answer",
    text_optional=True,
)
