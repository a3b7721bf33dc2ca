"""A tiny labelled corpus for the text-model tests (six categories, templated, reproducible),
and the project's jieba dictionaries."""

from __future__ import annotations

import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERDICT = ROOT / "configs" / "jieba" / "userdict.txt"
STOPWORDS = ROOT / "configs" / "jieba" / "stopwords.txt"

CATEGORIES: dict[str, tuple[list[str], list[str]]] = {
    # code: (needs, context words)
    "elderly_care": (
        ["日间照料", "居家养老", "老年助餐", "全天托老"], ["老人", "独居老人", "照顾", "吃饭"]
    ),
    "property": (
        ["物业管理", "电梯维修", "楼道清洁", "房屋漏水"], ["物业", "电梯", "楼道", "物业费"]
    ),
    "medical_insurance": (["医保报销", "医保卡", "异地就医"], ["看病", "住院", "医院", "药费"]),
    "parking": (["停车位", "乱停车"], ["停车", "车位", "占道", "私家车"]),
    "culture": (["图书借阅", "文体活动", "排练场地"], ["看书", "跳舞", "唱歌", "图书室"]),
    "employment": (["职业介绍", "技能培训", "失业登记"], ["找工作", "招聘会", "岗位", "上班"]),
}
TEMPLATES = [
    "请问{need}怎么办理？{ctx}",
    "{ctx}的问题，希望解决{need}",
    "我们小区{ctx}，想咨询{need}",
    "建议增加{need}，{ctx}",
    "{ctx}，{ctx2}，{need}的事情麻烦回复",
    "你好，反映一下{need}：{ctx}",
]


def toy_corpus(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (text, label) pairs over six categories, balanced, reproducible from ``seed``."""
    rng = random.Random(seed)
    codes = sorted(CATEGORIES)
    out = []
    for i in range(n):
        code = codes[i % len(codes)]
        needs, ctx = CATEGORIES[code]
        text = rng.choice(TEMPLATES).format(
            need=rng.choice(needs), ctx=rng.choice(ctx), ctx2=rng.choice(ctx)
        )
        out.append((text, code))
    rng.shuffle(out)
    return out
