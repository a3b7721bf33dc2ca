"""Phrase material for the demo-district generator (:mod:`minsheng.demo.generate`).

Plain data, no logic. A template is a string with slots in braces:

* ``{name}`` draws from a slot list: first the chosen need's own lists, then the category's,
  then :data:`SHARED`; a few numeric slots (``bld``, ``num``, ``age``...) are drawn by code.
* ``{a|b|c}`` is an inline choice; ``{|a}`` means "a or nothing".
* ``{need}`` is one synonym of the need the text is about (the need stays fixed per text).

Values may contain slots themselves; they are expanded innermost first. The texts are
deliberately mixed: shared words (社区, 服务, 希望, 解决), background clauses shared by related
categories (:data:`FAMILIES`), passing mentions and asides from other categories, vague
follow-ups and a little Chongqing dialect, so that a classifier has real work to do.
"""

from __future__ import annotations

from typing import Any

# Slots available to every category.
SHARED: dict[str, list[str]] = {
    "person": ["我", "我们家", "我爱人", "我邻居", "我们楼的住户", "我们这栋的几户人家", "我和老伴",
               "我们几个邻居", "我们楼栋"],
    "elder": ["我母亲", "我父亲", "我家老人", "隔壁独居老人", "楼下的李大爷", "我们楼的王婆婆", "我外婆",
              "我公公", "我婆婆", "我们单元的张爷爷", "我老伴", "对门的刘孃孃", "我家老爷子"],
    "child": ["我家孩子", "我儿子", "我女儿", "我孙子", "我孙女", "邻居家的小孩", "我外孙"],
    "worker": ["我", "我儿子", "我老公", "我爱人", "我女儿", "我弟弟", "我们家老二", "我侄儿"],
    "place": ["{bld}", "{bld}楼下", "小区门口", "菜市场旁边", "公交站旁边", "幼儿园门口", "小区后门",
              "地下车库", "我们那个老小区", "南坪西路口", "万达广场附近", "社区活动室旁边", "江边步道",
              "学校附近", "农贸市场门口", "小区里面", "还建房那边", "铁路宿舍那一片", "花园路口",
              "步行街背后"],
    "when": ["最近", "这段时间", "这两个月", "上个星期", "好久了", "一直", "这几天", "从上个月开始",
             "半年多了", "今年以来", "这个月"],
    "hope": ["希望", "麻烦", "请", "恳请", "能不能", "想请", "希望能", "盼望"],
    "urge": ["尽快", "早点", "抓紧", "赶紧", "", "及时", "尽早"],
    "complaint": ["反映好多次了都没人管", "打了几次电话都没解决", "真的太不方便了", "大家意见都很大",
                  "拖了好久了", "不要再推来推去了", "一直没有下文", "居民怨气很大",
                  "社区说要上报，结果就没消息了"],
    "thanks": ["谢谢", "辛苦了", "麻烦你们了", "谢谢领导", "感谢", "先谢谢了"],
    "question": ["{need}要准备哪些材料？", "{need}在哪里办理？", "{need}需要满足啥子条件？",
                 "{need}现在还能不能办？", "{need}大概要多久？", "{need}找哪个部门？",
                 "能不能在网上办{need}？", "{need}要收费不？"],
    "ask": ["{hope}{urge}帮忙解决{need}的问题", "{hope}社区帮忙协调一下", "{hope}相关部门重视一下",
            "{hope}给个答复", "{hope}有人来看一下", "{hope}把{need}的事情落实"],
    "community_hint": ["本社区", "这个社区", "{bld}", "老小区", "还建房小区"],
}

# Templates that fit any category: they lean on the category's own slots.
GENERIC_TEMPLATES: list[str] = [
    "{hope}{urge}解决{need}的问题，{problem}。",
    "想咨询一下{need}的事情，{question}",
    "{problem}，{ask}。",
    "{when}{problem}，{complaint}，{ask}。",
    "关于{need}，{ask}，{thanks}。",
    "我是{community_hint}的居民，{problem}，{ask}。",
    "{problem}。{question}",
    "反映一个{need}方面的问题：{problem}，{ask}。",
    "社区服务还是要跟上，{problem}，{ask}。",
]

# Opening and closing phrases per channel style. Hotline texts are call transcripts.
OPENERS: dict[str, list[str]] = {
    "hotline": ["喂，你好，", "你好，", "喂，", "你好，我想反映个事情，", "你好，我是{community_hint}的，",
                "喂，是街道热线吗？", "你好，我想问一下，", "那个，", "你好，就是说，", "喂喂，你好，"],
    "platform": ["街道领导您好：", "尊敬的街道工作人员：", "您好，", "你好，", "请问", "各位领导好，",
                 "社区工作人员你们好，", "求助：", "反映问题："],
    "survey": ["建议", "希望", "", ""],
    "meeting": [""],
}
CLOSERS: dict[str, list[str]] = {
    "hotline": ["谢谢。", "麻烦尽快处理。", "希望社区重视一下。", "好的，谢谢你们。", "就这个事情。",
                "麻烦你们了。", "你们记一下嘛。"],
    "platform": ["谢谢！", "盼复。", "望尽快解决，谢谢！", "期待回复。", "辛苦了！", "请相关部门重视。"],
    "survey": [""],
    "meeting": [""],
}

# Who raises an item at a mutual-aid meeting.
MEETING_REPORTERS: list[str] = ["{bld}居民反映", "{bld}楼栋长反映", "居民代表提出", "王阿姨提出",
                                "李师傅反映", "几位老人反映", "有居民提出", "张孃孃说", "志愿者反映",
                                "{bld}的住户反映", "大家讨论认为"]

# Passing mentions of another category's need: the label stays with the main request.
CONFUSER_PREFIXES: list[str] = [
    "上次{other}的事已经办好了，这次是另一个事，", "我不是问{other}的，", "{other}那边我们已经去问过了，",
    "之前反映的{other}社区已经解决了，谢谢，现在是", "除了{other}以外，还有个事，",
]
CONFUSER_SUFFIXES: list[str] = [
    "另外{other}这块社区做得还可以。", "{other}的事以后再说。", "顺便说一句，{other}倒是没啥子问题。",
]

