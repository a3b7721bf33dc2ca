import json

import pytest

from minsheng.channels import FeedbackRecord, Rejected, UnreadableInput, read_file
from minsheng.channels.decode import decode_bytes
from minsheng.channels.times import parse_time

HEADER = "工单编号,受理时间,所属社区,来电号码,来电内容\n"


def _hotline(tmp_path, body, encoding="utf-8-sig"):
    p = tmp_path / "orders.csv"
    p.write_text(HEADER + body, encoding=encoding)
    return p


def test_hotline_good_and_bad_rows(tmp_path, settings):
    path = _hotline(tmp_path, (
        "GD1,2026-11-03 14:05:00,响水社区,13812345678,我母亲独居，想申请日间托老\n"
        "GD2,2026-11-03 99:99:99,响水社区,13812345678,时间坏了\n"
        "GD3,2026-11-03 14:05:00,不存在社区,13812345678,社区不存在\n"
        "GD4,2026-11-03 14:05:00,响水社区\n"
        ",2026-11-03 14:05:00,响水社区,13812345678,没有工单号\n"
        "GD6,2026-11-03 14:05:00,C03,13812345678,   \n"
    ))
    items = read_file("hotline", path, settings.mapping("hotline"), settings.district).items()
    good = [i for i in items if isinstance(i, FeedbackRecord)]
    bad = {i.source_pos: i.reason for i in items if isinstance(i, Rejected)}
    assert [g.key for g in good] == ["GD1"]
    assert good[0].community == "C03" and good[0].week == "2026-W45"
    assert good[0].contacts == {"caller_phone": "13812345678"}
    assert "13812345678" not in good[0].text
    # positions are CSV record numbers, the header being row 1
    assert bad == {"row 3": "bad_time", "row 4": "unknown_community", "row 5": "ragged_row",
                   "row 6": "missing_key", "row 7": "empty_text"}


def test_hotline_text_phone_is_masked_in_record_and_quarantine(tmp_path, settings):
    path = _hotline(tmp_path, "GD1,2026-11-03 14:05,响水社区,023-62781234,回电13912345678谢谢\n"
                              "GD2,bad,响水社区,023-62781234,回电13912345678谢谢\n")
    items = read_file("hotline", path, settings.mapping("hotline"), settings.district).items()
    assert all("13912345678" not in (i.text if isinstance(i, FeedbackRecord) else i.raw) for i in items)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_encodings_are_detected(tmp_path, settings, encoding):
    path = _hotline(tmp_path, "GD1,2026/11/3 14:05,响水社区,13812345678,想申请低保，家里困难\n", encoding)
    [rec] = read_file("hotline", path, settings.mapping("hotline"), settings.district).items()
    assert rec.text == "想申请低保，家里困难"


def test_undecodable_file_is_unreadable():
    with pytest.raises(UnreadableInput):
        decode_bytes(b"\xff\xff\xfe\x80\x81" * 10 + b"\x00\xd8", None)


def test_missing_columns_make_the_file_unreadable(tmp_path, settings):
    p = tmp_path / "x.csv"
    p.write_text("id,time\n1,2\n", encoding="utf-8")
    with pytest.raises(UnreadableInput, match="missing columns"):
        read_file("hotline", p, settings.mapping("hotline"), settings.district).items()


@pytest.mark.parametrize("value,expected", [
    ("2026/11/3 14:05", "2026-11-03 14:05:00"),
    ("2026-11-03T14:05:00+08:00", "2026-11-03 14:05:00"),
    ("2026-11-03T06:05:00+00:00", "2026-11-03 14:05:00"),
    ("2026年11月3日 14时05分", "2026-11-03 14:05:00"),
    ("46329.5859722", "2026-11-03 14:03:48"),
])
def test_time_formats_in_shanghai(value, expected):
    got = parse_time(value, ["%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M:%S"])
    assert got.strftime("%Y-%m-%d %H:%M:%S") == expected


def test_platform_jsonl(tmp_path, settings):
    p = tmp_path / "m.jsonl"
    rows = [
        {"msg_id": "M1", "posted_at": "2026-11-03T08:00:00+08:00", "community": "C08",
         "user": "u1", "title": "停车难", "content": "小区停车位太少了，晚上回家没地方停"},
        "not json {",
        {"msg_id": "M2", "posted_at": "", "community": "C08", "user": "u", "title": "", "content": "x"},
    ]
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    items = read_file("platform", p, settings.mapping("platform"), settings.district).items()
    assert isinstance(items[0], FeedbackRecord) and items[0].extra["user_hash"] != "u1"
    assert [i.reason for i in items[1:]] == ["bad_json", "bad_time"]


MEETING = """# 响水社区物业服务互助会会议纪要

日期：2026-11-04
社区：响水社区
互助会：物业服务互助会

## 居民诉求

1. 3栋电梯经常坏，希望物业尽快维修
2. 楼道堆放杂物，存在消防隐患
3. 希望增加老年人日间照料的名额

## 下一步

- 下周再开会
"""


def test_meeting_items_keep_their_spans(tmp_path, settings):
    p = tmp_path / "2026-11-04_C03_01.md"
    p.write_text(MEETING, encoding="utf-8")
    items = read_file("meeting", p, settings.mapping("meeting"), settings.district).items()
    assert len(items) == 3 and all(isinstance(i, FeedbackRecord) for i in items)
    for rec in items:
        start, end = rec.extra["span_start"], rec.extra["span_end"]
        assert MEETING[start:end] == rec.text  # no personal data in these items
    assert "下周再开会" not in {i.text for i in items}


def test_survey_validity_and_answers(tmp_path, settings):
    d = settings.district
    head = ["序号", "提交答卷时间", "所用时间", "来源", "1、您的身份", "2、您所在的社区"]
    head += [f"{n}、{item.name}" for n, item in enumerate(d.survey.items, start=3)]
    head += ["14、您对街道公共服务还有什么意见和建议？"]
    full = [item.options[0] for item in d.survey.items]
    rows = [
        ["1", "2026/10/12 14:05:33", "100秒", "微信", "户籍居民", "响水社区", *full, "希望多开展文体活动"],
        ["2", "2026/10/12 14:06:33", "100秒", "微信", "户籍居民", "", *full, ""],
        ["3", "2026/10/12 14:07:33", "100秒", "微信", "户籍居民", "响水社区", *([""] * 4 + full[4:]), "无"],
        ["4", "2026/10/12 14:08:33", "100秒", "微信", "流动人口", "响水社区", *([""] * 3 + full[3:]), ""],
    ]
    p = tmp_path / "survey.csv"
    p.write_bytes(("\n".join(",".join(r) for r in [head, *rows]) + "\n").encode("gb18030"))
    items = read_file("survey", p, settings.mapping("survey"), d).items()
    good = [i for i in items if isinstance(i, FeedbackRecord)]
    assert [g.key for g in good] == ["1", "4"]
    assert good[0].text == "希望多开展文体活动" and good[1].text == ""
    assert len(good[0].answers) == 11 and good[0].answers[0][3] == 1
    assert sum(a[2] is None for a in good[1].answers) == 3
    assert {i.source_pos: i.reason for i in items if isinstance(i, Rejected)} == {
        "row 3": "invalid_questionnaire", "row 4": "invalid_questionnaire"}
