"""Training and scoring the text models.

:func:`train_model` is what every shell calls (``minsheng model train``, the retrain flow, the
demo): it masks the texts, lays the reviewers' corrections over them, trains with the options
of one :class:`TrainConfig` and registers the result as a new version. :func:`train_text_models`
is the recipe itself, into a bare model directory; :func:`evaluate_text_models` scores a
trained model on labelled texts.
"""

from __future__ import annotations

import hashlib
import platform
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from minsheng.pii import mask_text
from models.card import (
    CLASSIFIER_FILE,
    EMBEDDER_DIR,
    Baseline,
    DataSummary,
    EmbedderCard,
    Evaluation,
    Metrics,
    ModelCard,
    SegmenterCard,
    Served,
    TrainingSource,
)
from models.baselines import BASELINES, make_baseline
from models.classify import DemandClassifier
from models.datasets import merge_corrections
from models.embed import Embedder, build_project_embedder, load_embedder, read_marker
from models.registry import ModelEntry, resolve, staging_version, use
from models.text import TextModels, file_sha256, make_segmenter

if TYPE_CHECKING:
    from minsheng.settings import Settings

__all__ = [
    "BASELINE",
    "TrainConfig",
    "evaluate_text_models",
    "score_predictions",
    "train_model",
    "train_text_models",
]

HOLDOUT_SIZE = 0.2
_VERSIONED = (
    "minsheng", "jieba", "sentence-transformers", "scikit-learn", "numpy", "pandas", "torch",
    "tokenizers", "joblib",
)
#: The reference every evaluation is compared with, on the same splits.
BASELINE = BASELINES["word"]


@dataclass(frozen=True)
class TrainConfig:
    """How the text models are trained: dictionaries, embedder, threshold, seed, evaluation.

    ``embedder_kind`` ``"project"`` builds the project embedder from the training texts;
    ``"pretrained"`` loads the model at ``embedder_path``. ``cv`` folds of stratified
    cross-validation score the recipe, or one 80/20 hold-out when ``cv`` is ``None`` or below 2.
    """

    userdict: str | None
    stopwords: str | None
    dim: int = 128
    unknown_threshold: float = 0.35
    random_state: int = 0
    embedder_kind: str = "project"
    embedder_path: str | None = None
    cv: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainConfig:
        """The configured dictionaries, embedder, unknown threshold and seed; no CV."""
        return cls(
            userdict=str(settings.userdict), stopwords=str(settings.stopwords),
            dim=settings.embedder.dim, unknown_threshold=settings.classifier.unknown_threshold,
            random_state=settings.classifier.seed, embedder_kind=settings.embedder.kind,
            embedder_path=settings.embedder.path,
        )


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


def score_predictions(y_true: Sequence[str], y_pred: Sequence[str]) -> Metrics:
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
    return Metrics(
        macro_f1=float(
            f1_score(y_true, y_pred, labels=true_labels, average="macro", zero_division=0)
        ),
        accuracy=float(accuracy_score(y_true, y_pred)),
        per_class={
            c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                "support": int(s[i])}
            for i, c in enumerate(true_labels)
        },
        confusion={"labels": labels,
                   "matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist()},
    )


