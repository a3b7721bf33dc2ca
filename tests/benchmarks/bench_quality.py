"""Classifier quality against the plain TF-IDF + LinearSVC baseline, on the same folds, and
the time `minsheng model train --cv 5` takes. Run on demand (``make bench``).

The real benchmark (about 9,000 citizen messages, 7 department labels, baseline 0.928
macro-F1 under 5-fold CV) is held outside this repository, so this script scores the recipe
on data of two kinds, each through ``models.training.train_text_models(cv=5)`` exactly as the
CLI runs it:

* ``generated``: the demo generator's labelled corpus (19 categories, short texts);
* ``hard``: long messages in the manner of a government message board, built from generated
  sentences: 7 department labels, each a merger of 2-4 categories; 1-3 sentences of the
  department plus up to 2 sentences on another department's topic and some filler;
  ``--noise`` of the labels replaced at random (real labels are noisy too).

Prints, per data set: our macro-F1, the baseline's on the same splits, the margin, the
choice of C per fold, and the training time (``--n`` texts with 5-fold CV; target < 300 s).
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
from pathlib import Path
from random import Random
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

# 18 categories into 7 departments, as a district's case system might group them.
DEPARTMENTS = {
    "employment": "labour", "social_insurance": "labour", "medical_insurance": "labour",
    "migrant_workers": "labour", "subsistence": "civil_affairs", "veterans": "civil_affairs",
    "social_assistance": "civil_affairs", "disability": "civil_affairs",
    "elderly_care": "elderly_life", "daily_life": "elderly_life", "culture": "culture",
    "property": "housing", "parking": "housing", "environment": "environment",
    "sanitation": "environment", "public_security": "public_safety",
    "traffic": "public_safety", "emergency": "public_safety",
}
FILLER = [
    "我是本小区的老住户了，在这里住了十几年。", "之前也在网上反映过，", "这个情况大家都知道，",
    "说实话我们也理解工作人员的难处，", "具体情况是这样的：", "我们楼里好多老人小孩，",
    "附近还有学校和菜市场，", "之前打过热线，", "领导您好！", "特此反映。",
    "望领导百忙之中抽空看看。", "情况属实，有照片为证。",
]


def hard_corpus(n: int, seed: int, noise: float, taxonomy: Any) -> list[tuple[str, str]]:
    from minsheng.demo.generate import labelled_corpus

    rng = Random(seed)
    by_category: dict[str, list[str]] = {}
    for text, label in labelled_corpus(4 * n, seed, taxonomy):
        if label in DEPARTMENTS:
            by_category.setdefault(label, []).append(text)
    categories = sorted(by_category)
    departments = sorted(set(DEPARTMENTS.values()))
    out = []
    for _ in range(n):
        category = rng.choice(categories)
        parts = [rng.choice(by_category[category]) for _ in range(rng.randint(1, 3))]
        for _ in range(rng.choice([0, 0, 1, 1, 2])):  # a minority topic of another category
            aside = rng.choice(by_category[rng.choice(categories)])
            parts.insert(rng.randint(1, len(parts)), aside)
        for _ in range(rng.randint(1, 4)):
            parts.insert(rng.randint(0, len(parts)), rng.choice(FILLER))
        label = DEPARTMENTS[category]
        if rng.random() < noise:
            label = rng.choice(departments)
        out.append(("".join(parts), label))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="texts per data set")
    parser.add_argument("--noise", type=float, default=0.03, help="share of random labels (hard)")
    parser.add_argument("--only", choices=["generated", "hard"], help="one data set")
    args = parser.parse_args(argv)
    logging.getLogger("jieba").setLevel(logging.WARNING)

    from minsheng.demo.generate import labelled_corpus
    from minsheng.pii import mask_text
    from minsheng.settings import load_settings
    from models.training import train_text_models

    s = load_settings()
    sets = {
        "generated": lambda: labelled_corpus(args.n, 3, s.taxonomy),
        "hard": lambda: hard_corpus(args.n, 12, args.noise, s.taxonomy),
    }
    rows = []
    for name, make in sets.items():
        if args.only and name != args.only:
            continue
        data = [(mask_text(t), y) for t, y in make()]
        with tempfile.TemporaryDirectory(prefix="minsheng-quality-") as tmp:
            start = time.perf_counter()
            card = train_text_models(data, Path(tmp), userdict=s.userdict, stopwords=s.stopwords,
                                     dim=s.embedder.dim, random_state=s.classifier.seed, cv=5)
            seconds = time.perf_counter() - start
        m = card.metrics
        mean_len = sum(len(t) for t, _ in data) / len(data)
        rows.append((name, len(data), len(card.labels), mean_len, m.macro_f1,
                     m.baseline.macro_f1, m.margin_over_baseline, m.C, seconds))
    print(f"{'data':10s} {'texts':>6s} {'labels':>6s} {'chars':>6s} {'ours':>7s} {'baseline':>8s} "
          f"{'margin':>7s} {'train --cv 5':>12s}  C per fold")
    for name, n, k, chars, ours, base, margin, cs, seconds in rows:
        print(f"{name:10s} {n:6d} {k:6d} {chars:6.0f} {ours:7.4f} {base:8.4f} {margin:+7.4f} "
              f"{seconds:11.0f}s  {cs}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"macro-F1 under 5-fold stratified CV; baseline: TF-IDF of jieba words + LinearSVC "
          f"(scikit-learn defaults), same folds. Peak memory {peak:.0f} MB.")


if __name__ == "__main__":
    main()
