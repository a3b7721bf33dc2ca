"""The matching core: hand-checked instances with known optimum, and properties on random
instances checked against an independent LP (scipy HiGHS, one variable per item and service)."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.optimize import linprog

from minsheng.matching import (
    REASONS,
    CapacityChange,
    CostModel,
    Demand,
    Eligibility,
    Slot,
    apply_changes,
    match_greedy,
    match_optimal,
    what_if,
)

ELDERLY = Eligibility(min_age=60)
HUKOU = Eligibility(resident_types=frozenset({"户籍居民"}))


def _by_id(result):
    return {m.item_id: m for m in result.matches}


def test_optimum_beats_greedy_by_using_the_secondary_fit():
    # a can use the day-care centre or the NGO; b only the centre. Greedy gives a the centre
    # (cheaper) and leaves b unmet: 1 + 10. The optimum sends a to the NGO: 2 + 1.
    slots = [Slot("centre", {"elderly_care": "primary"}, frozenset({"C01", "C02"}), 1),
             Slot("ngo", {"elderly_care": "secondary"}, frozenset({"C01"}), 1)]
    demands = [Demand("a", "C01", "elderly_care", order="1"), Demand("b", "C02", "elderly_care", order="2")]
    best = match_optimal(demands, slots)
    assert best.objective.total == 3.0 and best.objective.unmet == 0
    got = _by_id(best)
    assert (got["a"].service_id, got["a"].fit, got["a"].fit_cost) == ("ngo", "secondary", 2.0)
    assert got["b"].service_id == "centre"
    assert match_greedy(demands, slots).objective.total == 11.0


def test_vulnerable_and_urgent_items_are_served_first():
    slots = [Slot("daycare", {"elderly_care": "primary"}, frozenset({"C03"}), 2)]
    demands = [Demand("early", "C03", "elderly_care", order="1"),
               Demand("alone", "C03", "elderly_care", "elderly_alone", 2.0, order="5"),
               Demand("urgent", "C03", "elderly_care", "urgent", 1.5, order="6")]
    got = _by_id(match_optimal(demands, slots))
    assert got["alone"].status == got["urgent"].status == "matched"
    assert got["early"].reason == "no_capacity" and got["early"].unmet_cost == 10.0
    assert got["alone"].priority == "elderly_alone" and got["alone"].weight == 2.0


def test_travel_cost_prefers_the_nearer_site_and_is_recorded():
    costs = CostModel(travel={("C01", "C03"): 1.0, ("C03", "C01"): 1.0})
    slots = [Slot("far", {"culture": "primary"}, frozenset({"C01", "C03"}), 5, location="C03"),
             Slot("near", {"culture": "primary"}, frozenset({"C01", "C03"}), 1, location="C01")]
    demands = [Demand("x", "C01", "culture", order="1"), Demand("y", "C01", "culture", order="2")]
    got = _by_id(match_optimal(demands, slots, costs))
    # one goes to the near site, the other travels: the earlier arrival gets the cheaper place
    assert (got["x"].service_id, got["x"].travel_cost, got["x"].cost) == ("near", 0.0, 1.0)
    assert (got["y"].service_id, got["y"].travel_cost, got["y"].cost) == ("far", 1.0, 2.0)


def test_every_unmet_item_has_its_reason():
    slots = [Slot("daycare", {"elderly_care": "primary"}, frozenset({"C03", "C04"}), 1, eligibility=ELDERLY),
             Slot("dibao", {"subsistence": "primary"}, frozenset({"C01", "C03"}), 5, eligibility=HUKOU)]
    demands = [Demand("full1", "C03", "elderly_care", age=70, order="1"),
               Demand("full2", "C03", "elderly_care", order="2"),
               Demand("young", "C03", "elderly_care", age=45),
               Demand("far", "C05", "subsistence"),
               Demand("migrant", "C01", "subsistence", resident_type="流动人口"),
               Demand("local", "C01", "subsistence", resident_type="户籍居民"),
               Demand("park", "C01", "parking"),
               Demand("what", "C01", "other")]
    got = _by_id(match_optimal(demands, slots))
    assert got["full1"].service_id == "daycare" and got["full2"].reason == "no_capacity"
    assert got["young"].reason == "ineligible"  # a stated age under the minimum rules it out
    assert got["far"].reason == "out_of_area"
    assert got["migrant"].reason == "ineligible" and got["local"].status == "matched"
    assert got["park"].reason == "no_provider" and got["what"].reason == "unclassified"
    assert _by_id(match_greedy(demands, slots))["young"].reason == "ineligible"


def test_fairness_shares_a_scarce_service_between_communities():
    # One service sited in C01, 15 places; C01 has 20 waiting, C02 10 (a step away). Cheapest
    # is to serve C01 only: unmet shares 25% and 100% against a district 50%. With a 10-point
    # margin C02 may keep at most 6 unmet, so 4 of its items are served, from C01's share.
    costs = CostModel(travel={("C02", "C01"): 0.5, ("C01", "C02"): 0.5}, fairness_margin=0.10)
    slots = [Slot("hall", {"culture": "primary"}, frozenset({"C01", "C02"}), 15, location="C01")]
    demands = ([Demand(f"a{i:02d}", "C01", "culture", order=f"{i:02d}") for i in range(20)]
               + [Demand(f"b{i:02d}", "C02", "culture", order=f"{i:02d}") for i in range(10)])
    result = match_optimal(demands, slots, costs)
    served = Counter(d.community for d, m in zip(demands, result.matches) if m.status == "matched")
    assert served == {"C01": 11, "C02": 4}
    assert result.objective.total == 11 * 1.0 + 4 * 1.5 + 15 * 10.0
    assert not any(f.exceeds for f in result.fairness)
    unfair = match_optimal(demands, slots, CostModel(travel=costs.travel))
    assert Counter(d.community for d, m in zip(demands, unfair.matches) if m.status == "matched") == {"C01": 15}


def test_a_community_that_capacity_cannot_help_is_reported_with_the_reason():
    costs = CostModel(fairness_margin=0.10)
    slots = [Slot("c01_group", {"property": "primary"}, frozenset({"C01"}), 5),
             Slot("c02_group", {"property": "primary"}, frozenset({"C02"}), 1)]
    demands = ([Demand(f"a{i}", "C01", "property") for i in range(5)]
               + [Demand(f"b{i}", "C02", "property") for i in range(5)])
    result = match_optimal(demands, slots, costs)
    rows = {f.community: f for f in result.fairness}
    assert rows["C02"].exceeds and rows["C02"].unmet_share == 0.8 and rows["C02"].district_share == 0.4
    assert rows["C02"].why == "property: 4 unmet; only local services, all full (c02_group)"
    assert not rows["C01"].exceeds


def test_capacity_value_of_a_full_and_an_idle_service():
    slots = [Slot("full", {"culture": "primary"}, frozenset({"C01"}), 1),
             Slot("idle", {"culture": "primary"}, frozenset({"C02"}), 3)]
    demands = [Demand("a", "C01", "culture", order="1"),
               Demand("b", "C01", "culture", "disabled", 2.0, order="2"),
               Demand("c", "C02", "culture")]
    values = {v.service_id: v for v in match_optimal(demands, slots).capacity_values}
    # the one place went to b (weight 2); one more would serve a: saves 10 - 1
    assert (values["full"].value, values["full"].waiting, values["full"].community) == (9.0, 1, "C01")
    assert (values["idle"].value, values["idle"].waiting) == (0.0, 0)


def test_what_if_adds_a_site_in_one_community():
    slots = [Slot("daycare", {"elderly_care": "primary"}, frozenset({"C03", "C04"}), 1, eligibility=ELDERLY)]
    demands = [Demand(f"{c}{i}", c, "elderly_care", order=str(i)) for c in ("C03", "C04") for i in range(3)]
    result = what_if(demands, slots, [CapacityChange.parse("daycare@C03:+20")])
    assert result.before.matched == 1 and result.after.matched == 4
    assert {(c.community, c.matched_after - c.matched_before) for c in result.cells} == {("C03", 3)}
    site = next(s for s in apply_changes(slots, [CapacityChange.parse("daycare@C03:+20")]) if "@" in s.service_id)
    assert (site.area, site.capacity, site.location, site.eligibility) == (frozenset({"C03"}), 20, "C03", ELDERLY)


@pytest.mark.parametrize("spec", ["daycare", "daycare:+x", "daycare@C03:-2", "daycare+2"])
def test_what_if_spec_must_be_readable(spec):
    with pytest.raises(ValueError):
        CapacityChange.parse(spec)


def test_unmet_cost_must_exceed_the_dearest_match():
    with pytest.raises(ValueError, match="unmet cost"):
        CostModel(unmet=2.5, travel={("C01", "C02"): 1.0})


# --- properties on random instances ----------------------------------------------------------

COMMUNITIES = ["C01", "C02", "C03"]
TRAVEL = {(a, b): 0.5 * abs(int(a[2]) - int(b[2])) for a in COMMUNITIES for b in COMMUNITIES if a != b}
RULES = [Eligibility(), ELDERLY, HUKOU]

items = st.tuples(st.sampled_from(COMMUNITIES), st.sampled_from(["a", "b", "c", "other"]),
                  st.sampled_from([1.0, 1.5, 2.0]), st.sampled_from([None, 30, 70]),
                  st.sampled_from([None, "户籍居民", "流动人口"]))
services = st.tuples(st.dictionaries(st.sampled_from(["a", "b", "c"]), st.sampled_from(["primary", "secondary"]),
                                     min_size=1),
                     st.frozensets(st.sampled_from(COMMUNITIES), min_size=1), st.integers(0, 6),
                     st.sampled_from([None, *COMMUNITIES]), st.sampled_from(range(len(RULES))))
instances = st.tuples(st.lists(items, max_size=40), st.lists(services, max_size=5))


def _instance(raw):
    its, svs = raw
    ds = [Demand(f"i{n:02d}", c, cat, "p" if w > 1 else "normal", w, age, rt, order=f"{n % 7}")
          for n, (c, cat, w, age, rt) in enumerate(its)]
    ss = [Slot(f"s{n}", cats, area, cap, loc, RULES[r]) for n, (cats, area, cap, loc, r) in enumerate(svs)]
    return ds, ss


def _lp_optimum(ds, ss, costs):
    """The same problem as an LP over items, written independently of the solver's network."""
    if not ds:
        return 0.0
    pairs = [(i, j) for i, d in enumerate(ds) for j, s in enumerate(ss)
             if d.category in s.categories and d.community in s.area
             and s.eligibility.admits(d.age, d.resident_type)]
    n = len(pairs) + len(ds)
    c = np.array([costs.fit[ss[j].categories[ds[i].category]]
                  + (costs.travel.get((ds[i].community, ss[j].location), 0.0) if ss[j].location else 0.0)
                  for i, j in pairs] + [costs.unmet * d.weight for d in ds])
    a_eq = np.zeros((len(ds), n))
    for k, (i, _) in enumerate(pairs):
        a_eq[i, k] = 1
    a_eq[np.arange(len(ds)), len(pairs) + np.arange(len(ds))] = 1
    a_ub = np.zeros((max(len(ss), 1), n))
    for k, (_, j) in enumerate(pairs):
        a_ub[j, k] = 1
    caps = [s.capacity for s in ss] or [0]
    res = linprog(c, A_ub=a_ub, b_ub=caps, A_eq=a_eq, b_eq=np.ones(len(ds)), bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun


COSTS = CostModel(travel=TRAVEL)


@settings(max_examples=80, deadline=None)
@given(instances)
def test_solution_is_feasible_complete_and_optimal(raw):
    ds, ss = _instance(raw)
    result = match_optimal(ds, ss, COSTS)
    assert [m.item_id for m in result.matches] == [d.item_id for d in ds]  # every item decided once
    used = Counter(m.service_id for m in result.matches if m.status == "matched")
    slot = {s.service_id: s for s in ss}
    assert all(n <= slot[sid].capacity for sid, n in used.items())  # no capacity exceeded
    for d, m in zip(ds, result.matches):
        if m.status == "matched":
            s = slot[m.service_id]
            assert d.category in s.categories and d.community in s.area
            assert s.eligibility.admits(d.age, d.resident_type)
            assert m.cost == m.fit_cost + m.travel_cost
        else:
            assert m.reason in REASONS
            assert m.cost == m.unmet_cost == COSTS.unmet * d.weight
    cells = Counter((d.community, d.category) for d in ds)
    split = Counter((d.community, d.category, m.status) for d, m in zip(ds, result.matches))
    assert all(n == split[c, k, "matched"] + split[c, k, "unmet"] for (c, k), n in cells.items())
    o = result.objective
    assert (o.matched + o.unmet, o.total) == (len(ds), round(sum(m.cost for m in result.matches), 2))
    assert o.total == pytest.approx(_lp_optimum(ds, ss, COSTS), abs=1e-6)
    assert o.total <= match_greedy(ds, ss, COSTS).objective.total + 1e-9


@settings(max_examples=60, deadline=None)
@given(instances, st.randoms(use_true_random=False))
def test_deterministic_whatever_the_input_order(raw, rnd):
    ds, ss = _instance(raw)
    first = match_optimal(ds, ss, COSTS)
    shuffled_ds, shuffled_ss = list(ds), list(ss)
    rnd.shuffle(shuffled_ds)
    rnd.shuffle(shuffled_ss)
    again = _by_id(match_optimal(shuffled_ds, shuffled_ss, COSTS))
    assert [again[m.item_id] for m in first.matches] == first.matches


@settings(max_examples=60, deadline=None)
@given(instances)
def test_capacity_value_equals_a_re_solve_with_one_more_unit(raw):
    ds, ss = _instance(raw)
    result = match_optimal(ds, ss, COSTS)
    for v in result.capacity_values:
        plus_one = match_optimal(ds, apply_changes(ss, [CapacityChange(v.service_id, "+", 1)]), COSTS,
                                 capacity_values=False)
        assert v.value == pytest.approx(result.objective.total - plus_one.objective.total, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(instances, st.booleans())
def test_what_if_plus_zero_changes_nothing(raw, fair):
    ds, ss = _instance(raw)
    costs = CostModel(travel=TRAVEL, fairness_margin=0.1 if fair else None)
    changes = [CapacityChange(s.service_id, "+", 0) for s in ss]
    result = what_if(ds, ss, changes, costs)
    assert result.cells == [] and result.before == result.after


@settings(max_examples=60, deadline=None)
@given(instances, st.integers(0, 4))
def test_what_if_answer_is_optimal_for_the_changed_capacity(raw, extra):
    ds, ss = _instance(raw)
    changes = [CapacityChange(s.service_id, "+", extra) for s in ss[:2]]
    result = what_if(ds, ss, changes, COSTS)
    assert result.after.total == match_optimal(ds, apply_changes(ss, changes), COSTS).objective.total
    assert result.before.total == match_optimal(ds, ss, COSTS).objective.total


@settings(max_examples=60, deadline=None)
@given(instances)
def test_fairness_holds_or_the_community_is_explained(raw):
    ds, ss = _instance(raw)
    result = match_optimal(ds, ss, CostModel(travel=TRAVEL, fairness_margin=0.1))
    for f in result.fairness:
        assert f.unmet_share <= f.district_share + 0.1 + 1e-4 or (f.exceeds and f.why)
