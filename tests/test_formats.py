"""Every tabular channel reads the formats districts get (CSV, .xlsx, JSON/JSONL: one reader
per format, by extension); title and body are separate mapped fields joined by one function
at training and serving; a record without a community field loads as ``unknown``."""

from __future__ import annotations

import json
from datetime import datetime

import openpyxl
import pytest

from minsheng.channels import FeedbackRecord, Rejected, read_file
from minsheng.domain import ChannelMapping
from minsheng.records import compose_text
from models.datasets import read_labelled

BOARD = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "一级分类"]
ROWS = [
    ["M1", "张三", "响水社区路灯坏了", "2019/7/11", "晚上出门看不见，请尽快修理", "城乡建设"],
    ["M2", "李四", "噪音扰民", datetime(2019, 7, 12, 9, 30), "工地夜间施工，吵得睡不着", "环境保护"],
    ["M3", "王五", "", 43658.5, "孩子上学的校车太挤了", "教育文体"],  # an Excel serial date
    ["M4", "赵六", "咨询社保", "2019年7月13日 14:05", "", "劳动和社会保障"],  # title only
    ["", "钱七", "无编号", "2019/7/14", "没有编号的留言", "城乡建设"],
    ["M6", "孙八", "时间坏了", "七月", "时间写错了", "城乡建设"],
]


def _xlsx(path, rows, header=BOARD):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    book.save(path)
    return path


def _board_mapping(**fields) -> ChannelMapping:
    return ChannelMapping(fields={"message_id": "留言编号", "user": "留言用户", "title": "留言主题",
                                  "received_at": "留言时间", "text": "留言详情", **fields})


def _split(items):
    good = [i for i in items if isinstance(i, FeedbackRecord)]
    return good, {i.source_pos: i.reason for i in items if isinstance(i, Rejected)}


def test_platform_reads_a_board_xlsx_without_a_community_column(tmp_path, settings):
    path = _xlsx(tmp_path / "platform.xlsx", ROWS)
    good, bad = _split(read_file("platform", path, _board_mapping(), settings.district).items())
    assert bad == {"row 6": "missing_key", "row 7": "bad_time"}
    assert [g.key for g in good] == ["M1", "M2", "M3", "M4"]
    assert {g.community for g in good} == {"unknown"}  # placed later, from the text
    assert [g.received_at for g in good] == [datetime(2019, 7, 11), datetime(2019, 7, 12, 9, 30),
                                             datetime(2019, 7, 12, 12, 0), datetime(2019, 7, 13, 14, 5)]
    assert good[0].text == "响水社区路灯坏了\n晚上出门看不见，请尽快修理"
    assert good[0].extra["title"] == "响水社区路灯坏了" and good[3].text == "咨询社保"
    assert "张三" not in json.dumps([g.extra for g in good], ensure_ascii=False)


def test_title_and_body_are_joined_alike_at_training_and_serving(tmp_path, settings):
    path = _xlsx(tmp_path / "platform.xlsx", ROWS)
    served = {g.key: g.text for g in _split(read_file("platform", path, _board_mapping(),
                                                      settings.district).items())[0]}
    trained = dict(read_labelled(path, ["留言主题", "留言详情"], "一级分类"))
    assert set(served.values()) <= set(trained)
    assert compose_text("标题", "标题") == "标题"  # a body that copies its title
    assert compose_text("路灯", "路灯坏了") == "路灯\n路灯坏了"
    assert compose_text(" 标题 ", None, "正文") == "标题\n正文"


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".csv", ".xlsx"])
def test_hotline_reads_every_format_with_a_title_and_no_community(tmp_path, settings, suffix):
    mapping = ChannelMapping(fields={"order_id": "id", "received_at": "time", "title": "title",
                                     "text": "body"})
    rows = [{"id": "H1", "time": "2026/11/3", "title": "路灯", "body": "路灯坏了"},
            {"id": "H2", "time": "20261104", "title": "", "body": "想申请低保"},
            {"id": "H3", "time": "2026-11-04T09:00:00+08:00", "title": "空", "body": ""}]
    path = tmp_path / f"orders{suffix}"
    if suffix == ".jsonl":
        path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n",
                        encoding="utf-8")
    elif suffix == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    elif suffix == ".csv":
        path.write_text("id,time,title,body\n" + "".join(
            f"{r['id']},{r['time']},{r['title']},{r['body']}\n" for r in rows), encoding="utf-8")
    else:
        _xlsx(path, [list(r.values()) for r in rows], header=list(rows[0]))
    good, bad = _split(read_file("hotline", path, mapping, settings.district).items())
    assert [(g.key, g.community, g.text, g.received_at) for g in good] == [
        ("H1", "unknown", "路灯\n路灯坏了", datetime(2026, 11, 3)),
        ("H2", "unknown", "想申请低保", datetime(2026, 11, 4)),
        ("H3", "unknown", "空", datetime(2026, 11, 4, 9))]
    assert bad == ({"line 4": "bad_json"} if suffix == ".jsonl" else {})


