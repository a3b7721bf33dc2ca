"""Urgency and sentiment of a resident's text: small lexicon rules, no learned state.

Both functions read the raw (PII-masked) text, not jieba tokens: the stop-word list removes
negators such as "没有" that these rules need, and a lexicon hit inside a longer word is
avoided by keeping the lexicons to unambiguous multi-character terms.

**Urgency** (:func:`urgency`): a text is urgent when it names an acute hazard to people or
homes (gas leak, fire, someone fallen or missing, stuck in a lift, no water or power, …), or
uses an explicit urgency word (紧急, 急需, 马上, 立刻, 救命, …) that is not negated
("不急", "不着急" cancel the urgency words, never a hazard). Polite pressure such as
"尽快", "赶紧" or "及时" alone is not urgency: residents attach it to nearly every request.
The rules cannot tell a past event from a present one ("上次有人晕倒了" counts).

**Sentiment** (:func:`sentiment`): -1, 0 or +1, the sign of a lexicon score. Each praise term
counts +1 and each complaint term -1; a praise term with a negator in the two characters
before it ("不满意", "没有处理及时") counts -1, a negated complaint term ("不担心") 0;
terms after the last contrast word (但是, 可是, 不过, …) count double, because the clause
after "but" carries the writer's point. Courtesy formulas (谢谢, 辛苦了, 麻烦你们了) count
nothing: they close complaints as often as praise. A plain request or question with neither
kind of term is 0.
"""

from __future__ import annotations

import re

__all__ = ["sentiment", "urgency"]


def _alternation(words: list[str]) -> str:
    # Longest first, so that "不满意" wins over "满意" at the same position.
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_HAZARDS = [
    "着火", "起火", "失火", "火灾", "冒烟", "燃气泄漏", "煤气泄漏", "天然气泄漏", "煤气味", "燃气味",
    "漏电", "触电", "电线起火", "爆管", "水管爆", "水管破裂", "倒塌", "坍塌", "垮塌", "塌方",
    "掉下来砸", "砸伤", "摔倒", "跌倒", "晕倒", "昏倒", "昏迷", "不省人事", "受伤", "流血",
    "走失", "失踪", "找不到人", "困在电梯", "关在电梯", "被困", "溺水", "轻生", "自杀", "跳楼",
    "打架", "斗殴", "家暴", "持刀", "停水", "停电", "断水", "断电", "没水用", "没电用",
    "淹水", "内涝", "进水了", "倒灌", "中风", "发高烧", "断顿", "没饭吃",
]
_URGENT_WORDS = [
    "紧急", "十万火急", "火急", "急需", "急用", "急着", "急得", "救命", "马上", "立刻", "立即",
    "刻不容缓", "等不及", "迫在眉睫", "危及", "人命关天", "今天之内",
]
_NOT_URGENT = ["不急", "不着急", "不用急", "不用着急", "不紧急", "不算急", "不太急", "不是很急",
               "不赶时间"]

_HAZARD = re.compile(_alternation(_HAZARDS))
_URGENT = re.compile(_alternation(_URGENT_WORDS))
_CALM = re.compile(_alternation(_NOT_URGENT))

_PRAISE = [
    "满意", "点赞", "好评", "表扬", "称赞", "赞扬", "感激", "感恩", "很好", "挺好", "真好", "不错",
    "方便多了", "好多了", "改善了", "解决了", "很及时", "非常及时", "处理及时", "回复及时", "热情",
    "耐心", "周到", "细致", "用心", "负责任", "尽心", "暖心", "贴心", "给力", "高效", "受益", "开心",
    "高兴",
    "帮了大忙", "值得肯定", "为民办实事",
]
_COMPLAINT = [
    "不满", "投诉", "太差", "很差", "极差", "糟糕", "失望", "生气", "愤怒", "气愤", "无语", "烦死",
    "受不了", "忍无可忍", "没人管", "无人管", "不管不问", "推诿", "推来推去", "踢皮球", "扯皮",
    "敷衍", "拖延", "拖了", "没有下文", "没下文", "石沉大海", "没人理", "不作为", "乱作为",
    "乱收费", "怨气", "意见很大", "意见大", "太不方便", "不负责", "不像话", "太过分", "过分",
    "欺负", "恶劣", "态度差", "态度不好", "没解决", "没有解决", "都没用", "白交", "寒心", "不到位",
    "害怕", "担心", "焦虑", "着急", "闹心", "心烦", "臭得很", "吵得", "脏乱差",
]
_COURTESY = ["谢谢", "感谢", "辛苦了", "麻烦你们了", "麻烦了", "先谢谢"]
_NEGATORS = frozenset("不没未无别非")
_CONTRAST = re.compile(r"但是|可是|不过|然而|只是|但")

_POLARITY = {**{w: 1 for w in _PRAISE}, **{w: -1 for w in _COMPLAINT}, **{w: 0 for w in _COURTESY}}
# Courtesy formulas are matched (and scored 0) so that e.g. "感谢" is never read as praise.
_LEXICON = re.compile(_alternation(list(_POLARITY)))


def urgency(text: str) -> bool:
    """Whether a resident's text reports an urgent need (see the module docstring)."""
    if _HAZARD.search(text):
        return True
    return bool(_URGENT.search(text)) and not _CALM.search(text)


def sentiment(text: str) -> int:
    """The writer's polarity: -1 dissatisfied, 0 neutral, +1 satisfied (see the module
    docstring)."""
    pivot = max((m.end() for m in _CONTRAST.finditer(text)), default=0)
    score = 0
    for m in _LEXICON.finditer(text):
        polarity = _POLARITY[m.group()]
        if polarity and _NEGATORS.intersection(text[max(0, m.start() - 2) : m.start()]):
            polarity = -1 if polarity > 0 else 0
        score += polarity * (2 if pivot and m.start() >= pivot else 1)
    return (score > 0) - (score < 0)
