"""Issue assignment (models.issues), heat (models.heat) and splitting (models.splitting)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from models.heat import HeatConfig, issue_heat, message_units, rank_hot, summarise_issue
from models.issues import IssueAssigner, IssueConfig, IssueItem, issue_id_for
from models.places import Place
from models.splitting import enumerated_parts, lists_several_demands, split_demands
from tests.hot_issues_support import bcubed

T0 = datetime(2026, 11, 2, 9, 0)
DIM = 24


def _topic(k: int) -> np.ndarray:
    v = np.random.default_rng(1000 + k).standard_normal(DIM)
    return v / np.linalg.norm(v)


def _item(n: int, topic: int, *, hours: float | None = None, place: str | None = None,
          fb: str | None = None, resident: str | None = "r", channel: str = "hotline",
          likes: int = 0, text: str | None = None, noise: float = 0.15, part: int = 1,
          category: str = "property", community: str = "C01") -> IssueItem:
    rng = np.random.default_rng(n)
    v = _topic(topic) + noise * rng.standard_normal(DIM)
    places = (Place("estate", place, f"estate:{place}", 1.0),) if place else ()
    fb = fb or f"F{n}"
    return IssueItem(
        item_id=f"{fb}#{part}", feedback_id=fb, resident=resident, channel=channel,
        received_at=T0 + timedelta(hours=n if hours is None else hours), community=community,
        category=category, text=text or f"话题{topic}第{n}条", tokens=(f"话题{topic}",),
        embedding=v.astype(np.float32), likes=likes, places=places)


def _stream(n: int = 240) -> list[IssueItem]:
    """Six topics at three places over ~20 days, interleaved."""
    out = []
    for k in range(n):
        topic = k % 6
        out.append(_item(k, topic, hours=2 * k, place=("甲", "乙", "丙")[topic % 3]))
    return out


def _emb_only(**kw: object) -> IssueConfig:
    return IssueConfig(token_weight=0.0, embedding_weight=1.0, **kw)


# -- splitting --------------------------------------------------------------------------------


def test_message_that_enumerates_facts_is_one_item() -> None:
    text = "一是噪音很大，二是施工时间很长，三是投诉了没人理"
    assert len(enumerated_parts(text)) == 3
    assert split_demands(text, "hotline") == [text]
    assert split_demands(text, "platform") == [text]


def test_fourteen_point_message_is_one_item() -> None:
    text = "情况说明：" + "".join(f"{k}、第{k}件事情很严重希望解决；" for k in range(1, 10))
    text += "（10）还有很多；"
    assert split_demands(text, "platform") == [text]


def test_message_that_lists_demands_is_split() -> None:
    text = "有两个问题：1、小区电梯坏了，希望尽快维修；2、楼道灯不亮，请物业更换"
    assert lists_several_demands(text)
    assert split_demands(text, "hotline") == ["小区电梯坏了，希望尽快维修", "楼道灯不亮，请物业更换"]
    asks = "1、电梯坏了希望尽快修好；2、路灯能不能修一下？"   # every point asks on its own
    assert len(split_demands(asks, "platform")) == 2


def test_meeting_notes_keep_their_split() -> None:
    text = "居民诉求：1、电梯老化；2、楼道堆物；3、垃圾清运不及时"
    assert split_demands(text, "meeting") == ["电梯老化", "楼道堆物", "垃圾清运不及时"]
    assert split_demands(text, "hotline") == [text]     # facts, no ask: one message


# -- assignment -------------------------------------------------------------------------------


def test_same_order_same_issues_and_ids() -> None:
    items = _stream()
    a = IssueAssigner(_emb_only()).add_many(items)
    b = IssueAssigner(_emb_only()).add_many(items)
    assert a == b
    opened = [r for r in a if r.opened]
    assert {r.issue_id for r in a} == {r.issue_id for r in opened}
    # ids come from the first item of each issue, not from a counter
    by_id = {it.item_id: it for it in items}
    assert all(r.issue_id == issue_id_for(r.item_id, by_id[r.item_id].text) for r in opened)
    assert 6 <= len(opened) <= 12      # six topics × places, a few dormant splits at most


def test_chunks_of_one_and_of_hundred_agree_and_state_round_trips() -> None:
    items = _stream()
    whole = IssueAssigner(_emb_only())
    expected = whole.add_many(items)
    one = IssueAssigner(_emb_only())
    got_one = [r for it in items for r in one.add_many([it])]
    assert got_one == expected
    got, state = [], IssueAssigner(_emb_only()).to_bytes()
    for start in range(0, len(items), 100):     # a "crash" after every chunk: reload state
        a = IssueAssigner.from_bytes(state)
        got += a.add_many(items[start:start + 100])
        state = a.to_bytes()
    assert got == expected
    assert IssueAssigner.from_bytes(state).fingerprint() == whole.fingerprint()


def test_topics_and_places_separate() -> None:
    items = _stream(120)
    res = IssueAssigner(_emb_only()).add_many(items)
    truth = {it.item_id: f"t{int(it.text[2])}" for it in items}
    pred = {r.item_id: r.issue_id for r in res}
    p, r, f = bcubed(pred, truth)
    assert p == 1.0 and f > 0.9


def test_different_named_places_stay_apart_same_place_joins() -> None:
    a = IssueAssigner(_emb_only())
    first = a.add(_item(1, 0, place="阳光"))
    other_place = a.add(_item(2, 0, place="翠湖"))
    same_place = a.add(_item(3, 0, place="阳光", noise=0.9))   # weak text, same place
    assert other_place.opened
    assert not same_place.opened and same_place.issue_id == first.issue_id


def test_category_is_a_hint_not_a_wall() -> None:
    a = IssueAssigner(_emb_only())
    first = a.add(_item(1, 0, place="阳光", category="property"))
    other_cat = a.add(_item(2, 0, place="阳光", category="sanitation"))
    assert other_cat.issue_id == first.issue_id


def test_dormant_issue_does_not_attract() -> None:
    cfg = _emb_only(quiet_days=3)
    a = IssueAssigner(cfg)
    first = a.add(_item(1, 0, hours=0, place="阳光"))
    a.add(_item(2, 5, hours=24 * 3 + 1, place="翠湖"))    # moves the clock past 3 days
    retired = a.pop_retired()
    assert [s.issue_id for s in retired] == [first.issue_id] and not retired[0].live
    again = a.add(_item(3, 0, hours=24 * 3 + 2, place="阳光"))
    assert again.opened and again.issue_id != first.issue_id
    # within the quiet period the same item would have joined
    b = IssueAssigner(cfg)
    first_b = b.add(_item(1, 0, hours=0, place="阳光"))
    assert b.add(_item(3, 0, hours=24 * 2, place="阳光")).issue_id == first_b.issue_id


def test_remove_moves_a_corrected_item() -> None:
    a = IssueAssigner(_emb_only())
    lift = a.add(_item(1, 0, place="阳光"))
    a.add(_item(2, 0, place="阳光"))
    leak = a.add(_item(3, 3, place="阳光", category="sanitation"))
    wrong = a.add(_item(4, 0, place="阳光", fb="F9"))
    assert wrong.issue_id == lift.issue_id
    corrected = _item(4, 3, place="阳光", fb="F9", category="sanitation", text="改正后的内容")
    moved = a.add(corrected)                          # same item id, new content
    assert moved.issue_id == leak.issue_id
    states = {s.issue_id: s for s in a.issues()}
    assert "F9#1" not in states[lift.issue_id].item_ids
    assert states[leak.issue_id].item_ids == ("F3#1", "F9#1")
    assert a.remove("F3#1") == leak.issue_id
    assert a.remove("F3#1") is None
    assert a.remove("F9#1") == leak.issue_id          # last item: the issue goes
    assert leak.issue_id not in {s.issue_id for s in a.issues()}


def test_embedding_dimension_mismatch_is_an_error() -> None:
    a = IssueAssigner(_emb_only())
    a.add(_item(1, 0))
    bad = IssueItem("X#1", "X", None, "hotline", T0, None, None, "x",
                    embedding=np.ones(DIM + 1, dtype=np.float32))
    with pytest.raises(ValueError, match="X#1: embedding of 25 dimensions"):
        a.add(bad)


def test_token_vectors_alone_work() -> None:
    cfg = IssueConfig(token_weight=1.0, embedding_weight=0.0)
    a = IssueAssigner(cfg)
    mk = lambda n, toks, place: IssueItem(  # noqa: E731
        f"F{n}#1", f"F{n}", None, "hotline", T0 + timedelta(hours=n), "C01", "property",
        "", tokens=toks, places=(Place("estate", place, f"estate:{place}", 1.0),))
    x = a.add(mk(1, ("电梯", "坏", "老人"), "阳光"))
    y = a.add(mk(2, ("电梯", "坏", "物业"), "阳光"))
    z = a.add(mk(3, ("电梯", "坏", "老人"), "翠湖"))
    assert y.issue_id == x.issue_id and z.opened


# -- heat -------------------------------------------------------------------------------------


def test_fourteen_fragments_count_as_one_message() -> None:
    parts = [_item(1, 0, fb="LONG", part=k, text=f"第{k}点") for k in range(1, 15)]
    h = issue_heat(parts, T0 + timedelta(hours=2))
    assert h.messages == 1 and h.residents == 1
    single = issue_heat([_item(1, 0, fb="ONE")], T0 + timedelta(hours=2))
    assert h.heat == pytest.approx(single.heat)
    assert rank_hot({"long": h}) == []            # one message is never a hot issue


def test_repost_by_same_resident_counts_once() -> None:
    at = T0 + timedelta(days=3)
    a = _item(1, 0, fb="A", resident="u1", text="阳光小区电梯坏了！")
    repost = _item(30, 0, fb="B", resident="u1", text="阳光小区 电梯坏了")
    other = _item(31, 0, fb="C", resident="u2", text="阳光小区电梯坏了！")
    assert len(message_units([a, repost])) == 1
    assert issue_heat([a, repost], at).messages == 1
    assert issue_heat([a, other], at).messages == 2
    assert issue_heat([a, other], at).heat > issue_heat([a, repost], at).heat


def test_likes_and_spread_add_heat_and_recency_decays_it() -> None:
    at = T0 + timedelta(days=1)
    plain = [_item(1, 0, fb="A", resident="u1", channel="platform"),
             _item(2, 0, fb="B", resident="u2", channel="platform")]
    liked = [plain[0], _item(2, 0, fb="B", resident="u2", channel="platform", likes=50)]
    spread = [plain[0], _item(2, 0, fb="B", resident="u2", channel="hotline")]
    base = issue_heat(plain, at).heat
    cfg = HeatConfig()
    assert issue_heat(liked, at).heat == pytest.approx(
        base + cfg.w_likes * np.log1p(50) * 0.5 ** ((at - liked[1].received_at).days / 7
                                                    + ((at - liked[1].received_at).seconds
                                                       / 86400) / 7), rel=1e-6)
    assert issue_heat(spread, at).heat > base
    later = issue_heat(plain, at + timedelta(days=7)).heat
    assert later == pytest.approx(base / 2, rel=1e-6)   # one half-life later


def test_heat_formula_by_hand() -> None:
    at = T0 + timedelta(days=7)
    items = [_item(0, 0, hours=0, fb="A", resident="u1", channel="hotline"),        # d = 0.5
             _item(1, 0, hours=24 * 7, fb="B", resident="u1", channel="platform", likes=3),
             _item(2, 0, hours=24 * 7, fb="C", resident=None, channel="platform")]   # d = 1
    h = issue_heat(items, at)
    m = 0.5 + 1 + 1
    r = 1 + 1                       # u1 at its latest (1), the anonymous one (1)
    k = 1 * np.log1p(3)
    s = (0.5 + 1) - 1               # hotline's freshest 0.5 + platform's 1 - max 1
    assert h.heat == pytest.approx(m + r + 0.5 * k + s, rel=1e-6)
    assert (h.messages, h.residents, h.likes) == (3, 2, 3)


@pytest.mark.parametrize(("last_week", "this_week", "status"), [
    (2, 8, "growing"), (6, 6, "steady"), (8, 2, "fading"), (6, 8, "steady")])
def test_lifecycle(last_week: int, this_week: int, status: str) -> None:
    at = T0 + timedelta(days=21)
    items = [_item(0, 0, hours=0, fb="OLD")]           # first seen three weeks ago
    items += [_item(100 + k, 0, hours=24 * 8 + k, fb=f"L{k}", resident=f"l{k}")
              for k in range(last_week)]
    items += [_item(200 + k, 0, hours=24 * 15 + k, fb=f"T{k}", resident=f"t{k}")
              for k in range(this_week)]
    h = issue_heat(items, at)
    assert (h.last_window, h.this_window, h.status) == (last_week, this_week, status)
    assert h.trend == this_week - last_week


def test_new_and_dormant() -> None:
    items = [_item(1, 0, hours=0)]
    assert issue_heat(items, T0 + timedelta(days=2)).status == "new"
    assert issue_heat(items, T0 + timedelta(days=15)).status == "dormant"


def test_title_from_central_text_and_keywords() -> None:
    texts = ["你好，阳光小区的电梯又坏了，老人上下楼很难", "阳光小区电梯坏了好几天，谢谢",
             "请问低保怎么办理"]
    toks = [("电梯", "坏", "老人", "上下楼"), ("电梯", "坏", "几天"), ("低保", "办理")]
    embs = [_topic(0), _topic(0) * 0.9 + _topic(1) * 0.1, _topic(5)]
    items = [IssueItem(f"F{k}#1", f"F{k}", f"u{k}", "hotline", T0, "C01", "property", t,
                       tokens=tk, embedding=e.astype(np.float32))
             for k, (t, tk, e) in enumerate(zip(texts, toks, embs, strict=True))]
    s = summarise_issue(items, place_name="阳光小区")
    assert s.central_item in {"F0#1", "F1#1"}
    assert s.keywords[0] == "电梯"
    assert "电梯" in s.title and s.title.startswith("阳光小区")


# -- BCubed -----------------------------------------------------------------------------------


def test_bcubed_by_hand() -> None:
    truth = {"a": "X", "b": "X", "c": "X", "d": "Y", "e": "Y"}
    pred = {"a": "1", "b": "1", "c": "2", "d": "2", "e": "2"}
    p, r, f = bcubed(pred, truth)
    # precision: a,b 2/2; c 1/3; d,e 2/3 -> (1+1+1/3+2/3+2/3)/5
    assert p == pytest.approx((2 + 1 / 3 + 4 / 3) / 5)
    # recall: a,b 2/3; c 1/3; d,e 2/2 -> (2/3+2/3+1/3+1+1)/5
    assert r == pytest.approx((5 / 3 + 2) / 5)
    assert f == pytest.approx(2 * p * r / (p + r))
    assert bcubed(truth, truth) == (1.0, 1.0, 1.0)
