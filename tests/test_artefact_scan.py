"""The artefact scan (tests/artefact_scan.py) finds a number however a file stores it, and
nothing where there is nothing."""

from __future__ import annotations

import gzip
import zipfile
import zlib

import duckdb
import joblib
import pyarrow as pa
import pyarrow.parquet as pq

from tests.artefact_scan import scan

PHONE = "13907771234"


def test_the_scan_finds_a_number_in_every_form(tmp_path):
    (tmp_path / "plain.txt").write_text(f"电话{PHONE}", encoding="utf-8")
    (tmp_path / "utf16.csv").write_bytes(f"a\t{PHONE}".encode("utf-16-le"))
    (tmp_path / "gbk.csv").write_bytes(f"电话,{PHONE}".encode("gb18030"))
    (tmp_path / "log.gz").write_bytes(gzip.compress(PHONE.encode()))
    (tmp_path / "blob.z").write_bytes(zlib.compress(PHONE.encode()))
    with zipfile.ZipFile(tmp_path / "model.zip", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tokenizer.json", '{"vocab": {"%s": 1}}' % PHONE)
    pq.write_table(pa.table({"tokens": [f"x {PHONE} y"] * 1000}), tmp_path / "part.parquet", compression="zstd")
    joblib.dump({"words_": {PHONE: 0}}, tmp_path / "classifier.joblib", compress=3)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute(f"create table t as select 'tel' || i || ' {PHONE}' as s from range(5000) r(i)")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "contacts.txt").write_text(PHONE, encoding="utf-8")
    found = {f.path.split("::")[0] for f in scan(tmp_path, [PHONE])}
    assert found == {"plain.txt", "utf16.csv", "gbk.csv", "log.gz", "blob.z", "model.zip", "part.parquet",
                     "classifier.joblib", "w.duckdb"}


def test_the_scan_finds_nothing_in_clean_files(tmp_path):
    pq.write_table(pa.table({"tokens": ["电梯 坏了"] * 100}), tmp_path / "part.parquet")
    joblib.dump({"words_": {"电梯": 0}}, tmp_path / "classifier.joblib", compress=3)
    assert scan(tmp_path, [PHONE, "13812345678"]) == []
    # and a word that is there is found in both
    assert {f.path.split("::")[0] for f in scan(tmp_path, ["电梯"])} == {"part.parquet", "classifier.joblib"}


# --- item 5: numbers planted in every channel reach no artefact ------------------------------

import csv  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

# (as written, what must not appear anywhere: the written form and the number itself)
PLANTS: list[tuple[str, list[str]]] = [
    ("电话１３９０７７７１２３４", ["１３９０７７７１２３４", "13907771234"]),
    ("手机139 0777 2345", ["139 0777 2345", "13907772345"]),
    ("手机139-0777-3456", ["139-0777-3456", "13907773456"]),
    ("号码139\u30000777\u00a04567", ["139\u30000777\u00a04567", "13907774567"]),
    ("电话139\n0777 6789", ["13907776789", "0777 6789"]),
    ("tel13907775432", ["13907775432"]),
    ("电话一三九零七七七五六七八", ["一三九零七七七五六七八", "13907775678"]),
    ("座机023-6278 4321", ["6278 4321", "62784321", "02362784321"]),
    ("身份证１１０１０５１９４９１２３１００２Ｘ", ["１１０１０５１９４９１２３１００２Ｘ", "11010519491231002"]),
    ("老身份证110105491231002", ["110105491231002"]),
    ("卡号6222 0212 3456 7890 128", ["6222 0212 3456", "6222021234567890128"]),
    ("邮箱zhang.san88＠qq.com", ["zhang.san88"]),
    ("车牌渝B7X9Z2", ["B7X9Z2", "b7x9z2", "渝B7X9Z2"]),
    ("微信：zhangsan_1988", ["zhangsan_1988"]),
    ("QQ 2345678901", ["2345678901"]),
    ("李先生和王女士", ["李先生", "王女士"]),
    ("住幸福小区3栋2单元501室", ["3栋2单元501", "2单元501室"]),
    ("住7号楼502室", ["7号楼502"]),
]
PLANTED = "，".join(w for w, _ in PLANTS) + "，楼道灯坏了好几天，请社区派人来修一下路灯和电梯。"
HEADER_PLANT = ("互助会：李先生 13907770099 互助会", ["13907770099"])
ANSWER_PLANT = ("其他〖李先生 13907770123〗", ["13907770123"])
TITLE_PLANT = ("李先生 13907770111 求助电梯", ["13907770111"])
USER_PLANT = ("13907778888", ["13907778888"])
CALLER = "13907779999"  # the hotline caller: in the contacts file only


