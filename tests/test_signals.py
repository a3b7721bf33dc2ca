"""Urgency and sentiment rules (models.signals): the cases the README states."""

from __future__ import annotations

import pytest

from models.signals import sentiment, urgency


@pytest.mark.parametrize("text", [
    "家里煤气味好大，快来人看看",
    "我母亲在家摔倒了起不来",
    "电梯困在电梯里了，有老人被困",
    "楼上水管爆了，家里进水了",
    "急需临时救助，孩子发高烧",
    "紧急情况，请马上派人",
    "上次楼下有人晕倒了",  # stated limitation: a past event counts
])
def test_urgent(text: str) -> None:
    assert urgency(text)


@pytest.mark.parametrize("text", [
    "请问低保怎么申请？",
    "希望尽快解决停车位的问题，谢谢",  # polite pressure is not urgency
    "麻烦赶紧把楼道清洁落实一下",
    "不急，有空帮我看一下紧急呼叫器",  # negated urgency word
    "过马路太危险，建议加个红绿灯",  # a standing hazard, not an emergency
    "",
])
def test_not_urgent(text: str) -> None:
    assert not urgency(text)


def test_hazard_wins_over_calm_words() -> None:
    assert urgency("不着急，就是家里停电了")


@pytest.mark.parametrize(("text", "polarity"), [
    ("感谢社区的日间照料，服务很周到", 1),
    ("对处理结果很满意，点赞", 1),
    ("物业太不负责了，投诉好几次都没人管", -1),
    ("对处理结果不满意", -1),  # negated praise
    ("服务还不错，但是排队太久了，太不方便", -1),  # the clause after "but" counts double
    ("手续有点麻烦，不过工作人员很耐心", 1),
    ("请问医保卡怎么补办？", 0),
    ("麻烦尽快处理，谢谢，辛苦了", 0),  # courtesy formulas count nothing
    ("不担心，反正也不影响", 0),  # a negated complaint word is neutral
    ("反映好多次了都没人管，真的太不方便了，谢谢", -1),
    ("", 0),
])
def test_sentiment(text: str, polarity: int) -> None:
    assert sentiment(text) == polarity
