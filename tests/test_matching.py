from collections import Counter

from hypothesis import given, settings, strategies as st

from minsheng.matching import Demand, Slot, greedy_match


def _slots():
    return [
        Slot("day_care", {"elderly_care": "primary"}, frozenset({"C03", "C04"}), 2),
        Slot("ngo_help", {"elderly_care": "secondary", "disability": "primary"}, frozenset({"C03"}), 1),
        Slot("centre", {"subsistence": "primary"}, frozenset({"C01", "C03"}), 5),
    ]


def test_hand_checked_instance():
    demands = [
        Demand("a", "C03", "elderly_care", order="1"),
        Demand("b", "C03", "elderly_care", order="2"),
        Demand("c", "C03", "elderly_care", order="3"),
        Demand("d", "C03", "elderly_care", order="4"),
        Demand("e", "C05", "subsistence"),
        Demand("f", "C01", "parking"),
        Demand("g", "C01", "other"),
        Demand("h", "C04", "elderly_care", priority=2, order="9"),
    ]
    got = {m.item_id: m for m in greedy_match(demands, _slots())}
    # h has priority and takes a day-care place first; a takes the other; b falls back to
    # the NGO's secondary fit; c and d find no capacity left.
    assert got["h"].service_id == "day_care" and got["a"].service_id == "day_care"
    assert got["b"].service_id == "ngo_help" and got["b"].fit == "secondary" and got["b"].cost == 2.0
    assert {got["c"].reason, got["d"].reason} == {"no_capacity"}
    assert got["e"].reason == "out_of_area"
    assert got["f"].reason == "no_provider"
    assert got["g"].reason == "unclassified"


communities = st.sampled_from(["C01", "C02", "C03"])
categories = st.sampled_from(["a", "b", "c"])


@settings(max_examples=60, deadline=None)
@given(
    demands=st.lists(st.tuples(communities, categories, st.integers(0, 3)), max_size=60),
    slots=st.lists(
        st.tuples(st.dictionaries(categories, st.sampled_from(["primary", "secondary"]), min_size=1),
                  st.frozensets(communities, min_size=1), st.integers(0, 8)),
        max_size=6,
    ),
)
def test_properties(demands, slots):
    ds = [Demand(f"i{n}", c, cat, p) for n, (c, cat, p) in enumerate(demands)]
    ss = [Slot(f"s{n}", cats, area, cap) for n, (cats, area, cap) in enumerate(slots)]
    results = greedy_match(ds, ss)
    assert sorted(m.item_id for m in results) == sorted(d.item_id for d in ds)  # every item decided once
    used = Counter(m.service_id for m in results if m.status == "matched")
    caps = {s.service_id: s.capacity for s in ss}
    assert all(used[s] <= caps[s] for s in used)  # no capacity exceeded
    by_id = {d.item_id: d for d in ds}
    slot = {s.service_id: s for s in ss}
    for m in results:
        d = by_id[m.item_id]
        if m.status == "matched":
            assert d.category in slot[m.service_id].categories and d.community in slot[m.service_id].area
        else:
            assert m.reason in {"no_provider", "out_of_area", "no_capacity"}
            if m.reason == "no_capacity":  # an unmet item with a reachable service means it was full
                reachable = [s for s in ss if d.category in s.categories and d.community in s.area]
                assert reachable and all(used[s.service_id] == s.capacity for s in reachable)
    assert greedy_match(ds, ss) == results  # deterministic, and the inputs are not consumed
