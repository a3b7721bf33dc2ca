"""Demand classification: which service category a resident's text asks for.

:class:`DemandClassifier` is a scikit-learn classifier over a frame of three views of each text
(raw text, jieba tokens, sentence embedding). It returns calibrated probabilities, and answers
``other_label`` when no category is probable enough, so that unfamiliar demands surface as
"other" instead of being forced into the nearest known category.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

__all__ = ["COLUMNS", "DemandClassifier", "split_tokens", "stack_embeddings"]

#: The columns a classifier input frame must have.
COLUMNS = ("text", "tokens", "embedding")


def split_tokens(doc: str) -> list[str]:
    """Tokens of a space-joined jieba string (module level, so fitted models pickle)."""
    return doc.split()


def stack_embeddings(column: Any) -> np.ndarray:
    """One row per text from a column holding one 1-D vector per row (module level: pickles)."""
    rows = list(column.to_numpy() if hasattr(column, "to_numpy") else column)
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(np.stack([np.asarray(r, dtype=np.float32) for r in rows]), dtype=np.float32)


def _as_frame(X: Any) -> pd.DataFrame:
    frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(X)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"classifier input lacks column(s) {missing}; expected {list(COLUMNS)}")
    return frame


class DemandClassifier(BaseEstimator, ClassifierMixin):
    """Service-category classifier with an "unknown" answer.

    Parameters
    ----------
    unknown_threshold:
        :meth:`predict` answers ``other_label`` when the highest class probability is below this.
    other_label:
        The label for "no known category".
    C:
        Inverse regularisation strength of the linear model.
    estimator:
        ``"svc"``: ``LinearSVC`` calibrated by ``CalibratedClassifierCV(cv=3, method="sigmoid")``;
        ``"logreg"``: multinomial ``LogisticRegression``.
    embedding_weight:
        Weight of the embedding block relative to the two TF-IDF blocks (all have unit-norm rows).
    random_state:
        Seed for every randomised step.

    Input ``X`` is a ``pandas.DataFrame`` with columns ``text`` (raw, PII-masked), ``tokens``
    (space-joined jieba tokens) and ``embedding`` (a 1-D float vector per row). Features: TF-IDF
    of word uni- and bi-grams over ``tokens``, sublinear TF-IDF of character 1-3-grams over
    ``text`` (robust to segmentation errors and unseen words), and the stacked embeddings.

    Learned attributes: ``pipeline_`` (the fitted scikit-learn pipeline), ``classes_``,
    ``embedding_dim_``.
    """

    def __init__(
        self,
        unknown_threshold: float = 0.35,
        other_label: str = "other",
        C: float = 1.0,
        estimator: str = "svc",
        embedding_weight: float = 1.0,
        random_state: int = 0,
    ) -> None:
        self.unknown_threshold = unknown_threshold
        self.other_label = other_label
        self.C = C
        self.estimator = estimator
        self.embedding_weight = embedding_weight
        self.random_state = random_state

    def _build(self, n_min_class: int) -> Pipeline:
        features = ColumnTransformer(
            [
                (
                    "words",
                    # min_df=2: a token seen in one text only (a name, a phone number
                    # that escaped masking) teaches little and must not persist in the model.
                    TfidfVectorizer(
                        tokenizer=split_tokens, token_pattern=None, lowercase=False,
                        ngram_range=(1, 2), sublinear_tf=True, min_df=2, dtype=np.float32,
                    ),
                    "tokens",
                ),
                (
                    "chars",
                    TfidfVectorizer(
                        analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2,
                        dtype=np.float32,
                    ),
                    "text",
                ),
                ("embedding", FunctionTransformer(stack_embeddings), "embedding"),
            ],
            transformer_weights={"words": 1.0, "chars": 1.0, "embedding": self.embedding_weight},
        )
        if self.estimator == "svc":
            # Calibration needs every class in every fold: fewer folds for tiny classes.
            cv = min(3, n_min_class)
            if cv < 2:
                raise ValueError(
                    "every class needs at least 2 examples to calibrate (estimator='svc')"
                )
            clf: Any = CalibratedClassifierCV(
                LinearSVC(C=self.C, random_state=self.random_state), cv=cv, method="sigmoid"
            )
        elif self.estimator == "logreg":
            clf = LogisticRegression(C=self.C, max_iter=2000, random_state=self.random_state)
        else:
            raise ValueError(f"unknown estimator {self.estimator!r}: expected 'svc' or 'logreg'")
        return Pipeline([("features", features), ("clf", clf)])

    def fit(self, X: pd.DataFrame, y: Sequence[str]) -> DemandClassifier:
        """Fit on a frame with columns ``text``, ``tokens``, ``embedding``; return ``self``."""
        frame = _as_frame(X)
        labels = np.asarray([str(v) for v in y], dtype=object)
        if len(labels) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(labels)} labels")
        _, counts = np.unique(labels, return_counts=True)
        if len(counts) < 2:
            raise ValueError("need at least two classes to fit a classifier")
        self.pipeline_ = self._build(int(counts.min())).fit(frame, labels)
        self.classes_ = self.pipeline_.classes_
        self.embedding_dim_ = int(stack_embeddings(frame["embedding"].iloc[:1]).shape[1])
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Class probabilities, shape ``(n, len(classes_))``, columns in ``classes_`` order."""
        check_is_fitted(self, "pipeline_")
        frame = _as_frame(X)
        if len(frame) == 0:
            return np.zeros((0, len(self.classes_)))
        dim = stack_embeddings(frame["embedding"].iloc[:1]).shape[1]
        if dim != self.embedding_dim_:
            raise ValueError(
                f"embeddings have {dim} dimensions but the classifier was trained on "
                f"{self.embedding_dim_}: was it trained with another embedder?"
            )
        return self.pipeline_.predict_proba(frame)

    def labels_from_proba(self, proba: np.ndarray) -> np.ndarray:
        """Labels for precomputed probabilities: the argmax, or ``other_label`` below the
        threshold."""
        if len(proba) == 0:
            return np.asarray([], dtype=object)
        best = proba.argmax(axis=1)
        labels = self.classes_[best].astype(object)
        labels[proba[np.arange(len(proba)), best] < self.unknown_threshold] = self.other_label
        return labels

    def top_k_from_proba(self, proba: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable classes of each row of precomputed probabilities."""
        k = min(k, proba.shape[1]) if proba.ndim == 2 else 0
        # argsort of the negation is stable: ties keep classes_ order, so output is deterministic.
        order = np.argsort(-proba, axis=1, kind="stable")[:, :k]
        return [
            [(str(self.classes_[j]), float(row[j])) for j in idx]
            for row, idx in zip(proba, order, strict=True)
        ]

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The most probable class, or ``other_label`` when its probability is below
        ``unknown_threshold``."""
        return self.labels_from_proba(self.predict_proba(X))

    def top_k(self, X: pd.DataFrame, k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable ``(class, probability)`` pairs of each row, best first."""
        return self.top_k_from_proba(self.predict_proba(X), k)

    def save(self, path: str | Path) -> Path:
        """Write the fitted classifier to one joblib file; return its path."""
        check_is_fitted(self, "pipeline_")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(self, path, compress=3)
        return path

    @classmethod
    def load(cls, path: str | Path) -> DemandClassifier:
        """Read a classifier written by :meth:`save`."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"no classifier at {path}: train the text models first")
        obj = joblib.load(path)
        if not isinstance(obj, cls):
            raise TypeError(f"{path} holds a {type(obj).__name__}, not a {cls.__name__}")
        return obj
