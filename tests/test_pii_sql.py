"""Masking in the validating SQL (warehouse/ingest/validate_hotline.sql, pii_macros.sql) gives
exactly minsheng.pii.mask's text: SQL masks the common shapes itself and leaves the rest to
Python (pii_hard), and the result is the same either way."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from minsheng.channels.hotline import _run_validation, validate_hotline
from minsheng.channels.sql import channel_sql
from minsheng.channels.tabular import TabularInput
from minsheng.pii import PREFILTER, id_check_digit, is_valid_id_number, luhn_ok, mask
from minsheng.textcheck import HINT

HAN = "想申请低保请问小区停车位太少晚上回来没地方路灯坏了社区活动室开放时间老人家里漏水麻烦你们了谢谢"
HAN = "".join(c for c in HAN if not pc.match_substring_regex(pa.array([c]), HINT)[0].as_py())


def _id(rng: random.Random, valid: bool) -> str:
    first = f"{rng.randint(1, 9)}{rng.randint(0, 10**16 - 1):016d}"
    check = id_check_digit(first)
    if not valid:
        check = rng.choice([c for c in "0123456789X" if c != check])
    return first + (check.lower() if check == "X" and rng.random() < 0.3 else check)


def _card(rng: random.Random, valid: bool) -> str:
    n = rng.randint(15, 19)
    body = f"62{rng.randint(0, 10 ** (n - 3) - 1):0{n - 3}d}"
    for last in "0123456789":
        if luhn_ok(body + last) == valid:
            return body + last
    return body + "0"


NUMBERS = ["mobile", "mobile_spaced", "plus86", "landline", "local", "id", "bad_id", "card",
           "bad_card", "digits", "digit_groups"]


@st.composite
def pieces(draw: st.DrawFn) -> str:
    rng = random.Random(draw(st.integers(0, 2**32)))
    kind = draw(st.sampled_from([
        "han", "mobile", "mobile_spaced", "plus86", "landline", "local", "id", "bad_id", "card",
        "bad_card", "email", "house", "house_unit", "unit", "digits", "digit_groups", "letters",
        "fullwidth", "punct", "newline", "road_only", "two_houses", "adjacent", "adjacent",
        "name", "plate", "date", "wide_space", "cn_phone", "qq", "room", "amount", "id15",
    ]))
    if kind == "adjacent":  # numbers one space or hyphen apart: one digit run for pii._DIGITS
        return rng.choice([" ", "-"]).join(
            _number(rng, rng.choice(NUMBERS)) for _ in range(rng.choice([2, 2, 2, 3])))
    return _number(rng, kind)


def _number(rng: random.Random, kind: str) -> str:
    mobile = f"1{rng.choice('3456789')}{rng.randint(0, 10**9 - 1):09d}"
    road = "".join(rng.choice(HAN) for _ in range(rng.randint(0, 10))) + rng.choice(["路", "街", "巷", "大道", "大街"])
    house = f"{road}{rng.randint(1, 300)}号" + rng.choice(["", f"附{rng.randint(1, 9)}号"]) + rng.choice(
        ["", f"{rng.randint(1, 30)}栋", f"{rng.randint(1, 30)}幢", f"{rng.randint(1, 30)}号楼"])
    unit = rng.choice(["", f"{rng.randint(1, 9)}栋"]) + f"{rng.randint(1, 9)}单元" + rng.choice(
        ["", f"{rng.randint(1, 30)}楼", f"{rng.randint(1, 30)}层"]) + rng.choice(
        ["", f"{rng.randint(1, 3000)}", f"{rng.randint(1, 3000)}室", f"{rng.randint(1, 3000)}号"])
    return {
        "han": "".join(rng.choice(HAN) for _ in range(rng.randint(1, 6))),
        "mobile": mobile,
        "mobile_spaced": f"{mobile[:3]}{rng.choice(' -')}{mobile[3:7]}{rng.choice(' -')}{mobile[7:]}",
        "plus86": rng.choice(["+86", "86", "+86 ", "86-"]) + mobile,
        "landline": f"0{rng.randint(10, 999)}{rng.choice(['-', '', ' '])}{rng.randint(1000000, 99999999)}",
        "local": str(rng.randint(2000000, 89999999)),
        "id": _id(rng, True),
        "bad_id": _id(rng, False),
        "card": _card(rng, True),
        "bad_card": _card(rng, False),
        "email": f"{rng.choice(['zhang.san', 'li_4', 'a+b'])}@{rng.choice(['qq.com', 'example.cn'])}",
        "house": house,
        "house_unit": house + unit,
        "unit": unit,
        "digits": str(rng.randint(0, 10 ** rng.randint(1, 30))),
        "digit_groups": rng.choice([" ", "-", "  ", " - "]).join(
            str(rng.randint(0, 99999)) for _ in range(rng.randint(2, 6))),
        "letters": rng.choice(["A", "B2", "x", "X", "ID", "No.", "abc"]),
        "fullwidth": "".join(rng.choice("０１２３４５６７８９") for _ in range(rng.randint(1, 12))),
        "punct": rng.choice(["，", "。", "：", " ", "-", "+", "@", ",", ".", "、", "（", "）"]),
        "newline": "\n",
        "road_only": road,
        "two_houses": house + rng.choice(["", "，", "和"]) + house,
        "name": rng.choice(["李", "王", "欧阳", "老", "这位"]) + rng.choice(["先生", "女士", "小姐", "师傅"]),
        "plate": rng.choice(["渝", "京"]) + rng.choice(["B", "A"]) + rng.choice(["", "·"]) + f"{rng.randint(10000, 999999)}",
        "date": f"2026{rng.choice(['-', '.', ''])}{rng.randint(1, 12):02d}{rng.choice(['-', '.', ''])}{rng.randint(1, 28):02d}",
        "wide_space": rng.choice(["\u3000", "\u00a0", "\u2009", "\u200b"]),
        "cn_phone": "".join("零一二三四五六七八九幺"[int(d)] if rng.random() < 0.8 else d for d in mobile),
        "qq": rng.choice(["QQ", "qq", "微信", "wx"]) + rng.choice(["", "：", " "]) + str(rng.randint(10000, 10**10)),
        "room": f"{rng.randint(1, 30)}{rng.choice(['栋', '号楼'])}{rng.randint(101, 3000)}{rng.choice(['', '室'])}",
        "amount": f"{rng.randint(2000000, 89999999)}{rng.choice(['元', '块', ''])}",
        "id15": f"{rng.randint(110000, 659999)}{rng.randint(30, 99)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}",
    }[kind]


texts = st.lists(pieces(), min_size=1, max_size=8).map(lambda p: "说" + "".join(p) + "谢")


def _validated_texts(settings, values: list[str]) -> list[str]:
    n = len(values)
    table = pa.table({
        "工单编号": [f"K{i}" for i in range(n)], "受理时间": ["2026-09-28 08:07:17"] * n,
        "所属社区": [next(iter(settings.district.community_by_name()))] * n, "来电号码": [""] * n,
        "来电内容": values, "_row": list(range(2, n + 2)),
    })
    v = validate_hotline(TabularInput(table, [], "utf-8"), settings.mapping("hotline"), settings.district)
    assert v.rejected.num_rows == 0
    return v.good.sort_by("_row")["text"].to_pylist()


@hsettings(max_examples=300, deadline=None)
@given(st.lists(texts, min_size=1, max_size=20))
def test_sql_masking_equals_python_mask(settings, values):
    assert _validated_texts(settings, values) == [mask(t).text for t in values]


@hsettings(max_examples=300, deadline=None)
@given(texts)
def test_mask_is_idempotent(text):
    once = mask(text).text
    assert mask(once).text == once


@pytest.mark.parametrize("text", [
    "南坪西路12号3栋2单元502，电话13812345678",  # the common shapes: all in SQL
    "路1号路2号",  # road names overlapping an earlier house number
    "3单元路5号",  # a unit next to the road name
    "3单元甲乙丙丁戊己庚路5号",  # a unit overlapping a road name cut at 8 characters
    "2单元3楼甲乙丙丁戊己庚辛路5号",
    "南坪路5号，3栋2单元",  # a unit after the house number
    "大街5号附1号3号楼，另3栋2单元",
    "中山\n路12号",  # a road name before a newline
    "电话１３８１２３４５６７８",  # full-width digits
    "13812345678 13912345678",  # one run of 23 characters: two numbers, masked in Python
    "请打13812345678 13912345678找我", "13812345678-13912345678",
    "010-12345678 13812345678", "023-62781234 13812345678", "62781234 13812345678",
    "13812345678 2345678",  # 18 digits: masked as one ID-shaped number, in SQL
    "1998-2005年", "12345 1234567", "1234 5678 9012",  # not numbers
    "138 1234 5678 13912345678",  # 25 characters: pii._DIGITS splits it at a space
    "号码 023-6278-1234-13912345678 谢谢",
    "8613812345678、+86 13812345678、86-13812345678",
    "卡号 6222 0212 3456 7890 128 谢谢",
    "编号A13812345678和13812345678B",
    "No. 13812345678，ID 11010519491231002X，A-023-62781234",  # letters, then a separator
    "身份证11010519491231002x，11010519491231002X1",
    "zhang.san@example.com 13812345678",
    "号码是" + "1" * 30,
    "座机2345678、1234567和62781234，门牌123456",  # 7- and 8-digit local numbers
])
def test_awkward_texts(settings, text):
    assert _validated_texts(settings, [text]) == [mask(text).text]


def _sql_flags(settings, values: list[str]) -> pa.Table:
    n = len(values)
    con = duckdb.connect()
    try:
        con.register("_staged", pa.table({
            "order_id": [f"K{i}" for i in range(n)], "received_at": ["2026-09-28 08:07:17"] * n,
            "community": [next(iter(settings.district.community_by_name()))] * n,
            "caller_phone": [""] * n, "text": values, "_row": list(range(n)),
        }))
        return _run_validation(con, settings.mapping("hotline"), settings.district, None,
                               settings.ingest.limits())
    finally:
        con.close()


def test_sql_leaves_to_python_only_runs_that_may_hold_a_number(settings):
    values = ["电话13812345678 13912345678", "023-62781234 13812345678", "12345 2345678",
              "1998-2005年", "123-45-67", "138 1234 5678", "13812345678 2345678"]
    out = _sql_flags(settings, values)
    assert out["pii_hard"].to_pylist() == [True, True, True, False, False, False, False]
    assert out["text"].to_pylist()[3:] == [mask(t).text for t in values[3:]]


def test_sql_masks_the_common_shapes_itself(settings, tmp_path):
    from minsheng.demo.generate import generate_district

    generate_district(tmp_path, 1, 3, district=settings.district, taxonomy=settings.taxonomy)
    import csv

    values = []
    for f in sorted((tmp_path / "hotline").glob("*.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            values += [row["来电内容"].strip() for row in csv.DictReader(fh)]
    out = _sql_flags(settings, values)
    flagged = pc.sum(pc.match_substring_regex(pa.array(values), PREFILTER)).as_py()
    assert flagged > 50
    assert pc.sum(out["pii_hard"]).as_py() == 0  # no generated text needs Python
    assert out["text"].to_pylist() == [mask(t).text for t in values]


@hsettings(max_examples=100, deadline=None)
@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_id_check_macro(first17):
    con = duckdb.connect()
    con.execute(channel_sql("pii_macros"))
    for check in "0123456789Xx":
        value = first17 + check
        assert bool(con.execute("select pii_id_valid(?)", [value]).fetchone()[0]) == is_valid_id_number(value)
    assert not con.execute("select pii_id_valid(?)", [first17]).fetchone()[0]


@hsettings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_luhn_macro(value):
    con = duckdb.connect()
    con.execute(channel_sql("pii_macros"))
    assert con.execute("select pii_luhn_ok(?)", [value]).fetchone()[0] == luhn_ok(value)


def test_prefilter_catches_every_digit_python_knows():
    """mask() treats any Unicode decimal digit as a digit; the prefilter (RE2, in Arrow and in
    DuckDB) must flag a text holding one, or such a number would pass unmasked."""
    import re
    import sys

    digits = [chr(c) for c in range(0x80, sys.maxunicode + 1) if re.match(r"\d", chr(c))]
    arrow = pc.match_substring_regex(pa.array(digits), PREFILTER).to_pylist()
    assert all(arrow)
    con = duckdb.connect()
    con.register("d", pa.table({"c": digits}))
    assert con.execute("select bool_and(regexp_matches(c, ?)) from d", [PREFILTER]).fetchone()[0]
    assert not pc.match_substring_regex(pa.array(["a1b22c333号楼"]), PREFILTER)[0].as_py()
