"""The hotline fast path (DuckDB reads a plain UTF-8 CSV itself, minsheng.tabular) gives the
same validated rows, rejections and row numbers as the Arrow reader, or steps aside."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from minsheng.channels.hotline import (
    _finish,
    _validate_plain_csv,
    validate_hotline,
    validate_hotline_file,
)
from minsheng.channels.tabular import read_tabular

HEADER = ["工单编号", "受理时间", "所属社区", "来电号码", "来电内容"]
HOSTILE = Path(__file__).parent / "data" / "hostile"


def _both(path: Path, settings):
    mapping, district, limits = settings.mapping("hotline"), settings.district, settings.ingest.limits()
    fast = _validate_plain_csv(path, mapping, district, None, limits)
    slow = validate_hotline(read_tabular(path, mapping.encoding), mapping, district, limits=limits,
                            source=path.name)
    return (None if fast is None else _finish(fast, [])), slow


def _rows(v):
    key = lambda r: (r["_row"] is None, r["_row"] or 0, r.get("reason") or "")  # noqa: E731
    return sorted(v.good.to_pylist(), key=key), sorted(v.rejected.to_pylist(), key=key)


FIELD_CHARS = st.sampled_from(list("ab 中文号码-X1") * 4 + list(",\"\r\n\t") + ["13812345678", "南坪西路12号", "，", "鍙"])


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    communities = ["南湖社区", "铁路村社区", "不存在社区", ""]
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    tidy = draw(st.booleans())  # half the files have no ragged row and no space by a quote
    extra_column = draw(st.booleans())
    header = HEADER + (["备注"] if extra_column else [])
    lines = [",".join(header)]
    for i in range(draw(st.integers(0, 8))):
        text = "".join(draw(st.lists(FIELD_CHARS, max_size=6)))
        fields = [
            f"K{i % 5}", draw(st.sampled_from(["2026-09-28 08:07:17", "2026/9/28 8:07", "昨天", ""])),
            draw(st.sampled_from(communities)), draw(st.sampled_from(["", "13912345678", " 023-62781234 "])),
            text,
        ] + (["x"] if extra_column else [])
        out = []
        for f in fields:
            style = draw(st.sampled_from(["plain"] * 12 + ["quoted"] * 4 + ([] if tidy else ["space_quoted", "quoted_space"])))
            quoted = '"' + f.replace('"', '""') + '"'
            out.append({"plain": f, "quoted": quoted, "space_quoted": " " + quoted,
                        "quoted_space": quoted + " "}[style])
        shape = draw(st.sampled_from(["ok"] * 20 + ["blank_before"] + ([] if tidy else ["short", "long", "trailing"])))
        if shape == "short":
            out = out[:-1]
        elif shape == "long":
            out.append("y")
        elif shape == "trailing":
            out.append("")
        line = ",".join(out)
        lines.append(("" + newline + line) if shape == "blank_before" else line)
    body = newline.join(lines) + draw(st.sampled_from([newline, "", newline + newline]))
    bom = "\ufeff" if draw(st.booleans()) else ""
    return (bom + body).encode("utf-8")


@hsettings(max_examples=300, deadline=None)
@given(csv_files())
def test_fast_path_reads_like_arrow_or_steps_aside(settings, data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "hotline.csv"
        path.write_bytes(data)
        try:
            fast, slow = _both(path, settings)
        except Exception as exc:  # the Arrow reader rejects the whole file
            event(f"arrow: {type(exc).__name__}")
            assert _validate_plain_csv(path, settings.mapping("hotline"), settings.district, None,
                                       settings.ingest.limits()) is None or "missing" in str(exc)
            return
        event("fast" if fast is not None else "arrow")
        if fast is not None:
            assert _rows(fast) == _rows(slow)


@pytest.mark.parametrize("name", ["hotline_day1.csv", "hotline_hostile.csv", "hotline_renamed.csv",
                                  "hotline_day1_corrected.csv"])
def test_plain_exports_take_the_fast_path(settings, name):
    mapping = settings.mapping("hotline")
    if name == "hotline_renamed.csv":
        mapping = mapping.model_copy(update={"fields": {
            "order_id": "单号", "received_at": "时间", "community": "社区名称", "caller_phone": "电话", "text": "内容"}})
    fast = _validate_plain_csv(HOSTILE / name, mapping, settings.district, None, settings.ingest.limits())
    assert fast is not None
    assert _rows(_finish(fast, [])) == _rows(validate_hotline(read_tabular(HOSTILE / name), mapping, settings.district,
                                                              limits=settings.ingest.limits()))


@pytest.mark.parametrize("name", ["hotline_gbk.csv", "hotline_excel_utf16.csv", "hotline_truncated.csv",
                                  "hotline_ragged.csv", "hotline_mojibake.csv", "hotline.xlsx"])
def test_other_exports_go_through_arrow(settings, name):
    path = HOSTILE / name
    mapping = settings.mapping("hotline")
    if name != "hotline_mojibake.csv":
        assert _validate_plain_csv(path, mapping, settings.district, None, settings.ingest.limits()) is None
    got = validate_hotline_file(path, mapping, settings.district, limits=settings.ingest.limits())
    want = validate_hotline(read_tabular(path, mapping.encoding), mapping, settings.district,
                            limits=settings.ingest.limits())
    assert _rows(got) == _rows(want)
