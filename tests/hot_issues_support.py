"""From generated records to assigned issues, and the scores of an assignment.

Shared by ``tests/test_hot_issues_quality.py`` and ``tests/benchmarks/bench_hot_issues.py``:
mask → split (models.splitting) → segment (a Segmenter whose user dictionary holds the
gazetteer) → places → embed (LSA of the items' tokens: TF-IDF → TruncatedSVD, the
construction of the project embedder) → assign in (received_at, item_id) order.
"""

from __future__ import annotations

import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from minsheng.demo.hot_issues import HotIssueSet
from minsheng.pii import mask_text
from models.heat import HeatConfig, issue_heat, rank_hot
from models.issues import IssueAssigner, IssueConfig, IssueItem
from models.places import Gazetteer, PlaceExtractor
from models.segment import Segmenter
from models.splitting import split_demands

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Prepared:
    items: list[IssueItem]
    truth: dict[str, str]           # item_id -> truth label
    segmenter: Segmenter


def segmenter_with(gazetteer: Gazetteer | None, cache_dir: str | None = None) -> Segmenter:
    base = (ROOT / "configs" / "jieba" / "userdict.txt").read_text(encoding="utf-8")
    extra = gazetteer.jieba_userdict() if gazetteer is not None else ""
    tmp = Path(tempfile.mkdtemp(prefix="minsheng-hot-"))
    path = tmp / "userdict.txt"
    path.write_text(base + extra, encoding="utf-8")
    return Segmenter(userdict=str(path), stopwords=str(ROOT / "configs" / "jieba" / "stopwords.txt"),
                     cache_dir=cache_dir or str(tmp / "jieba"))


def lsa(docs: Sequence[str], dim: int = 128, seed: int = 0) -> np.ndarray:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, min_df=2)
    x = vec.fit_transform(docs)
    k = max(1, min(dim, x.shape[1] - 1, x.shape[0] - 1))
    svd = TruncatedSVD(n_components=k, random_state=seed, algorithm="randomized", n_iter=7)
    out = svd.fit_transform(x).astype(np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)


def prepare(data: HotIssueSet, *, use_gazetteer: bool = True, dim: int = 128) -> Prepared:
    gaz = Gazetteer.from_records(data.gazetteer).with_communities(data.communities)
    seg = segmenter_with(gaz if use_gazetteer else None)
    extractor = PlaceExtractor(seg, gaz if use_gazetteer else None)
    rows, truth = [], {}
    for r in data.records:
        text = mask_text(r.text)
        parts = split_demands(text, r.channel)
        if len(parts) == len(r.truth):
            labels = list(r.truth)
        elif len(r.truth) == 1:
            labels = [r.truth[0]] * len(parts)
        else:
            raise AssertionError(f"{r.feedback_id}: {len(parts)} items, {len(r.truth)} labels")
        for n, (part, label) in enumerate(zip(parts, labels, strict=True), start=1):
            item_id = f"{r.feedback_id}#{n}"
            rows.append((r, item_id, part, tuple(seg.tokens(part))))
            truth[item_id] = label
    vectors = lsa([" ".join(t) for _, _, _, t in rows], dim=dim)
    items = []
    for (r, item_id, part, toks), v in zip(rows, vectors, strict=True):
        items.append(IssueItem(
            item_id=item_id, feedback_id=r.feedback_id, resident=r.resident, channel=r.channel,
            received_at=r.received_at, community=r.community, category=r.category, text=part,
            tokens=toks, embedding=v, likes=r.likes,
            places=tuple(extractor.extract(part, r.community))))
    items.sort(key=lambda it: (it.received_at, it.item_id))
    return Prepared(items, truth, seg)


def assign(items: Iterable[IssueItem], config: IssueConfig | None = None,
           idf: Mapping[str, float] | None = None) -> dict[str, str]:
    a = IssueAssigner(config or IssueConfig(), idf=idf)
    return {r.item_id: r.issue_id for r in a.add_many(items)}