# Background clauses shared by related categories ("families"): the circumstances residents
# describe overlap far more than their requests do, which is what makes classification hard.
FAMILIES: list[tuple[list[str], list[str]]] = [
    (["elderly_care", "medical_insurance", "subsistence", "social_assistance", "veterans",
      "disability", "social_insurance"],
     ["{elder}八十多岁了，身体一直不好", "家里老人常年吃药", "{elder}一个人住，子女都不在身边",
      "{elder}腿脚不方便，出门要人扶", "老伴去年走了，家里就剩我一个", "{elder}有高血压，还中过风",
      "我们是农转非的老住户，年纪都大了", "{elder}退休金不高，看病花钱多"]),
    (["property", "sanitation", "environment", "public_security", "parking", "emergency"],
     ["我们是老小区，没有电梯也没有像样的物业", "{bld}住的大多是老年人", "小区是九十年代的老房子",
      "我们小区管理一直比较乱", "楼下就是菜市场，人多车多", "还建房小区，好多设施都老化了",
      "{bld}一共七层，住了几十户人"]),
    (["employment", "migrant_workers", "social_insurance", "subsistence", "social_assistance"],
     ["我们是从农村转过来的，没什么文化", "{worker}在外面打零工", "家里两个人都没有稳定工作",
      "我们一家从外地来重庆打工好几年了", "{worker}以前在厂里上班，厂子垮了", "家里收入就靠打零工"]),
    (["daily_life", "culture", "migrant_workers", "emergency", "disability"],
     ["{child}今年上小学了", "家里有两个娃儿", "双职工家庭，平时很忙", "{child}放学以后没人管",
      "周末娃儿在家没得事做"]),
    (["traffic", "parking", "public_security", "sanitation"],
     ["我们这边挨着万达商圈，白天晚上人都多", "路边全是摊摊", "这条路晚上灯很暗",
      "学校门口每天早晚都乱", "这一片外来人员多，车也多"]),
]

# Texts that lean on another category's problem before the real request ({aside} is a
# sibling category's problem), and vague follow-ups whose only cue is the family context.
MIXED: list[str] = [
    "{aside}，这个之前已经反映过了。这次主要是想问{need}的事，{ask}。",
    "{aside}，不过今天打电话主要是为了{need}，{question}",
    "虽然{aside}，但是我最着急的是{need}，{ask}。",
    "{aside}的事先放一下，{need}能不能先帮我解决？",
]
VAGUE: list[str] = [
    "{context}，上次反映的事情到现在还没解决，{hope}给个说法。",
    "{context}，之前打过电话，一直没人回，{hope}有人跟进一下。",
    "{context}，问了好几个地方都说不归他们管，到底找哪个部门？",
    "{context}，这个事情拖了好久了，{complaint}。",
]

# Chongqing dialect swaps, applied now and then to a whole text.
DIALECT: list[tuple[str, str]] = [
    ("怎么", "咋个"), ("什么", "啥子"), ("没有", "莫得"), ("知道", "晓得"), ("不要", "莫"),
    ("这里", "这儿"), ("哪里", "哪儿"), ("孩子", "娃儿"), ("玩", "耍"),
]
DIALECT_TAILS: list[str] = ["嘛", "哦", "噻", "哈", "喔"]

# Personal-data phrasings; {phone} and {id} are filled by code.
PII_PHONE: list[str] = ["我电话{phone}", "联系电话：{phone}", "有事可以打我电话{phone}", "我的手机是{phone}",
                        "回电请打{phone}", "电话{phone}", "我号码是{phone}"]
PII_ID: list[str] = ["身份证号{id}", "我的身份证号是{id}", "身份证号码：{id}", "老人身份证{id}",
                     "证件号{id}"]
ADDRESS_PHRASES: list[str] = ["我住在{addr}，", "我家是{addr}，", "地址是{addr}，", "{addr}这户，"]
ROADS: list[str] = ["南坪西路", "南坪东路", "江南大道", "南城大道", "响水路", "丹龙路", "回龙湾路",
                    "学府大道", "铁路村路", "通江大道", "花园路", "滨江路", "金岸路", "南湖路"]

# Platform titles that fit any category (6-15 characters once filled).
GENERIC_TITLES: list[str] = ["关于{need}的问题", "{need}问题咨询", "反映{need}问题", "求助：{need}",
                             "{need}相关建议", "请尽快解决{need}问题", "咨询{need}的事", "{need}的事谁来管"]

# Follow-up lines of meeting notes: not demands.
MEETING_NEXT: list[str] = [
    "由楼栋长汇总诉求，下周报社区居委会。", "下次会议定于下周三晚上7点在社区活动室召开。",
    "会后联系物业公司负责人到会沟通。", "志愿者分组上门了解具体情况，周五前反馈。",
    "社区工作人员负责对接街道公共服务中心。", "会议记录张贴在楼栋公示栏。",
    "请各楼栋长通知未到会的住户。", "下周由互助会会长向社区书记汇报。",
]

# Off-topic texts (taxonomy.other): praise, weather, chit-chat, wrong numbers.
OTHER: dict[str, list[str]] = {
    "templates": [
        "表扬一下{praised}，{praise}，{thanks}！",
        "感谢{praised}，{praise}。",
        "{praised}{praise}，必须点赞。",
        "请问明天{weather_q}",
        "{chat}",
        "想问一下{unrelated}",
        "打错了，我是想问{unrelated}",
        "没啥子事，{chat}",
    ],
    "praised": ["社区网格员小刘", "公共服务中心的窗口工作人员", "我们社区的书记", "街道的志愿者",
                "社区的张主任", "热线的接线员", "社区医生"],
    "praise": ["上次帮我家老人办事很耐心", "服务态度特别好", "下雨天还专门上门来看我们",
               "办事效率高，一次就办好了", "解释得很清楚", "帮了我们家大忙"],
    "weather_q": ["会不会下雨哦？想出去耍", "气温好多度？", "南坪这边有没有暴雨预警？", "天气咋个样？",
                  "会不会降温？"],
    "chat": ["你们那边今天上班没得？", "就是想找个人说说话，一个人在家闷得很", "你们热线晚上几点下班？",
             "测试一下，看看能不能发出去", "你好，在吗？", "今天天气好好哦，大家出去走走",
             "祝大家国庆快乐！", "随便问问，你们这个平台是做啥子的？"],
    "unrelated": ["去江北机场坐啥子车最快？", "快递单号在哪里查？", "火锅店有没有推荐的？",
                  "银行几点开门？", "彩票中奖去哪里领？", "手机话费咋个充？", "演唱会门票哪里买？"],
    "short": ["你好，在吗", "谢谢你们", "测试", "点赞社区", "打错了"],
    "titles": ["感谢社区工作人员", "表扬热线服务", "咨询一下天气情况", "随便问问", "点赞网格员",
               "节日祝福送给大家"],
}

