"""A generated district with *planted issues* and their ground truth.

Hot-issue sensing is judged against this: the same concrete problem at the same named place,
raised by different residents in their own words over several weeks and across the hotline,
the platform (some messages liked, some reposted by their author) and meeting notes; next to
it, *distractors* (the same problem at other places, once or twice each), *reposts*,
background demand (everyday questions and one-off problems), long messages that enumerate the
facts of one complaint, and messages that list several demands.

Every record carries ``truth``: one issue label per demand item it holds (a meeting note or
a message that lists demands holds several, enumerated ``1、…2、…``; any other record one).
A label is ``P…`` for a planted issue, ``D…`` for a distractor, ``B…`` for background. Two
records share a label when they raise the same problem at the same place (or the same
question) with no gap of more than ``quiet_days`` between them, which is how an issue is
defined for the assigner too.

Deterministic per seed; own vocabulary (nothing from the main demo generator). Texts are raw:
about one in ten carries a phone number or a unit address, which masking must remove.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["HotIssueSet", "HotRecord", "PlantedIssue", "generate_hot_issues"]

TZ = ZoneInfo("Asia/Shanghai")

COMMUNITIES = [
    ("K01", "东湖社区"), ("K02", "南山社区"), ("K03", "西城社区"), ("K04", "北岸社区"),
    ("K05", "青石社区"), ("K06", "红岩社区"), ("K07", "白沙社区"), ("K08", "黄桷社区"),
    ("K09", "柳林社区"), ("K10", "松坪社区"), ("K11", "梅溪社区"), ("K12", "竹园社区"),
]
_ESTATE_STEMS = ["阳光", "翠湖", "锦绣", "银杏", "和平", "幸福", "东方", "江景", "书香", "星光",
                 "碧水", "春晓", "海棠", "紫荆", "枫林", "云栖", "清风", "明月", "望江", "滨河",
                 "鑫城", "华庭", "金桂", "玉兰", "长青", "凤凰", "天悦", "泰和", "盛世", "蓝湾",
                 "康乐", "怡景", "晨曦", "丽都", "润园", "福泽"]
_ESTATE_SUFFIX = ["小区", "花园", "家园", "苑", "新村", "公寓"]
_ROAD_STEMS = ["南滨", "学府", "工农", "惠民", "白鹤", "腊梅", "石桥", "新华", "解放", "沙坪",
               "青年", "建设", "民主", "朝阳", "人和", "兴隆"]
_ROAD_SUFFIX = ["路", "路", "街", "大道"]
_INSTITUTIONS = [("中学", "school"), ("小学", "school"), ("菜市场", "market"),
                 ("项目工地", "site"), ("幼儿园", "school"), ("农贸市场", "market")]
_INST_STEMS = ["育才", "实验", "光明", "红星", "前进", "新桥", "长江", "万象", "宏达", "安居"]

# problem code -> (category, place kinds it happens at, paraphrases). {p} is the place.
PROBLEMS: dict[str, tuple[str, tuple[str, ...], list[str]]] = {
    "lift": ("property", ("estate",), [
        "{p}{b}的电梯又坏了，老人上下楼太难了",
        "{p}电梯三天两头停运，物业一直不修",
        "我们{p}{b}电梯关人了，太吓人，电梯早该换了",
        "{p}的电梯经常出故障，住高层的每天爬楼",
        "{p}{b}电梯坏了一个多星期没人管",
        "{p}电梯老化严重，希望尽快更换电梯",
        "{p}电梯又停了，物业说配件没到，已经好几天了",
    ]),
    "leak": ("property", ("estate",), [
        "{p}{b}楼顶漏水，一下雨家里墙面全湿了",
        "{p}房屋漏水，找物业几次都说要业主自己修",
        "{p}{b}顶楼渗水严重，墙皮都掉了",
        "我们{p}一下雨就漏水，屋顶防水层早就坏了",
        "{p}外墙渗水，家里发霉，希望维修",
    ]),
    "delivery": ("property", ("estate",), [
        "{p}开发商说好年底交房，现在还是一片工地",
        "{p}楼盘延期交房快一年了，开发商不露面",
        "买了{p}的房子，开发商一直拖着不交房，业主很着急",
        "{p}烂尾了，开发商跑了，我们每个月还在还房贷",
        "{p}交房日期一拖再拖，开发商没有任何说法",
        "{p}的开发商延期交付，违约金也不赔",
    ]),
    "night_noise": ("public_security", ("site", "road"), [
        "{p}晚上十一点还在施工，吵得根本睡不着",
        "{p}夜间施工噪音太大，孩子第二天还要上学",
        "{p}每天半夜打桩，噪音扰民，投诉了也没用",
        "{p}凌晨还有渣土车和机器响，能不能管一管夜间施工",
        "{p}夜里施工的噪音很大，老人心脏受不了",
        "{p}晚上施工扰民，希望限制施工时间",
    ]),
    "oil_smoke": ("sanitation", ("market", "road"), [
        "{p}的餐馆油烟直排，楼上住户窗户都不敢开",
        "{p}烧烤摊油烟太大，味道呛人",
        "{p}油烟污染严重，晚上整条街都是烟",
        "{p}饭店的油烟管道对着居民楼，熏得受不了",
    ]),
    "garbage": ("sanitation", ("estate", "market"), [
        "{p}的垃圾好几天没人清运，臭气熏天",
        "{p}垃圾桶满了没人收，苍蝇蚊子很多",
        "{p}垃圾堆在门口没人拉走，夏天太臭了",
        "{p}垃圾清运不及时，居民意见很大",
        "{p}门口垃圾成堆，希望每天清运",
    ]),
    "streetlight": ("traffic", ("road",), [
        "{p}的路灯坏了一大片，晚上走路黑漆漆的",
        "{p}路灯好久都不亮了，晚上很不安全",
        "{p}晚上没有路灯，老人摔倒过好几次",
        "{p}一到晚上路灯就不亮，希望尽快修好路灯",
    ]),
    "pothole": ("traffic", ("road",), [
        "{p}路面坑坑洼洼，下雨全是积水",
        "{p}有好几个大坑，电瓶车都摔了",
        "{p}路面破损严重，希望尽快修补",
        "{p}的路烂了很久，车子过去颠得很",
    ]),
    "parking": ("parking", ("estate", "road"), [
        "{p}乱停车太严重，消防通道都堵死了",
        "{p}车位太少，晚上车都停到人行道上",
        "{p}门口天天有车乱停，进出很困难",
        "{p}停车位不够，希望规划一些停车位",
        "{p}占道停车严重，救护车都进不来",
    ]),
    "school_jam": ("traffic", ("school",), [
        "{p}门口上下学接送孩子堵得走不动",
        "{p}放学的时候门口交通很乱，希望安排人疏导",
        "{p}门口早上接送拥堵，太危险了",
        "每天{p}门口都堵车，孩子过马路很危险",
    ]),
    "drain": ("sanitation", ("estate", "market"), [
        "{p}下水道堵了，污水冒到路面上",
        "{p}的下水道返臭，一楼住户受不了",
        "{p}化粪池满了往外冒，味道很大",
        "{p}排水不畅，下雨就淹，下水道该疏通了",
    ]),
    "water_cut": ("property", ("estate",), [
        "{p}又停水了，也没有提前通知",
        "{p}这个月停水好几次，生活很不方便",
        "{p}经常停水，水压也很小，高层根本没水",
        "{p}停水一整天了，物业说是管道问题",
    ]),
    "canteen": ("elderly_care", ("estate",), [
        "{p}的老年食堂说要关了，老人以后去哪里吃饭",
        "{p}老年助餐点停了，独居老人吃饭成问题",
        "听说{p}的长者食堂不办了，希望保留下来",
    ]),
    "market_mess": ("sanitation", ("market",), [
        "{p}里面脏乱差，地上全是污水",
        "{p}占道经营，早上卸货吵得很",
        "{p}卫生太差了，摊位乱摆乱放",
    ]),
}
# Issues without a place: a rule many residents ask about.
POLICY_PROBLEMS: dict[str, tuple[str, list[str]]] = {
    "elder_allowance": ("veterans", [
        "高龄津贴新标准什么时候开始发放？",
        "听说高龄津贴涨了，我们家老人的津贴怎么还是原来的",
        "新的高龄津贴标准要重新申请吗",
        "高龄津贴调整以后，八十岁以上的老人每个月发多少",
        "请问高龄津贴新政策怎么领取，要带什么材料",
        "我母亲八十五岁了，高龄津贴新标准一直没到账",
    ]),
    "ebike_rule": ("traffic", [
        "电动自行车新规要求上牌，去哪里办理",
        "电瓶车上牌的新规定是什么，旧车还能骑吗",
        "电动自行车不上牌就不能上路了吗，在哪里上牌",
        "新规说电瓶车要换电池，补贴怎么申请",
        "电动车上牌要排队好久，能不能社区集中办理",
    ]),
}
# Everyday questions and requests (background). {n} is a service.
_SERVICES = {"低保": "subsistence", "社保卡": "social_insurance", "医保报销": "medical_insurance",
             "居住证": "services", "日间托老": "elderly_care", "儿童托管": "daily_life",
             "就业登记": "employment", "失业登记": "employment", "临时救助": "social_assistance",
             "优抚金": "veterans", "异地就医": "medical_insurance", "养老保险": "social_insurance",
             "技能培训": "employment", "心理咨询": "daily_life", "家电维修": "daily_life",
             "图书借阅": "culture", "文体活动": "culture", "居家养老": "elderly_care",
             "残疾人证": "disability", "独生子女证": "services", "入学证明": "services",
             "无犯罪证明": "services", "公租房": "housing", "廉租房": "housing",
             "创业贷款": "employment"}
_QUESTIONS = ["想问一下{n}怎么办理", "{n}需要带什么材料", "{n}在哪个窗口办", "{n}现在还能申请吗",
              "{n}大概要多久能办好", "{n}可以网上办吗", "{n}的条件是什么"]
_OPEN = {"hotline": ["你好，", "喂，你好，", "你好，我想反映个事，", "", "喂，"],
         "platform": ["您好，", "街道领导您好：", "反映问题：", "", "求助："],
         "meeting": [""]}
_CLOSE = {"hotline": ["谢谢。", "麻烦尽快处理。", "", "希望有人来看看。"],
          "platform": ["盼复！", "望尽快解决，谢谢！", "", "请相关部门重视。"],
          "meeting": [""]}
_BUILDINGS = ["", "", "", "3栋", "5栋", "7号楼", "2栋", "12栋", "三号楼", "1栋"]
_MEETING_FILLERS = ["希望多开展一些文体活动", "建议增加老年人智能手机培训", "希望社区多组织亲子活动",
                    "建议活动室延长开放时间", "希望增设便民理发服务", "建议多开展防诈骗宣传",
                    "希望组织义诊进社区", "建议增加社区图书室的新书"]
_REPORTERS = ["居民反映", "楼栋长反映", "有居民提出", "几位老人反映", "业主代表提出"]


@dataclass(frozen=True, slots=True)
class HotRecord:
    """One feedback record: raw text, its channel, resident key, likes and truth labels."""

    feedback_id: str
    channel: str
    received_at: datetime
    community: str
    category: str
    resident: str | None
    likes: int
    text: str
    truth: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlantedIssue:
    label: str
    problem: str
    place: str | None
    community: str
    category: str


@dataclass
class HotIssueSet:
    records: list[HotRecord]
    planted: dict[str, PlantedIssue]
    gazetteer: list[dict[str, object]]
    communities: list[tuple[str, str]]
    start: date
    weeks: int
    meta: dict[str, int] = field(default_factory=dict)


@dataclass
class _Place:
    name: str
    kind: str          # estate / road / school / market / site
    community: str
    aliases: tuple[str, ...] = ()

    def written(self, rng: random.Random) -> str:
        """How a resident writes it: mostly its name, sometimes an alias."""
        if self.aliases and rng.random() < 0.3:
            return rng.choice(self.aliases)
        return self.name


def _places(rng: random.Random) -> list[_Place]:
    out: list[_Place] = []
    stems = _ESTATE_STEMS[:]
    rng.shuffle(stems)
    for n, stem in enumerate(stems):
        suffix = rng.choice(_ESTATE_SUFFIX)
        name = stem + suffix
        aliases = (stem + "小区",) if suffix != "小区" else (stem + "花园小区",)
        out.append(_Place(name, "estate", COMMUNITIES[n % len(COMMUNITIES)][0], aliases))
    roads = _ROAD_STEMS[:]
    rng.shuffle(roads)
    for n, stem in enumerate(roads):
        out.append(_Place(stem + rng.choice(_ROAD_SUFFIX), "road",
                          COMMUNITIES[(n * 5) % len(COMMUNITIES)][0]))
    insts = _INST_STEMS[:]
    rng.shuffle(insts)
    for n, stem in enumerate(insts):
        for m, (suffix, kind) in enumerate(_INSTITUTIONS):
            if (n + m) % 2:
                continue
            out.append(_Place(stem + suffix, kind, COMMUNITIES[(n * 7 + m) % len(COMMUNITIES)][0]))
    return out


def _gazetteer(places: list[_Place]) -> list[dict[str, object]]:
    kinds = {"estate": "estate", "road": "road", "school": "institution",
             "market": "institution", "site": "institution"}
    return [{"id": f"G{n:03d}", "name": p.name, "kind": kinds[p.kind], "community": p.community,
             "aliases": list(p.aliases)} for n, p in enumerate(places)]


def _moment(rng: random.Random, day: date) -> datetime:
    hour = rng.choices(range(7, 23), weights=[1, 3, 4, 4, 3, 2, 3, 4, 4, 3, 2, 2, 2, 2, 1, 1])[0]
    return datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)), TZ)


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))


def _dress(rng: random.Random, channel: str, body: str, pii: bool) -> str:
    text = rng.choice(_OPEN[channel]) + body
    if pii and channel != "meeting":
        text += rng.choice([f"，我电话{_phone(rng)}", f"，联系电话：{_phone(rng)}"])
    close = rng.choice(_CLOSE[channel])
    if close:
        text += "，" + close if not text.endswith(("？", "?", "。")) else close
    elif not text.endswith(("？", "?", "。")):
        text += "。"
    return text


def _fill(rng: random.Random, template: str, place: str) -> str:
    return template.format(p=place, b=rng.choice(_BUILDINGS))


def district_places(district: object) -> tuple[list[tuple[str, str]], list[_Place]]:
    """The communities and the places of a district (``minsheng.domain.District``) as this
    generator plants problems at them: estates, roads, and institutions by their suffix."""
    communities = [(c.code, c.name) for c in district.communities]  # type: ignore[attr-defined]
    places = []
    for c in district.communities:  # type: ignore[attr-defined]
        for p in c.places:
            name = p.name
            if name.endswith(("中学", "小学", "幼儿园", "学校")):
                kind = "school"
            elif name.endswith(("菜市场", "农贸市场", "市场")):
                kind = "market"
            elif name.endswith("工地"):
                kind = "site"
            elif name.endswith(("路", "街", "大道", "巷")):
                kind = "road"
            elif name.endswith(("小区", "花园", "家园", "苑", "新村", "公寓", "宿舍", "华府")):
                kind = "estate"
            else:
                continue
            places.append(_Place(name, kind, c.code, tuple(p.aliases)))
    return communities, places


def generate_hot_issues(seed: int = 20261125, weeks: int = 8, *,
                        start: date = date(2026, 10, 5), planted: int = 10,
                        background_per_week: int = 150, quiet_days: float = 14.0,
                        long_messages: int = 4,
                        district: object | None = None, current: int = 0) -> HotIssueSet:
    """Records of ``weeks`` weeks from the Monday ``start`` with ``planted`` planted issues.

    ``quiet_days`` only shapes the truth: two records of one problem at one place more than
    that far apart are labelled as two issues. With ``district``, its communities and the
    places its ``district.yaml`` lists are used instead of this module's own. The first
    ``current`` planted issues are still being raised in the last week (a report of that week
    must find them); the others start and end anywhere in the span.
    """
    rng = random.Random(seed)
    if district is not None:
        communities, places = district_places(district)
    else:
        communities, places = list(COMMUNITIES), _places(rng)
    by_kind: dict[str, list[_Place]] = defaultdict(list)
    for p in places:
        by_kind[p.kind].append(p)
    days = [start + timedelta(days=d) for d in range(7 * weeks)]
    raw: list[tuple[datetime, str, str, str, str | None, int, str, tuple[str, ...]]] = []
    used_pairs: set[tuple[str, str]] = set()
    planted_issues: dict[str, PlantedIssue] = {}
    seq = 0

    def fid(channel: str) -> str:
        nonlocal seq
        seq += 1
        return f"{channel[0].upper()}{seq:06d}"

    meeting_points: dict[tuple[date, str], list[tuple[str, str]]] = defaultdict(list)

    def emit(day: date, channel: str, community: str, category: str, resident: str | None,
             likes: int, body: str, key: str) -> None:
        if channel == "meeting":
            meeting_points[(day - timedelta(days=day.weekday()), community)].append((body, key))
            return
        raw.append((_moment(rng, day), channel, community, category, resident, likes,
                    _dress(rng, channel, body, rng.random() < 0.1), (key,)))

    def likes_for(channel: str) -> int:
        if channel != "platform" or rng.random() < 0.4:
            return 0
        return int(rng.lognormvariate(2.0, 1.0))

    # planted issues: one policy question, the rest at places; at most two per problem
    problem_codes = list(PROBLEMS)
    rng.shuffle(problem_codes)
    chosen: list[tuple[str, _Place | None]] = [(rng.choice(list(POLICY_PROBLEMS)), None)]
    n = 0
    while len(chosen) < planted:
        code = problem_codes[n % len(problem_codes)]
        n += 1
        kinds = PROBLEMS[code][1]
        pool = [p for k in kinds for p in by_kind[k] if (code, p.name) not in used_pairs]
        place = rng.choice(pool)
        used_pairs.add((code, place.name))
        chosen.append((code, place))
    for k, (code, place) in enumerate(chosen):
        label = f"P{k + 1:02d}"
        if place is None:
            category, templates = POLICY_PROBLEMS[code]
            community = communities[rng.randrange(len(communities))][0]
        else:
            category, _, templates = PROBLEMS[code]
            community = place.community
        planted_issues[label] = PlantedIssue(label, code, place.name if place else None,
                                             community, category)
        first = rng.randrange(0, max(1, len(days) - 21))
        length = rng.randrange(14, 29)
        if k < current:
            first = max(0, len(days) - length + rng.randrange(0, 4))
        residents = [f"{label}-r{j}" for j in range(rng.randrange(5, 14))]
        peak = first + length * rng.uniform(0.3, 0.7)
        last_day = -99
        for d in range(first, min(first + length, len(days))):
            rate = 1.4 * max(0.15, 1 - abs(d - peak) / (length / 1.6))
            count = sum(rng.random() < rate / 3 for _ in range(3))
            if d - last_day > 6 and count == 0:
                count = 1  # no gap longer than a week inside a planted issue
            for _ in range(count):
                last_day = d
                channel = rng.choices(["hotline", "platform", "meeting"], [0.5, 0.38, 0.12])[0]
                who = rng.choice(residents)
                resident = None if channel == "meeting" else f"{channel[0]}:{who}"
                # a planted issue's place is written as its residents write it
                body = _fill(rng, rng.choice(templates), place.written(rng) if place else "")
                if channel == "meeting":
                    body = rng.choice(_REPORTERS) + body
                c = community if place is not None else communities[rng.randrange(len(communities))][0]
                emit(days[d], channel, c, category, resident, likes_for(channel), body, label)
                if channel == "platform" and rng.random() < 0.15 and d + 2 < len(days):
                    # the author reposts the same text a day or two later
                    raw.append((_moment(rng, days[d + rng.choice((1, 2))]), "platform", c,
                                category, resident, likes_for(channel) // 3, raw[-1][6],
                                (label,)))

    # distractors: the planted problems at other places, once or twice each
    for code, place in chosen:
        if place is None:
            continue
        category, kinds, templates = PROBLEMS[code]
        pool = [p for k in kinds for p in by_kind[k] if (code, p.name) not in used_pairs]
        rng.shuffle(pool)
        for other in pool[: rng.randrange(3, 7)]:
            used_pairs.add((code, other.name))
            key = f"D:{code}:{other.name}"
            d0 = rng.randrange(len(days))
            for r in range(rng.choice((1, 1, 2))):
                d = min(len(days) - 1, d0 + r * rng.randrange(1, 5))
                channel = rng.choices(["hotline", "platform"], [0.6, 0.4])[0]
                emit(days[d], channel, other.community, category, f"{channel[0]}:{key}-{r}",
                     likes_for(channel), _fill(rng, rng.choice(templates), other.written(rng)),
                     key)

    # background: everyday questions, and one-off problems at places not used above
    all_pairs = [(code, p) for code, (_, kinds, _) in PROBLEMS.items() for k in kinds
                 for p in by_kind[k]]
    free_pairs = [pair for pair in all_pairs if (pair[0], pair[1].name) not in used_pairs]
    rng.shuffle(free_pairs)
    for w in range(weeks):
        for _ in range(background_per_week):
            day = days[7 * w + rng.randrange(7)]
            channel = rng.choices(["hotline", "platform", "meeting"], [0.55, 0.3, 0.15])[0]
            community = communities[rng.randrange(len(communities))][0]
            resident = None if channel == "meeting" else f"{channel[0]}:bg{rng.randrange(10**6)}"
            if not free_pairs:  # every pair used: use them again (later, mostly)
                free_pairs = [pair for pair in all_pairs if (pair[0], pair[1].name) not in used_pairs]
                rng.shuffle(free_pairs)
            if rng.random() < 0.35:
                service = rng.choice(list(_SERVICES))
                body = rng.choice(_QUESTIONS).format(n=service)
                key = f"B:q:{body}"
                category = _SERVICES[service]
            else:
                code, place = free_pairs.pop()
                category, _, templates = PROBLEMS[code]
                body = _fill(rng, rng.choice(templates), place.written(rng))
                key = f"B:{code}:{place.name}"
                community = place.community
            if channel == "meeting":
                body = rng.choice(_REPORTERS) + body
            emit(day, channel, community, category, resident, likes_for(channel), body, key)

    # long messages: one complaint told in many enumerated facts (one demand item)
    for k in range(long_messages):
        code, place = free_pairs.pop() if free_pairs else ("lift", by_kind["estate"][0])
        category, _, templates = PROBLEMS[code]
        facts = [_fill(rng, t, place.name).replace("，", "、") for t in templates]
        while len(facts) < 14:
            facts.append(rng.choice(["业主群里大家都在说这个事", "已经反映过很多次了",
                                     "物业的答复是等通知", "问题一直存在没有变化",
                                     "居民的正常生活受到很大影响", "这个情况持续了很久"]))
        body = "关于" + place.name + "的情况说明：" + "".join(
            f"{j + 1}、{f}；" if j < 9 else f"（{j + 1}）{f}；" for j, f in enumerate(facts[:9]))
        body += "此外" + "，".join(facts[9:14]) + "。"
        day = days[rng.randrange(len(days))]
        raw.append((_moment(rng, day), "platform", place.community, category,
                    f"p:long{k}", likes_for("platform"), body, (f"B:{code}:{place.name}",)))

    # messages that plainly list several demands
    for k in range(weeks * 2):
        picks = [free_pairs.pop() for _ in range(2) if free_pairs]
        if len(picks) < 2:
            break
        parts, keys = [], []
        for j, (code, place) in enumerate(picks):
            _, _, templates = PROBLEMS[code]
            parts.append(f"{j + 1}、" + _fill(rng, rng.choice(templates), place.name)
                         + "，希望尽快解决；")
            keys.append(f"B:{code}:{place.name}")
        day = days[rng.randrange(len(days))]
        raw.append((_moment(rng, day), "platform", picks[0][1].community,
                    PROBLEMS[picks[0][0]][0], f"p:list{k}", 0, "有两个问题：" + "".join(parts),
                    tuple(keys)))

    # meeting notes: each week's points of a community, enumerated
    for (monday, community), points in sorted(meeting_points.items()):
        for start_at in range(0, len(points), 5):
            chunk = points[start_at:start_at + 5]
            day = monday + timedelta(days=rng.randrange(7))
            if len(chunk) == 1:
                filler = rng.choice(_MEETING_FILLERS)
                chunk = chunk + [(rng.choice(_REPORTERS) + filler, f"B:meet:{filler}")]
            text = "互助会议事记录，居民诉求：" + "".join(
                f"{j + 1}、{body}；" for j, (body, _) in enumerate(chunk))
            raw.append((datetime.combine(day, time(19, 30), TZ), "meeting", community, "meeting",
                        None, 0, text, tuple(key for _, key in chunk)))

    raw.sort(key=lambda r: (r[0], r[6]))
    records = [HotRecord(feedback_id=f"{r[1][0].upper()}{n:06d}", channel=r[1], received_at=r[0],
                         community=r[2], category=r[3], resident=r[4], likes=r[5], text=r[6],
                         truth=r[7]) for n, r in enumerate(raw)]
    records = _segment_truth(records, quiet_days)
    return HotIssueSet(records=records, planted=planted_issues, gazetteer=_gazetteer(places),
                       communities=list(communities), start=start, weeks=weeks,
                       meta={"records": len(records)})


def _segment_truth(records: list[HotRecord], quiet_days: float) -> list[HotRecord]:
    """Split a label where its records fall silent for more than ``quiet_days``."""
    last: dict[str, datetime] = {}
    part: dict[str, int] = {}
    out = []
    quiet = timedelta(days=quiet_days)
    for r in records:
        labels = []
        for key in r.truth:
            if key in last and r.received_at - last[key] > quiet:
                part[key] = part.get(key, 0) + 1
            last[key] = r.received_at
            labels.append(key if not part.get(key) else f"{key}~{part[key]}")
        out.append(HotRecord(r.feedback_id, r.channel, r.received_at, r.community, r.category,
                             r.resident, r.likes, r.text, tuple(labels)))
    return out


_PHONE = __import__("re").compile(r"1[3-9]\d{9}")


def write_exports(data: HotIssueSet, out: object, names: dict[str, str]) -> dict[str, object]:
    """Write a hot-issue set as a district's exports under ``out`` (the layout ``minsheng
    generate`` writes): hotline orders and platform messages (with likes) as one file per ISO
    week, a meeting note per meeting record. ``names`` maps community codes to the names the
    hotline exports use. Returns the counts, the planted issues and the phone numbers planted."""
    import csv
    import json
    from pathlib import Path

    root = Path(str(out))
    by_week: dict[tuple[str, str], list[HotRecord]] = defaultdict(list)
    for r in data.records:
        y, w, _ = r.received_at.isocalendar()
        by_week[(r.channel, f"{y}-W{w:02d}")].append(r)
    counts: dict[str, int] = defaultdict(int)
    pii: set[str] = set()
    for (channel, week), records in sorted(by_week.items()):
        if channel == "hotline":
            path = root / "hotline" / f"hot_orders_{week}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8-sig", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(["工单编号", "受理时间", "所属社区", "来电号码", "来电内容"])
                for r in records:
                    phone = _PHONE.findall(r.text)
                    writer.writerow([f"RX{r.feedback_id}", f"{r.received_at:%Y-%m-%d %H:%M:%S}",
                                     names[r.community], phone[0] if phone else "", r.text])
        elif channel == "platform":
            path = root / "platform" / f"hot_messages_{week}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="\n") as fh:
                for r in records:
                    title = r.text[:14].rstrip("，,。") if r.text else ""
                    fh.write(json.dumps({
                        "msg_id": f"RX-{r.feedback_id}", "posted_at": f"{r.received_at:%Y-%m-%dT%H:%M:%S}+08:00",
                        "community": r.community, "user": r.resident or f"居民_{r.feedback_id}",
                        "title": title, "content": r.text, "likes": r.likes,
                    }, ensure_ascii=False) + "\n")
        else:
            for r in records:
                lines = [f"# {names[r.community]}互助会议事记录", "", f"日期：{r.received_at:%Y-%m-%d}",
                         f"社区：{names[r.community]}", "互助会：居民议事会", "", "## 居民诉求", ""]
                points = [p for p in __import__("re").split(r"\d+、", r.text.split("：", 1)[-1]) if p.strip("；")]
                lines += [f"{n}. {p.strip('；')}" for n, p in enumerate(points, start=1)]
                path = root / "meetings" / f"{r.received_at:%Y-%m-%d}_{r.community}_hot_{r.feedback_id}.md"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("\n".join(lines) + "\n", encoding="utf-8")
                counts["meeting_items"] += len(points)
        counts[channel] += len(records)
        for r in records:
            pii.update(_PHONE.findall(r.text))
    return {"counts": dict(counts), "planted": {k: vars(v) if hasattr(v, "__dict__") else
                                               {f: getattr(v, f) for f in v.__slots__}
                                               for k, v in data.planted.items()},
            "pii": sorted(pii)}