def test_blank_and_unknown_communities_load_as_unknown_a_wrong_one_is_quarantined(tmp_path, settings):
    path = tmp_path / "orders.csv"
    path.write_text("工单编号,受理时间,所属社区,来电号码,来电内容\n"
                    "A1,2026-11-03 14:05:00,,,想申请低保\n"
                    "A2,2026-11-03 14:05:00,未知,,想申请低保\n"
                    "A3,2026-11-03 14:05:00,Unknown,,想申请低保\n"
                    "A4,2026-11-03 14:05:00,火星社区,,想申请低保\n", encoding="utf-8")
    good, bad = _split(read_file("hotline", path, settings.mapping("hotline"), settings.district).items())
    assert [(g.key, g.community) for g in good] == [("A1", "unknown"), ("A2", "unknown"), ("A3", "unknown")]
    assert bad == {"row 5": "unknown_community"}


def test_a_mistyped_column_names_the_columns_the_file_has(tmp_path, settings):
    from minsheng.channels import UnreadableInput

    path = _xlsx(tmp_path / "platform.xlsx", ROWS)
    with pytest.raises(UnreadableInput, match="missing columns 留言时问.*its columns: 留言编号"):
        list(read_file("platform", path, _board_mapping(received_at="留言时问"), settings.district).items())


def test_survey_reads_json(tmp_path, settings):
    d = settings.district
    full = [item.options[0] for item in d.survey.items]
    m = settings.mapping("survey")
    f = m.fields
    questions = {f"{n}、问题": a for n, a in enumerate(full, start=m.item_offset)}
    rows = [{f["response_id"]: 1, f["submitted_at"]: "2026/10/12", f["respondent_type"]: "户籍居民",
             f["community"]: "响水社区", **questions, f["open_answer"]: "希望多开展文体活动"},
            {f["response_id"]: 2, f["submitted_at"]: "2026/10/12 14:06", f["respondent_type"]: "户籍居民",
             **questions, f["open_answer"]: ""}]
    path = tmp_path / "survey.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    good, bad = _split(read_file("survey", path, m, d).items())
    # the community question left blank: an invalid questionnaire (the case study's rule)
    assert bad == {"item 2": "invalid_questionnaire"}
    assert [(g.key, g.community, g.text) for g in good] == [("1", "C03", "希望多开展文体活动")]
    assert len(good[0].answers) == len(full)
    # a questionnaire that asks no community question: placed from its text, never rejected
    unmapped = m.model_copy(update={"fields": {k: v for k, v in f.items() if k != "community"}})
    good, bad = _split(read_file("survey", path, unmapped, d).items())
    assert bad == {} and [g.community for g in good] == ["unknown", "unknown"]


def test_the_duckdb_fast_path_reads_a_csv_without_a_community_column_as_arrow_does(tmp_path, settings):
    from minsheng.channels.base import IngestLimits
    from minsheng.channels.hotline import _validate_plain_csv, validate_hotline
    from minsheng.channels.tabular import read_tabular

    path = tmp_path / "orders.csv"
    path.write_text("id,time,body\nH1,2026/11/3,路灯坏了\nH2,20261104,想申请低保\nH3,七月,时间坏了\n",
                    encoding="utf-8")
    mapping = ChannelMapping(fields={"order_id": "id", "received_at": "time", "text": "body"})
    fast = _validate_plain_csv(path, mapping, settings.district, None, IngestLimits())
    assert fast is not None  # the fast path took it
    slow = validate_hotline(read_tabular(path), mapping, settings.district)
    cols = ["order_id", "received_at", "community"]
    assert fast.select(cols).to_pylist()[:2] == slow.good.select(cols).to_pylist()
    assert fast["reason"].to_pylist() == [None, None, "bad_time"]
    assert slow.good["community"].to_pylist() == ["unknown", "unknown"]
