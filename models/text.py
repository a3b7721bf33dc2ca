"""The text stage in one call: segment → embed → classify.

Every shell (Beam pipeline, Prefect flows, CLI, tests) goes through :class:`TextModels` to
analyse texts and through :func:`train_text_models` / :func:`load_text_models` to make and
find the models, so that training and serving can never cut, embed or classify differently.

A model directory (one version in the registry, :mod:`models.registry`) holds::

    embedder/            the project sentence-transformers model (kind "project")
    classifier.joblib    the DemandClassifier
    card.json            what was trained on what, and how well it did on held-out data
    jieba-cache/         jieba's prefix-dictionary cache (rebuilt if missing)
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models.classify import DemandClassifier, split_tokens
from models.embed import Embedder, build_project_embedder, load_embedder, read_marker
from models.registry import CARD_FILE, ModelEntry, resolve, staging_version, use
from models.segment import Segmenter
from models.signals import sentiment, urgency

__all__ = [
    "TextModels",
    "TextResult",
    "evaluate_text_models",
    "load_text_models",
    "score_predictions",
    "train_registered",
    "train_text_models",
]

log = logging.getLogger(__name__)

CLASSIFIER_FILE = "classifier.joblib"
EMBEDDER_DIR = "embedder"
JIEBA_CACHE_DIR = "jieba-cache"
HOLDOUT_SIZE = 0.2
_VERSIONED = (
    "minsheng", "jieba", "sentence-transformers", "scikit-learn", "numpy", "pandas", "torch",
    "tokenizers", "joblib",
)


@dataclass(frozen=True)
class TextResult:
    """What the text stage says about one text."""

    tokens: list[str]
    keywords: list[str]
    embedding: np.ndarray
    category: str
    confidence: float
    top3: list[tuple[str, float]]
    urgent: bool  #: models.signals.urgency
    sentiment: int  #: models.signals.sentiment: -1, 0 or 1


@dataclass
class TextModels:
    """The three text models, loaded once, applied together."""

    segmenter: Segmenter
    embedder: Embedder
    classifier: DemandClassifier

    def analyse(self, texts: Sequence[str]) -> list[TextResult]:
        """Segment, embed and classify a batch of (PII-masked) texts.

        Embedding and classification run once over the whole batch; pass batches of a few
        hundred texts rather than one text at a time. ``category`` is the classifier's label, or
        its ``other_label`` when ``confidence`` (the top probability) is below its threshold.
        """
        texts = list(texts)
        if not texts:
            return []
        tokens = [self.segmenter.tokens(t) for t in texts]
        joined = [" ".join(t) for t in tokens]
        vectors = self.embedder.encode(joined if self.embedder.wants_segmented else texts)
        frame = pd.DataFrame({"text": texts, "tokens": joined, "embedding": list(vectors)})
        # One predict_proba for the batch; labels and rankings are both read off it.
        proba = self.classifier.predict_proba(frame)
        labels = self.classifier.labels_from_proba(proba)
        ranked = self.classifier.top_k_from_proba(proba, k=3)
        return [
            TextResult(
                tokens=toks,
                keywords=self.segmenter.keywords(toks, k=3),
                embedding=vec,
                category=str(label),
                confidence=top[0][1],
                top3=top,
                urgent=urgency(text),
                sentiment=sentiment(text),
            )
            for text, toks, vec, label, top in zip(
                texts, tokens, vectors, labels, ranked, strict=True
            )
        ]


def _sha256_file(path: str | Path | None) -> str | None:
    if not path or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _data_sha256(labelled: Sequence[tuple[str, str]]) -> str:
    h = hashlib.sha256()
    for text, label in labelled:
        h.update(f"{label}\t{text}\n".encode())
    return h.hexdigest()


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "unknown"
    return out


def _segmenter(
    userdict: str | Path | None, stopwords: str | Path | None, model_dir: Path
) -> Segmenter:
    return Segmenter(
        userdict=str(userdict) if userdict else None,
        stopwords=str(stopwords) if stopwords else None,
        cache_dir=str(model_dir / JIEBA_CACHE_DIR),
    )


def _embed(
    tokens: list[str], texts: list[str], fit_rows: np.ndarray, out_dir: Path, *, kind: str,
    path: str | Path | None, dim: int, random_state: int,
) -> tuple[Embedder, np.ndarray]:
    """Embed every text; a project embedder is first built from the ``fit_rows`` texts only,
    so that held-out texts never shape the LSA space."""
    if kind == "project":
        build_project_embedder(
            [tokens[i] for i in fit_rows], out_dir, dim=dim, random_state=random_state
        )
    embedder = load_embedder(kind, path, out_dir)
    return embedder, embedder.encode(tokens if embedder.wants_segmented else texts)


def _frame(texts: list[str], tokens: list[str], vecs: np.ndarray, rows: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "text": [texts[i] for i in rows],
        "tokens": [tokens[i] for i in rows],
        "embedding": list(vecs[rows]),
    })


#: The reference every evaluation is compared with, on the same splits.
BASELINE = "TF-IDF of jieba words + LinearSVC, scikit-learn defaults"


def _baseline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    return make_pipeline(
        TfidfVectorizer(tokenizer=split_tokens, token_pattern=None, lowercase=False), LinearSVC()
    )


def score_predictions(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, Any]:
    """Per-class precision / recall / F1, macro-F1 (over the true labels), accuracy and the
    confusion matrix (rows: true label, columns: prediction)."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
    )

    y_true = [str(v) for v in y_true]
    y_pred = [str(v) for v in y_pred]
    true_labels = sorted(set(y_true))
    labels = true_labels + sorted(set(y_pred) - set(true_labels))
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=true_labels, zero_division=0
    )
    return {
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=true_labels, average="macro", zero_division=0)
        ),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {
            c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                "support": int(s[i])}
            for i, c in enumerate(true_labels)
        },
        "confusion": {
            "labels": labels,
            "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        },
    }


