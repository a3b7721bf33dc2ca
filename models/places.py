"""The place a resident's message is about: an estate, a road, a building, an institution.

Residents name the place of a problem in passing ("阳光小区3栋的电梯", "南坪中学旁边的工地",
"丹龙路菜市场"). Hot-issue sensing (:mod:`models.issues`) needs it: two messages about one
lift at one estate are one issue, the same complaint at another estate is another.

Extraction runs on the **masked** text and needs no personal address: masking turns a house
number with its road (``南坪西路12号``) or a unit (``3栋2单元501``) into ``[地址]``, and
what is left (an estate, a road named without a house number, a building number, a school) is
what identifies the place of a *problem* rather than a person. A placeholder is never a place.

Two sources, in this order:

1. **The gazetteer** (:class:`Gazetteer`): the district's own list of communities, estates,
   roads, institutions and landmarks with their aliases and communities. Matched exactly,
   character by character (an index on the first two characters keeps the cost per character
   constant whatever the gazetteer's size), so segmentation cannot break a known name.
   :meth:`Gazetteer.jieba_userdict` gives the lines to add to the segmenter's user
   dictionary, so that jieba also cuts the names whole for the models.
2. **Patterns over the segmenter's tokens**: a token that ends in a place suffix (小区, 花园,
   苑, 家园, 楼盘 …; 路, 街, 巷, 大道; 学校, 医院, 菜市场, 工地, 公司 …; 公园, 广场 …)
   preceded by up to three name tokens. A token is a name token by its tag in the segmenter's
   own dictionary (jieba's ``dict.txt`` plus the user dictionary: nouns and proper nouns are,
   verbs, pronouns, prepositions, particles and localisers such as 旁边/门口 are not), so
   "业主反映翠湖花园小区" yields 翠湖花园小区 and not 反映翠湖花园小区. A building is a
   number with 栋/幢/号楼 (``3栋``, ``三号楼``); after an estate it is that estate's detail.

Not places: dates (``11月3号``), amounts (``300元``), floors (``3楼``), metro lines (``5号线``),
common words that end in a suffix (马路, 道路, 一路上, 逛街, 街道, 幼儿园 … are generic or not
places at all), and a suffix with no name before it ("老小区", "路灯") unless it names a
kind of institution (工地, 菜市场): then it is a *generic* place (``named=False``).

**Normalisation** (the :attr:`Place.key` that :mod:`models.issues` compares):

* NFKC, no spaces; building numbers in Arabic digits with one suffix (``三号楼`` → ``3栋``);
* an estate's key is its *core name*: estate suffixes are stripped from the end as long as
  two characters remain, and a phase (一期, 二期, A区 …) goes to the detail. So 阳光小区,
  阳光花园, 阳光花园小区 and 阳光小区二期 are one estate ``estate:阳光``. We chose to fold
  them because residents write an estate's name with and without its suffixes far more often
  than a district has two estates that differ only by suffix; where it does, its gazetteer
  lists both and the gazetteer wins (an exact gazetteer name or alias is its own entry, and a
  core name is used for a gazetteer lookup only when exactly one entry has it);
* a road keeps its full name (南坪路 and 南坪西路 are different roads), without 口;
* a gazetteer match has the key ``gaz:<entry id>``, whichever alias was written;
* a generic place and a bare building are scoped by the item's community
  (``inst:菜市场@C03``): "the market" of one community is not that of another.

:attr:`Place.strength` says how much a match means: 1.0 for a named estate, road,
institution or landmark (and a gazetteer entry of those kinds), 0.5 for a bare building, 0.3
for a community name or a generic place.
"""

from __future__ import annotations

import bisect
import re
import threading
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "Gazetteer",
    "GazetteerEntry",
    "Place",
    "PlaceExtractor",
    "PlaceKind",
    "estate_core",
    "infer_kind",
    "normalise_building",
]

PlaceKind = Literal["estate", "road", "building", "institution", "landmark", "community"]
_KINDS: frozenset[str] = frozenset(
    ("estate", "road", "building", "institution", "landmark", "community"))

