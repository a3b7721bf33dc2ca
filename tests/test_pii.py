import random

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from minsheng.pii import id_check_digit, is_valid_id_number, mask


def _id(rng: random.Random) -> str:
    first = f"5001{rng.randint(10, 99)}{rng.randint(1940, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    return first + id_check_digit(first)


def test_check_digit_of_a_known_id_number():
    # the GB 11643 worked example
    assert id_check_digit("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert not is_valid_id_number("110105194912310021")


@pytest.mark.parametrize("seed", range(5))
def test_generated_personal_data_is_masked(seed):
    rng = random.Random(seed)
    phone = f"1{rng.choice('3589')}{rng.randint(0, 10**9 - 1):09d}"
    idn = _id(rng)
    text = f"我是{rng.choice(['张', '李'])}阿姨，电话{phone}，身份证{idn}，住南坪西路{rng.randint(1, 99)}号3单元502，楼道灯坏了"
    result = mask(text)
    assert phone not in result.text and idn not in result.text
    assert "南坪西路" not in result.text
    assert result.found["mobile"] == 1 and result.found["id_number"] == 1
    assert result.found["address"] == 1
    assert "楼道灯坏了" in result.text


def test_landline_card_and_email():
    r = mask("座机023-62781234，卡号6222021234567890128，邮箱 zhang.san@qq.com")
    assert "62781234" not in r.text and "6222021234567890128" not in r.text and "qq.com" not in r.text
    assert set(r.found) == {"landline", "bank_card", "email"}


def test_dates_counts_and_short_numbers_are_left_alone():
    text = "2026年11月3日，12个社区，3栋有20户需要帮助"
    assert mask(text).text == text


def test_mask_is_idempotent():
    once = mask("电话 138 1234 5678 身份证11010519491231002X").text
    assert mask(once).text == once


@pytest.mark.parametrize("text, masked, found", [
    # overlapping addresses: one placeholder each, never a garbled one
    ("路1号路2号", "[地址][地址]", {"address": 2}),
    ("中山路1号解放路2号", "[地址][地址]", {"address": 2}),
    ("3单元路5号", "[地址]", {"address": 1}),
    # a unit that begins inside a house number and runs on past its end
    ("回路254号附8号21栋2栋1单元29楼9号", "[地址]", {"address": 1}),
    ("2单元3楼甲乙丙丁戊己庚辛路5号", "[地址][地址]", {"address": 2}),
])
def test_overlapping_addresses(text, masked, found):
    r = mask(text)
    assert (r.text, dict(r.found)) == (masked, found)
    assert mask(r.text).text == r.text


@pytest.mark.parametrize("text, masked, found", [
    # numbers one space or hyphen apart: one digit run, cut into its numbers
    ("请打13812345678 13912345678找我", "请打[手机号] [手机号]找我", {"mobile": 2}),
    ("13812345678-13912345678", "[手机号]-[手机号]", {"mobile": 2}),
    ("010-12345678 13812345678", "[电话] [手机号]", {"landline": 1, "mobile": 1}),
    ("62781234 13812345678", "[电话] [手机号]", {"landline": 1, "mobile": 1}),
    ("+86 138 1234 5678 13912345678", "[手机号] [手机号]", {"mobile": 2}),
    ("+86 13812345678 13912345678", "[手机号] [手机号]", {"mobile": 2}),
    ("卡号6222 0212 3456 7890 128 13812345678", "卡号[银行卡号] [手机号]",
     {"bank_card": 1, "mobile": 1}),
    ("13812345678 11010519491231002X", "[手机号] [身份证号]", {"mobile": 1, "id_number": 1}),
    ("11010519491231002X 13812345678", "[身份证号] [手机号]", {"id_number": 1, "mobile": 1}),
    # a number cut off at 24 characters by the old pattern
    ("1234567 12345 138 1234 5678", "1234567 12345 [手机号]", {"mobile": 1}),
    # the stretches that mask the most digits, not the first 18 digits as one ID-shaped number
    ("13812345678 023-6278-1234", "[手机号] [电话]", {"mobile": 1, "landline": 1}),
    ("13812345678 2345678 12", "[手机号] [电话] 12", {"mobile": 1, "landline": 1}),
    # a + that is no country code stays, as it does on its own
    ("+86 12345 2345678", "+[电话] [电话]", {"landline": 2}),
    # what is not a number stays
    ("1998-2005年", "1998-2005年", {}),
    ("12345 1234567", "12345 1234567", {}),
])
def test_numbers_one_space_or_hyphen_apart(text, masked, found):
    r = mask(text)
    assert (r.text, dict(r.found)) == (masked, found)
    assert mask(r.text).text == r.text


def test_a_long_run_of_digit_groups_takes_linear_time():
    import time

    text = "号码" + " ".join(["1"] * 20_000) + " 13812345678"
    t0 = time.perf_counter()
    out = mask(text).text
    assert out.endswith(" 1 [手机号]") and time.perf_counter() - t0 < 5


# --- the kinds added with normalisation (issue 11): what must go, and what must stay --------

TRUE_POSITIVES = [
    ("互助会：李先生 13907770099 互助会", "互助会：[姓名] [手机号] 互助会"),
    ("其他〖李先生 13907770123〗", "其他〖[姓名] [手机号]〗"),
    ("电话１３９０７７７１２３４，谢谢", "电话[手机号]，谢谢"),
    ("电话139\u30000777\u00a01234", "电话[手机号]"),
    ("电话139\u20090777\u200b1234", "电话[手机号]"),
    ("电话139－0777－1234", "电话[手机号]"),
    ("电话139.0777.4567", "电话[手机号]"),
    ("电话139\n0777 1234", "电话[手机号]"),
    ("电话139-\n0777-1234", "电话[手机号]"),
    ("电话一三九零七七七一二三四", "电话[手机号]"),
    ("电话幺三九 零七七七 一二三四", "电话[手机号]"),
    ("tel13907776789", "tel[手机号]"),
    ("老身份证110105491231002", "老身份证[身份证号]"),
    ("身份证11010519491231002X", "身份证[身份证号]"),
    ("身份证１１０１０５１９４９１２３１００２Ｘ", "身份证[身份证号]"),
    ("QQ 12345678 找我", "QQ [QQ号] 找我"),
    ("加我qq号是987654321", "加我qq号是[QQ号]"),
    ("微信：zhang_san88", "微信：[微信号]"),
    ("vx13907771234", "vx[微信号]"),
    ("wx_abc12345 加我", "[微信号] 加我"),
    ("车牌渝B7X9Z2被刮了", "车牌[车牌]被刮了"),
    ("京A12345占了车位", "[车牌]占了车位"),
    ("渝B·D12345充电", "[车牌]充电"),
    ("王女士和张师傅、欧阳小姐", "[姓名]和[姓名]、[姓名]"),
    ("幸福小区3栋2单元501漏水", "幸福小区[地址]漏水"),
    ("5号楼1单元302室", "[地址]"),
    ("7栋301室", "[地址]"),
    ("住7号楼502", "住[地址]"),
    ("邮箱zhang＠qq.com", "邮箱[邮箱]"),
    ("卡号6222021234567890128", "卡号[银行卡号]"),
    ("卡号６２２２ ０２１２ ３４５６ ７８９０ １２８", "卡号[银行卡号]"),
]

LOOK_ALIKES = [
    "我2026-10-01去办的", "2026年11月3日上午", "2026.11.03那天", "20261103提交的", "10:30:00见",
    "2026-11-03 10:30来电", "花了23456789元", "¥2345678", "工单GD20261103000123", "工单号20261103000123",
    "3栋有20户", "1998-2005年", "第三季度增长12.5%", "这位先生", "找个师傅", "老先生", "图书室",
    "电子阅览室", "微信群里说的", "QQ群", "版本1.2.3", "IP 192.168.100.100", "一二三", "三号楼",
]


@pytest.mark.parametrize("text, masked", TRUE_POSITIVES)
def test_personal_data_in_any_form_is_masked(text, masked):
    r = mask(text)
    assert r.text == masked
    assert mask(r.text).text == r.text


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay(text):
    assert mask(text).text == text


def test_only_the_personal_data_changes():
    text = "（３栋）电话１３９０７７７１２３４，ＡＢＣ"
    assert mask(text).text == "（３栋）电话[手机号]，ＡＢＣ"


def test_pseudonyms_are_keyed():
    import hashlib

    from minsheng.pii import user_pseudonym

    phone = "13907771234"
    a, b = user_pseudonym(phone, b"k1"), user_pseudonym(phone, b"k2")
    assert a != b and a == user_pseudonym(phone, b"k1")
    assert a != hashlib.sha256(phone.encode()).hexdigest()[:16]
    with pytest.raises(ValueError):
        user_pseudonym(phone, b"")


def test_pseudonym_key_file_is_made_once_and_private(tmp_path):
    from minsheng.pii import load_pseudonym_key

    path = tmp_path / "private" / "pseudonym.key"
    key = load_pseudonym_key(None, path)
    assert key == load_pseudonym_key(None, path) and len(key) == 64
    assert path.stat().st_mode & 0o077 == 0
    assert load_pseudonym_key("from-env", path) == b"from-env"


def test_the_check_scans_every_text_and_list_column():
    import duckdb

    from warehouse.pii_scan import unmasked_personal_data_sql

    con = duckdb.connect()
    con.execute("create table raw_meeting (group_name varchar, n int)")
    con.execute("create table demand_items (tokens varchar[], content_hash varchar)")
    con.execute("create table later_table (note varchar)")
    con.execute("create view v as select '13907770099' as s")  # views read tables: not scanned twice
    con.execute("insert into raw_meeting values ('互助会：李先生 13907770099 互助会', 1), ('互助会', 2)")
    con.execute("insert into demand_items values (['电梯', '13907771234'], '1390777123456789abcdef'), "
                "(['[手机号]'], 'a13907771234b')")
    con.execute("insert into later_table values ('渝B7X9Z2'), ('１３９０７７７１２３４'), ('zhang＠qq.com'), "
                "('身份证110105491231002'), ('2026-11-03 工单GD20261103000123')")
    rows = con.execute(unmasked_personal_data_sql(con)).fetchall()
    assert sorted(rows) == sorted([
        ("raw_meeting", "group_name", "mobile"), ("demand_items", "tokens", "mobile"),
        ("later_table", "note", "plate"), ("later_table", "note", "fullwidth_number"),
        ("later_table", "note", "email"), ("later_table", "note", "id_number"),
    ])


def test_free_text_fields_are_masked_and_user_names_keyed(settings, tmp_path):
    import json

    from minsheng.channels import CHANNELS, read_file
    from minsheng.pii import user_pseudonym

    assert {c: CHANNELS[c].free_text for c in ("meeting", "survey", "platform")} == {
        "meeting": ("group_name",), "survey": ("respondent_type",), "platform": ("title",)}
    community = next(iter(settings.district.community_by_name().values()))
    path = tmp_path / "p.jsonl"
    rows = [{"msg_id": "m1", "posted_at": "2026-10-01T08:00:00+08:00", "community": community,
             "user": "13907778888", "title": "李先生 13907770111 求助", "content": "电梯坏了"},
            {"msg_id": "m2", "posted_at": "2026-10-01T08:00:00+08:00", "community": "没有",
             "user": "x", "title": "王女士 １３９０７７７１２３４", "content": "电梯\n坏了，微信 zhang_san88"}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    batch = read_file("platform", path, settings.mapping("platform"), settings.district, pseudonym_key=b"k")
    rec = batch.records.to_pylist()[0]
    assert rec["title"] == "[姓名] [手机号] 求助"
    assert rec["user_hash"] == user_pseudonym("13907778888", b"k")
    assert "13907770111" not in rec["extra_json"] and "李先生" not in rec["extra_json"]
    payload = batch.rejected.to_pylist()[0]["payload"]
    assert "王女士" not in payload and "１３９０" not in payload and "zhang_san88" not in payload


def _normalise_char_by_char(text: str) -> tuple[str, list[int]]:
    """normalise as it was written first: one loop step per character (seconds on a
    multi-megabyte text, found by bench_fuzz)."""
    from minsheng.pii import _KEPT, _norm_char

    out, origin = [], []
    for i, ch in enumerate(text):
        n = ch if (" " <= ch <= "~" or "\u4e00" <= ch <= "\u9fff" or ch in _KEPT) else _norm_char(ch)
        out.append(n)
        origin += [i] * len(n)
    return "".join(out), origin


@hsettings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("电话１３９a0 -－\u3000\u00a0\u200b\u00ad\ufeff㈱①，。\n\t\x00ｶﾞ")
                                        + [chr(0x1F600), "\u2163", "\ufb01"]), max_size=40))
def test_normalise_maps_every_character_as_the_char_by_char_loop_did(text):
    from minsheng.pii import normalise

    view, origin = normalise(text)
    expected_view, expected_origin = _normalise_char_by_char(text)
    assert view == expected_view
    # None: the view's positions are the text's (every character kept or replaced by one)
    assert (origin if origin is not None else list(range(len(text)))) == expected_origin