def baseline(items: Iterable[IssueItem]) -> dict[str, str]:
    """One issue per community × category × ISO week."""
    out = {}
    for it in items:
        y, w, _ = it.received_at.isocalendar()
        out[it.item_id] = f"{it.community}|{it.category}|{y}-W{w:02d}"
    return out


def bcubed(pred: Mapping[str, str], truth: Mapping[str, str]) -> tuple[float, float, float]:
    """BCubed precision, recall and F1 (Bagga & Baldwin 1998; Amigó et al. 2009)."""
    by_pred: dict[str, list[str]] = defaultdict(list)
    by_true: dict[str, list[str]] = defaultdict(list)
    for k in truth:
        by_pred[pred[k]].append(k)
        by_true[truth[k]].append(k)
    pair = Counter((pred[k], truth[k]) for k in truth)
    p = sum(pair[(pred[k], truth[k])] / len(by_pred[pred[k]]) for k in truth) / len(truth)
    r = sum(pair[(pred[k], truth[k])] / len(by_true[truth[k]]) for k in truth) / len(truth)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class WeekTop:
    week: str
    top: list[tuple[str, float, int, str]]      # (issue, heat, messages, majority label)


def weekly_tops(items: Sequence[IssueItem], pred: Mapping[str, str], truth: Mapping[str, str],
                week_ends: Sequence[datetime], config: HeatConfig | None = None,
                n: int = 10, hot_list: bool = True) -> list[WeekTop]:
    """Each week's top ``n`` issues at its end: by :func:`models.heat.rank_hot` (the hot
    list), or with ``hot_list=False`` by heat alone (single messages included)."""
    members: dict[str, list[IssueItem]] = defaultdict(list)
    for it in items:
        members[pred[it.item_id]].append(it)
    out = []
    for end in week_ends:
        heats, labels = {}, {}
        for issue, its in members.items():
            live = [it for it in its if it.received_at <= end]
            if not live:
                continue
            heats[issue] = issue_heat(live, end, config)
            labels[issue] = Counter(truth[it.item_id] for it in live).most_common(1)[0][0]
        if hot_list:
            order = rank_hot(heats, n, config)
        else:
            order = [k for k, h in sorted(heats.items(), key=lambda kv: (-kv[1].heat, kv[0]))
                     if h.status != "dormant"][:n]
        rows = [(k, heats[k].heat, heats[k].messages, labels[k]) for k in order]
        y, w, _ = (end - timedelta(seconds=1)).isocalendar()
        out.append(WeekTop(f"{y}-W{w:02d}", rows))
    return out


def peak_weeks(items: Sequence[IssueItem], truth: Mapping[str, str],
               labels: Iterable[str]) -> dict[str, str]:
    """The ISO week in which each label has the most items."""
    wanted = set(labels)
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for it in items:
        lab = truth[it.item_id]
        if lab in wanted:
            y, w, _ = it.received_at.isocalendar()
            counts[lab][f"{y}-W{w:02d}"] += 1
    return {lab: c.most_common(1)[0][0] for lab, c in counts.items()}


def top_recall(tops: Sequence[WeekTop], peaks: Mapping[str, str]) -> tuple[float, list[str]]:
    """Share of planted labels that lead an issue in the top list of their peak week."""
    by_week = {t.week: {r[3] for r in t.top} for t in tops}
    missed = [lab for lab, wk in peaks.items() if lab not in by_week.get(wk, set())]
    return 1 - len(missed) / max(len(peaks), 1), missed


def singles_in_top(tops: Sequence[WeekTop]) -> int:
    return sum(1 for t in tops for r in t.top if r[2] <= 1)


def week_ends(data: HotIssueSet) -> list[datetime]:
    from minsheng.demo.hot_issues import TZ

    first = datetime.combine(data.start, datetime.min.time(), TZ)
    return [first + timedelta(days=7 * (w + 1)) for w in range(data.weeks)]


Timer = Callable[[], float]