# Suffixes per kind, longest first within a kind (a token is matched by its longest suffix).
ESTATE_SUFFIXES: tuple[str, ...] = (
    "花园小区", "小区", "花园", "家园", "新村", "公寓", "楼盘", "新城", "山庄", "名苑", "雅苑",
    "华府", "府邸", "苑", "宿舍", "还建房", "安置房", "嘉园", "佳园", "庭院",
)
ROAD_SUFFIXES: tuple[str, ...] = ("大道", "大街", "胡同", "路", "街", "巷")
INSTITUTION_SUFFIXES: tuple[str, ...] = (
    "社区卫生服务中心", "卫生服务中心", "卫生服务站", "农贸市场", "菜市场", "幼儿园", "小学",
    "中学", "大学", "学校", "学院", "医院", "卫生院", "诊所", "工地", "公司", "银行", "超市",
    "商场", "派出所", "酒店", "饭店", "餐馆", "网吧", "工厂", "厂", "加油站", "停车场",
    "养老院", "敬老院", "市场", "项目部", "菜场",
)
LANDMARK_SUFFIXES: tuple[str, ...] = (
    "公园", "广场", "地铁站", "公交站", "车站", "步道", "码头", "体育馆", "图书馆", "大桥", "桥",
)
_SUFFIX_KIND: dict[str, PlaceKind] = {
    **{s: "estate" for s in ESTATE_SUFFIXES},
    **{s: "road" for s in ROAD_SUFFIXES},
    **{s: "institution" for s in INSTITUTION_SUFFIXES},
    **{s: "landmark" for s in LANDMARK_SUFFIXES},
}
_SUFFIX_RE = re.compile("|".join(sorted(_SUFFIX_KIND, key=len, reverse=True)))
# what may follow an estate's name and still be part of it: more suffixes, a phase
_ESTATE_TAIL = re.compile(
    "(?:" + "|".join(sorted(ESTATE_SUFFIXES, key=len, reverse=True)) + ")*"
    r"(?:[一二三四五六七八九十\d]+期)?")
# Institutions a resident names without a proper name and still means one place ("工地
# 晚上施工": the site near them). Other suffixes alone ("小区", "路") name nothing.
GENERIC_OK: frozenset[str] = frozenset((
    "工地", "菜市场", "农贸市场", "菜场", "市场", "幼儿园", "小学", "中学", "学校", "医院",
    "卫生服务中心", "社区卫生服务中心", "超市", "商场", "派出所", "停车场", "公园", "广场",
    "地铁站", "公交站", "车站", "加油站", "养老院", "敬老院", "工厂",
))
# Ordinary words that end in a suffix but are no place (or no particular place).
NOT_PLACES: frozenset[str] = frozenset((
    "马路", "道路", "公路", "铁路", "线路", "电路", "思路", "出路", "走路", "一路", "带路",
    "让路", "修路", "网路", "水路", "陆路", "小路", "大路", "上路", "过路", "退路", "套路",
    "后路", "半路", "一路上", "路路", "逛街", "上街", "满街", "街巷", "小巷", "大街小巷",
    "街道", "街道办", "花园里", "后花园", "小花园", "屋顶花园", "空中花园", "厂家", "工厂里",
    "市场价", "市场化", "公司化", "桥梁", "过桥", "天桥", "人行天桥", "物业费", "物业公司",
    "开发商", "业主", "本小区", "老小区", "新小区", "该小区", "小区里", "小区内",
    "活路", "生路", "门路", "财路", "老路", "弯路", "近路", "远路", "死路", "岔路", "车路",
))
# Function words that no road name ends in before its 路/街/巷 ("把路堵死了")
_BEFORE_NO_ROAD: frozenset[str] = frozenset("把被将让给的了在往向从到过和与跟")
# Kinds of housing, not estates: "我是还建房小区的" names no particular estate. An estate
# whose core name is one of these is no place.
HOUSING_KINDS: frozenset[str] = frozenset((
    "还建", "还建房", "建房", "安置", "安置房", "商品房", "老旧", "单位", "自建房", "拆迁",
    "回迁", "回迁房", "廉租房", "公租房", "保障房", "经适房", "农转非", "职工", "私房",
))
_PHASE = re.compile(r"(?:[一二三四五六七八九十\d]+期|[A-Za-z一二三四五六七八九十\d]区)$")
_BUILDING = re.compile(
    r"(?<![\d号.-])(\d{1,3}|[一二三四五六七八九十百零]{1,4})(?:号楼|号栋|栋|幢)")