def _cross_validate(
    texts: list[str], tokens: list[str], labels: np.ndarray, *, cv: int | None, kind: str,
    path: str | Path | None, dim: int, unknown_threshold: float, random_state: int,
) -> dict[str, Any]:
    """Score the whole recipe (embedder included) on held-out texts, and the baseline on the
    same splits: ``cv`` stratified folds, or one 80/20 hold-out when ``cv`` is below 2."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold, train_test_split

    idx = np.arange(len(texts))
    if cv and cv >= 2:
        folds = StratifiedKFold(cv, shuffle=True, random_state=random_state)
        splits = list(folds.split(idx, labels))
        method = f"{cv}-fold stratified cross-validation"
    else:
        train, test = train_test_split(
            idx, test_size=HOLDOUT_SIZE, stratify=labels, random_state=random_state
        )
        splits = [(train, test)]
        method = f"stratified hold-out ({HOLDOUT_SIZE:.0%})"
    argmax = np.empty(len(texts), dtype=object)
    served = np.empty(len(texts), dtype=object)
    base = np.empty(len(texts), dtype=object)
    chosen_c = []
    other_label = DemandClassifier().other_label
    with tempfile.TemporaryDirectory(prefix="minsheng-eval-") as tmp:
        if kind != "project":  # a pretrained embedder learns nothing from the folds
            _, vecs = _embed(tokens, texts, idx, Path(tmp), kind=kind, path=path, dim=dim,
                             random_state=random_state)
        for k, (train, test) in enumerate(splits):
            if kind == "project":
                _, vecs = _embed(tokens, texts, train, Path(tmp) / f"fold-{k}", kind=kind,
                                 path=path, dim=dim, random_state=random_state)
            clf = DemandClassifier(unknown_threshold=unknown_threshold, random_state=random_state)
            clf.fit(_frame(texts, tokens, vecs, train), labels[train])
            proba = clf.predict_proba(_frame(texts, tokens, vecs, test))
            argmax[test] = clf.classes_[proba.argmax(axis=1)]
            served[test] = clf.labels_from_proba(proba)
            chosen_c.append(clf.C_)
            baseline = _baseline().fit([tokens[i] for i in train], labels[train])
            base[test] = baseline.predict([tokens[i] for i in test])
    scored = np.concatenate([test for _, test in splits])
    y = labels[scored]
    ours = score_predictions(y, argmax[scored])
    base_f1 = float(f1_score(y, base[scored].astype(str), average="macro", zero_division=0))
    return {
        "method": method,
        "folds": len(splits),
        "n_scored": len(scored),
        **ours,
        "C": chosen_c,
        # As served: answers below the unknown threshold become "other" and count as misses.
        "served": {
            "unknown_threshold": unknown_threshold,
            "other_rate": float(np.mean(served[scored] == other_label)),
            "macro_f1": score_predictions(y, served[scored])["macro_f1"],
        },
        "baseline": {"model": BASELINE, "macro_f1": base_f1},
        "margin_over_baseline": ours["macro_f1"] - base_f1,
    }


def train_text_models(
    labelled: Sequence[tuple[str, str]],
    model_dir: Path,
    *,
    userdict: str | Path | None,
    stopwords: str | Path | None,
    dim: int = 128,
    unknown_threshold: float = 0.35,
    random_state: int = 0,
    embedder_kind: str = "project",
    embedder_path: str | Path | None = None,
    cv: int | None = None,
    name: str | None = None,
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the text models on ``(text, label)`` pairs and write them to ``model_dir``.

    Segments the corpus once; scores the whole recipe with ``cv`` stratified folds (or an
    80/20 hold-out when ``cv`` is ``None``), the embedder rebuilt on each training part,
    next to the TF-IDF + LinearSVC baseline on the same splits; then builds the embedder on
    all texts into ``model_dir/embedder`` (kind ``"project"``; a ``"pretrained"`` embedder is
    only loaded), fits the classifier on all texts, saves ``model_dir/classifier.joblib`` and
    writes ``model_dir/card.json``, which it returns. ``name`` and ``source`` (e.g. the data
    file and its columns) are recorded on the card.

    Each label needs at least 5 examples (and at least ``cv`` for cross-validation).
    """
    pairs = [(str(t), str(y)) for t, y in labelled]
    if not pairs:
        raise ValueError("no labelled texts to train on")
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    texts = [t for t, _ in pairs]
    labels = np.asarray([y for _, y in pairs], dtype=object)
    names, counts = np.unique(labels, return_counts=True)
    need = max(5, cv or 0)
    if counts.min() < need:
        rare = {str(n): int(c) for n, c in zip(names, counts, strict=True) if c < need}
        raise ValueError(
            f"labels with fewer than {need} examples cannot be trained and evaluated: {rare}"
        )

    segmenter = _segmenter(userdict, stopwords, model_dir)
    tokens = segmenter.transform(texts)
    metrics = _cross_validate(
        texts, tokens, labels, cv=cv, kind=embedder_kind, path=embedder_path, dim=dim,
        unknown_threshold=unknown_threshold, random_state=random_state,
    )
    everything = np.arange(len(texts))
    embedder, vecs = _embed(
        tokens, texts, everything, model_dir / EMBEDDER_DIR, kind=embedder_kind,
        path=embedder_path, dim=dim, random_state=random_state,
    )
    classifier = DemandClassifier(unknown_threshold=unknown_threshold, random_state=random_state)
    classifier.fit(_frame(texts, tokens, vecs, everything), labels)
    classifier.save(model_dir / CLASSIFIER_FILE)

    created = datetime.now(UTC)
    data_sha = _data_sha256(pairs)
    card: dict[str, Any] = {
        # Changes whenever the data or the time of training does: what rows were scored by.
        "version": f"{created:%Y%m%dT%H%M%SZ}-{data_sha[:8]}",
        "name": name,
        "created": created.isoformat(timespec="seconds"),
        "source": source or {},
        "data": {
            "n_texts": len(pairs),
            "sha256": data_sha,
            "label_counts": {str(n): int(c) for n, c in zip(names, counts, strict=True)},
        },
        "labels": [str(c) for c in classifier.classes_],
        "other_label": classifier.other_label,
        "segmenter": {
            "userdict_sha256": _sha256_file(userdict),
            "stopwords_sha256": _sha256_file(stopwords),
            "hmm": segmenter.hmm,
        },
        "embedder": {
            "kind": embedder_kind,
            "path": str(embedder_path) if embedder_path else None,
            "dim": embedder.dim,
            "wants_segmented": embedder.wants_segmented,
            "marker": read_marker(model_dir / EMBEDDER_DIR) if embedder_kind == "project" else None,
        },
        "classifier": {**classifier.get_params(), "C_": classifier.C_},
        "metrics": metrics,
        "versions": _versions(),
    }
    (model_dir / CARD_FILE).write_text(
        json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return card


def train_registered(
    labelled: Sequence[tuple[str, str]], model_dir: Path, name: str, *, make_current: bool = True,
    **train_options: Any,
) -> tuple[ModelEntry, dict[str, Any]]:
    """:func:`train_text_models` into a new version of ``name`` in the registry under
    ``model_dir``; makes it the model in use unless ``make_current`` is false."""
    with staging_version(model_dir, name) as tmp:
        card = train_text_models(labelled, tmp, name=name, **train_options)
    entry = resolve(model_dir, f"{name}/{card['version']}")
    if make_current:
        use(model_dir, entry.ref)
    return entry, card


def evaluate_text_models(
    models: TextModels, labelled: Sequence[tuple[str, str]], batch_size: int = 512
) -> dict[str, Any]:
    """Score trained models on labelled texts, as :func:`score_predictions` does, both by the
    classifier's first choice and as served (with "other" below the threshold)."""
    texts = [str(t) for t, _ in labelled]
    truth = [str(y) for _, y in labelled]
    if not texts:
        raise ValueError("no labelled texts to evaluate on")
    results = [r for i in range(0, len(texts), batch_size)
               for r in models.analyse(texts[i : i + batch_size])]
    first = [r.top3[0][0] for r in results]
    served = [r.category for r in results]
    known = {str(c) for c in models.classifier.classes_}
    return {
        "n_texts": len(texts),
        **score_predictions(truth, first),
        "served": {
            "unknown_threshold": models.classifier.unknown_threshold,
            "other_rate": float(np.mean([c == models.classifier.other_label for c in served])),
            "macro_f1": score_predictions(truth, served)["macro_f1"],
        },
        "unknown_labels": sorted(set(truth) - known),
    }


def load_text_models(
    model_dir: Path,
    *,
    userdict: str | Path | None,
    stopwords: str | Path | None,
    embedder_kind: str | None = None,
    embedder_path: str | Path | None = None,
) -> TextModels:
    """Load the models written by :func:`train_text_models` (offline).

    The embedder is the one on the model card unless ``embedder_kind`` is given. Warns when
    the user dictionary or stop words changed since training (tokens would no longer match
    what the models learnt from); fails when the embedder does not produce the dimension the
    classifier was trained on.
    """
    model_dir = Path(model_dir)
    classifier = DemandClassifier.load(model_dir / CLASSIFIER_FILE)
    card_path = model_dir / CARD_FILE
    card = json.loads(card_path.read_text(encoding="utf-8")) if card_path.is_file() else {}
    if embedder_kind is None:
        embedder_kind = card.get("embedder", {}).get("kind", "project")
        embedder_path = card.get("embedder", {}).get("path")
    embedder = load_embedder(embedder_kind, embedder_path, model_dir / EMBEDDER_DIR)
    if embedder.dim != classifier.embedding_dim_:
        raise ValueError(
            f"the {embedder_kind} embedder gives {embedder.dim} dimensions but the classifier in "
            f"{model_dir} was trained on {classifier.embedding_dim_}: retrain with this embedder"
        )
    seg_card = card.get("segmenter", {})
    for name, path in (("userdict", userdict), ("stopwords", stopwords)):
        trained = seg_card.get(f"{name}_sha256")
        if trained is not None and trained != _sha256_file(path):
            log.warning("%s %s changed since the models in %s were trained", name, path, model_dir)
    return TextModels(
        segmenter=_segmenter(userdict, stopwords, model_dir), embedder=embedder,
        classifier=classifier,
    )
