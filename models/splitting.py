"""How one feedback record becomes demand items.

A mutual-aid meeting note is a list of demands raised at the meeting: every enumerated point
("1、…2、…", "一是…二是…") is a demand item of its own, as before.

A hotline work order, a platform message or a survey answer is **one** demand item unless it
*plainly lists several demands*. Residents enumerate the facts of one complaint ("一是噪音大，
二是时间长，三是没人管") at least as often as they list separate requests, and splitting the
first kind broke one long message into a dozen fragments that each counted as a demand.
A message plainly lists several demands when it enumerates (at least two enumerators at the
start of a clause, as for meeting notes), has at most ``max_parts`` points, every point is at
least ``min_chars`` long, and either

* it announces a list of demands before the first point ("有以下几个问题：", "提几点建议",
  "两个诉求"), or
* every point asks for something on its own: a request word (希望, 请, 建议, 要求, 能否,
  麻烦, 尽快 …), an action a resident asks for (解决, 处理, 修, 增加, 安装, 整治 …) or a
  question (？, 吗, 怎么, 如何, 哪里 …).

Otherwise the whole text is one item. :func:`split_demands` is pure; the Beam stage calls it.
"""

from __future__ import annotations

import re
from collections.abc import Collection

__all__ = ["DEFAULT_LIST_CHANNELS", "enumerated_parts", "lists_several_demands", "split_demands"]

#: Channels whose records are lists of demands, split at every enumerator.
DEFAULT_LIST_CHANNELS: frozenset[str] = frozenset({"meeting"})

# An enumerator ("1、", "(2)", "三是") counts only at the start or after punctuation, so that
# "唯一是" or a date is never taken for one (the rule the text stage has always used).
_ENUMERATION = re.compile(
    r"(?:^|(?<=[，,；;。：:\s]))(?:[（(]?[1-9一二三四五六七八九][)）、.](?!\d)|[一二三四五六七八九]是)"
)
_TRIM = " ，,；;。\n"
_MIN_PART = 4
# "以下几个问题", "几点建议", "两个诉求", "三件事", "如下问题" ...: the writer says a list follows.
_LIST_LEAD = re.compile(
    r"(?:以下|如下|下面|几|[两二三四五六七八九十多]+)[个点条件项]?"
    r"(?:问题|诉求|建议|意见|需求|事情|事|困难|要求|请求)"
)
_ASKS = re.compile(
    r"希望|请|建议|要求|能否|能不能|可否|可不可以|麻烦|尽快|恳请|盼|呼吁|应该|需要|急需|"
    r"解决|处理|修|维修|更换|增加|增设|加装|安装|设置|整治|清理|清运|改善|加强|完善|落实|"
    r"协调|取消|恢复|开通|开放|退还|赔偿|补贴|办理|申请|管一管|管管|查处|制止|"
    r"[？?]|吗|怎么|如何|哪里|哪儿|什么时候|多久|是否|有没有|啥子"
)


def enumerated_parts(text: str) -> list[str]:
    """The enumerated points of ``text`` (at least two of at least four characters each), or
    ``[text]`` when it does not enumerate. The text before the first point is not a point."""
    marks = list(_ENUMERATION.finditer(text))
    if len(marks) < 2:
        return [text]
    ends = [m.start() for m in marks[1:]] + [len(text)]
    parts = [text[m.end():end].strip(_TRIM) for m, end in zip(marks, ends, strict=True)]
    parts = [p for p in parts if len(p) >= _MIN_PART]
    return parts if len(parts) >= 2 else [text]


def lists_several_demands(text: str, *, max_parts: int = 6, min_chars: int = 6) -> bool:
    """Whether a message plainly lists several demands (the rule of the module docstring)."""
    parts = enumerated_parts(text)
    if len(parts) < 2 or len(parts) > max_parts:
        return False
    if any(len(p) < min_chars for p in parts):
        return False
    first = _ENUMERATION.search(text)
    lead = text[: first.start()] if first else ""
    if _LIST_LEAD.search(lead):
        return True
    return all(_ASKS.search(p) for p in parts)


def split_demands(
    text: str,
    channel: str,
    *,
    list_channels: Collection[str] = DEFAULT_LIST_CHANNELS,
    max_parts: int = 6,
    min_chars: int = 6,
) -> list[str]:
    """The demand items of one record's text: its enumerated points for a list channel
    (meeting notes), else the text whole unless it plainly lists several demands."""
    if channel in list_channels:
        return enumerated_parts(text)
    if lists_several_demands(text, max_parts=max_parts, min_chars=min_chars):
        return enumerated_parts(text)
    return [text]
