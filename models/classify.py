"""Demand classification: which service category a resident's text asks for.

:class:`DemandClassifier` is a scikit-learn classifier over a frame of three views of each text
(raw text, jieba tokens, sentence embedding): word and character TF-IDF, a lead block of the
opening (the title), NB-SVM, Platt-calibrated. It returns calibrated probabilities, and answers
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
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import ThreadpoolController

from models.ngrams import NgramTfidf

__all__ = ["C_GRID", "COLUMNS", "DemandClassifier", "NBSVC", "lead_text", "lead_tokens", "split_tokens",
           "stack_embeddings"]

#: The columns a classifier input frame must have.
COLUMNS = ("text", "tokens", "embedding")
#: Regularisation strengths that ``C="auto"`` chooses from.
C_GRID = (0.1, 0.3, 1.0, 3.0)


def split_tokens(doc: str) -> list[str]:
    """Tokens of a space-joined jieba string (module level, so fitted models pickle)."""
    return doc.split()


def stack_embeddings(column: Any) -> np.ndarray:
    """One row per text from a column holding one 1-D vector per row (module level: pickles)."""
    rows = list(column.to_numpy() if hasattr(column, "to_numpy") else column)
    if not rows:
        return np.zeros((0, 0), dtype=np.float32)
    return np.asarray(np.stack([np.asarray(r, dtype=np.float32) for r in rows]), dtype=np.float32)


#: Tokens of a text's opening that the lead block reads (a message's title and first clause).
LEAD_TOKENS = 15
#: Characters of the opening the lead block reads when a text has no title line.
LEAD_CHARS = 20
#: The regularisation strength of the NB-SVM (``C="auto"`` with ``estimator="nbsvm"``): on
#: long message-board text a C search was within noise, and searching costs a refit per value.
NBSVM_C = 0.3


def lead_tokens(column: Any) -> list[str]:
    """The first :data:`LEAD_TOKENS` tokens of each space-joined token string (module level:
    pickles)."""
    return [" ".join(str(doc).split()[:LEAD_TOKENS]) for doc in column]


def lead_text(column: Any) -> list[str]:
    """The opening of each text: its title line where it has one (channels join a title and
    a body with a newline, :func:`minsheng.records.compose_text`), capped at twice
    :data:`LEAD_CHARS`; else its first :data:`LEAD_CHARS` characters."""
    out = []
    for text in column:
        text = str(text)
        head, newline, _ = text.partition("\n")
        out.append(head[: 2 * LEAD_CHARS] if newline else text[:LEAD_CHARS])
    return out


class NBSVC(ClassifierMixin, BaseEstimator):
    """NB-SVM (Wang & Manning 2012) for many classes: for each class, the features are scaled
    by their log-count ratio ``log((p/|p|₁) / (q/|q|₁))`` (``p``, ``q``: feature sums over the
    class's texts and the others', plus ``alpha``), and a binary ``LinearSVC`` separates the
    class from the rest. The scaling folds into the weights, so the fitted model is linear in
    the unscaled features: ``coef_`` (classes × features) and ``intercept_``, as LinearSVC's.

    Parameters: ``C`` (of each LinearSVC), ``alpha`` (smoothing of the counts),
    ``random_state``. Learned: ``classes_``, ``coef_``, ``intercept_``. (The classes are
    fitted one after the other: liblinear seeds one process-wide random generator, so SVCs
    fitted in threads at once would not be reproducible.)
    """

    def __init__(self, C: float = NBSVM_C, alpha: float = 0.1, random_state: int = 0) -> None:
        self.C = C
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, X: Any, y: Sequence[str]) -> NBSVC:
        import scipy.sparse as sp

        X = sp.csr_matrix(X)
        y = np.asarray(y, dtype=object)
        self.classes_ = np.unique(y)
        # counts are of magnitudes: TF-IDF is non-negative anyway, and a signed block (an
        # embedding, if weighted in) must not make a ratio of negative sums
        counts = abs(X)
        total = np.asarray(counts.sum(axis=0)).ravel()

        def one(c: str) -> tuple[np.ndarray, float]:
            mine = y == c
            p = np.asarray(counts[mine].sum(axis=0)).ravel() + self.alpha
            q = total - p + 2 * self.alpha
            r = np.log((p / p.sum()) / (q / q.sum()))
            # X @ diag(r), scaling the stored values in place of a sparse product (no sort)
            scaled = X.astype(np.float64)  # a copy, in the product's precision
            scaled.data *= r[scaled.indices]
            svc = LinearSVC(C=self.C, random_state=self.random_state)
            svc.fit(scaled, mine.astype(int))
            return svc.coef_.ravel() * r, svc.intercept_[0]

        fitted = [one(c) for c in self.classes_]
        self.coef_ = np.vstack([coef for coef, _ in fitted])
        self.intercept_ = np.asarray([b for _, b in fitted])
        if len(self.classes_) == 2:  # the binary convention: one column, for the second class
            self.coef_ = self.coef_[1:] - self.coef_[:1]
            self.intercept_ = self.intercept_[1:] - self.intercept_[:1]
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "coef_")
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores.ravel() if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[scores.argmax(axis=1)]


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
        Inverse regularisation strength of the linear model, or ``"auto"``: the value of
        :data:`C_GRID` with the best macro-F1 under 3-fold cross-validation on the training
        data (features fitted once on all of it; kept as ``C_``).
    estimator:
        ``"nbsvm"`` (default): :class:`NBSVC`, one-vs-rest LinearSVCs over per-class
        log-count-ratio scaled features; ``"svc"``: one ``LinearSVC``. Either is trained on
        all data, its scores calibrated by Platt scaling fitted on 3-fold cross-validated
        scores (``CalibratedClassifierCV(cv=3, method="sigmoid", ensemble=False)``): one model
        at predict time, not three. (Temperature scaling would keep the ranking intact, but on
        separable data it sharpens every probability to 1, leaving nothing for the unknown
        threshold.) ``"logreg"``: multinomial ``LogisticRegression``.
    embedding_weight:
        Weight of the embedding block relative to the TF-IDF blocks (all have unit-norm rows).
        0 (default) leaves it out: on long message-board text a unit-norm dense block is cheap
        for an L2-regularised model to lean on and halves the TF-IDF blocks' share of the
        score (measured 0.006–0.010 macro-F1 worse with it). The embeddings still serve
        similarity and hot issues.
    lead_weight:
        Weight of the lead block: word 1–2-grams of the first :data:`LEAD_TOKENS` tokens and
        character 1–3-grams of the opening (the title line where the text has one,
        :func:`lead_text`). A message's title says what it is about; the body wanders. 0
        leaves it out.
    random_state:
        Seed for every randomised step.

    Input ``X`` is a ``pandas.DataFrame`` with columns ``text`` (raw, PII-masked), ``tokens``
    (space-joined jieba tokens) and ``embedding`` (a 1-D float vector per row). Features: TF-IDF
    of word uni- and bi-grams over ``tokens``, sublinear TF-IDF of character 1-3-grams over
    ``text`` (robust to segmentation errors and unseen words), the lead block and, when weighted,
    the stacked embeddings.
    Both TF-IDF blocks are :class:`NgramTfidf`: equal to scikit-learn's ``TfidfVectorizer``
    with these settings, and several times faster.

    Learned attributes: ``pipeline_`` (the fitted scikit-learn pipeline), ``classes_``,
    ``embedding_dim_``, ``C_`` (the regularisation strength used).
    """

    def __init__(
        self,
        unknown_threshold: float = 0.35,
        other_label: str = "other",
        C: float | str = "auto",
        estimator: str = "nbsvm",
        embedding_weight: float = 0.0,
        lead_weight: float = 0.5,
        random_state: int = 0,
    ) -> None:
        self.unknown_threshold = unknown_threshold
        self.other_label = other_label
        self.C = C
        self.estimator = estimator
        self.embedding_weight = embedding_weight
        self.lead_weight = lead_weight
        self.random_state = random_state

    def _features(self) -> ColumnTransformer:
        # min_df=2: a token seen in one text only (a name, a phone number that escaped
        # masking) teaches little and must not persist in the model.
        blocks: list[tuple[str, Any, str]] = [
            ("words", NgramTfidf("word", ngram_range=(1, 2), min_df=2), "tokens"),
            ("chars", NgramTfidf("char", ngram_range=(1, 3), min_df=2), "text"),
        ]
        weights = {"words": 1.0, "chars": 1.0}
        if self.lead_weight:
            blocks += [
                ("lead_words", make_pipeline(FunctionTransformer(lead_tokens),
                                             NgramTfidf("word", ngram_range=(1, 2), min_df=2)), "tokens"),
                ("lead_chars", make_pipeline(FunctionTransformer(lead_text),
                                             NgramTfidf("char", ngram_range=(1, 3), min_df=2)), "text"),
            ]
            weights |= {"lead_words": self.lead_weight, "lead_chars": self.lead_weight}
        if self.embedding_weight:
            blocks.append(("embedding", FunctionTransformer(stack_embeddings), "embedding"))
            weights["embedding"] = self.embedding_weight
        return ColumnTransformer(blocks, transformer_weights=weights)

    def _linear(self, C: float) -> Any:
        if self.estimator == "nbsvm":
            return NBSVC(C=C, random_state=self.random_state)
        if self.estimator == "svc":
            return LinearSVC(C=C, random_state=self.random_state)
        if self.estimator == "logreg":
            return LogisticRegression(C=C, max_iter=2000, random_state=self.random_state)
        raise ValueError(f"unknown estimator {self.estimator!r}: expected 'nbsvm', 'svc' or 'logreg'")

    def _choose_c(self, X: Any, y: np.ndarray, folds: int) -> float:
        if self.C != "auto":
            return float(self.C)
        if self.estimator == "nbsvm":
            return NBSVM_C
        search = GridSearchCV(
            self._linear(1.0), {"C": list(C_GRID)}, scoring="f1_macro",
            cv=StratifiedKFold(folds, shuffle=True, random_state=self.random_state),
        )
        return float(search.fit(X, y).best_params_["C"])

    def fit(self, X: pd.DataFrame, y: Sequence[str]) -> DemandClassifier:
        """Fit on a frame with columns ``text``, ``tokens``, ``embedding``; return ``self``."""
        frame = _as_frame(X)
        labels = np.asarray([str(v) for v in y], dtype=object)
        if len(labels) != len(frame):
            raise ValueError(f"X has {len(frame)} rows but y has {len(labels)} labels")
        _, counts = np.unique(labels, return_counts=True)
        if len(counts) < 2:
            raise ValueError("need at least two classes to fit a classifier")
        # Cross-validation needs every class in every fold: fewer folds for tiny classes.
        folds = min(3, int(counts.min()))
        if folds < 2 and (self.estimator in ("svc", "nbsvm") or self.C == "auto"):
            raise ValueError(
                "every class needs at least 2 examples to calibrate (estimator='svc') or to "
                "choose C"
            )
        features = self._features()
        matrix = features.fit_transform(frame)
        self.C_ = self._choose_c(matrix, labels, folds)
        clf = self._linear(self.C_)
        if self.estimator in ("svc", "nbsvm"):
            clf = CalibratedClassifierCV(
                clf, cv=StratifiedKFold(folds, shuffle=True, random_state=self.random_state),
                method="sigmoid", ensemble=False,
            )
        clf.fit(matrix, labels)
        self.pipeline_ = Pipeline([("features", features), ("clf", clf)])
        self.classes_ = clf.classes_
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
        if self.estimator in ("svc", "nbsvm") and len(self.classes_) > 2:
            return self._calibrated_svc_proba(frame)
        return self.pipeline_.predict_proba(frame)

    def _calibrated_svc_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """``pipeline_.predict_proba`` for the calibrated multi-class SVC, computed directly.

        Same numbers (tested), without the per-call input checks that scikit-learn's
        ColumnTransformer and its one-calibrator-per-class loop repeat: at the pipeline's
        batch sizes those cost as much as the arithmetic. Scores are summed block by block,
        so the feature blocks are never stacked into one matrix.
        """
        blocks, intercept, a, b, blas = self._svc_parts()
        scores = np.tile(intercept, (len(frame), 1))
        # One BLAS thread: these products are small, and on a busy 2-core machine the idle
        # OpenBLAS threads spin for far longer than the work takes (~100x the CPU time).
        with blas.limit(limits=1, user_api="blas"):
            for transformer, column, coef in blocks:
                scores += np.asarray(transformer.transform(frame[column]) @ coef)
        proba = expit(-(scores * a + b))
        total = proba.sum(axis=1, keepdims=True)
        # As scikit-learn: where every calibrator says 0, the uniform distribution.
        uniform = np.full_like(proba, 1.0 / proba.shape[1])
        return np.divide(proba, total, out=uniform, where=total > 0)

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

    def _svc_parts(self) -> tuple[list[tuple[Any, str, np.ndarray]], np.ndarray, np.ndarray,
                                  np.ndarray, Any]:
        """Per feature block: transformer, column and its weighted slice of the SVC's
        coefficients (contiguous, transposed); then intercepts, Platt parameters and a
        thread-pool controller. Built on first use and kept out of pickles (it is derived
        from ``pipeline_``)."""
        parts = self.__dict__.get("_svc_parts_cache")
        if parts is None:
            features = self.pipeline_.named_steps["features"]
            calibrated = self.pipeline_.named_steps["clf"].calibrated_classifiers_[0]
            svc = calibrated.estimator
            weights = features.transformer_weights or {}
            blocks = [
                (transformer, column, np.ascontiguousarray(
                    weights.get(name, 1.0) * svc.coef_[:, features.output_indices_[name]].T))
                for name, transformer, column in features.transformers_ if name != "remainder"
            ]
            parts = (
                blocks, svc.intercept_,
                np.array([c.a_ for c in calibrated.calibrators]),
                np.array([c.b_ for c in calibrated.calibrators]),
                ThreadpoolController(),
            )
            self.__dict__["_svc_parts_cache"] = parts
        return parts

    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        state.pop("_svc_parts_cache", None)
        return state

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