_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CJK = re.compile(r"^[\u3400-\u9fff\uf900-\ufaff]+$")
_NAME_TOKEN = re.compile(r"^[\u3400-\u9fff\uf900-\ufaffA-Za-z0-9]+$")
_ORDINAL = re.compile(r"^第[一二三四五六七八九十\d]+$")
# Tags of jieba's dictionary that may stand in a name: nouns and proper nouns (n, nr, ns, nt,
# nz, nrt, nrfg, ng), abbreviations (j), distinguishing words (b: 二期), idioms (i, l) and
# unknown words (x for user words without a tag). Verbs, pronouns, prepositions, particles,
# adverbs, localisers (f: 旁边) and place words (s: 门口) end a name.
_NAME_TAGS: frozenset[str] = frozenset(
    ("n", "nr", "ns", "nt", "nz", "nrt", "nrfg", "ng", "j", "b", "i", "l", "x", "an"))
# Words that never start or continue a name, whatever their tag.
_NOT_NAME: frozenset[str] = frozenset((
    "我们", "我家", "你们", "他们", "大家", "这个", "那个", "这里", "那里", "一个", "整个",
    "附近", "旁边", "门口", "对面", "隔壁", "楼下", "楼上", "里面", "外面", "周边", "周围",
    "居民", "业主", "住户", "群众", "老人", "小孩", "孩子", "家长", "社区", "街道", "小区",
    "地址", "手机号", "电话", "身份证号", "银行卡号", "邮箱", "问题", "情况", "事情", "时候",
    "晚上", "白天", "早上", "每天", "最近", "现在", "今天", "明天", "昨天", "关于", "反映",
    "投诉", "住在", "位于", "所在", "前面", "后面", "背后", "路边", "街边", "一带", "那边",
    "这边", "本", "该", "老", "新", "小", "大", "某", "各", "每", "全", "的", "在",
))
_MAX_NAME_TOKENS = 3
_MAX_NAME_CHARS = 8
_PLACEHOLDER = re.compile(r"\[[^\[\]]{1,6}\]")
_STRENGTH = {"estate": 1.0, "road": 1.0, "institution": 1.0, "landmark": 1.0,
             "building": 0.5, "community": 0.3}
_GENERIC_STRENGTH = 0.3


def infer_kind(name: str) -> PlaceKind:
    """The kind of a place from its name's suffix (小区 → estate, 路 → road, 医院 →
    institution, 公园 → landmark, 3栋 → building); a landmark when no suffix says."""
    name = _nfkc(name).replace(" ", "")
    if normalise_building(name):
        return "building"
    if name.endswith("社区"):
        return "community"
    for suffix in sorted(_SUFFIX_KIND, key=len, reverse=True):
        if name.endswith(suffix):
            return _SUFFIX_KIND[suffix]
    return "landmark"


def _nfkc(text: str) -> str:
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text


def _cn_number(s: str) -> int | None:
    """An Arabic or a simple Chinese numeral (up to 999) as an int."""
    if s.isdigit():
        return int(s)
    total, current = 0, 0
    for ch in s:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


def normalise_building(text: str) -> str | None:
    """``三号楼`` / ``3幢`` / ``3号栋`` → ``3栋``; ``None`` if ``text`` is not a building."""
    m = _BUILDING.fullmatch(_nfkc(text).strip())
    if not m:
        return None
    n = _cn_number(m.group(1))
    return f"{n}栋" if n else None


def estate_core(name: str) -> tuple[str, str | None]:
    """The core name of an estate and its phase: ``阳光花园小区二期`` → (``阳光``, ``二期``).

    Estate suffixes are stripped from the end while at least two characters remain, so a
    name that is only a suffix and one character (``金苑``) keeps its suffix.
    """
    name = _nfkc(name).replace(" ", "")
    phase = None
    m = _PHASE.search(name)
    if m and m.start() >= 2:
        phase, name = m.group(0), name[:m.start()]
    changed = True
    while changed:
        changed = False
        for suffix in ESTATE_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                name = name[: -len(suffix)]
                changed = True
                break
    return name, phase


