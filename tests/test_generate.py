"""Tests of the demo-district generator: formats, determinism, the survey table, PII, spike."""

from __future__ import annotations

import csv
import json
import re
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from minsheng.demo.generate import GenerationManifest, generate_district, labelled_corpus
from minsheng.domain import District, Taxonomy
from minsheng.settings import load_settings

SEED = 20261125
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
PII_RE = re.compile(r"(?<![0-9])(?:1[3-9][0-9]{9}|023-6[0-9]{7}|[1-9][0-9]{16}[0-9X])(?![0-9])")
ITEM_RE = re.compile(r"^(\d+)\. (.+)$", re.M)


def valid_id(value: str) -> bool:
    """GB 11643, written out here independently of the generator."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    return "10X98765432"[sum(int(d) * w for d, w in zip(value[:17], WEIGHTS)) % 11] == value[17]


@pytest.fixture(scope="module")
def config() -> tuple[District, Taxonomy]:
    settings = load_settings()
    return settings.district, settings.taxonomy


@pytest.fixture(scope="module")
def small(tmp_path_factory, config) -> tuple[Path, GenerationManifest]:
    district, taxonomy = config
    out = tmp_path_factory.mktemp("small")
    return out, generate_district(out, 2, SEED, district=district, taxonomy=taxonomy, scale=0.2)


@pytest.fixture(scope="module")
def full(tmp_path_factory, config) -> tuple[Path, GenerationManifest]:
    """Full volume, three weeks: enough records for rates and the spike to be stable."""
    district, taxonomy = config
    out = tmp_path_factory.mktemp("full")
    return out, generate_district(out, 3, SEED, district=district, taxonomy=taxonomy, scale=1.0)


def read_records(out: Path, district: District) -> list[dict]:
    """Every free text with channel, key, community code and week (None for the survey)."""
    by_name = district.community_by_name()
    records = []
    for path in sorted(out.glob("hotline/work_orders_*.csv")):
        week = path.stem.removeprefix("work_orders_")
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                records.append({"channel": "hotline", "key": row["工单编号"], "text": row["来电内容"],
                                "community": by_name[row["所属社区"]], "week": week})
    for path in sorted(out.glob("platform/messages_*.jsonl")):
        week = path.stem.removeprefix("messages_")
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            records.append({"channel": "platform", "key": obj["msg_id"], "text": obj["content"],
                            "community": obj["community"], "week": week})
    for path in sorted(p for p in out.glob("meetings/*.md") if "_hot_" not in p.name):
        text = path.read_text(encoding="utf-8")
        section = text.split("## 居民诉求")[1].split("## 下一步")[0]
        day = datetime.strptime(path.name[:10], "%Y-%m-%d")
        week = f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}"
        for m in ITEM_RE.finditer(section):
            records.append({"channel": "meeting", "key": f"{path.name}#{m.group(1)}",
                            "text": m.group(2), "community": path.name.split("_")[1], "week": week})
    with (out / "survey" / "survey_export.csv").open(encoding="gb18030", newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows[1:]:
        if row[-1] not in ("", "无", "没有", "暂无", "无意见"):
            records.append({"channel": "survey", "key": row[0], "text": row[-1],
                            "community": by_name.get(row[5]), "week": None})
    return records


def read_labels(out: Path) -> dict[tuple[str, str], str]:
    with (out / "truth" / "labels.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == ["channel", "key", "category"]
        return {(r["channel"], r["key"]): r["category"] for r in reader}


def all_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------- determinism

def test_same_seed_gives_byte_identical_files(small, tmp_path, config):
    out, _ = small
    district, taxonomy = config
    again = generate_district(tmp_path / "again", 2, SEED, district=district, taxonomy=taxonomy,
                              scale=0.2)
    first, second = all_files(out), all_files(again.out)
    assert first.keys() == second.keys()
    assert len(first) > 10
    for name in first:
        assert first[name] == second[name], name


def test_other_seed_gives_other_files(small, tmp_path, config):
    out, _ = small
    district, taxonomy = config
    other = generate_district(tmp_path / "other", 2, SEED + 1, district=district,
                              taxonomy=taxonomy, scale=0.2)
    first, second = all_files(out), all_files(other.out)
    for name in ("hotline/work_orders_2026-W40.csv", "platform/messages_2026-W40.jsonl",
                 "survey/survey_export.csv", "truth/labels.csv"):
        assert first[name] != second[name], name


def test_rerun_into_same_folder_drops_stale_weeks(tmp_path, config):
    district, taxonomy = config
    generate_district(tmp_path, 3, 1, district=district, taxonomy=taxonomy, scale=0.1)
    generate_district(tmp_path, 2, 1, district=district, taxonomy=taxonomy, scale=0.1)
    # every weekly file the generator names, its planted hot issues' too, for two weeks only
    for pattern in ("hotline/work_orders_*.csv", "hotline/hot_orders_*.csv",
                    "platform/messages_*.jsonl", "platform/hot_messages_*.jsonl"):
        assert len(list(tmp_path.glob(pattern))) == 2, pattern
    assert all(p.name < "2026-10-12" for p in tmp_path.glob("meetings/*.md"))


def test_labelled_corpus_is_deterministic(config):
    _, taxonomy = config
    assert labelled_corpus(300, 5, taxonomy) == labelled_corpus(300, 5, taxonomy)
    assert labelled_corpus(300, 5, taxonomy) != labelled_corpus(300, 6, taxonomy)


# ------------------------------------------------------------------------------- formats

def test_manifest(small):
    out, manifest = small
    assert manifest.weeks == ["2026-W40", "2026-W41"]
    assert (manifest.spike.week, manifest.spike.community, manifest.spike.category) == (
        "2026-W41", "C03", "elderly_care")
    assert manifest.spike.factor == 3.0
    data = json.loads(manifest.to_json())
    assert data["counts"] == manifest.counts
    assert set(manifest.counts) == {"hotline", "platform", "meeting_files", "meeting_items",
                                    "survey_returned", "survey_valid", "hot_hotline",
                                    "hot_platform", "hot_meeting_items"}
    planted = json.loads((out / "truth" / "hot_issues.json").read_text(encoding="utf-8"))
    hot = sum(manifest.counts[k] for k in ("hot_hotline", "hot_platform", "hot_meeting_items"))
    assert planted and hot >= len(planted)
    assert sum(1 for p in out.glob("hotline/hot_orders_*.csv")
               for _ in p.read_text(encoding="utf-8-sig").splitlines()[1:]) == manifest.counts["hot_hotline"]
    truth = json.loads((out / "truth" / "manifest.json").read_text(encoding="utf-8"))
    assert truth["counts"] == manifest.counts and truth["weeks"] == manifest.weeks
    assert truth["pii"] == sorted(set(truth["pii"])) and truth["addresses"]


def test_hotline_format(small, config):
    out, manifest = small
    district, _ = config
    names = {c.name for c in district.communities}
    ids, n = set(), 0
    for path in sorted(out.glob("hotline/work_orders_*.csv")):
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
        assert rows[0] == ["工单编号", "受理时间", "所属社区", "来电号码", "来电内容"]
        for order_id, at, community, phone, text in rows[1:]:
            stamp = datetime.strptime(at, "%Y-%m-%d %H:%M:%S")
            assert re.fullmatch(rf"GD{stamp:%Y%m%d}\d{{6}}", order_id)
            assert 8 <= stamp.hour < 20
            assert community in names
            assert re.fullmatch(r"1[3-9]\d{9}|023-6\d{7}", phone)
            assert text
            ids.add(order_id)
            n += 1
    assert len(ids) == n == manifest.counts["hotline"]


def test_platform_format(small):
    out, manifest = small
    n = 0
    for path in sorted(out.glob("platform/messages_*.jsonl")):
        week = path.stem.removeprefix("messages_").replace("-", "")
        for line in path.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            assert list(obj) == ["msg_id", "posted_at", "community", "user", "title", "content"]
            assert re.fullmatch(rf"YJD-{week}-\d{{5}}", obj["msg_id"])
            posted = datetime.strptime(obj["posted_at"], "%Y-%m-%dT%H:%M:%S%z")
            assert posted.utcoffset().seconds == 8 * 3600
            assert re.fullmatch(r"C(0[1-9]|1[0-2])", obj["community"])
            assert re.fullmatch(r"居民_[0-9a-f]{6}", obj["user"])
            assert 6 <= len(obj["title"]) <= 15, obj["title"]
            assert "\\u" not in line  # ensure_ascii=False
            n += 1
    assert n == manifest.counts["platform"]


def test_meeting_files_parse_into_items(small, config):
    out, manifest = small
    district, _ = config
    names = {c.code: c.name for c in district.communities}
    groups = {"物业服务互助会", "垃圾处理互助会", "楼栋互助会", "文化兴趣互助会", "低保帮扶互助会"}
    files = sorted(p for p in out.glob("meetings/*.md") if "_hot_" not in p.name)
    assert len(files) == manifest.counts["meeting_files"] >= 2
    items = 0
    for path in files:
        m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})_(C\d\d)_(\d\d)\.md", path.name)
        assert m, path.name
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        group = re.search(r"^互助会：(.+)$", text, re.M).group(1)
        assert group in groups
        assert lines[0] == f"# {names[m.group(2)]}{group}会议纪要"
        assert f"日期：{m.group(1)}" in lines and f"社区：{names[m.group(2)]}" in lines
        assert re.search(r"^参会人数：\d+$", text, re.M)
        section = text.split("## 居民诉求")[1].split("## 下一步")[0]
        numbered = ITEM_RE.findall(section)
        assert 3 <= len(numbered) <= 6
        assert [int(k) for k, _ in numbered] == list(range(1, len(numbered) + 1))
        assert re.search(r"^- .+", text.split("## 下一步")[1], re.M)
        items += len(numbered)
    assert items == manifest.counts["meeting_items"]


def test_every_text_is_labelled(small, config):
    out, _ = small
    district, taxonomy = config
    labels = read_labels(out)
    records = read_records(out, district)
    keys = {(r["channel"], r["key"]) for r in records}
    assert keys == set(labels)
    assert set(labels.values()) <= set(taxonomy.codes) | {taxonomy.other_code}


def test_supply_registry(small, config):
    out, _ = small
    district, taxonomy = config
    registry = yaml.safe_load((out / "supply.yaml").read_text(encoding="utf-8"))
    providers = registry["providers"]
    by_id = {p["id"]: p for p in providers}
    assert {"centre", "culture_base", "life_base", "elderly_base"} <= set(by_id)
    assert sum(p["kind"] == "ngo" for p in providers) >= 15
    assert "mutual.C03.property" in by_id
    served: set[str] = set()
    service_ids = []
    for p in providers:
        assert p["kind"] in {"centre", "base", "ngo", "mutual_aid"}
        for s in p["services"]:
            service_ids.append(s["id"])
            assert s["categories"] and set(s["categories"].values()) <= {"primary", "secondary"}
            assert set(s["categories"]) <= set(taxonomy.codes)
            assert s["area"] == "all" or set(s["area"]) <= set(district.community_codes)
            assert isinstance(s["capacity"], int) and s["capacity"] >= 0
            assert s["unit"]
            served |= set(s["categories"])
    assert len(service_ids) == len(set(service_ids))
    unserved = {c.code for c in taxonomy.categories if not c.served}
    assert unserved == {"parking", "public_security", "traffic", "sanitation"}
    assert not served & unserved
    assert served == set(taxonomy.codes) - unserved
    basic = {s["id"].split(".")[1] for s in by_id["centre"]["services"]}
    assert basic == {c.code for c in taxonomy.categories if c.group == "basic"}
    assert by_id["mutual.C03.property"]["services"][0]["area"] == ["C03"]


def test_supply_gaps_follow_demand(full, config):
    """Property is the classic gap (~35 %), elderly care is short (~70 %), the centre's basic
    services roughly cover their demand."""
    out, manifest = full
    _, taxonomy = config
    labels = read_labels(out)
    spike_week = manifest.spike.week
    records = read_records(out, config[0])
    demand = Counter(labels[(r["channel"], r["key"])] for r in records
                     if r["week"] is not None and r["week"] != spike_week)
    weeks = len(manifest.weeks) - 1
    capacity: Counter[str] = Counter()
    for p in yaml.safe_load((out / "supply.yaml").read_text(encoding="utf-8"))["providers"]:
        for s in p["services"]:
            for cat in s["categories"]:
                capacity[cat] += s["capacity"]
    ratio = {k: capacity[k] / (demand[k] / weeks) for k in taxonomy.codes if demand[k]}
    assert 0.2 < ratio["property"] < 0.5
    assert 0.5 < ratio["elderly_care"] < 0.85
    for c in taxonomy.categories:
        if c.group == "basic":
            assert 0.8 < ratio[c.code] < 1.45, (c.code, ratio[c.code])


# ------------------------------------------------------------------------------- survey

def test_survey_reproduces_the_satisfaction_table(small, config):
    out, _ = small
    district, _ = config
    design = district.survey
    raw = (out / "survey" / "survey_export.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")  # really GB18030, not UTF-8
    rows = list(csv.reader(raw.decode("gb18030").splitlines()))
    header, rows = rows[0], rows[1:]
    assert header[:6] == ["序号", "提交答卷时间", "所用时间", "来源", "1、您的身份", "2、您所在的社区"]
    assert header[-1] == "14、您对街道公共服务还有什么意见和建议？"
    cols = []
    for n, item in enumerate(design.items, start=3):
        col = next(i for i, h in enumerate(header) if h.startswith(f"{n}、"))
        assert item.name in header[col]
        cols.append(col)
    assert cols == list(range(6, 6 + len(design.items)))

    assert len(rows) == design.returned
    assert [r[0] for r in rows] == [str(i) for i in range(1, design.returned + 1)]
    names = {c.name for c in district.communities}
    valid, reasons = [], Counter()
    for row in rows:
        datetime.strptime(row[1], "%Y/%m/%d %H:%M:%S")
        assert re.fullmatch(r"\d+秒", row[2]) and row[3] in {"入户", "微信", "链接"}
        assert row[4] in {"", "户籍居民", "流动人口", "社区工作人员", "社会组织人员"}
        assert row[5] == "" or row[5] in names
        blanks = sum(not row[c] for c in cols)
        for item, c in zip(design.items, cols):
            assert row[c] == "" or row[c] in item.options
        if not row[5]:
            reasons["community"] += 1
        if not row[4]:
            reasons["type"] += 1
        if blanks > design.max_blank_items:
            reasons["blanks"] += 1
        if row[5] and row[4] and blanks <= design.max_blank_items:
            valid.append(row)
    assert len(valid) == design.valid
    assert all(reasons[k] >= 3 for k in ("community", "type", "blanks")), reasons
    assert any(sum(not r[c] for c in cols) for r in valid)  # valid rows may skip items

    types = Counter(r[4] for r in valid)
    assert types.most_common(1)[0][0] == "户籍居民" and len(types) == 4
    for item, c in zip(design.items, cols):
        answers = [r[c] for r in valid if r[c]]
        positive = sum(a == item.options[0] for a in answers)
        assert round(100 * positive / len(answers), 1) == round(100 * item.positive, 1), item.code
        if item.neutral is not None:
            neutral = sum(a == item.options[1] for a in answers)
            assert round(100 * neutral / len(answers), 1) == round(100 * item.neutral, 1)


def test_survey_spread_over_first_two_weeks(small):
    out, manifest = small
    with (out / "survey" / "survey_export.csv").open(encoding="gb18030", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    weeks = Counter()
    for row in rows:
        y, w, _ = datetime.strptime(row[1], "%Y/%m/%d %H:%M:%S").isocalendar()
        weeks[f"{y}-W{w:02d}"] += 1
    assert set(weeks) == set(manifest.weeks[:2])
    stamps = [datetime.strptime(r[1], "%Y/%m/%d %H:%M:%S") for r in rows]
    assert stamps == sorted(stamps)


# ------------------------------------------------------------------------------- PII

def test_id_numbers_have_valid_check_digits(full):
    out, _ = full
    pii = json.loads((out / "truth" / "manifest.json").read_text(encoding="utf-8"))["pii"]
    ids = [p for p in pii if len(p) == 18]
    assert len(ids) > 50
    assert all(valid_id(p) for p in ids)
    phones = [p for p in pii if len(p) != 18]
    assert all(re.fullmatch(r"1[3-9]\d{9}|023-6\d{7}", p) for p in phones)
    assert valid_id("11010519491231002X") and not valid_id("110105194912310021")


def test_about_ten_percent_of_texts_carry_pii(full, config):
    out, _ = full
    records = read_records(out, config[0])
    manifest = json.loads((out / "truth" / "manifest.json").read_text(encoding="utf-8"))
    listed = set(manifest["pii"])
    with_pii = 0
    for r in records:
        found = PII_RE.findall(r["text"])
        assert set(found) <= listed, (r["key"], found)
        with_pii += bool(found)
    assert 0.06 <= with_pii / len(records) <= 0.15
    addresses = [r["text"] for r in records if re.search(r"(?:路|大道)\d+号\d+单元\d+", r["text"])]
    assert 0.015 <= len(addresses) / len(records) <= 0.05
    assert all(any(a in text for a in manifest["addresses"]) for text in addresses)


def test_text_lengths(full, config):
    out, _ = full
    records = read_records(out, config[0])
    lengths = [len(r["text"]) for r in records if r["channel"] != "meeting"]
    mostly = sum(15 <= n <= 80 for n in lengths) / len(lengths)
    assert mostly > 0.9
    short = sum(n < 12 for n in lengths) / len(lengths)
    assert 0.005 < short < 0.05
    meetings = [len(r["text"]) for r in records if r["channel"] == "meeting"]
    assert sum(meetings) / len(meetings) < sum(lengths) / len(lengths)


# ------------------------------------------------------------------------------- volumes

def test_volumes_at_full_scale(full):
    _, manifest = full
    weeks = len(manifest.weeks)
    assert 520 * weeks < manifest.counts["hotline"] < 700 * weeks
    assert 250 * weeks < manifest.counts["platform"] < 360 * weeks
    assert 12 * weeks <= manifest.counts["meeting_files"] <= 20 * weeks


def test_spike_is_planted(full, config):
    out, manifest = full
    labels = read_labels(out)
    spike = manifest.spike
    volume = Counter(r["week"] for r in read_records(out, config[0])
                     if r["community"] == spike.community and r["week"]
                     and labels[(r["channel"], r["key"])] == spike.category)
    assert spike.week == manifest.weeks[-1]
    for week in manifest.weeks[:-1]:
        assert volume[spike.week] >= 2 * volume[week], volume


def test_community_profiles_shape_the_mix(full, config):
    out, _ = full
    labels = read_labels(out)
    per: dict[str, Counter] = {}
    for r in read_records(out, config[0]):
        if r["community"]:
            per.setdefault(r["community"], Counter())[labels[(r["channel"], r["key"])]] += 1

    def share(code: str, cat: str) -> float:
        return per[code][cat] / sum(per[code].values())

    for code in ("C03", "C04", "C05"):
        assert share(code, "elderly_care") > 2 * share("C08", "elderly_care")
    for cat in ("daily_life", "parking", "migrant_workers"):
        assert share("C08", cat) > share("C03", cat)
    for code in per:  # property is strong everywhere
        assert share(code, "property") > 0.08


def test_generation_is_fast(tmp_path, config):
    district, taxonomy = config
    start = time.perf_counter()
    generate_district(tmp_path, 8, SEED, district=district, taxonomy=taxonomy, scale=1.0)
    assert time.perf_counter() - start < 5.0


# ------------------------------------------------------------------------------- corpus

def test_labelled_corpus_covers_the_taxonomy(config):
    _, taxonomy = config
    corpus = labelled_corpus(2000, 7, taxonomy)
    assert len(corpus) == 2000
    counts = Counter(code for _, code in corpus)
    assert set(counts) == set(taxonomy.codes) | {taxonomy.other_code}
    assert 0.02 <= counts[taxonomy.other_code] / 2000 <= 0.04
    assert all(text and "{" not in text and "}" not in text for text, _ in corpus)
    assert len({text for text, _ in corpus}) > 1800  # varied, not a handful of sentences


def test_every_category_has_rich_phrase_material(config):
    from minsheng.demo import vocab as _vocab

    _, taxonomy = config
    for cat in taxonomy.categories:
        vocab = _vocab.CATEGORIES[cat.code]
        assert len(vocab["templates"]) >= 8, cat.code
        assert set(cat.needs) <= set(vocab["needs"]), cat.code
        assert vocab["short"] and vocab["titles"]