def _needles() -> list[str]:
    out = [n for _, ns in PLANTS for n in ns]
    for _, ns in (HEADER_PLANT, ANSWER_PLANT, TITLE_PLANT, USER_PLANT):
        out += ns
    return out + [CALLER]


def _plant(inputs: Path) -> None:
    """One good and one quarantined record with the plants in each of the four channels."""
    # hotline: a file of its own, the text with a line break inside a number
    with (inputs / "hotline" / "work_orders_2026-W40.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header, first = rows[0], rows[1]
    with (inputs / "hotline" / "planted_2026-W40.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerow(["GD20260928900001", first[1], first[2], CALLER, PLANTED])
        w.writerow(["GD20260928900002", first[1], "没有这个社区", CALLER, PLANTED])
    # survey (GB18030): the open answer and the respondent type
    path = inputs / "survey" / "survey_export.csv"
    with path.open(encoding="gb18030", newline="") as fh:
        rows = list(csv.reader(fh))
    header, first = rows[0], rows[1]
    good = list(first)
    good[0], good[4], good[-1] = "9001", ANSWER_PLANT[0], PLANTED
    bad = list(good)
    bad[0], bad[5] = "9002", "没有这个社区"
    with (inputs / "survey" / "planted.csv").open("w", encoding="gb18030", newline="") as fh:
        w = csv.writer(fh)
        w.writerows([header, good, bad])
    # platform: title, user name and text
    first = json.loads((inputs / "platform" / "messages_2026-W40.jsonl").read_text(encoding="utf-8").splitlines()[0])
    good = first | {"msg_id": "PLANT-1", "user": USER_PLANT[0], "title": TITLE_PLANT[0], "content": PLANTED}
    bad = good | {"msg_id": "PLANT-2", "community": "C99"}
    (inputs / "platform" / "planted_2026-W40.jsonl").write_text(
        "\n".join(json.dumps(o, ensure_ascii=False) for o in (good, bad)) + "\n", encoding="utf-8")
    # meeting: the group line and an item split over lines
    meeting = next(p for p in sorted((inputs / "meetings").glob("*.md")) if "hot" not in p.name)
    text = meeting.read_text(encoding="utf-8")
    lines = text.splitlines()
    group = next(i for i, line in enumerate(lines) if line.startswith("互助会："))
    lines[group] = HEADER_PLANT[0]
    item = next(i for i, line in enumerate(lines) if line.startswith("1. "))
    lines.insert(item, "1. " + PLANTED.replace("\n", "\n   "))
    (inputs / "meetings" / ("planted_" + meeting.name)).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (inputs / "meetings" / ("planted_bad_" + meeting.name)).write_text(
        "\n".join(lines).replace("社区：", "社区：没有这个") + "\n", encoding="utf-8")


def _jieba_words() -> set[str]:
    import jieba

    path = Path(jieba.__file__).parent / "dict.txt"
    return {line.split(" ", 1)[0] for line in path.read_text(encoding="utf-8").splitlines()}


def _prefect_texts() -> str:
    """The Prefect server's logs and artifacts (of every run of the session)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        logs = client.read_logs()
        artifacts = client.read_artifacts()
    return "\n".join([repr([(x.message) for x in logs]), repr([(a.key, a.data, a.description) for a in artifacts])])


@pytest.mark.slow
def test_planted_numbers_reach_no_artefact(prefect_harness, tmp_path, monkeypatch, settings):
    from typer.testing import CliRunner

    from flows.cli import app
    from minsheng.demo.generate import generate_district, labelled_corpus
    from tests.conftest import point_settings_at

    point_settings_at(tmp_path, monkeypatch)
    monkeypatch.setenv("MINSHENG_INGEST__FAIL_QUARANTINE_SHARE", "1.0")  # the meeting that is all bad
    # the loader removes a Parquet part once merged: keep a copy of each for the scan
    import shutil
    import types

    import warehouse.staging as staging

    kept = tmp_path / "staging-kept"

    def keep(folder, ignore_errors=False):
        shutil.copytree(folder, kept / Path(folder).name, dirs_exist_ok=True)
        shutil.rmtree(folder, ignore_errors=ignore_errors)

    monkeypatch.setattr(staging, "shutil", types.SimpleNamespace(rmtree=keep))
    inputs = tmp_path / "inputs"
    generate_district(inputs, 1, 5, district=settings.district, taxonomy=settings.taxonomy)
    _plant(inputs)
    labelled = inputs / "labelled.csv"
    corpus = labelled_corpus(600, 7, settings.taxonomy)
    with labelled.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        w.writerows(corpus)
        labels = sorted({label for _, label in corpus})
        w.writerows([(PLANTED + f"（{n}）", label) for n, label in enumerate(labels * 2)])

    runner = CliRunner()
    outputs = []
    for args in (["ingest", "hotline", str(inputs)], ["ingest", "survey", str(inputs)],
                 ["ingest", "platform", str(inputs)], ["ingest", "meeting", str(inputs)],
                 ["model", "train", "--data", str(labelled), "--name", "planted"],
                 ["process"], ["match", "--supply", str(inputs / "supply.yaml")],
                 ["report", "--week", "2026-W40"], ["check"]):
        result = runner.invoke(app, args)
        outputs.append(result.output)
        if args[0] != "check":
            assert result.exit_code == 0, (args, result.output)
    check_out = outputs[-1]
    assert "ok   unmasked_personal_data (0)" in check_out, check_out

    from warehouse.resource import connect

    con = connect(tmp_path / "data" / "minsheng.duckdb", read_only=True)
    try:
        # the plants arrived: masked records and quarantined rows of every channel
        assert con.execute("select count(*) from feedback where text like '%[手机号]%[车牌]%'").fetchone()[0] >= 4
        assert {r[0] for r in con.execute("select channel from quarantine where raw_payload like '%[QQ号]%'")
                .fetchall()} >= {"hotline", "survey", "platform", "meeting"}
        assert con.execute("select group_name from raw_meeting where group_name like '%[姓名]%'").fetchone()
    finally:
        con.close()
    # the contacts file holds the caller's number (and is the one place it is)
    assert {f.needle for f in scan(tmp_path / "data" / "private", [CALLER], skip=())} == {CALLER}

    needles = _needles()
    found = scan(tmp_path, needles, skip=("private", "inputs"))
    # jieba's cache of its own dictionary has 李先生 and 王女士 as words (from jieba's dict.txt,
    # not from us): a finding there counts only for a needle that dictionary lacks
    shipped = _jieba_words()
    found = [f for f in found if not (f.path.endswith("jieba.cache") and f.needle in shipped)]
    assert found == [], found
    kinds = {p.suffix for p in tmp_path.rglob("*") if p.is_file() and "inputs" not in p.parts}
    assert {".duckdb", ".joblib", ".parquet", ".html", ".xlsx"} <= kinds, kinds
    texts = "\n".join(outputs) + _prefect_texts()
    leaked = [n for n in needles if n in texts]
    assert leaked == []
    assert os.environ["MINSHENG_DB"].startswith(str(tmp_path))