# -- gazetteer ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GazetteerEntry:
    """One place the district knows: its id, name, kind, community and aliases."""

    id: str
    name: str
    kind: PlaceKind
    community: str | None = None
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(
                f"gazetteer entry {self.id!r}: unknown kind {self.kind!r} "
                f"(one of {', '.join(sorted(_KINDS))})")
        if not self.name.strip():
            raise ValueError(f"gazetteer entry {self.id!r}: empty name")


class Gazetteer:
    """The district's places, matched exactly by name or alias.

    Build it from records (``{id, name, kind, community?, aliases?}``), from a YAML file whose
    top level is ``places: [...]`` (:meth:`from_yaml`), or add the communities of the district
    with :meth:`with_communities`. Names are NFKC-normalised; two entries may not share a name
    or alias (that would make a match ambiguous: the error names both).
    """

    def __init__(self, entries: Iterable[GazetteerEntry] = ()) -> None:
        self.entries: dict[str, GazetteerEntry] = {}
        self._by_name: dict[str, GazetteerEntry] = {}
        self._by_core: dict[str, list[GazetteerEntry]] = {}
        self._index: dict[str, list[str]] = {}
        for e in entries:
            self._add(e)

    def _add(self, e: GazetteerEntry) -> None:
        if e.id in self.entries:
            raise ValueError(f"gazetteer: duplicate id {e.id!r}")
        self.entries[e.id] = e
        for surface in (e.name, *e.aliases):
            s = _nfkc(surface).replace(" ", "")
            if len(s) < 2:
                raise ValueError(f"gazetteer entry {e.id!r}: name {surface!r} is too short")
            other = self._by_name.get(s)
            if other is not None and other.id != e.id:
                raise ValueError(
                    f"gazetteer: {surface!r} names both {other.id!r} and {e.id!r}; "
                    "give one of them another alias")
            self._by_name[s] = e
            names = self._index.setdefault(s[:2], [])
            if s not in names:
                names.append(s)
                names.sort(key=len, reverse=True)
            if e.kind == "estate":
                core, _ = estate_core(s)
                cores = self._by_core.setdefault(core, [])
                if e not in cores:
                    cores.append(e)

    def __len__(self) -> int:
        return len(self.entries)

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> Gazetteer:
        entries = []
        for n, r in enumerate(records, start=1):
            try:
                entries.append(GazetteerEntry(
                    id=str(r["id"]), name=str(r["name"]), kind=r["kind"],
                    community=r.get("community"), aliases=tuple(r.get("aliases") or ())))
            except KeyError as exc:
                raise ValueError(f"gazetteer record {n}: missing field {exc.args[0]!r}") from None
        return cls(entries)

    @classmethod
    def from_yaml(cls, path: str | Path) -> Gazetteer:
        import yaml

        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not isinstance(data.get("places", []), list):
            raise ValueError(f"{path}: expected a mapping with a list 'places'")
        try:
            return cls.from_records(data.get("places", []))
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None

    def to_records(self) -> list[dict[str, Any]]:
        return [{"id": e.id, "name": e.name, "kind": e.kind, "community": e.community,
                 "aliases": list(e.aliases)} for e in self.entries.values()]

    def with_communities(self, communities: Iterable[tuple[str, str]]) -> Gazetteer:
        """A copy with one ``community`` entry per (code, name), e.g. ("C01", "南湖社区");
        the name without 社区 is an alias when it is two characters or more."""
        out = Gazetteer(self.entries.values())
        for code, name in communities:
            short = name[:-2] if name.endswith("社区") else ""
            aliases = (short,) if len(short) >= 2 and _nfkc(short) not in out._by_name else ()
            out._add(GazetteerEntry(id=code, name=name, kind="community", community=code,
                                    aliases=aliases))
        return out

    def lookup(self, surface: str) -> GazetteerEntry | None:
        """The entry a name or alias denotes; for an estate-like name, also by its core name
        when exactly one estate has that core."""
        s = _nfkc(surface).replace(" ", "")
        e = self._by_name.get(s)
        if e is not None:
            return e
        core, _ = estate_core(s)
        cands = self._by_core.get(core, ())
        return cands[0] if len(cands) == 1 else None

    def find(self, text: str) -> list[tuple[int, int, GazetteerEntry]]:
        """Every gazetteer name in ``text`` (NFKC), longest first at each position, without
        overlaps, as (start, end, entry)."""
        out: list[tuple[int, int, GazetteerEntry]] = []
        i, n = 0, len(text)
        index = self._index
        while i < n - 1:
            names = index.get(text[i:i + 2])
            if names:
                for s in names:
                    if text.startswith(s, i):
                        out.append((i, i + len(s), self._by_name[s]))
                        i += len(s)
                        break
                else:
                    i += 1
            else:
                i += 1
        return out

    @classmethod
    def from_district(cls, district: Any) -> Gazetteer:
        """The gazetteer of a district (``minsheng.domain.District``): its communities (names
        and aliases) and the places listed under each (kinds read off their names where
        ``district.yaml`` leaves them out)."""
        records = [
            {"id": f"{c.code}:{p.name}", "name": p.name, "kind": p.kind or infer_kind(p.name),
             "community": c.code, "aliases": list(p.aliases)}
            for c in district.communities for p in c.places
        ]
        out = cls.from_records(records)
        for c in district.communities:
            short = c.name[:-2] if c.name.endswith("社区") else ""
            names = [a for a in dict.fromkeys([*c.aliases, short])
                     if len(_nfkc(a)) >= 2 and _nfkc(a) not in out._by_name and a != c.name]
            out._add(GazetteerEntry(id=c.code, name=c.name, kind="community", community=c.code,
                                    aliases=tuple(names)))
        return out

    def jieba_userdict(self, freq: int = 2000, tag: str = "ns") -> str:
        """Lines for the segmenter's user dictionary: every name and alias as one word."""
        names = sorted(self._by_name)
        return "".join(f"{s} {freq} {tag}\n" for s in names)


