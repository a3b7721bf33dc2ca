"""The text stage in one call: segment → embed → classify.

Every shell (Beam pipeline, Prefect flows, CLI, tests) goes through :class:`TextModels` to
analyse texts and through :func:`train_text_models` / :func:`load_text_models` to make and
find the models, so that training and serving can never cut, embed or classify differently.

A model directory holds::

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

from models.classify import DemandClassifier
from models.embed import Embedder, build_project_embedder, load_embedder, read_marker
from models.segment import Segmenter

__all__ = ["TextModels", "TextResult", "load_text_models", "train_text_models"]

log = logging.getLogger(__name__)

CLASSIFIER_FILE = "classifier.joblib"
CARD_FILE = "card.json"
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
            )
            for toks, vec, label, top in zip(tokens, vectors, labels, ranked, strict=True)
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


def _embed_for_training(
    corpus: Sequence[str], raw: Sequence[str], out_dir: Path, *, kind: str, path: str | Path | None,
    dim: int, random_state: int,
) -> tuple[Embedder, np.ndarray]:
    if kind == "project":
        build_project_embedder(corpus, out_dir, dim=dim, random_state=random_state)
    embedder = load_embedder(kind, path, out_dir)
    return embedder, embedder.encode(corpus if embedder.wants_segmented else raw)


def _holdout_metrics(
    texts: list[str], tokens: list[str], labels: np.ndarray, *, kind: str, path: str | Path | None,
    dim: int, unknown_threshold: float, random_state: int,
) -> dict[str, Any]:
    """Train on a stratified 80 % and score the rest, the embedder included: the held-out texts
    must not shape the LSA space either."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(texts))
    train, test = train_test_split(
        idx, test_size=HOLDOUT_SIZE, stratify=labels, random_state=random_state
    )
    with tempfile.TemporaryDirectory(prefix="minsheng-holdout-") as tmp:
        embedder, train_vecs = _embed_for_training(
            [tokens[i] for i in train], [texts[i] for i in train], Path(tmp) / EMBEDDER_DIR,
            kind=kind, path=path, dim=dim, random_state=random_state,
        )
        test_vecs = embedder.encode(
            [tokens[i] for i in test] if embedder.wants_segmented else [texts[i] for i in test]
        )
    clf = DemandClassifier(unknown_threshold=unknown_threshold, random_state=random_state)
    clf.fit(_frame(texts, tokens, train_vecs, train), labels[train])
    proba = clf.predict_proba(_frame(texts, tokens, test_vecs, test))
    y_true = labels[test]
    y_pred = clf.labels_from_proba(proba)
    y_argmax = clf.classes_[proba.argmax(axis=1)]
    classes = list(clf.classes_)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    return {
        "method": "stratified hold-out",
        "test_size": HOLDOUT_SIZE,
        "n_train": len(train),
        "n_test": len(test),
        # With the unknown threshold, as served: an "other" answer counts as a miss.
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=classes, average="macro", zero_division=0)
        ),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_f1_argmax": float(f1_score(y_true, y_argmax, average="macro", zero_division=0)),
        "other_rate": float(np.mean(y_pred == clf.other_label)),
        "per_class": {
            c: {
                "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                "support": int(s[i]),
            }
            for i, c in enumerate(classes)
        },
    }


