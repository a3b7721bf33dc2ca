"""Place extraction (models.places) on a table of examples, with negatives."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from models.places import Gazetteer, PlaceExtractor, estate_core, normalise_building
from models.segment import Segmenter

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.from_records([
        {"id": "E1", "name": "阳光小区", "kind": "estate", "community": "C01",
         "aliases": ["阳光花园"]},
        {"id": "R1", "name": "工农街", "kind": "road", "community": "C02"},
    ]).with_communities([("C05", "回龙湾社区"), ("C01", "南湖社区")])


@pytest.fixture(scope="module")
def extractor(gazetteer: Gazetteer, tmp_path_factory: pytest.TempPathFactory) -> PlaceExtractor:
    seg = Segmenter(userdict=str(CONFIGS / "jieba" / "userdict.txt"),
                    stopwords=str(CONFIGS / "jieba" / "stopwords.txt"),
                    cache_dir=str(tmp_path_factory.mktemp("jieba")))
    return PlaceExtractor(seg, gazetteer)


@pytest.mark.parametrize(("text", "expected"), [
    # (kind, key, detail) of every place, in order
    ("我住在阳光小区3栋，电梯坏了一个星期", [("estate", "gaz:E1", "3栋")]),
    ("阳光花园小区二期的电梯坏了", [("estate", "gaz:E1", "二期")]),   # alias + suffix + phase
    ("业主反映翠湖花园小区门口的垃圾没人收", [("estate", "estate:翠湖", None)]),
    ("翠湖小区又停水了", [("estate", "estate:翠湖", None)]),          # folded with 翠湖花园小区
    ("南坪西路口晚上施工噪音很大", [("road", "road:南坪西路", None)]),
    ("南坪中学旁边工地晚上十点还在打桩",
     [("institution", "inst:南坪中学", None), ("institution", "inst:工地@C09", None)]),
    ("万达广场附近乱停车", [("landmark", "landmark:万达广场", None)]),
    ("响水苑二期的业主反映开发商延期交房", [("estate", "estate:响水", "二期")]),
    ("丹龙路菜市场污水横流",
     [("institution", "inst:丹龙路菜市场", None), ("road", "road:丹龙路", None)]),
    ("工农街饭店的油烟太大", [("institution", "inst:工农街饭店", None), ("road", "gaz:R1", None)]),
    ("回龙湾社区卫生服务中心排队太久",
     [("institution", "inst:回龙湾社区卫生服务中心", None), ("community", "gaz:C05", None)]),
    ("三号楼的电梯又停了", [("building", "building:3栋@C09", "3栋")]),
    ("我是南湖社区的居民", [("community", "gaz:C01", None)]),
    ("重庆市第一人民医院挂号难", [("institution", "inst:重庆市第一人民医院", None)]),
])
def test_places_found(extractor: PlaceExtractor, text: str, expected: list) -> None:
    got = [(p.kind, p.key, p.detail) for p in extractor.extract(text, community="C09")]
    assert got == expected


@pytest.mark.parametrize("text", [
    "11月3号下午去办事",                  # a date
    "2026年11月3日 14时05分来电",          # a date and time
    "交了300元物业费",                    # an amount
    "坐5号线去上班，住3楼",                # a metro line, a floor
    "我们那个老小区的路灯不亮",             # a suffix without a name
    "马路上有个大坑，道路破损",             # ordinary words ending in 路
    "小区花园里有人遛狗不牵绳",             # the estate's garden, not a named place
    "我家[地址]漏水，电话[手机号]",          # placeholders are never places
    "希望解决停车难的问题",
    "你好，我是还建房小区的，好多设施都老化了",  # a kind of housing, not an estate
    "我们安置房小区停车难",
    "麻烦物业管一下楼道卫生",
    "接送娃儿的车把路堵死了",               # 把 + 路: a preposition, not a road               # the property company is no place
    "请街道多组织技能培训，让我们找个活路",     # a way to make a living
    "",
])
def test_not_places(extractor: PlaceExtractor, text: str) -> None:
    assert extractor.extract(text, community="C09") == []


def test_masked_unit_address_leaves_the_estate(extractor: PlaceExtractor) -> None:
    from minsheng.pii import mask_text

    masked = mask_text("阳光小区7栋2单元301的电梯坏了")
    assert "301" not in masked
    places = extractor.extract(masked)
    assert [p.key for p in places] == ["gaz:E1"]


def test_primary_prefers_a_named_place(extractor: PlaceExtractor) -> None:
    p = extractor.primary("工地旁边南坪中学门口很堵", community="C01")
    assert p is not None and p.key == "inst:南坪中学"


def test_normalisation_helpers() -> None:
    assert estate_core("阳光花园小区二期") == ("阳光", "二期")
    assert estate_core("金苑") == ("金苑", None)     # never below two characters
    assert normalise_building("十二号楼") == "12栋"
    assert normalise_building("3幢") == "3栋"
    assert normalise_building("3楼") is None


def test_gazetteer_rejects_ambiguous_and_bad_entries() -> None:
    with pytest.raises(ValueError, match="names both"):
        Gazetteer.from_records([{"id": "A", "name": "阳光小区", "kind": "estate"},
                                {"id": "B", "name": "阳光小区", "kind": "estate"}])
    with pytest.raises(ValueError, match="unknown kind"):
        Gazetteer.from_records([{"id": "A", "name": "阳光小区", "kind": "planet"}])
    with pytest.raises(ValueError, match="missing field 'kind'"):
        Gazetteer.from_records([{"id": "A", "name": "阳光小区"}])


def test_gazetteer_core_lookup_needs_one_candidate() -> None:
    g = Gazetteer.from_records([{"id": "A", "name": "阳光小区", "kind": "estate"},
                                {"id": "B", "name": "阳光新村", "kind": "estate"}])
    # two estates share the core 阳光: a bare core name matches neither
    assert g.lookup("阳光花园") is None
    assert g.lookup("阳光新村").id == "B"
    assert "阳光小区 2000 ns\n" in g.jieba_userdict()


def test_extractor_pickles(extractor: PlaceExtractor) -> None:
    clone = pickle.loads(pickle.dumps(extractor))
    text = "丹龙路菜市场污水横流"
    assert clone.extract(text) == extractor.extract(text)


def test_gazetteer_from_yaml(tmp_path: Path) -> None:
    path = tmp_path / "places.yaml"
    path.write_text("places:\n  - {id: E1, name: 阳光小区, kind: estate, community: C01,"
                    " aliases: [阳光花园]}\n", encoding="utf-8")
    g = Gazetteer.from_yaml(path)
    assert g.lookup("阳光花园").id == "E1" and g.to_records()[0]["community"] == "C01"
    bad = tmp_path / "bad.yaml"
    bad.write_text("places:\n  - {id: E1, name: 阳光小区, kind: moon}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad.yaml: gazetteer entry 'E1': unknown kind"):
        Gazetteer.from_yaml(bad)