# -- places ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Place:
    """A place named in a text.

    ``key`` is the normalised identity that issue assignment compares (see the module
    docstring); ``name`` the surface form (NFKC); ``detail`` a building or phase within it;
    ``entry``/``community`` the gazetteer entry and its community when it matched one;
    ``named`` is false for a generic place ("工地"); ``span`` its characters in the text.
    """

    kind: PlaceKind
    name: str
    key: str
    strength: float
    named: bool = True
    entry: str | None = None
    community: str | None = None
    detail: str | None = None
    span: tuple[int, int] = field(default=(0, 0), compare=False)


class PlaceExtractor:
    """Places named in a masked text, by gazetteer and by patterns over the segmenter's tokens.

    Parameters
    ----------
    segmenter:
        A :class:`models.segment.Segmenter` (its tokenizer cuts the text, its dictionary tags
        the tokens). ``None`` builds one with jieba's own dictionary only.
    gazetteer:
        The district's places; ``None`` for patterns only.

    Stateless apart from lazily loaded dictionaries; thread-safe; pickles without them.
    """

    def __init__(self, segmenter: Any = None, gazetteer: Gazetteer | None = None) -> None:
        self.segmenter = segmenter
        self.gazetteer = gazetteer if gazetteer is not None else Gazetteer()
        self._lock = threading.Lock()
        self._tags: dict[str, str] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"segmenter": self.segmenter, "gazetteer": self.gazetteer}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["segmenter"], state["gazetteer"])  # type: ignore[misc]

    # -- resources ------------------------------------------------------------------------------

    def _tokenizer(self) -> Any:
        if self.segmenter is None:
            from models.segment import Segmenter

            self.segmenter = Segmenter()
        return self.segmenter.tokenizer

    def _tag_table(self) -> dict[str, str]:
        if self._tags is None:
            with self._lock:
                if self._tags is None:
                    import jieba.posseg

                    # POSTokenizer reads the tags of the tokenizer's dictionary and user
                    # dictionary; we use only its table (a lookup per token), not its slow cut.
                    tab = dict(jieba.posseg.POSTokenizer(self._tokenizer()).word_tag_tab)
                    for name in self.gazetteer._by_name:
                        tab.setdefault(name, "ns")
                    self._tags = tab
        return self._tags

    # -- extraction -----------------------------------------------------------------------------

    def extract(self, text: str, community: str | None = None) -> list[Place]:
        """Every place in ``text``, in order of appearance, without overlaps.

        ``community`` (the item's) scopes generic places and bare buildings. Where two
        candidates overlap, the longer wins (丹龙路菜市场 over 丹龙路, 阳光小区3栋 over 3栋),
        a gazetteer match on a tie.
        """
        if not text:
            return []
        text = _nfkc(text)
        gaz: list[Place] = []
        for a, b, e in self.gazetteer.find(text):
            if _inside_placeholder(text, a, b):
                continue
            stop = b
            detail = None
            if e.kind == "estate":
                m = _ESTATE_TAIL.match(text, b)
                stop = m.end() if m else b
                _, detail = estate_core(text[a:stop])
            name = text[a:stop]
            building, stop = _building_after(text, stop)
            gaz.append(Place(kind=e.kind, name=name, key=f"gaz:{e.id}",
                             strength=_STRENGTH[e.kind], entry=e.id, community=e.community,
                             detail=building or detail, span=(a, stop)))
        cands = gaz + self._patterns(text, community, [g.span for g in gaz])
        out: list[Place] = []
        order = sorted(range(len(cands)), key=lambda k: (
            -(cands[k].span[1] - cands[k].span[0]), k >= len(gaz), cands[k].span[0]))
        inner: list[Place] = []
        for k in order:
            p = cands[k]
            a, b = p.span
            if all(b <= x.span[0] or a >= x.span[1] for x in out):
                if p.entry is None and p.named:
                    within = [g for g in gaz if a <= g.span[0] and g.span[1] <= b]
                    if within and within[0].community:
                        p = replace(p, community=within[0].community)
                out.append(p)
            elif p.named and p.kind != "building" and any(
                    x.span[0] <= a and b <= x.span[1] and x.key != p.key for x in out):
                # a named place inside the winner is kept too: 工农街 in 工农街饭店, so
                # that the shop's issue and the street's can meet on the street
                inner.append(p)
        keys = {x.key for x in out}
        for p in inner:
            if p.key not in keys:
                keys.add(p.key)
                out.append(p)
        out.sort(key=lambda p: (p.span[0], -(p.span[1] - p.span[0])))
        return out

    def primary(self, text: str, community: str | None = None) -> Place | None:
        """The one place that best identifies the text's problem: the strongest, then the
        first named."""
        places = self.extract(text, community)
        if not places:
            return None
        return max(places, key=lambda p: (p.strength, p.named, -p.span[0]))

    def _patterns(self, text: str, community: str | None,
                  known: Sequence[tuple[int, int]] = ()) -> list[Place]:
        tokens = self._tokenizer().lcut(text, HMM=getattr(self.segmenter, "hmm", True))
        tags = self._tag_table()
        starts, pos = [], 0
        for t in tokens:
            starts.append(pos)
            pos += len(t)
        ends = {s + len(t): k for k, (s, t) in enumerate(zip(starts, tokens, strict=True))}
        cands: list[Place] = []
        for m in _SUFFIX_RE.finditer(text):
            a, b = m.span()
            k = ends.get(b)
            if k is None:  # a suffix must end a token: 路灯, 花园里, 市场价 are not places
                continue
            i0 = bisect.bisect_right(starts, a) - 1
            place = self._candidate(text, tokens, starts, tags, i0, a, b, m.group(0), community,
                                    known)
            if place is not None and not _inside_placeholder(text, *place.span):
                cands.append(place)
        for m in _BUILDING.finditer(text):
            b_norm = normalise_building(m.group(0))
            if b_norm is None or _inside_placeholder(text, *m.span()):
                continue
            cands.append(Place(kind="building", name=m.group(0),
                               key=f"building:{b_norm}@{community or '?'}",
                               strength=_STRENGTH["building"], detail=b_norm, span=m.span()))
        return cands

    def _candidate(self, text: str, tokens: Sequence[str], starts: Sequence[int],
                   tags: Mapping[str, str], i0: int, a: int, end: int, suffix: str,
                   community: str | None,
                   known: Sequence[tuple[int, int]] = ()) -> Place | None:
        """The place whose suffix ``text[a:end]`` starts in token ``i0``: the part of that
        token before the suffix and up to three name tokens before it make its name (and
        the whole of a gazetteer name it starts inside: 回龙湾社区卫生服务中心)."""
        kind = _SUFFIX_KIND[suffix]
        word = text[starts[i0]:end]
        if word in NOT_PLACES or text[starts[i0]:starts[i0] + len(tokens[i0])] in NOT_PLACES:
            return None
        chars = a - starts[i0]
        j = i0
        while j > 0 and i0 - j < _MAX_NAME_TOKENS:
            prev = tokens[j - 1]
            if not _is_name_token(prev, tags) or chars + len(prev) > _MAX_NAME_CHARS:
                break
            j -= 1
            chars += len(prev)
        start = starts[j]
        for ga, gb in known:
            if ga < start < gb:
                chars += start - ga
                start = ga
        name = text[start:end]
        if name in NOT_PLACES:
            return None
        if kind == "road" and len(suffix) == 1 and a > 0 and text[a - 1] in _BEFORE_NO_ROAD:
            return None  # "车把路堵死了", "被路边的车": a function word, then 路, is no road
        if chars < 2 or (kind == "road" and len(name) < 3):
            if suffix in GENERIC_OK and starts[i0] == a:
                return Place(kind=kind, name=suffix,
                             key=f"{_KEY_PREFIX[kind]}:{suffix}@{community or '?'}",
                             strength=_GENERIC_STRENGTH, named=False, span=(a, end))
            return None
        stop = end
        detail = None
        if kind == "estate":
            m = _ESTATE_TAIL.match(text, end)
            if m and m.end() > end:
                stop = m.end()
                name = text[start:stop]
        building, stop = _building_after(text, stop)
        entry = self.gazetteer.lookup(name)
        if kind == "estate":
            core, phase = estate_core(name)
            if core in HOUSING_KINDS and entry is None:
                return None
            detail = building or phase
            key = f"gaz:{entry.id}" if entry else f"estate:{core}"
        else:
            detail = building
            clean = name[:-1] if kind == "road" and name.endswith("口") else name
            key = f"gaz:{entry.id}" if entry else f"{_KEY_PREFIX[kind]}:{clean}"
        kind = entry.kind if entry else kind
        return Place(kind=kind, name=name, key=key, strength=_STRENGTH[kind],
                     entry=entry.id if entry else None,
                     community=entry.community if entry else None,
                     detail=detail, span=(start, stop))