def _cross_validate(
    texts: list[str], tokens: list[str], labels: np.ndarray, *, cv: int | None, kind: str,
    path: str | Path | None, dim: int, unknown_threshold: float, random_state: int,
) -> Metrics:
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
    base = {name: np.empty(len(texts), dtype=object) for name in BASELINES}
    chosen_c = []
    other_label = DemandClassifier().other_label
    # a classifier that does not weigh the embeddings in is scored without building them:
    # an LSA per fold was the costliest part of cross-validation
    uses_embedding = DemandClassifier().embedding_weight != 0
    with tempfile.TemporaryDirectory(prefix="minsheng-eval-") as tmp:
        if not uses_embedding:
            vecs = np.zeros((len(texts), 1), dtype=np.float32)
        elif kind != "project":  # a pretrained embedder learns nothing from the folds
            _, vecs = _embed(tokens, texts, idx, Path(tmp), kind=kind, path=path, dim=dim,
                             random_state=random_state)
        for k, (train, test) in enumerate(splits):
            if uses_embedding and kind == "project":
                _, vecs = _embed(tokens, texts, train, Path(tmp) / f"fold-{k}", kind=kind,
                                 path=path, dim=dim, random_state=random_state)
            clf = DemandClassifier(unknown_threshold=unknown_threshold, random_state=random_state)
            clf.fit(_frame(texts, tokens, vecs, train), labels[train])
            proba = clf.predict_proba(_frame(texts, tokens, vecs, test))
            argmax[test] = clf.classes_[proba.argmax(axis=1)]
            served[test] = clf.labels_from_proba(proba)
            chosen_c.append(clf.C_)
            for name, predicted in base.items():
                baseline = make_baseline(name, random_state).fit(
                    _frame(texts, tokens, vecs, train), labels[train])
                predicted[test] = baseline.predict(_frame(texts, tokens, vecs, test))
    scored = np.concatenate([test for _, test in splits])
    y = labels[scored]
    ours = score_predictions(y, argmax[scored])
    base_f1 = {name: float(f1_score(y, predicted[scored].astype(str), average="macro", zero_division=0))
               for name, predicted in base.items()}
    return ours.model_copy(update={
        "method": method,
        "folds": len(splits),
        "n_scored": len(scored),
        "C": chosen_c,
        "served": Served(
            unknown_threshold=unknown_threshold,
            other_rate=float(np.mean(served[scored] == other_label)),
            macro_f1=score_predictions(y, served[scored]).macro_f1,
        ),
        "baseline": Baseline(model=BASELINE, macro_f1=base_f1["word"], name="word",
                             margin=ours.macro_f1 - base_f1["word"]),
        "margin_over_baseline": ours.macro_f1 - base_f1["word"],
        "baselines": [Baseline(model=BASELINES[name], macro_f1=f1, name=name, margin=ours.macro_f1 - f1)
                      for name, f1 in base_f1.items()],
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
    cv: int | None = None,
    name: str | None = None,
    source: TrainingSource | None = None,
) -> ModelCard:
    """The recipe: train the text models on ``(text, label)`` pairs into ``model_dir``.

    Segments the corpus once; scores the whole recipe with ``cv`` stratified folds (or an
    80/20 hold-out when ``cv`` is ``None``), the embedder rebuilt on each training part,
    next to the TF-IDF + LinearSVC baseline on the same splits; then builds the embedder on
    all texts into ``model_dir/embedder`` (kind ``"project"``; a ``"pretrained"`` embedder is
    only loaded), fits the classifier on all texts, saves ``model_dir/classifier.joblib`` and
    writes the card, which it returns. ``name`` and ``source`` (e.g. the data file and its
    columns) are recorded on the card. The texts are used as given: shells call
    :func:`train_model`, which masks them first.

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

    segmenter = make_segmenter(userdict, stopwords, model_dir)
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

    created = datetime.now(UTC).replace(microsecond=0)
    data_sha = _data_sha256(pairs)
    card = ModelCard(
        # Changes whenever the data or the time of training does: what rows were scored by.
        version=f"{created:%Y%m%dT%H%M%SZ}-{data_sha[:8]}",
        name=name,
        created=created,
        source=source or TrainingSource(),
        data=DataSummary(
            n_texts=len(pairs), sha256=data_sha,
            label_counts={str(n): int(c) for n, c in zip(names, counts, strict=True)},
        ),
        labels=[str(c) for c in classifier.classes_],
        other_label=classifier.other_label,
        segmenter=SegmenterCard(
            userdict_sha256=file_sha256(userdict), stopwords_sha256=file_sha256(stopwords),
            hmm=segmenter.hmm,
        ),
        embedder=EmbedderCard(
            kind=embedder_kind,
            path=str(embedder_path) if embedder_path else None,
            dim=embedder.dim,
            wants_segmented=embedder.wants_segmented,
            marker=read_marker(model_dir / EMBEDDER_DIR) if embedder_kind == "project" else None,
        ),
        classifier={**classifier.get_params(), "C_": classifier.C_},
        metrics=metrics,
        versions=_versions(),
    )
    card.write(model_dir)
    return card


def train_model(
    labelled: Sequence[tuple[str, str]],
    model_dir: Path,
    name: str,
    config: TrainConfig,
    *,
    corrections: Sequence[tuple[str, str]] = (),
    source: TrainingSource | None = None,
    make_current: bool = True,
) -> tuple[ModelEntry, ModelCard]:
    """Train a new version of model ``name`` in the registry under ``model_dir``.

    Masks the texts (the pipeline classifies masked text, so no phone or ID number ever
    enters a model), lays the reviewers' ``corrections`` (``(text, label)``) over them
    (:func:`models.datasets.merge_corrections`), trains with ``config``, records ``source``
    and the number of corrections on the card, and makes the version the model in use unless
    ``make_current`` is false. Returns the registry entry and its card.
    """
    masked = [(mask_text(str(t)), y) for t, y in labelled]
    fixed = [(mask_text(str(t)), y) for t, y in corrections]
    source = (source or TrainingSource()).model_copy(update={"corrections": len(fixed)})
    with staging_version(model_dir, name) as tmp:
        card = train_text_models(
            merge_corrections(masked, fixed), tmp, userdict=config.userdict,
            stopwords=config.stopwords, dim=config.dim,
            unknown_threshold=config.unknown_threshold, random_state=config.random_state,
            embedder_kind=config.embedder_kind, embedder_path=config.embedder_path,
            cv=config.cv if config.cv and config.cv >= 2 else None, name=name, source=source,
        )
    entry = resolve(model_dir, f"{name}/{card.version}")
    if make_current:
        use(model_dir, entry.ref)
    return entry, card


def evaluate_text_models(
    models: TextModels, labelled: Sequence[tuple[str, str]], batch_size: int = 512
) -> Evaluation:
    """Score trained models on labelled texts (masked first, as the pipeline's are), as
    :func:`score_predictions` does, both by the classifier's first choice and as served (with
    "other" below the threshold)."""
    texts = [mask_text(str(t)) for t, _ in labelled]
    truth = [str(y) for _, y in labelled]
    if not texts:
        raise ValueError("no labelled texts to evaluate on")
    results = [r for i in range(0, len(texts), batch_size)
               for r in models.analyse(texts[i : i + batch_size])]
    first = [r.top3[0][0] for r in results]
    served = [r.category for r in results]
    known = {str(c) for c in models.classifier.classes_}
    clf = models.classifier
    return Evaluation.model_validate({
        **score_predictions(truth, first).model_dump(),
        "n_texts": len(texts),
        "served": Served(
            unknown_threshold=clf.unknown_threshold,
            other_rate=float(np.mean([c == clf.other_label for c in served])),
            macro_f1=score_predictions(truth, served).macro_f1,
        ),
        "unknown_labels": sorted(set(truth) - known),
    })
