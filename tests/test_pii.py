import random

import pytest

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