# Per category: templates (>= 8 each), slot lists, needs (taxonomy needs -> synonyms and
# need-specific slots), very short texts and platform titles. A taxonomy need without an entry
# falls back to its own name.
CATEGORIES: dict[str, dict[str, Any]] = {
    "employment": {
        "templates": [
            "{worker}{months}前从厂里下岗了，一直在家闲起，想问下{need}的事，社区能不能帮忙？",
            "请问街道有没有{need}？{problem}。",
            "{problem}，听说公共服务中心可以办{need}，要带什么材料？",
            "我们是农转非的，{problem}，{hope}街道多组织点{招聘会|技能培训|就业推荐}，帮我们找个活路。",
            "{need}的事情我{when}跑了好几趟了，{hope}劳动就业窗口{urge}给个答复。",
            "家里就靠{worker}一个人挣钱，{problem}，{ask}。",
            "建议社区多开展{免费的职业技能培训|招聘会|就业指导}，{problem}。",
            "{worker}今年{age}岁了，{problem}，{need}有没有年龄限制？",
            "听说有{need}的政策，{question}",
            "{problem}，{hope}社区就业服务站帮忙推荐一下，{thanks}。",
        ],
        "problem": ["年纪大了出去找工作人家都不要", "厂里关门了，现在在家闲起", "找了几个月的工作都没找到",
                    "只会做体力活，工地上活路也少了", "送外卖太辛苦想换个工作"],
        "ask": ["{hope}帮忙推荐一下合适的岗位", "{hope}安排一下{need}", "{hope}告诉我{need}的办理流程",
                "{hope}社区就业服务站联系一下我"],
        "question": ["{need}要去哪里报名？", "{need}需要准备哪些材料？", "{need}年龄有没有限制？",
                     "办{need}要交钱不？", "{need}在公共服务中心哪个窗口办？"],
        "needs": {
            "就业登记": {"syn": ["就业登记", "就业登记手续", "就业创业证"],
                        "problem": ["刚找到工作，单位说要先办就业登记", "换了工作之后就业登记一直没有更新"]},
            "职业介绍": {"syn": ["职业介绍", "介绍工作", "找工作的帮助", "岗位推荐"],
                        "problem": ["{months}了都没找到工作", "想找个离家近的工作照顾老人"]},
            "技能培训": {"syn": ["技能培训", "职业技能培训", "免费培训", "学技术的课程"],
                        "problem": ["想学点技术但是不知道哪里有免费培训", "听说有电工、育婴员培训，不知道怎么报名"]},
            "失业登记": {"syn": ["失业登记", "失业金", "失业保险金"],
                        "problem": ["上个月被单位辞退了", "公司裁员了，想办失业登记领失业金"]},
            "创业扶持": {"syn": ["创业扶持", "创业贷款", "创业补贴", "小额担保贷款"],
                        "problem": ["想在{place}开个小店，缺本钱", "大学毕业想自己创业，缺启动资金"]},
        },
        "short": ["想找份工作", "失业金咋个领", "有没有免费技能培训"],
        "titles": ["求职求助", "下岗再就业咨询", "关于创业贷款的咨询", "技能培训在哪报名"],
    },
    "social_insurance": {
        "templates": [
            "{problem}，{question}",
            "想问一下{need}的事情，{problem}，要带啥子证件？",
            "{problem}，打社保局电话一直占线，{hope}街道帮忙问问。",
            "{elder}腿脚不方便跑，{need}能不能上门办或者代办？",
            "{worker}{problem}，{ask}。",
            "我们农转非的时候说好了{need}有保障，{problem}，{hope}给个说法。",
            "请问公共服务中心能不能办{need}？{problem}。",
            "{when}{problem}，在窗口问了说要回原单位，原单位又说找社区，{ask}。",
            "{need}的政策我们老年人搞不懂，{hope}社区办个讲座讲一下。",
        ],
        "problem": ["手机上操作搞不懂", "材料交了好久都没消息", "窗口排队排了一上午"],
        "ask": ["{hope}帮忙查一下{need}的情况", "{hope}{urge}把{need}办好", "{hope}有人指导一下怎么操作"],
        "needs": {
            "养老保险": {"syn": ["养老保险", "城乡居民养老保险", "养老金", "退休金"],
                        "problem": ["到了退休年龄，养老金还没开始领", "以前在厂里交的养老保险断了几年",
                                    "养老金这个月少发了几百块", "养老保险补缴不晓得咋个算"]},
            "社保缴费": {"syn": ["社保缴费", "交社保", "灵活就业社保", "社保费"],
                        "problem": ["灵活就业人员交社保不知道在哪里交", "社保缴费基数又涨了，交不起了",
                                    "手机上交社保一直提示失败"]},
            "社保转移": {"syn": ["社保转移", "社保关系转移", "转社保"],
                        "problem": ["从外地回来，社保关系转不过来", "在广东交了几年社保，现在想转回重庆"]},
            "社保卡": {"syn": ["社保卡", "第三代社保卡", "社保卡激活", "社保卡补办"],
                      "problem": ["社保卡丢了要补办", "社保卡一直没激活，看病用不了", "老人的社保卡密码忘了"]},
        },
        "short": ["社保卡丢了咋个补", "养老金没到账", "社保断缴了怎么办"],
        "titles": ["社保转移咨询", "养老金发放问题", "社保卡补办求助", "灵活就业交社保"],
    },
    "subsistence": {
        "templates": [
            "{elder}一个人住，{problem}，想申请{need}，{question}",
            "{problem}，{hope}社区帮忙看看能不能办{need}。",
            "我们家{need}的事情{when}没有消息，{complaint}，{ask}。",
            "请问{need}的标准是多少？{problem}。",
            "家里{problem}，{worker}又没得工作，{hope}能纳入低保。",
            "低保复核的时候社区说我们家不符合条件了，{problem}，{hope}重新核实一下。",
            "想咨询{need}的事情，我们是农转非的，{problem}，{question}",
            "{hope}低保帮扶互助会的志愿者来我们家看一下，{problem}。",
            "{problem}，{need}能不能加快一点？{thanks}。",
        ],
        "problem": ["老伴去年走了，就靠一点点退休金过日子", "家里有病人，看病花了好多钱",
                    "两口子都没有固定收入", "房子是还建房，也没别的收入", "孩子还在读书，开销大"],
        "ask": ["{hope}{urge}把{need}批下来", "{hope}社区上门核实一下情况", "{hope}帮忙查一下{need}的进度"],
        "question": ["{need}需要哪些证明材料？", "{need}要审核多久？", "{need}收入标准是咋个算的？"],
        "needs": {
            "低保申请": {"syn": ["低保", "城镇低保", "低保申请", "最低生活保障"],
                        "problem": ["家庭收入低，生活很困难", "身体不好干不了活"]},
            "低保复核": {"syn": ["低保复核", "低保年审", "低保资格复查"],
                        "problem": ["低保复核说我们家超标了，但是实际上收入没有变", "复核要交的材料太多了搞不清楚"]},
            "低保金发放": {"syn": ["低保金", "低保金发放", "低保补助"],
                          "problem": ["这个月的低保金还没到账", "低保金发到哪张卡上不清楚"]},
        },
        "short": ["低保金还没到账", "想申请低保", "低保复核咋个弄"],
        "titles": ["低保申请咨询", "低保金没到账", "关于低保复核的疑问", "困难家庭申请低保"],
    },
    "veterans": {
        "templates": [
            "{elder}是退伍老兵，{problem}，{question}",
            "我是退役军人，{problem}，{hope}退役军人服务站帮帮忙。",
            "{problem}，{ask}。",
            "请问{need}今年有没有调整？{problem}。",
            "{elder}今年{old_age}岁了，听说有{need}，{question}",
            "{need}的事情{when}没办下来，{complaint}，{hope}民政这边跟进一下。",
            "想问一下{need}是按月发还是按季度发，{problem}。",
            "我们是烈士家属，{problem}，{hope}社区关心一下。",
        ],
        "problem": ["身体越来越差，行动不方便", "一直没有人联系我们", "材料交到社区半年了"],
        "ask": ["{hope}{urge}核实一下{need}", "{hope}帮忙问一下{need}的发放情况"],
        "question": ["{need}要到哪里申请？", "{need}需要带哪些证件？", "{need}啥子时候发？"],
        "needs": {
            "优抚金": {"syn": ["优抚金", "优待抚恤金", "抚恤补助"],
                      "problem": ["优抚金今年还没发", "优抚金比去年少了"]},
            "退役军人服务": {"syn": ["退役军人服务", "退役军人优待证", "退役军人就业帮扶"],
                            "problem": ["退役军人优待证还没拿到", "退伍回来想找工作"]},
            "高龄津贴": {"syn": ["高龄津贴", "高龄补贴", "老年人高龄补助"],
                        "problem": ["满了八十岁高龄津贴还没发", "高龄补贴要每年认证，老人走不动"]},
        },
        "short": ["高龄津贴没发", "优抚金啥时候发", "退役军人证咋个办"],
        "titles": ["高龄津贴发放咨询", "退役军人优待证", "优抚金发放问题"],
    },
    "social_assistance": {
        "templates": [
            "{problem}，{hope}街道给点{need}，{thanks}。",
            "{problem}，家里还有老人要照顾，实在困难，想申请{need}。",
            "请问{need}咋个申请？{problem}。",
            "{problem}，{worker}一个人撑不住了，{ask}。",
            "我们家是困难户，{problem}，{question}",
            "听说有{need}，{problem}，不知道我们符不符合条件。",
            "{when}{problem}，{hope}社区帮忙申请{need}，不然过不下去了。",
            "{need}申请了{months}还没批，{problem}，{ask}。",
            "{problem}，社会救助所能不能帮忙？",
        ],
        "problem": ["家里突然出了事", "房子漏雨也没钱修", "孩子上学的钱都凑不齐", "家里老人长期卧床"],
        "ask": ["{hope}{urge}给予{need}", "{hope}帮忙对接一下{need}", "{hope}有人上门了解情况"],
        "question": ["{need}有哪些条件？", "{need}能补助多少？", "{need}找社区还是找街道？"],
        "needs": {
            "临时救助": {"syn": ["临时救助", "临时困难补助", "应急救助金"],
                        "problem": ["家里失火了东西都烧了", "老公突然生病住院了，钱都用完了", "出了车祸欠了一屁股债"]},
            "医疗救助": {"syn": ["医疗救助", "大病救助", "医疗费用救助"],
                        "problem": ["查出来是癌症，医药费太贵了", "透析一个月要好几千，负担不起"]},
            "困难帮扶": {"syn": ["困难帮扶", "困难家庭帮扶", "帮扶慰问"],
                        "problem": ["一家人挤在一间屋里，生活很困难", "残疾加上没工作，生活很困难"]},
        },
        "short": ["家里困难求帮助", "想申请临时救助", "大病救助咋个办"],
        "titles": ["困难家庭求助", "临时救助申请", "大病医疗救助咨询"],
    },
    "medical_insurance": {
        "templates": [
            "{problem}，{question}",
            "{problem}，{hope}医保窗口帮忙看一下，{elder}年纪大了跑不动。",
            "想问一下{need}的事，{problem}。",
            "{need}的流程太复杂了，{problem}，{hope}简化一下。",
            "{problem}，打医保局电话没人接，{ask}。",
            "我们农转非的{need}是不是跟城镇职工不一样？{problem}。",
            "{when}{problem}，{complaint}。",
            "请问{need}可以在社区办吗？{elder}年纪大了跑不动。",
            "{worker}在外地打工，{problem}，{question}",
        ],
        "problem": ["在医院交的钱好多都不能报", "药店刷医保卡刷不起", "住院报销比例太低了"],
        "ask": ["{hope}{urge}办理{need}", "{hope}帮忙查一下{need}进度", "{hope}在社区设个{need}的代办点"],
        "question": ["{need}需要带哪些单据？", "{need}要多久到账？", "{need}在网上咋个办？"],
        "needs": {
            "医保报销": {"syn": ["医保报销", "住院报销", "门诊报销", "慢病报销"],
                        "problem": ["住院的钱交了两个月了还没报下来", "门诊特殊病报销不晓得咋个弄"]},
            "医保卡": {"syn": ["医保卡", "医保电子凭证", "医保卡激活"],
                      "problem": ["医保卡里面的钱用不了", "医保电子凭证老人不会弄", "医保卡丢了"]},
            "异地就医": {"syn": ["异地就医", "异地就医备案", "跨省报销"],
                        "problem": ["要去成都看病，异地就医备案不会弄", "在外地住院了，回来报销说没备案"]},
            "居民医保参保": {"syn": ["居民医保参保", "城乡居民医保", "居民医保缴费", "医保参保"],
                            "problem": ["今年居民医保的钱还没交，不晓得在哪里交", "孙子刚出生，新生儿医保参保要啥子材料"]},
        },
        "short": ["医保卡用不了", "住院报销好久到账", "异地就医咋个备案"],
        "titles": ["医保报销咨询", "异地就医备案求助", "居民医保怎么交", "医保卡激活问题"],
    },
    "culture": {
        "templates": [
            "{hope}文化服务基地{problem}，{ask}。",
            "{problem}，{hope}多开放一些{need}。",
            "我们{group}想借{排练厅|多功能厅|活动室}，{question}",
            "建议社区多组织{文体活动|文艺演出|读书会|书画展览}，{problem}。",
            "文化服务基地的{need}{problem}，{hope}改进一下。",
            "{child}放学了没地方去，{need}能不能周末也开？",
            "{elder}喜欢唱歌跳舞，{problem}，{hope}有个{need}。",
            "{need}的时间安排不合理，{problem}，{ask}。",
            "社区文化活动太少了，{hope}{need}搞起来，丰富一下大家的生活。",
        ],
        "group": ["合唱队", "广场舞队", "川剧票友会", "书法班", "老年模特队", "太极拳队"],
        "problem": ["晚上和周末都不开门", "场地太小了，人一多就挤不下", "预约太麻烦了", "设备老化了"],
        "ask": ["{hope}延长开放时间", "{hope}增加{need}的场次", "{hope}在网上可以预约{need}"],
        "question": ["{need}要咋个预约？", "{need}收不收费？", "{need}周末开不开？"],
        "needs": {
            "图书借阅": {"syn": ["图书借阅", "图书室", "借书", "社区书屋"],
                        "problem": ["图书室的书太旧了，新书很少", "借书只能借两本，时间太短"]},
            "电子阅览": {"syn": ["电子阅览", "电子阅览室", "上网查资料的地方"],
                        "problem": ["电子阅览室的电脑卡得很", "电子阅览室老是关门"]},
            "文体活动": {"syn": ["文体活动", "文艺演出", "体育活动", "广场舞场地"],
                        "problem": ["跳广场舞的地方太少了", "老年人的文体活动太少"]},
            "排练场地": {"syn": ["排练场地", "排练厅", "多功能厅"],
                        "problem": ["排练厅被占了，我们合唱队没地方练", "多功能厅要提前一个月预约"]},
            "展览": {"syn": ["展览", "书画展", "展览厅"],
                    "problem": ["想办个书画展，展览厅不晓得咋个申请", "展览厅一年到头都没啥子展览"]},
        },
        "short": ["图书室啥时候开门", "想借排练厅", "多搞点文艺活动"],
        "titles": ["排练场地预约", "图书室开放时间", "建议多办文体活动", "书画展场地申请"],
    },
    "daily_life": {
        "templates": [
            "{problem}，{hope}社区有{need}的服务。",
            "双职工家庭，{problem}，{ask}。",
            "请问生活服务便民基地有没有{need}？{question}",
            "{problem}，{hope}便民服务热线派个人来，{thanks}。",
            "{when}{problem}，{hope}社区提供{need}。",
            "我们外来务工的，{problem}，{hope}能有便宜点的{need}。",
            "建议在{place}设个{need}点，{problem}。",
            "{need}的收费太贵了，{problem}，{hope}有个公益的。",
            "想问一下{need}咋个预约？{problem}。",
        ],
        "problem": ["上班太忙照顾不过来", "外面的服务太贵了", "打了电话没人来", "不晓得找哪个"],
        "ask": ["{hope}安排一下{need}", "{hope}把{need}的电话公布出来", "{hope}多开几个{need}的名额"],
        "question": ["{need}咋个收费？", "{need}要提前几天预约？", "{need}周末有没有？"],
        "needs": {
            "儿童托管": {"syn": ["儿童托管", "学龄前儿童托管", "四点半课堂", "托管班"],
                        "problem": ["放学早，我们下班晚，娃儿没人接", "暑假娃儿一个人在家不放心"]},
            "青少年培训": {"syn": ["青少年培训", "课外兴趣班", "青少年兴趣培训"],
                          "problem": ["外面的培训班太贵了", "想给娃儿报个书法班，附近没有"]},
            "心理咨询": {"syn": ["心理咨询", "心理疏导", "心理辅导"],
                        "problem": ["孩子中考压力大，情绪不好", "最近失眠、心情很压抑", "家里老人有点抑郁"]},
            "家电维修": {"syn": ["家电维修", "上门修家电", "修空调", "修热水器"],
                        "problem": ["热水器坏了找不到靠谱的师傅", "空调不制冷了，外面维修乱收费"]},
            "衣物洗涤": {"syn": ["衣物洗涤", "洗衣服务", "干洗"],
                        "problem": ["老人洗不动被子", "附近的干洗店关了"]},
            "快递收发": {"syn": ["快递收发", "快递代收", "快递柜", "寄快递"],
                        "problem": ["快递老是放在门口被人拿走了", "小区没有快递柜，取快递要走好远"]},
        },
        "short": ["热水器坏了找谁修", "娃儿没人接", "快递老是丢"],
        "titles": ["儿童托管需求", "家电维修求助", "快递收发不方便", "心理咨询预约", "暑假托管班"],
    },
    "elderly_care": {
        "templates": [
            "{elder}{old_age}岁了，{problem}，{hope}社区{urge}安排{need}。",
            "{elder}一个人住，{problem}，想问一下{need}咋个申请。",
            "{problem}，{ask}。",
            "养老托老服务基地的{need}名额太少了，{problem}，{hope}多增加一些。",
            "{elder}{problem}，我们子女上班照顾不过来，{hope}有{need}。",
            "请问{need}要收好多钱？{elder}{problem}。",
            "{need}排了{months}的队都没排上，{complaint}。",
            "我们社区老年人多，{problem}，建议多开展{need}。",
            "{elder}腿脚不方便，{problem}，{hope}有人上门看看。",
            "想给{elder}申请{need}，{question}",
        ],
        "problem": ["白天家里没人", "身体不好需要人照顾", "有高血压又有糖尿病", "上个月摔了一跤",
                    "记性越来越差了", "子女都在外地"],
        "ask": ["{hope}{urge}安排{need}", "{hope}多增加{need}的床位", "{hope}社区关心一下独居老人",
                "{hope}把{need}的名额分给最需要的老人"],
        "question": ["{need}要啥子条件？", "{need}一个月好多钱？", "{need}在哪里报名？", "{need}有没有补贴？"],
        "needs": {
            "日间托老": {"syn": ["日间托老", "白天托老", "日间照料", "托老所"],
                        "problem": ["白天我们上班，老人一个人在家不放心", "日间照料中心离家太远了"]},
            "全天托老": {"syn": ["全天托老", "全托", "养老院床位", "长期托养"],
                        "problem": ["已经失能了，家里照顾不了", "养老院床位排不上"]},
            "居家养老": {"syn": ["居家养老", "上门照护", "居家养老上门服务", "助浴上门"],
                        "problem": ["行动不便出不了门", "需要有人定期上门量血压"]},
            "老年助餐": {"syn": ["老年助餐", "老年食堂", "助餐点", "送餐上门"],
                        "problem": ["一个人在家饭都懒得煮", "牙口不好，外面的饭吃不动"]},
        },
        "short": ["老人没人照顾", "托老所还有名额没", "老年食堂啥时候开"],
        "titles": ["日间托老名额", "独居老人需要照顾", "老年助餐点建议", "居家养老服务申请", "养老院床位咨询"],
    },
    "property": {
        "templates": [
            "{place}的电梯{when}坏了好几次，{elder}腿脚不方便上下楼很困难，{hope}物业{urge}修好。",
            "我们小区{when}都没得物业管，{problem}，{hope}社区帮忙协调{need}的事情。",
            "{bld}{problem}，物业收了物业费又不管，{complaint}。",
            "{problem}，楼上楼下扯皮，物业也不管，{ask}。",
            "想咨询一下{need}的问题，{problem}，物业推给社区，社区又叫找物业，到底该找哪个？",
            "对小区物业服务很不满意，{problem}，{hope}街道督促物业整改。",
            "物业费每年都在涨，{problem}，{complaint}。",
            "建议成立业主委员会或者物业服务互助会，{problem}，大家意见很大。",
            "请问{need}这种情况归哪个部门管？{problem}。",
            "老小区没有物业，{problem}，{hope}社区牵头解决{need}。",
        ],
        "problem": ["楼道灯坏了好久都没人修", "楼道里堆满杂物没人清理", "外墙瓷砖掉下来了好危险",
                    "门禁坏了外人随便进出", "水管爆了物业半天不来", "物业人员态度很差"],
        "ask": ["{hope}物业{urge}处理{need}", "{hope}社区督促物业整改", "{hope}街道出面协调一下{need}"],
        "question": ["{need}找物业还是找社区？", "{need}的钱哪个出？", "{need}能不能用维修基金？"],
        "needs": {
            "物业管理": {"syn": ["物业管理", "物业服务", "物业公司"],
                        "problem": ["物业公司撤走了，小区没人管", "物业管理混乱，收费不公开"]},
            "电梯维修": {"syn": ["电梯维修", "电梯维保", "电梯检修", "电梯故障"],
                        "problem": ["电梯三天两头停运", "电梯关人了，半个小时都没人来"]},
            "楼道清洁": {"syn": ["楼道清洁", "楼道卫生", "楼梯间打扫"],
                        "problem": ["楼道好久没人打扫了，到处是灰", "楼梯间有人乱堆垃圾，臭得很"]},
            "房屋漏水": {"syn": ["房屋漏水", "屋顶漏水", "楼上渗水", "外墙渗水"],
                        "problem": ["一下雨屋顶就漏水", "楼上卫生间渗水到我家天花板"]},
        },
        "short": ["楼道灯坏了好久了", "电梯又坏了", "物业不作为", "屋顶漏水"],
        "titles": ["电梯经常故障", "物业不作为", "屋顶漏水求助", "楼道卫生差", "老小区没有物业"],
    },
    "disability": {
        "templates": [
            "{dis_person}{problem}，{hope}有{need}。",
            "请问社区有没有{need}？{dis_person}{problem}。",
            "{problem}，{ask}。",
            "建议在{place}增加{need}，{problem}。",
            "{dis_person}想了解一下{need}，{question}",
            "助残的志愿者能不能多来几次？{dis_person}{problem}。",
            "我们是残疾人家庭，{problem}，{hope}社区帮忙对接{need}。",
            "{when}{problem}，{complaint}，{hope}重视{need}。",
        ],
        "dis_person": ["我儿子是聋哑人", "我是肢体残疾", "我老伴中风后", "我们楼有个坐轮椅的",
                       "我女儿是听力残疾", "我家孩子是自闭症"],
        "problem": ["出门很不方便", "跟人交流很困难", "找工作处处碰壁", "康复的费用负担不起"],
        "ask": ["{hope}安排{need}", "{hope}残联和社区帮帮忙", "{hope}有手语翻译志愿者"],
        "question": ["{need}要咋个报名？", "{need}收费不？", "{need}每周几次？"],
        "needs": {
            "聋哑人帮扶": {"syn": ["聋哑人帮扶", "手语服务", "聋哑人就业帮扶"],
                          "problem": ["去医院看病没人翻译手语", "办事窗口没人懂手语"]},
            "康复训练": {"syn": ["康复训练", "康复理疗", "社区康复"],
                        "problem": ["中风后需要康复训练，医院太远了", "康复训练一次要几百块"]},
            "无障碍设施": {"syn": ["无障碍设施", "无障碍通道", "轮椅坡道", "盲道"],
                          "problem": ["小区门口没有坡道，轮椅推不出去", "盲道上停满了车"]},
        },
        "short": ["小区没有无障碍坡道", "需要手语翻译", "康复训练哪里有"],
        "titles": ["无障碍通道建设", "聋哑人求助", "康复训练需求"],
    },
    "migrant_workers": {
        "templates": [
            "我们是外地来打工的，{problem}，{ask}。",
            "{worker}在{place}的工地上干活，{problem}，{hope}在{need}方面帮帮忙。",
            "{problem}，{question}",
            "老板拖欠工资{months}了，{problem}，{hope}街道帮我们讨个说法。",
            "我们农民工{problem}，{hope}有{need}方面的帮扶。",
            "{child}跟着我们在南坪，{problem}，{hope}解决{need}问题。",
            "请问{need}找哪个部门？我们{problem}。",
            "流动人口{problem}，{hope}社区多关心一下我们外来务工人员。",
        ],
        "problem": ["人生地不熟不晓得找哪个", "没有签劳动合同", "住在工棚里条件很差"],
        "ask": ["{hope}在{need}方面帮帮忙", "{hope}给我们农民工做主", "{hope}有公益律师帮帮忙"],
        "question": ["{need}要带啥子证明？", "{need}能不能在社区办？", "{need}要多久？"],
        "needs": {
            "讨要欠薪": {"syn": ["讨要欠薪", "追讨工资", "讨薪", "要回工钱"],
                        "problem": ["干了半年活一分钱没拿到", "包工头跑了，工钱要不到"]},
            "子女入学": {"syn": ["子女入学", "娃儿读书", "随迁子女入学", "转学"],
                        "problem": ["没有本地户口娃儿读书难", "居住证办不下来，娃儿入学报不了名"]},
            "务工技能": {"syn": ["务工技能", "技能提升", "农民工培训"],
                        "problem": ["只会干粗活，想学个手艺", "想考个电焊证，不知道哪里培训"]},
        },
        "short": ["工钱要不到", "娃儿读书报不了名", "农民工培训在哪"],
        "titles": ["农民工讨薪求助", "随迁子女入学", "外来务工人员培训"],
    },
    "emergency": {
        "templates": [
            "{problem}，{hope}社区组织一次{need}。",
            "家里有老人，{problem}，{hope}多搞{need}，教大家咋个应对。",
            "建议在{place}开展{need}，{problem}。",
            "请问应急救援队招不招志愿者？想参加{need}。",
            "{problem}，{question}",
            "上次{place}有人晕倒了，大家都不会急救，{hope}搞个{急救培训|心肺复苏培训}。",
            "我们小区挨着江边，{problem}，{hope}做好{防汛演练|防汛准备}。",
            "{hope}社区配几台自动体外除颤仪，同时开展急救培训，{problem}。",
        ],
        "problem": ["遇到事情大家都慌了", "一下暴雨就担心出事", "老人多，突发情况不会处理"],
        "ask": ["{hope}组织{need}", "{hope}应急救援队来讲一讲"],
        "question": ["{need}咋个报名？", "{need}多久搞一次？", "{need}收不收钱？"],
        "needs": {
            "急救培训": {"syn": ["急救培训", "心肺复苏培训", "应急救护培训"],
                        "problem": ["老人在家突发心脏病不晓得咋个急救", "娃儿吃东西噎着了大人都不会处理"]},
            "防灾演练": {"syn": ["防灾演练", "消防演练", "应急疏散演练", "防汛演练"],
                        "problem": ["去年涨水差点淹到小区", "小区从来没有搞过疏散演练"]},
        },
        "short": ["想学急救", "搞个消防演练嘛", "急救培训啥时候有"],
        "titles": ["急救培训报名", "防汛演练建议", "应急疏散演练"],
    },
    "environment": {
        "templates": [
            "{place}{problem}，{hope}搞好{need}。",
            "{need}搞了好久了，{problem}，{hope}多宣传一下。",
            "{problem}，{ask}。",
            "建议社区组织志愿者开展{need}，{problem}。",
            "我们小区的{need}{problem}，{complaint}。",
            "请问{need}有没有具体要求？{question}",
            "{hope}环保志愿者来小区讲讲{need}，{problem}。",
            "{elder}弄不清楚垃圾分类，{problem}，{hope}有人现场指导。",
        ],
        "problem": ["大家都不太懂", "没人带头", "搞了一阵又回到老样子"],
        "ask": ["{hope}加强{need}", "{hope}垃圾处理互助会的志愿者来指导", "{hope}社区多组织{need}活动"],
        "question": ["{need}咋个分？", "{need}有没有奖励？", "{need}归哪个管？"],
        "needs": {
            "垃圾分类": {"syn": ["垃圾分类", "垃圾分类投放", "厨余垃圾分类"],
                        "problem": ["分类垃圾桶放了但是大家还是乱扔", "不晓得干垃圾湿垃圾咋个分"]},
            "绿化养护": {"syn": ["绿化养护", "小区绿化", "树木修剪", "草坪养护"],
                        "problem": ["树长得太高挡住了阳光", "绿化带被人种了菜", "草坪都枯死了"]},
        },
        "short": ["垃圾分类不会分", "树该修剪了", "绿化带被毁了"],
        "titles": ["垃圾分类宣传", "小区绿化养护", "树木修剪申请"],
    },
    "parking": {
        "templates": [
            "{place}{problem}，{hope}{urge}解决{need}问题。",
            "小区停车的问题，{problem}，{complaint}。",
            "{problem}，{ask}。",
            "请问{need}的问题该找哪个？{problem}。",
            "晚上回来根本找不到车位，{problem}，{hope}规划一下。",
            "{place}天天有人{park_issue}，{hope}管一下。",
            "建议在{place}增加{停车位|临时停车位|非机动车停放点}，{problem}。",
            "{when}{place}{park_issue}，消防通道都堵了，{complaint}。",
        ],
        "park_issue": ["乱停车", "把车停在人行道上", "占用消防通道停车", "把车停在单元门口"],
        "problem": ["车位太少了", "外面的车开进来占位", "停车费太贵了", "救护车都开不进来"],
        "ask": ["{hope}交巡警来管一管", "{hope}社区协调一下{need}的问题", "{hope}物业把停车秩序管起来"],
        "question": ["{need}归交警管还是物业管？", "{need}能不能租？"],
        "needs": {
            "停车位": {"syn": ["停车位", "车位", "停车场", "临时停车位"],
                      "problem": ["小区几百户人只有几十个车位", "周边的停车场都满了"],
                      "ask": ["{hope}多规划一些{need}", "{hope}把闲置的地改成{need}"]},
            "乱停车": {"syn": ["乱停车", "违停", "乱停乱放"],
                      "problem": ["车子乱停把路都堵死了", "电瓶车乱停在楼道口"],
                      "ask": ["{hope}{urge}整治{need}", "{hope}贴罚单管一管{need}"]},
        },
        "short": ["停车位太少了", "门口天天乱停车", "车位不够"],
        "titles": ["小区停车难", "乱停车问题", "增加停车位建议"],
    },
    "public_security": {
        "templates": [
            "{place}{problem}，{hope}{urge}处理。",
            "{when}{problem}，{elder}吓得不敢一个人在家，{ask}。",
            "{problem}，{complaint}，{hope}派出所和社区管一下。",
            "请问{need}的问题找哪个？{problem}。",
            "{place}{problem}，{hope}加强巡逻。",
            "建议在{place}装监控，{problem}。",
            "{bld}{problem}，物业说管不了，{hope}社区出面。",
            "{problem}，投诉了好几次都没用，{question}",
        ],
        "problem": ["晚上路灯不亮，走路害怕", "小区监控好多都是坏的", "陌生人随便进出"],
        "ask": ["{hope}加强{need}方面的管理", "{hope}民警来看一下", "{hope}多安排巡逻"],
        "question": ["{need}到底归哪个管？", "{need}能不能罚款？"],
        "needs": {
            "偷盗": {"syn": ["偷盗", "盗窃", "小偷", "电瓶车被偷"],
                    "problem": ["电瓶车被偷了两回了", "楼下有人家被撬门了", "晾在外面的衣服都被偷"]},
            "噪音扰民": {"syn": ["噪音扰民", "噪音", "半夜吵闹"],
                        "problem": ["楼下烧烤摊半夜还在吵", "装修一天到晚电钻响", "广场舞音响开得太大声了"]},
            "消防隐患": {"syn": ["消防隐患", "飞线充电", "消防通道堵塞"],
                        "problem": ["有人在楼道飞线给电瓶车充电", "楼道里堆满了纸箱，消防栓也是坏的"]},
        },
        "short": ["电瓶车又被偷了", "半夜好吵", "楼道飞线充电"],
        "titles": ["噪音扰民投诉", "电瓶车被盗", "消防隐患举报", "小区治安差"],
    },
    "traffic": {
        "templates": [
            "{place}{problem}，{hope}{urge}改善。",
            "{need}这块建议改一下，{problem}，{ask}。",
            "{problem}，{complaint}。",
            "{elder}每天要去医院，{problem}，{hope}交通部门想想办法。",
            "请问{need}的事情找哪个部门？{problem}。",
            "{child}上学要过{place}，{problem}，{hope}加个红绿灯。",
            "{when}{place}{problem}，{hope}交通部门来看一下。",
            "我们这片{problem}，{hope}解决{need}问题。",
        ],
        "problem": ["上下班高峰堵得走不动", "车开得太快，过马路太危险", "公交车要等半个小时"],
        "ask": ["{hope}优化{need}", "{hope}交巡警在高峰期疏导一下", "{hope}交通部门{urge}解决"],
        "question": ["{need}能不能调整？", "{need}归哪个管？"],
        "needs": {
            "公交线路": {"syn": ["公交线路", "公交车", "社区巴士", "公交站点"],
                        "problem": ["没有直达医院的公交", "末班车太早了", "公交站离小区太远"]},
            "道路拥堵": {"syn": ["道路拥堵", "堵车", "交通拥堵"],
                        "problem": ["万达那边每天都堵", "学校门口接送娃儿的车把路堵死了"]},
            "人行道": {"syn": ["人行道", "斑马线", "过街天桥", "红绿灯"],
                      "problem": ["人行道的地砖翘起来了", "人行道被摊贩占了", "路口没有斑马线"]},
        },
        "short": ["路口太堵了", "公交太少", "人行道坏了"],
        "titles": ["公交线路优化建议", "路口拥堵", "人行道破损", "增设斑马线"],
    },
    "sanitation": {
        "templates": [
            "{place}{problem}，{hope}{urge}清理。",
            "{when}{problem}，臭得很，{complaint}。",
            "{problem}，{ask}。",
            "夏天到了，{place}{problem}，蚊子苍蝇好多，{hope}处理一下。",
            "请问{need}的问题找环卫还是找社区？{problem}。",
            "{bld}楼下{problem}，{elder}闻到就咳嗽，{hope}管一管。",
            "建议{place}加强{need}的治理，{problem}。",
            "{place}{problem}，环卫工人好久才来一次，{ask}。",
        ],
        "problem": ["垃圾堆成山了没人收", "下水道堵了污水漫到路上", "餐馆的油烟直接排到居民窗户"],
        "ask": ["{hope}{urge}处理{need}的问题", "{hope}环卫部门来处理", "{hope}加强{need}整治"],
        "question": ["{need}哪个负责？", "{need}多久清一次？"],
        "needs": {
            "垃圾清运": {"syn": ["垃圾清运", "垃圾收运", "清运垃圾", "建筑垃圾清运"],
                        "problem": ["垃圾桶满了好几天都没人收", "装修垃圾乱堆在路边"]},
            "污水": {"syn": ["污水", "下水道", "化粪池", "污水管"],
                    "problem": ["化粪池满了往外冒", "下水道反味，家里都是臭的"]},
            "油烟": {"syn": ["油烟", "油烟污染", "油烟扰民"],
                    "problem": ["楼下火锅店的油烟熏得窗子都打不开", "烧烤摊的烟飘到楼上"]},
        },
        "short": ["垃圾没人收", "下水道堵了", "油烟太大"],
        "titles": ["垃圾清运不及时", "下水道堵塞", "餐馆油烟扰民", "污水外溢"],
    },
}

# Follow-up relevance of each mutual-aid group: category weights of its meeting items.
MEETING_GROUPS: dict[str, dict[str, float]] = {
    "物业服务互助会": {"property": 6, "parking": 1.5, "public_security": 1, "sanitation": 1},
    "垃圾处理互助会": {"sanitation": 4, "environment": 4, "property": 1},
    "楼栋互助会": {"property": 2, "elderly_care": 2, "public_security": 1, "daily_life": 1.5,
                  "parking": 1, "disability": 0.5},
    "文化兴趣互助会": {"culture": 6, "daily_life": 1, "elderly_care": 1},
    "低保帮扶互助会": {"subsistence": 4, "social_assistance": 3, "medical_insurance": 2,
                      "elderly_care": 1.5, "employment": 1},
}
