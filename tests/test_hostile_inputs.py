"""The hostile-input corpus (tests/data/hostile, written by tests/data/make_hostile.py):
nothing good is lost, nothing bad gets in, nothing is loaded twice, no personal data leaks."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from minsheng.channels import IngestLimits, UnreadableInput, read_file
from minsheng.channels.hotline import validate_hotline
from minsheng.channels.tabular import read_tabular
from minsheng.channels.times import parse_time
from minsheng.clock import FixedClock
from minsheng.pii import PREFILTER, mask, mask_array
from warehouse import loader, query

HOSTILE = Path(__file__).parent / "data" / "hostile"
SECRETS = ("13812345678", "13912345678", "62781234", "11010519491231002X", "zhang.san@example.com", "南坪西路12号")


@pytest.fixture
def wh(warehouse):
    return warehouse


def ingest(con, settings, channel, name, mapping=None):
    batch = read_file(channel, HOSTILE / name, mapping or settings.mapping(channel),
                             settings.district, limits=settings.ingest.limits())
    return loader.load_batch(con, batch)


def reasons(con, file):
    return dict(con.execute("select source_pos, reason from quarantine where source_file = ? order by all",
                            [file]).fetchall())


@pytest.mark.parametrize("name", ["hotline_gbk.csv", "hotline_utf8_bom.csv", "hotline_excel_utf16.csv"])
def test_encodings_load_the_same_rows(wh, settings, name):
    counts = ingest(wh, settings, "hotline", name)
    assert (counts.loaded, counts.quarantined) == (3, 0)
    texts = {r[0] for r in wh.execute("select text from raw_hotline").fetchall()}
    assert "小区停车位太少，晚上回来没地方停车" in texts


def test_the_same_rows_in_three_encodings_are_duplicates(wh, settings):
    ingest(wh, settings, "hotline", "hotline_gbk.csv")
    again = ingest(wh, settings, "hotline", "hotline_excel_utf16.csv")
    assert (again.loaded, again.duplicate) == (0, 3)


def test_truncated_file_keeps_its_good_rows(wh, settings):
    counts = ingest(wh, settings, "hotline", "hotline_truncated.csv")
    assert (counts.loaded, counts.quarantined) == (2, 1)
    assert reasons(wh, "hotline_truncated.csv") == {"row 4": "undecodable_bytes"}  # a cut character


def test_ragged_rows_are_quarantined_by_position(wh, settings):
    counts = ingest(wh, settings, "hotline", "hotline_ragged.csv")
    assert counts.loaded == 3
    assert reasons(wh, "hotline_ragged.csv") == {"row 5": "ragged_row", "row 6": "ragged_row"}


def test_mojibake_never_loads(wh, settings):
    ingest(wh, settings, "hotline", "hotline_mojibake.csv")
    assert reasons(wh, "hotline_mojibake.csv") == {"row 5": "mojibake", "row 6": "mojibake"}
    assert wh.execute("select count(*) from raw_hotline where order_id in ('H010', 'H011')").fetchall() == [(0,)]


def test_hostile_rows(wh, settings):
    counts = ingest(wh, settings, "hotline", "hotline_hostile.csv")
    assert reasons(wh, "hotline_hostile.csv") == {
        "row 6": "bad_time", "row 7": "implausible_time", "row 8": "bad_time", "row 9": "empty_text",
        "row 10": "missing_key", "row 11": "unknown_community",
    }
    assert counts.loaded == 6
    rows = dict(wh.execute("select order_id, text from raw_hotline").fetchall())
    assert rows["H020"] == "楼道灯坏了👍😡 麻烦尽快修"                 # emoji kept
    assert rows["H021"].startswith("社區長者飯堂")                    # traditional characters kept
    assert rows["H022"] == "'); drop table raw_hotline; --"          # injected SQL is data
    assert rows["H031"].startswith("多行\n文本")                     # quoted newlines
    assert "[身份证号]" in rows["H030"] and "[地址]" in rows["H030"]
    assert wh.execute("select count(*) from feedback").fetchall() == [(6,)]


def test_xlsx_with_datetime_cells_and_excel_serials(wh, settings):
    ingest(wh, settings, "hotline", "hotline.xlsx")
    got = dict(wh.execute("select order_id, received_at from raw_hotline").fetchall())
    assert got == {"H040": datetime(2026, 11, 3, 9, 30), "H041": datetime(2026, 11, 3, 14, 3, 48)}
    assert reasons(wh, "hotline.xlsx") == {"row 4": "bad_time"}


def test_json_array_and_broken_jsonl(wh, settings):
    ingest(wh, settings, "platform", "platform_array.json")
    ingest(wh, settings, "platform", "platform_broken.jsonl")
    assert reasons(wh, "platform_array.json") == {"item 3": "empty_text"}
    assert reasons(wh, "platform_broken.jsonl") == {"line 2": "bad_json", "line 3": "bad_json"}
    got = dict(wh.execute("select message_id, received_at from raw_platform").fetchall())
    assert got["P2"] == datetime(2026, 11, 3, 8, 0)  # "Z" is UTC: 08:00 in Shanghai


@pytest.mark.parametrize("name,n", [("meeting.docx", 3), ("meeting.txt", 2)])
def test_meeting_notes_in_word_and_plain_text(wh, settings, name, n):
    counts = ingest(wh, settings, "meeting", name)
    assert counts.loaded == n
    rows = wh.execute("select text, span_start, span_end from raw_meeting order by item_no").fetchall()
    assert all(b > a for _, a, b in rows)
    assert "下周再开会" not in {r[0] for r in rows} and "备注：无" not in {r[0] for r in rows}


def test_one_megabyte_texts_are_quarantined_not_loaded(wh, settings, tmp_path):
    path = tmp_path / "big.csv"
    big = "楼道" * 500_000
    path.write_text("工单编号,受理时间,所属社区,来电号码,来电内容\n"
                    f"B1,2026-11-03 09:00:00,响水社区,13812345678,{big}\n"
                    "B2,2026-11-03 09:00:00,响水社区,13812345678,正常的一条\n", encoding="utf-8")
    counts = loader.load_batch(wh, read_file("hotline", path, settings.mapping("hotline"),
                                                   settings.district, limits=settings.ingest.limits()))
    assert (counts.loaded, counts.quarantined) == (1, 1)
    assert reasons(wh, "big.csv") == {"row 2": "text_too_long"}


def test_corrected_record_supersedes_and_keeps_history(wh, settings):
    ingest(wh, settings, "hotline", "hotline_day1.csv")
    counts = ingest(wh, settings, "hotline", "hotline_day1_corrected.csv")
    assert (counts.loaded, counts.superseded, counts.duplicate) == (0, 1, 3)
    assert wh.execute("select text from raw_hotline where order_id = 'H002'").fetchall()[0][0].endswith("三个月了")
    history = wh.execute("select record_key, row_json from raw_history").fetchall()
    assert [h[0] for h in history] == ["H002"] and "三个月了" not in history[0][1]
    assert wh.execute("select count(*) from raw_hotline").fetchall() == [(3,)]
    assert query.run_checks(wh)["duplicate_keys"] == 0


def test_renamed_columns_by_configuration(wh, settings):
    mapping = settings.mapping("hotline").model_copy(update={"fields": {
        "order_id": "单号", "received_at": "时间", "community": "社区名称", "caller_phone": "电话",
        "text": "内容"}})
    assert ingest(wh, settings, "hotline", "hotline_renamed.csv", mapping).loaded == 3


def test_personal_data_only_in_the_contacts_file(wh, settings):
    import duckdb

    from warehouse.contacts import ContactsStore

    for channel, name in [("hotline", "hotline_hostile.csv"), ("hotline", "hotline_gbk.csv"),
                          ("platform", "platform_array.json")]:
        ingest(wh, settings, channel, name)
    tables = wh.execute("select table_schema, table_name from information_schema.tables").fetchall()
    dump = "".join(repr(wh.execute(f'select * from "{s}"."{t}"').fetchall()) for s, t in tables)
    assert [s for s in SECRETS if s in dump] == []
    with duckdb.connect(str(ContactsStore.beside(loader.database_path(wh)).path), read_only=True) as c:
        assert c.execute("select count(*) from contacts").fetchall()[0][0] >= 3


TIMES = ["2026/11/3 14:05", "2026-11-03 14:05:00", "2026-11-03T14:05:00+08:00", "2026-11-03T06:05:00Z",
         "2026年11月3日 14时05分", "2026年11月3日", "46329.5859722", "2026-11-03T14:05:00",
         "2019/7/11", "2026/11/3", "20261103", "2026年11月3日 14:05", "2026.11.3", "2026-11-03",
         "2026-11-03T14:05:00.250+08:00", "2026/11/03 09:05:07"]


def test_sql_and_python_parse_times_alike(settings, tmp_path):
    path = tmp_path / "t.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["工单编号", "受理时间", "所属社区", "来电号码", "来电内容"])
        for n, t in enumerate(TIMES):
            w.writerow([f"T{n}", t, "响水社区", "", "想申请低保"])
    mapping = settings.mapping("hotline")
    v = validate_hotline(read_tabular(path), mapping, settings.district)
    got = {r["order_id"]: r["received_at"] for r in v.good.to_pylist()}
    assert got == {f"T{n}": parse_time(t, mapping.time_formats) for n, t in enumerate(TIMES)}


def test_content_hash_is_the_same_in_python_and_sql(wh, settings):
    records = [r for r in read_file("platform", HOSTILE / "platform_array.json", settings.mapping("platform"),
                                    settings.district).items() if hasattr(r, "content_hash")]
    loader.load_items(wh, "platform", records)
    stored = dict(wh.execute("select message_id, content_hash from raw_platform").fetchall())
    assert stored == {r.key: r.content_hash for r in records}


def test_hotline_records_come_back_one_by_one_with_their_positions(settings):
    items = read_file("hotline", HOSTILE / "hotline_hostile.csv", settings.mapping("hotline"), settings.district).items()
    assert sorted(i.source_pos for i in items if not hasattr(i, "key")) == sorted(
        ["row 6", "row 7", "row 8", "row 9", "row 10", "row 11"])
    assert len([i for i in items if hasattr(i, "key")]) == 6


def test_future_is_judged_by_the_injected_clock(settings, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("工单编号,受理时间,所属社区,来电号码,来电内容\nF1,2031-01-01 10:00:00,响水社区,,想申请低保\n",
                    encoding="utf-8")
    later = FixedClock(datetime(2031, 6, 1))
    v = validate_hotline(read_tabular(path), settings.mapping("hotline"), settings.district,
                         clock=later, limits=IngestLimits())
    assert v.good.num_rows == 1


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(["想申请低保", "电话", "南坪西路", "号", "3栋", "单元", "502室", "@", "路", " ", "-", "，"]),
    st.from_regex(r"[0-9]{1,19}", fullmatch=True),
    st.text(alphabet="0123456789 -Xx@.号路单元栋", max_size=12),
), max_size=12).map("".join))
def test_prefilter_never_misses_what_mask_changes(text):
    import pyarrow.compute as pc

    # PREFILTER is RE2 syntax, as Arrow and DuckDB evaluate it
    if not pc.match_substring_regex(pa.array([text]), PREFILTER)[0].as_py():
        assert mask(text).text == text
    assert mask_array(pa.array([text])).to_pylist() == [mask(text).text]


# --- issue 12: one bad value is one bad row, never the whole file ------------------------------

HOTLINE_HEADER = "工单编号,受理时间,所属社区,来电号码,来电内容\n"
GOOD_1 = "H1,2026-11-03 09:00:00,响水社区,13812345678,路灯坏了\n"
GOOD_3 = "H3,2026-11-03 09:10:00,响水社区,,楼道很黑\n"


def _platform_line(msg_id: str, posted_at: str = "2026-11-03T08:00:00+08:00", **more: object) -> str:
    import json

    return json.dumps({"msg_id": msg_id, "posted_at": posted_at, "community": "C08",
                       "content": "停车难", **more}, ensure_ascii=False) + "\n"


def read_bytes_as(settings, tmp_path, channel: str, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    batch = read_file(channel, path, settings.mapping(channel), settings.district,
                      limits=settings.ingest.limits())
    return (sorted(batch.records.column("key").to_pylist()),
            {r["source_pos"]: r["reason"] for r in batch.rejected.to_pylist()})


OUT_OF_RANGE = ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]


@pytest.mark.parametrize("stamp", OUT_OF_RANGE)
def test_a_time_past_the_calendar_is_a_bad_time_in_every_channel(settings, tmp_path, stamp):
    csv_data = (HOTLINE_HEADER + GOOD_1 + f"H2,{stamp},响水社区,,停车难\n" + GOOD_3).encode()
    assert read_bytes_as(settings, tmp_path, "hotline", "t.csv", csv_data) == (["H1", "H3"], {"row 3": "bad_time"})
    jsonl = (_platform_line("P1", stamp) + _platform_line("P2")).encode()
    assert read_bytes_as(settings, tmp_path, "platform", "t.jsonl", jsonl) == (["P2"], {"line 1": "bad_time"})
    note = f"日期：{stamp}\n社区：响水社区\n\n## 诉求\n\n1. 路灯坏了\n".encode()
    assert read_bytes_as(settings, tmp_path, "meeting", "t.md", note) == ([], {"header": "bad_time"})
    with pytest.raises(ValueError, match="out of range|unrecognised"):
        parse_time(stamp, [])


@pytest.mark.parametrize("line", [
    "[" * 100_000 + "]" * 100_000 + "\n",
    '{"msg_id": "P1", "posted_at": "2026-11-03T08:00:00+08:00", "community": "C08", "content": "a\\ud800"}\n',
    '{"msg_id": "P1", "posted_at": "2026-11-03T08:00:00+08:00", "community": "C08", "content": "a", '
    '"likes": ' + "9" * 5000 + "}\n",
    '{"msg_id": "P1", "content": ' + "[" * 200 + "]" * 200 + "}\n",
], ids=["nested-100000", "lone-surrogate", "5000-digits", "nested-200"])
def test_a_json_line_python_cannot_hold_is_one_bad_line(settings, tmp_path, line):
    for name, data in [("a.jsonl", _platform_line("P0") + line + _platform_line("P2")),
                       ("b.json", "[" + _platform_line("P0") + "," + line + "," + _platform_line("P2") + "]")]:
        keys, rejected = read_bytes_as(settings, tmp_path, "platform", name, data.encode())
        assert keys == ["P0", "P2"]
        assert list(rejected.values()) == ["bad_json"] and list(rejected)[0] in ("line 2", "item 2")


def test_a_json_array_of_many_items_still_loads_them_all(settings, tmp_path):
    data = "[" + ",".join(_platform_line(f"P{n}", text="a\\\"],{") for n in range(5)) + "]"
    assert read_bytes_as(settings, tmp_path, "platform", "a.json", data.encode()) == (
        [f"P{n}" for n in range(5)], {})


def test_a_csv_with_cr_only_line_ends_loads(settings, tmp_path):
    data = (HOTLINE_HEADER + GOOD_1 + GOOD_3).replace("\n", "\r").encode()
    assert read_bytes_as(settings, tmp_path, "hotline", "cr.csv", data) == (["H1", "H3"], {})


@pytest.mark.parametrize("damage", [b"\xff\xfe\xfd", b"\xed\xa0\xbd\xed\xb8\x80"], ids=["ff-fe-fd", "cesu-8"])
def test_one_undecodable_row_is_quarantined_alone(settings, tmp_path, damage):
    bad_row = "H2,2026-11-03 09:05:00,响水社区,,停车".encode() + damage + b"\n"
    data = (HOTLINE_HEADER + GOOD_1).encode() + bad_row + GOOD_3.encode()
    assert read_bytes_as(settings, tmp_path, "hotline", "d.csv", data) == (
        ["H1", "H3"], {"row 3": "undecodable_bytes"})
    jsonl = _platform_line("P1").encode() + b'{"msg_id": "P3", "posted_at": "2026-11-03T08:00:00+08:00", ' \
        b'"community": "C08", "content": "' + damage + b'"}\n' + _platform_line("P2").encode()
    assert read_bytes_as(settings, tmp_path, "platform", "d.jsonl", jsonl) == (
        ["P1", "P2"], {"line 2": "undecodable_bytes"})
    # a meeting note is one text: its damaged item is judged as text (mojibake)
    note = "日期：2026-11-05\n社区：响水社区\n\n## 诉求\n\n1. 路灯坏了\n2. 楼道".encode() + damage + b"\n"
    keys, rejected = read_bytes_as(settings, tmp_path, "meeting", "d.md", note)
    assert len(keys) == 1 and list(rejected.values()) == ["mojibake"]


def test_a_gbk_file_is_still_gbk(settings, tmp_path):
    data = (HOTLINE_HEADER + GOOD_1 + GOOD_3).encode("gb18030")
    assert read_bytes_as(settings, tmp_path, "hotline", "g.csv", data) == (["H1", "H3"], {})


def test_a_fifty_megabyte_text_is_one_row_too_long(settings, tmp_path):
    data = (HOTLINE_HEADER + GOOD_1 + "H2,2026-11-03 09:05:00,响水社区,," + "x" * 50_000_000 + "\n" + GOOD_3).encode()
    assert read_bytes_as(settings, tmp_path, "hotline", "big.csv", data) == (["H1", "H3"], {"row 3": "text_too_long"})


def test_an_unterminated_quote_is_quarantined_and_swallows_nothing(settings, tmp_path):
    data = (HOTLINE_HEADER + GOOD_1 + 'H2,2026-11-03 09:05:00,响水社区,,"停车难\n' + GOOD_3).encode()
    keys, rejected = read_bytes_as(settings, tmp_path, "hotline", "q.csv", data)
    assert (keys, rejected) == (["H1", "H3"], {"row 3": "unterminated_quote"})
    # a quote inside an unquoted field is a character, and a closed multi-line field is fine
    data = (HOTLINE_HEADER + 'H1,2026-11-03 09:00:00,响水社区,,门高2"\n'
            + 'H2,2026-11-03 09:05:00,响水社区,,"多行\n文本"\n' + GOOD_3).encode()
    assert read_bytes_as(settings, tmp_path, "hotline", "q2.csv", data) == (["H1", "H2", "H3"], {})


def test_utf16_le_without_a_bom_is_little_endian(settings, tmp_path):
    data = (HOTLINE_HEADER + GOOD_1 + GOOD_3).encode("utf-16-le")
    assert read_bytes_as(settings, tmp_path, "hotline", "u.csv", data) == (["H1", "H3"], {})
    data = (HOTLINE_HEADER + GOOD_1 + GOOD_3).encode("utf-16-be")
    assert read_bytes_as(settings, tmp_path, "hotline", "u.csv", data) == (["H1", "H3"], {})


def test_a_meeting_item_with_a_nul_and_a_note_with_cr_line_ends(settings, tmp_path):
    note = "日期：2026-11-05\n社区：响水社区\n\n## 诉求\n\n1. 路灯\x00坏了\n2. 楼道很黑\n"
    path = tmp_path / "nul.md"
    path.write_text(note, encoding="utf-8")
    batch = read_file("meeting", path, settings.mapping("meeting"), settings.district)
    assert batch.records.column("text").to_pylist() == ["路灯坏了", "楼道很黑"]
    assert batch.rejected.num_rows == 0
    start = batch.records.column("span_start").to_pylist()[0]
    assert note[start:].startswith("路灯")
    path = tmp_path / "cr.md"
    path.write_text(note.replace("\x00", "").replace("\n", "\r"), encoding="utf-8", newline="")
    batch = read_file("meeting", path, settings.mapping("meeting"), settings.district)
    assert batch.records.column("text").to_pylist() == ["路灯坏了", "楼道很黑"]
    assert batch.rejected.num_rows == 0


def _survey_csv(settings, rows: list[tuple[str, bool]]) -> str:
    import io

    items = settings.district.survey.items
    header = (["序号", "提交答卷时间", "1、您的身份", "2、您所在的社区"]
              + [f"{n}、{it.name}" for n, it in enumerate(items, start=3)] + ["14、您对街道公共服务还有什么意见和建议？"])
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    for rid, approve in rows:
        w.writerow([rid, "2026/11/3 10:00:00", "户籍居民", "响水社区"]
                   + [it.options[0 if approve else -1] for it in items] + ["无"])
    return buf.getvalue()


def test_a_survey_export_with_a_number_twice_keeps_the_last_everywhere(wh, settings, tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(_survey_csv(settings, [("1", True), ("2", True), ("1", False)]), encoding="utf-8")
    loader.load_batch(wh, read_file("survey", path, settings.mapping("survey"), settings.district))
    assert wh.execute("select response_id, source_pos from raw_survey order by 1").fetchall() == [
        ("1", "row 4"), ("2", "row 3")]
    polarity = dict(wh.execute("select response_id, sum(polarity) from survey_answers group by 1").fetchall())
    assert polarity == {"1": -11, "2": 11}
    # and a later export that flips it back supersedes both
    path.write_text(_survey_csv(settings, [("1", True)]), encoding="utf-8")
    loader.load_batch(wh, read_file("survey", path, settings.mapping("survey"), settings.district))
    polarity = dict(wh.execute("select response_id, sum(polarity) from survey_answers group by 1").fetchall())
    assert polarity == {"1": 11, "2": 11}


def test_a_damaged_header_makes_the_file_unreadable_not_a_crash(settings, tmp_path):
    header = HOTLINE_HEADER.encode()
    data = header[:7] + b"," + header[7:] + GOOD_1.encode()  # a comma inside a character
    path = tmp_path / "h.csv"
    path.write_bytes(data)
    with pytest.raises(UnreadableInput, match="missing columns"):
        read_file("hotline", path, settings.mapping("hotline"), settings.district)


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")  # no "Exception ignored"
def test_a_ragged_row_with_a_damaged_character_is_one_ragged_row(settings, tmp_path):
    data = (HOTLINE_HEADER + GOOD_1).encode() + "H2,2026-11-03 09:05:00,响水社区,,路灯,坏了".encode() + b"\xff\n" \
        + GOOD_3.encode()
    assert read_bytes_as(settings, tmp_path, "hotline", "r.csv", data) == (["H1", "H3"], {"row 3": "ragged_row"})


def test_a_long_run_of_spaces_in_a_meeting_item_reads_in_linear_time():
    """Found by bench_fuzz: ``\\s*[\\r\\n]+\\s*`` over an item with a huge run of spaces took
    quadratic time and stalled the reader; join_lines gives the same text, linearly."""
    import re

    from hypothesis import given, strategies as st

    from minsheng.channels.meeting import join_lines

    spaces = " " * 200_000
    assert join_lines(f"x{spaces}y") == f"x{spaces}y"
    assert join_lines(f"a{spaces}\r\n{spaces}\n\u3000b") == "ab"

    @given(st.text(alphabet=" \t\r\n\u3000ab，", max_size=30))
    def same_as_the_regex(text: str) -> None:
        assert join_lines(text) == re.sub(r"\s*[\r\n]+\s*", "", text)

    same_as_the_regex()


# --- issue 12: bytes that are not in the file's encoding -----------------------------------------

DAMAGE = [b"\xff\xfe\xfd", b"\xed\xa0\x80", b"\xed\xa0\xbd\xed\xb8\x80"]
DAMAGE_IDS = ["ff-fe-fd", "cesu-8-lone", "cesu-8-pair"]


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _quiet(capfd) -> None:
    err = capfd.readouterr().err
    assert "Exception ignored" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("damage", DAMAGE, ids=DAMAGE_IDS)
def test_a_hotline_row_with_undecodable_bytes_is_quarantined_quietly(settings, tmp_path, capfd, damage):
    bad_row = "H2,2026-11-03 09:05:00,响水社区,,停车".encode() + damage + "难\n".encode()
    data = (HOTLINE_HEADER + GOOD_1).encode() + bad_row + GOOD_3.encode()
    assert read_bytes_as(settings, tmp_path, "hotline", "d.csv", data) == (
        ["H1", "H3"], {"row 3": "undecodable_bytes"})
    # and in a file Arrow decodes itself (GB18030), where the bytes are not GB18030 either
    # (the CESU-8 pair happens to be three GB18030 characters)
    gbk = ((HOTLINE_HEADER + GOOD_1 + "H2,2026-11-03 09:05:00,响水社区,,停车").encode("gb18030") + damage
           + "难\n".encode("gb18030") + GOOD_3.encode("gb18030"))
    expected = {} if _decodes(damage, "gb18030") else {"row 3": "undecodable_bytes"}
    keys, rejected = read_bytes_as(settings, tmp_path, "hotline", "g.csv", gbk)
    assert rejected == expected and keys == (["H1", "H2", "H3"] if not expected else ["H1", "H3"])
    _quiet(capfd)


@pytest.mark.parametrize("damage", DAMAGE, ids=DAMAGE_IDS)
def test_a_survey_row_with_undecodable_bytes_is_quarantined_quietly(settings, tmp_path, capfd, damage):
    lines = _survey_csv(settings, [("1", True), ("2", True), ("3", False)]).encode().split(b"\r\n")
    lines[2] = lines[2][:-len("无".encode())] + damage + "无".encode()
    keys, rejected = read_bytes_as(settings, tmp_path, "survey", "s.csv", b"\r\n".join(lines))
    assert (keys, rejected) == (["1", "3"], {"row 3": "undecodable_bytes"})
    _quiet(capfd)


@pytest.mark.parametrize("damage", DAMAGE, ids=DAMAGE_IDS)
def test_a_json_line_or_item_with_undecodable_bytes_is_quarantined_quietly(settings, tmp_path, capfd, damage):
    bad = b'{"msg_id": "P3", "posted_at": "2026-11-03T08:00:00+08:00", "community": "C08", "content": "' \
        + damage + b'"}'
    good = [_platform_line("P1").encode().strip(), _platform_line("P2").encode().strip()]
    jsonl = b"\n".join([good[0], bad, good[1]]) + b"\n"
    assert read_bytes_as(settings, tmp_path, "platform", "d.jsonl", jsonl) == (
        ["P1", "P2"], {"line 2": "undecodable_bytes"})
    array = b"[" + b",\n".join([good[0], bad, good[1]]) + b"]"
    assert read_bytes_as(settings, tmp_path, "platform", "d.json", array) == (
        ["P1", "P2"], {"item 2": "undecodable_bytes"})
    _quiet(capfd)


@pytest.mark.parametrize("damage", DAMAGE, ids=DAMAGE_IDS)
def test_a_wechat_line_with_undecodable_bytes_is_quarantined(settings, tmp_path, capfd, damage):
    import json

    def line(openid: str, text: bytes = "楼道灯坏了".encode()) -> bytes:
        f = settings.mapping("wechat").fields
        obj = {f["user"]: openid, f["received_at"]: "2026-11-03 08:00:00", f["community"]: "响水社区",
               f["text"]: "@@"}
        return json.dumps(obj, ensure_ascii=False).encode().replace(b"@@", text) + b"\n"

    data = line("o1") + line("o2", "楼道".encode() + damage) + line("o3")
    path = tmp_path / "w.jsonl"
    path.write_bytes(data)
    batch = read_file("wechat", path, settings.mapping("wechat"), settings.district,
                      limits=settings.ingest.limits())
    assert batch.records.num_rows == 2
    assert {r["source_pos"]: r["reason"] for r in batch.rejected.to_pylist()} == {"line 2": "undecodable_bytes"}
    _quiet(capfd)


# --- issue 12: found by bench_fuzz (huge fields), and UTF-16 of Chinese text without a BOM -------

_LONG_ITEM = "电梯关人了半个小时都没人来电梯故障找物业还是找社区" * 8
_CHINESE_NOTE = f"日期：2026-11-05\n社区：响水社区\n\n## 居民诉求\n\n1. {_LONG_ITEM}\n2. 楼道很黑，{_LONG_ITEM}\n"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_mostly_chinese_utf16_note_without_a_bom_is_read_as_utf16(settings, tmp_path, encoding, newline):
    """Too few NULs (3% here) for the ASCII sign: the line breaks, as code units of one byte
    order, and the plausible characters tell UTF-16 from GB18030 (what it was read as before)."""
    data = _CHINESE_NOTE.replace("\n", newline).encode(encoding)
    assert data.count(0) < len(data) / 10
    path = tmp_path / "n.md"
    path.write_bytes(data)
    batch = read_file("meeting", path, settings.mapping("meeting"), settings.district)
    assert batch.records.column("text").to_pylist() == [_LONG_ITEM, f"楼道很黑，{_LONG_ITEM}"]
    assert batch.rejected.num_rows == 0


@hsettings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="电梯关人了楼道很黑，。？abc123 :：-", min_size=1, max_size=40), min_size=2, max_size=8),
       st.sampled_from(["utf-8", "gb18030"]))
def test_utf8_and_gb18030_text_is_never_taken_for_utf16(lines, encoding):
    from minsheng.channels.decode import sniff_encoding

    data = "\n".join(lines).encode(encoding)
    assert not sniff_encoding(data).startswith("utf-16")


def test_a_header_line_padded_with_spaces_reads_in_linear_time(settings, tmp_path):
    """Found by bench_fuzz: ``^日期\\s*[:：]\\s*(.+?)\\s*$`` over a header line padded with a
    million spaces took quadratic time (over 300 s); header_value reads it line by line."""
    import re
    import signal

    from minsheng.channels.meeting import header_value

    note = "日期：2026-11-05" + " " * 300_000 + "。\n社区：响水社区\n\n## 诉求\n\n1. 路灯坏了\n"
    path = tmp_path / "pad.md"
    path.write_text(note, encoding="utf-8")

    def stalled(signum, frame):  # noqa: ANN001
        raise TimeoutError("the header was read in quadratic time")

    previous = signal.signal(signal.SIGALRM, stalled)
    signal.alarm(30)  # the quadratic regex needs minutes here; the linear reader milliseconds
    try:
        batch = read_file("meeting", path, settings.mapping("meeting"), settings.district)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert batch.rejected.column("reason").to_pylist() == ["bad_time"]

    @hsettings(max_examples=300, deadline=None)
    @given(st.lists(st.text(alphabet="日期社区:： \t\u3000ab1-", max_size=12), max_size=5))
    def same_as_the_regex_line_by_line(lines: list[str]) -> None:
        found = [m.group(1) for line in lines if (m := re.fullmatch(r"日期\s*[:：]\s*(.+?)\s*", line))]
        found = [v for v in found if v.strip()]  # (an all-space value the regex took as " ")
        assert header_value(lines, "日期") == (found[0] if found else "")

    same_as_the_regex_line_by_line()


def test_blank_lines_before_a_damaged_header_give_a_clear_refusal(settings, tmp_path):
    """Found by bench_fuzz: after CR-only blank lines, the header check looked at the empty
    first line, so a damaged byte in the real header escaped as a UnicodeDecodeError."""
    data = b"\r\r\r" + HOTLINE_HEADER.replace("\n", "\r").encode().replace("受理".encode(), b"\xad\xff") \
        + GOOD_1.replace("\n", "\r").encode()
    with pytest.raises(UnreadableInput, match="missing columns"):
        read_bytes_as(settings, tmp_path, "hotline", "b.csv", data)
    good = b"\n\r\n\r" + (HOTLINE_HEADER + GOOD_1 + GOOD_3).encode()
    assert read_bytes_as(settings, tmp_path, "hotline", "g.csv", good) == (["H1", "H3"], {})


def test_a_file_that_lost_its_header_is_refused_without_showing_its_data(settings, tmp_path):
    """The first data row stands where the header was: the message names its 'columns'
    masked and cut short, never a caller's number (errors go to logs)."""
    data = (GOOD_1 + GOOD_3).encode()
    with pytest.raises(UnreadableInput, match="missing columns") as err:
        read_bytes_as(settings, tmp_path, "hotline", "h.csv", data)
    assert "13812345678" not in str(err.value) and "[手机号]" in str(err.value)