_KEY_PREFIX = {"estate": "estate", "road": "road", "institution": "inst", "landmark": "landmark",
               "building": "building", "community": "community"}


def _is_name_token(tok: str, tags: Mapping[str, str]) -> bool:
    if tok in _NOT_NAME or not _NAME_TOKEN.match(tok):
        return False
    if _ORDINAL.match(tok):
        return True
    if tok.isdigit() or tok.isascii() and len(tok) < 2:
        return False
    tag = tags.get(tok)
    if tag is None:
        # not in the dictionary: an HMM-made word; a name if it is two or more characters
        return len(tok) >= 2
    return tag in _NAME_TAGS or tag.startswith("n")


def _building_after(text: str, end: int) -> tuple[str | None, int]:
    """A building number right after a place (``阳光小区3栋``): its normal form and new end."""
    m = _BUILDING.match(text, end)
    if m is None and end < len(text) and text[end] == "的":
        m = _BUILDING.match(text, end + 1)
    if m is None:
        return None, end
    return normalise_building(m.group(0)), m.end()


def _inside_placeholder(text: str, a: int, b: int) -> bool:
    lo = max(0, a - 8)
    for m in _PLACEHOLDER.finditer(text, lo, min(len(text), b + 8)):
        if m.start() < b and a < m.end():
            return True
    return False


def place_keys(places: Sequence[Place]) -> tuple[str, ...]:
    """The distinct keys of ``places``, in order."""
    return tuple(dict.fromkeys(p.key for p in places))