def _frame(texts: list[str], tokens: list[str], vecs: np.ndarray, rows: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({
        "text": [texts[i] for i in rows],
        "tokens": [tokens[i] for i in rows],
        "embedding": list(vecs),
    })


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
) -> dict[str, Any]:
    """Train the text models on ``(text, label)`` pairs and write them to ``model_dir``.

    Segments the corpus; measures the whole recipe on a stratified 80/20 hold-out (embedder
    rebuilt on the training part only); then builds the embedder on all texts into
    ``model_dir/embedder`` (kind ``"project"``; a ``"pretrained"`` embedder is only loaded),
    fits the classifier on all texts, saves ``model_dir/classifier.joblib`` and writes
    ``model_dir/card.json``, which it returns.

    Each label needs at least 5 examples (one in the hold-out, two per calibration fold).
    """
    pairs = [(str(t), str(y)) for t, y in labelled]
    if not pairs:
        raise ValueError("no labelled texts to train on")
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    texts = [t for t, _ in pairs]
    labels = np.asarray([y for _, y in pairs], dtype=object)
    names, counts = np.unique(labels, return_counts=True)
    if counts.min() < 5:
        rare = {str(n): int(c) for n, c in zip(names, counts, strict=True) if c < 5}
        raise ValueError(
            f"labels with fewer than 5 examples cannot be trained and evaluated: {rare}"
        )

    segmenter = Segmenter(
        userdict=str(userdict) if userdict else None,
        stopwords=str(stopwords) if stopwords else None,
        cache_dir=str(model_dir / JIEBA_CACHE_DIR),
    )
    tokens = segmenter.transform(texts)

    metrics = _holdout_metrics(
        texts, tokens, labels, kind=embedder_kind, path=embedder_path, dim=dim,
        unknown_threshold=unknown_threshold, random_state=random_state,
    )

    embedder, vecs = _embed_for_training(
        tokens, texts, model_dir / EMBEDDER_DIR, kind=embedder_kind, path=embedder_path,
        dim=dim, random_state=random_state,
    )
    classifier = DemandClassifier(unknown_threshold=unknown_threshold, random_state=random_state)
    classifier.fit(_frame(texts, tokens, vecs, np.arange(len(texts))), labels)
    classifier.save(model_dir / CLASSIFIER_FILE)

    created = datetime.now(UTC)
    data_sha = _data_sha256(pairs)
    card: dict[str, Any] = {
        # Changes whenever the data or the time of training does: what rows were scored by.
        "version": f"{created:%Y%m%dT%H%M%SZ}-{data_sha[:8]}",
        "created": created.isoformat(timespec="seconds"),
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
        "classifier": {k: v for k, v in classifier.get_params().items()},
        "metrics": metrics,
        "versions": _versions(),
    }
    (model_dir / CARD_FILE).write_text(
        json.dumps(card, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return card


def load_text_models(
    model_dir: Path,
    *,
    userdict: str | Path | None,
    stopwords: str | Path | None,
    embedder_kind: str = "project",
    embedder_path: str | Path | None = None,
) -> TextModels:
    """Load the models written by :func:`train_text_models` (offline).

    Warns when the user dictionary or stop words changed since training (tokens would no
    longer match what the models learnt from); fails when the embedder does not produce the
    dimension the classifier was trained on.
    """
    model_dir = Path(model_dir)
    classifier = DemandClassifier.load(model_dir / CLASSIFIER_FILE)
    embedder = load_embedder(embedder_kind, embedder_path, model_dir / EMBEDDER_DIR)
    if embedder.dim != classifier.embedding_dim_:
        raise ValueError(
            f"the {embedder_kind} embedder gives {embedder.dim} dimensions but the classifier in "
            f"{model_dir} was trained on {classifier.embedding_dim_}: retrain with this embedder"
        )
    card_path = model_dir / CARD_FILE
    if card_path.is_file():
        seg_card = json.loads(card_path.read_text(encoding="utf-8")).get("segmenter", {})
        for name, path in (("userdict", userdict), ("stopwords", stopwords)):
            trained = seg_card.get(f"{name}_sha256")
            if trained is not None and trained != _sha256_file(path):
                log.warning(
                    "%s %s changed since the models in %s were trained", name, path, model_dir
                )
    segmenter = Segmenter(
        userdict=str(userdict) if userdict else None,
        stopwords=str(stopwords) if stopwords else None,
        cache_dir=str(model_dir / JIEBA_CACHE_DIR),
    )
    return TextModels(segmenter=segmenter, embedder=embedder, classifier=classifier)
