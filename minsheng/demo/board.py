"""A second district that is not Nanping: a city's online message board (问政平台).

``minsheng generate --profile board`` writes what a city's data team would bring: exports of
the message board and of the hotline as .xlsx with the board's column names (留言编号, 留言用户,
留言主题, 留言时间, 留言详情, 一级分类), date-only times, no community column (districts and
estates are named in the text, or not at all), seven department labels of its own, no survey,
and a registry of department offices; and the config folder that describes it (district with
its gazetteer, taxonomy with a ``label_map``, channel mappings, supply registry).

The texts are long and noisy as real board messages are: a title, then a body of 300–800
characters with greetings, a self-introduction, the matter, what was tried before, and a
closing; departments overlap (a construction site's noise is 城乡建设 or 环境保护; a school bus
is 教育文体 or 交通运输), some messages mention a second place, and a few labels are routed
differently from the words (as a dispatcher does). Deterministic by seed.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

#: The board's columns, as the city's export names them.
COLUMNS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "一级分类"]

#: City districts (the communities of this district) with their estates and roads.
DISTRICTS: dict[str, tuple[str, list[str], list[str]]] = {
    "D01": ("东湖区", ["翠湖花园", "东湖名苑小区", "金桂园小区", "湖光里小区", "东城嘉园"], ["东湖大道", "望湖路"]),
    "D02": ("西岭区", ["岭秀山庄", "西岭新村", "枫林绿洲小区", "松涛苑", "云栖华府"], ["西岭路", "枫林二路"]),
    "D03": ("南塘区", ["南塘春晓小区", "荷塘月色小区", "锦绣南城", "柳岸人家", "塘西雅苑"], ["南塘街", "荷花路"]),
    "D04": ("北山区", ["北山印象小区", "青峰家园", "栖霞公寓", "山景豪庭", "白石新居"], ["北环路", "青峰路"]),
    "D05": ("江滨区", ["江湾一号小区", "滨江明珠", "望江楼小区", "观澜国际", "临江水岸"], ["滨江路", "观澜大道"]),
    "D06": ("高新区", ["科技新城小区", "创业家园", "麓谷嘉园", "智慧城小区", "软件园公寓"], ["创新路", "麓谷大道"]),
}

#: The seven department labels → the service category codes of the taxonomy.
LABELS: dict[str, tuple[str, str, bool]] = {
    "城乡建设": ("urban", "城乡建设与物业", True),
    "环境保护": ("environment", "生态环境", True),
    "交通运输": ("transport", "交通出行", True),
    "劳动和社会保障": ("labour", "就业与社保", True),
    "教育文体": ("education", "教育文体", True),
    "卫生计生": ("health", "医疗卫生", True),
    "商贸旅游": ("commerce", "商贸旅游", False),  # no office serves it here: a gap
}

#: Per department: title stems and the sentences of the matter. Shared words across
#: departments are on purpose (施工, 噪音, 道路, 培训, 污染, 收费, 学校…).
MATTERS: dict[str, dict[str, list[str]]] = {
    "城乡建设": {
        "titles": ["小区物业乱收费", "房屋漏水无人处理", "电梯经常故障", "违章搭建", "开发商延期交房",
                   "小区道路破损", "施工工地夜间作业", "老旧小区改造", "房产证迟迟办不下来", "公共维修基金使用"],
        "lines": ["物业公司每年涨物业费，服务却越来越差，业主意见很大",
                  "楼顶防水层破了，下雨天家里漏水，墙面都发霉了", "电梯一个月坏了四五次，老人被困在里面",
                  "一楼住户在公共绿地上违章搭建了棚子，占用消防通道", "开发商承诺去年年底交房，到现在还没有交付",
                  "小区内部道路坑坑洼洼，下雨就积水", "工地晚上十一点以后还在施工，打桩机的声音很大",
                  "小区建于上世纪九十年代，管网老化，希望纳入老旧小区改造", "交房三年了房产证还没办下来，开发商一直推脱",
                  "维修基金怎么申请使用，物业和业委会互相推诿", "物业不公示收支账目，停车费去向不明",
                  "楼道里的外墙瓷砖脱落，砸坏了停在下面的车", "安置房质量问题严重，墙体开裂"],
    },
    "环境保护": {
        "titles": ["工厂排放废气", "河道污染严重", "噪音扰民", "垃圾焚烧异味", "餐馆油烟扰民",
                   "建筑工地扬尘", "污水直排", "渣土车撒漏", "化工厂异味", "夜间施工噪音"],
        "lines": ["附近的工厂每天晚上偷偷排放废气，气味刺鼻，家里不敢开窗",
                  "河里的水发黑发臭，还有死鱼漂在水面上", "工地施工噪音太大，严重影响居民休息",
                  "垃圾站焚烧垃圾，浓烟滚滚，空气质量很差", "楼下餐馆的油烟直接排到居民楼里",
                  "工地没有覆盖防尘网，扬尘很大，窗台上一层灰", "有企业把生产污水直接排进雨水管网",
                  "渣土车没有密闭，沿路撒漏，尘土飞扬", "化工厂散发的异味让孩子咳嗽不止",
                  "环保部门来检查的时候停工，检查一走又开始排放", "空气污染严重，希望环保部门加强监测",
                  "广场舞音响声音太大，晚上十点还不停"],
    },
    "交通运输": {
        "titles": ["公交线路调整建议", "出租车拒载", "道路拥堵严重", "校车安全问题", "地铁站出口设置不合理",
                   "红绿灯时间太短", "网约车乱停靠", "公交车班次太少", "货车占道", "驾校收费问题"],
        "lines": ["小区附近只有一条公交线路，早高峰等车要半个多小时", "晚上在火车站打车，出租车司机拒载还加价",
                  "上下班高峰期这段道路堵得水泄不通", "孩子坐的校车严重超载，存在安全隐患",
                  "地铁站只开了一个出口，过马路要绕很远", "路口的红绿灯行人通行时间太短，老人来不及过马路",
                  "网约车在路边随意停靠上下客，造成拥堵", "公交车班次太少，末班车时间太早",
                  "大货车占用非机动车道，电动车只能走机动车道", "驾校报名后迟迟不安排练车，还要额外收费",
                  "建议增设公交站点，方便居民出行", "道路施工围挡占了一半路面，交通很乱"],
    },
    "劳动和社会保障": {
        "titles": ["拖欠工资", "社保断缴", "养老金发放", "失业金申领", "工伤认定",
                   "劳动合同纠纷", "医保转移", "退休手续办理", "技能培训补贴", "灵活就业参保"],
        "lines": ["公司拖欠我们三个月的工资，老板一直说没钱", "单位没有给员工交社保，现在要退休了才发现断缴",
                  "退休后养老金一直没有按时发放", "失业后去申领失业金，说材料不全跑了好几趟",
                  "在工地上受伤，公司不给做工伤认定", "公司不签劳动合同，辞退也不给补偿",
                  "从外地回来，医保关系转移办不下来", "退休手续办理要跑好几个部门，流程太复杂",
                  "参加了职业技能培训，补贴一直没有发下来", "灵活就业人员怎么缴纳养老保险",
                  "劳动监察部门接到投诉后一直没有处理", "农民工讨薪难，希望有关部门帮忙"],
    },
    "教育文体": {
        "titles": ["学校乱收费", "入学划片不合理", "幼儿园学位紧张", "校外培训机构退费", "学校周边安全",
                   "体育场馆开放", "课后服务收费", "教师有偿补课", "图书馆开放时间", "校车接送"],
        "lines": ["学校以各种名义向家长收取费用，资料费、活动费名目繁多", "小区明明离学校很近，却被划到很远的学校",
                  "附近幼儿园学位太少，孩子报不上名", "培训机构突然关门，交的学费退不回来",
                  "学校门口道路车辆太多，孩子上下学很不安全", "新建的体育馆一直不对市民开放",
                  "学校课后服务每月收费太高", "老师在家里办补习班，变相要求学生参加",
                  "图书馆周末开放时间太短，希望延长", "学校取消了校车，家长接送很困难",
                  "希望在社区多建一些运动场地和健身器材", "学生作业负担太重，每天写到很晚"],
    },
    "卫生计生": {
        "titles": ["医院收费不合理", "看病排队时间长", "疫苗接种预约难", "诊所无证行医", "食品安全问题",
                   "二孩生育登记", "医疗纠纷", "药店高价卖药", "卫生院服务差", "出生证明办理"],
        "lines": ["在医院做了检查，收费单上有很多没做过的项目", "挂号排队要三个小时，看病只有五分钟",
                  "社区卫生服务中心的疫苗总是约不上", "小区门口有个诊所没有执业证，还给人输液",
                  "在餐馆吃饭后全家腹泻，怀疑食品卫生有问题", "二孩生育登记要求的材料太多",
                  "孩子在医院治疗出现问题，医院不给说法", "药店的药比医院贵了一倍",
                  "乡镇卫生院医生态度差，设备也很陈旧", "孩子出生证明丢了，补办很麻烦",
                  "希望社区卫生服务中心增加全科医生", "医院周边停车难，救护车都进不去"],
    },
    "商贸旅游": {
        "titles": ["景区门票涨价", "商家虚假宣传", "预付卡退费难", "市场缺斤少两", "旅行社强制购物",
                   "商场消防通道堵塞", "夜市占道经营", "农贸市场环境差", "网购维权难", "酒店乱收费"],
        "lines": ["景区门票一年涨了两次，本地居民也没有优惠", "商家宣传的和实际卖的完全不一样",
                  "健身房办了预付卡后突然关门，钱退不回来", "菜市场有商贩缺斤少两，投诉也没人管",
                  "参加旅行社的团，被强制带去购物店", "商场把消防通道堆满了货物",
                  "夜市摊位占道经营，垃圾遍地，噪音很大", "农贸市场地面湿滑，污水横流",
                  "网上买的商品有质量问题，商家拒绝退货", "酒店在结账时加收了莫名其妙的服务费",
                  "希望规范旅游市场秩序", "美容店诱导消费，办卡后服务缩水"],
    },
}

#: Where departments overlap: a message of the first is often about the second too.
OVERLAPS = {"城乡建设": ["环境保护", "交通运输"], "环境保护": ["城乡建设", "商贸旅游"],
            "交通运输": ["城乡建设", "教育文体"], "劳动和社会保障": ["卫生计生", "教育文体"],
            "教育文体": ["交通运输", "劳动和社会保障"], "卫生计生": ["劳动和社会保障", "商贸旅游"],
            "商贸旅游": ["环境保护", "卫生计生"]}

OPENINGS = ["尊敬的领导：您好！", "各位领导好，", "领导您好！", "您好，", "", "市长您好，", "尊敬的相关部门领导："]
INTROS = ["我是{place}的居民，", "我们是{place}的业主，", "本人住在{place}，", "我家在{place}，",
          "{place}的住户反映一个问题：", "我是一名在{place}生活了十多年的老住户，"]
NOISE = ["这个问题已经存在很长时间了", "之前多次打电话反映，但一直没有得到解决",
         "希望有关部门能够高度重视", "给周边居民的生活带来了极大的不便", "大家对此意见很大",
         "我们也找过社区和街道，都说不归他们管", "网上也有很多人反映过同样的问题",
         "现在天气越来越热，情况越来越严重", "家里有老人和小孩，实在是受不了",
         "请问这种情况到底归哪个部门管", "我们普通老百姓真的很无奈", "我们都是守法的市民",
         "相关单位一直互相推诿扯皮", "事情拖了大半年还是老样子", "希望给我们一个明确的答复",
         "据说还有不少人也遇到了类似的情况", "我们已经向多个部门反映过", "这关系到很多人的切身利益"]
CLOSINGS = ["恳请相关部门尽快解决！谢谢！", "望早日解决，谢谢！", "期待您的回复。", "谢谢领导！",
            "希望能尽快给个说法。", "麻烦领导关注一下，万分感谢！", ""]
SURNAMES = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗"


@dataclass
class BoardRecord:
    """One generated message with its truth."""

    id: str
    user: str
    title: str
    day: date
    body: str
    label: str
    community: str | None    # the district the text names first (truth), None if it names none
    topic: str = ""          # the department the text was written for (the label unless re-routed)

    def export_row(self) -> list[Any]:
        return [self.id, self.user, self.title, f"{self.day.year}/{self.day.month}/{self.day.day}",
                self.body, self.label]


@dataclass
class BoardManifest:
    out: Path
    counts: dict[str, int]


def board_text(rng: random.Random, label: str, place: str | None, other: str | None) -> tuple[str, str]:
    """A title and a long noisy body for a message of department ``label``."""
    matter = MATTERS[label]
    title = rng.choice(matter["titles"])
    if place and rng.random() < 0.4:
        title = f"{place}{title}"
    if rng.random() < 0.2:
        title = rng.choice(["关于", "反映", "投诉", "咨询"]) + title
    target = rng.randint(300, 800)
    parts = [rng.choice(OPENINGS)]
    if place:
        parts.append(rng.choice(INTROS).format(place=place))
    # the matter in a few sentences; the rest is what real messages are full of: the history,
    # the feelings, and often a neighbouring department's matter too
    own = rng.sample(matter["lines"], k=rng.randint(2, 5))
    overlap = rng.choice(OVERLAPS[label])
    borrowed = rng.sample(MATTERS[overlap]["lines"], k=rng.randint(1, 3)) if rng.random() < 0.55 else []
    sentences = own + borrowed
    rng.shuffle(sentences)
    body = "".join(parts)
    pool = list(NOISE)
    rng.shuffle(pool)
    while len(body) < target and (sentences or pool):
        if other and rng.random() < 0.08:
            body += f"我平时在{other}上班，"
            other = None
        if sentences and (not pool or rng.random() < 0.6):
            body += sentences.pop() + rng.choice(["，", "。", "！", "。"])
        else:
            body += pool.pop() + rng.choice(["。", "，", "！"])
        if sentences == [] and len(body) < target and not pool:
            break
    body += rng.choice(CLOSINGS)
    return title, body[:800]


def board_records(n: int, seed: int, start: date = date(2019, 6, 3), weeks: int = 6,
                  prefix: str = "B") -> list[BoardRecord]:
    """``n`` messages over ``weeks`` weeks from ``start``; deterministic by ``seed``."""
    rng = random.Random(seed)
    labels = list(LABELS)
    weights = [0.24, 0.16, 0.13, 0.15, 0.13, 0.1, 0.09]
    codes = list(DISTRICTS)
    out = []
    for i in range(n):
        label = rng.choices(labels, weights)[0]
        code = rng.choice(codes)
        name, estates, roads = DISTRICTS[code]
        r = rng.random()
        if r < 0.55:
            place: str | None = rng.choice(estates)
            if rng.random() < 0.5:
                place = name + place
        elif r < 0.7:
            place = name + rng.choice(roads) + "附近"
        elif r < 0.85:
            place = name
        else:
            place, code = None, None
        other_code = rng.choice([c for c in codes if c != code])
        other = DISTRICTS[other_code][0] if place else None
        title, body = board_text(rng, label, place, other)
        topic = label
        if rng.random() < 0.04:  # a dispatcher routes it elsewhere
            label = rng.choice(OVERLAPS[label])
        day = start + timedelta(days=rng.randrange(weeks * 7))
        user = "A" + "".join(rng.choice("0123456789") for _ in range(9)) if rng.random() < 0.7 \
            else rng.choice(SURNAMES) + "先生"
        out.append(BoardRecord(f"{prefix}{i + 1:05d}", user, title, day, body, label, code, topic))
    return out


def _xlsx(path: Path, records: list[BoardRecord]) -> None:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("留言")
    sheet.append(COLUMNS)
    for r in records:
        sheet.append(r.export_row())
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def district_config() -> dict[str, Any]:
    return {
        "name": "滨海市问政平台",
        "timezone": "Asia/Shanghai",
        "communities": [{"code": code, "name": name, "places": [*estates, *roads]}
                        for code, (name, estates, roads) in DISTRICTS.items()],
    }


def taxonomy_config() -> dict[str, Any]:
    needs = {label: MATTERS[label]["titles"][:4] for label in LABELS}
    return {
        "categories": [{"code": code, "name": name, "group": "department" if served else "unserved",
                        "served": served, "needs": needs[label]}
                       for label, (code, name, served) in LABELS.items()],
        "other": {"code": "other", "name": "其他"},
        "label_map": {label: code for label, (code, _, _) in LABELS.items()},
    }


def supply_config() -> dict[str, Any]:
    offices = {"urban": "住房和城乡建设局", "environment": "生态环境局", "transport": "交通运输局",
               "labour": "人力资源和社会保障局", "education": "教育局", "health": "卫生健康委员会"}
    return {"providers": [
        {"id": f"office_{code}", "name": name, "kind": "政府部门",
         "services": [{"id": f"office_{code}.desk", "name": f"{name}来信办理", "categories": {code: "primary"},
                       "area": "all", "unit": "件", "capacity": 400}]}
        for code, name in offices.items()]}


def channels_config(packaged: dict[str, Any]) -> dict[str, Any]:
    board = {"fields": {"message_id": "留言编号", "user": "留言用户", "title": "留言主题",
                        "received_at": "留言时间", "text": "留言详情"},
             "time_formats": ["%Y/%m/%d"]}
    hotline = {"fields": {"order_id": "留言编号", "title": "留言主题", "received_at": "留言时间",
                          "text": "留言详情"},
               "time_formats": ["%Y/%m/%d"]}
    return {**packaged, "platform": board, "hotline": hotline}


def generate_board(out: Path, records: int = 600, seed: int = 20190603, *,
                   history: int | None = None, packaged_channels: dict[str, Any] | None = None) -> BoardManifest:
    """Write the board district under ``out``: ``platform/`` and ``hotline/`` exports (.xlsx),
    ``training/labelled.xlsx`` (the earlier, labelled messages a model learns from),
    ``configs/`` (district, taxonomy, channels, supply) and ``truth/records.json``."""
    out = Path(out)
    history = history if history is not None else records
    recs = board_records(records, seed)
    platform = [r for n, r in enumerate(recs) if n % 3]
    hotline = [r for n, r in enumerate(recs) if not n % 3]
    _xlsx(out / "platform" / "board_platform.xlsx", platform)
    _xlsx(out / "hotline" / "board_hotline.xlsx", hotline)
    _xlsx(out / "training" / "labelled.xlsx",
          board_records(history, seed + 1, start=date(2019, 1, 7), weeks=20, prefix="T"))
    configs = out / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    for name, data in (("district.yaml", district_config()), ("taxonomy.yaml", taxonomy_config()),
                       ("supply.yaml", supply_config()),
                       ("channels.yaml", channels_config(packaged_channels or {}))):
        (configs / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    truth = {("platform:" if n % 3 else "hotline:") + r.id: {"label": r.label, "community": r.community}
             for n, r in enumerate(recs)}
    (out / "truth").mkdir(exist_ok=True)
    (out / "truth" / "records.json").write_text(json.dumps(truth, ensure_ascii=False, indent=0), encoding="utf-8")
    return BoardManifest(out, {"platform": len(platform), "hotline": len(hotline), "training": history})
