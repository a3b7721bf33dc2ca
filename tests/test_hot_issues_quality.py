"""A small version of the hot-issue quality benchmark (tests/benchmarks/bench_hot_issues.py):
generated planted issues, the whole path from raw text to the weekly hot list, scored
against the planted truth and against the community × category × week baseline."""

from __future__ import annotations

import pytest

from minsheng.demo.hot_issues import generate_hot_issues
from models.issues import IssueConfig
from tests.hot_issues_support import (
    assign,
    baseline,
    bcubed,
    peak_weeks,
    prepare,
    singles_in_top,
    top_recall,
    week_ends,
    weekly_tops,
)


@pytest.fixture(scope="module")
def prepared():
    data = generate_hot_issues(seed=7, weeks=4, planted=5, background_per_week=80)
    return data, prepare(data)


def test_generator_is_deterministic() -> None:
    a = generate_hot_issues(seed=3, weeks=2, planted=3, background_per_week=20)
    b = generate_hot_issues(seed=3, weeks=2, planted=3, background_per_week=20)
    assert a.records == b.records and a.planted == b.planted
    c = generate_hot_issues(seed=4, weeks=2, planted=3, background_per_week=20)
    assert a.records != c.records


def test_generator_plants_what_it_says(prepared) -> None:
    data, prep = prepared
    labels = set(prep.truth.values())
    assert set(data.planted) <= labels
    planted_items = [it for it in prep.items if prep.truth[it.item_id].startswith("P")]
    by_label: dict[str, set[str]] = {}
    for it in planted_items:
        by_label.setdefault(prep.truth[it.item_id], set()).add(it.channel)
    assert all(len(ch) >= 2 for ch in by_label.values())    # across channels
    assert any(it.likes > 0 for it in planted_items)
    assert any(k.startswith("D:") for k in labels)              # distractors
    # raw texts carry phone numbers; the items the assigner sees do not
    import re

    phones = {m for r in data.records for m in re.findall(r"1[3589]\d{9}", r.text)}
    assert phones
    assert not any(ph in it.text for it in prep.items for ph in phones)


def test_assignment_beats_baseline_and_finds_planted(prepared) -> None:
    data, prep = prepared
    idf = prep.segmenter.keyword_extractor.idf_freq
    pred = assign(prep.items, IssueConfig(), idf=idf)
    base = baseline(prep.items)
    p, r, f = bcubed(pred, prep.truth)
    _, _, fb = bcubed(base, prep.truth)
    assert f >= 0.8, (p, r, f)
    assert f >= fb + 0.1
    peaks = peak_weeks(prep.items, prep.truth, data.planted)
    tops = weekly_tops(prep.items, pred, prep.truth, week_ends(data))
    recall, missed = top_recall(tops, peaks)
    assert recall >= 0.8, missed
    assert singles_in_top(tops) == 0
