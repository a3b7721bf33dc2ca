"""The model card and the layout of a model directory.

A model directory (one version in the registry, :mod:`models.registry`) holds::

    card.json            the ModelCard: what was trained on what, and how well it did
    classifier.joblib    the DemandClassifier
    embedder/            the project sentence-transformers model (embedder kind "project")
    jieba-cache/         jieba's prefix-dictionary cache (rebuilt if missing)

The card is read and written through :class:`ModelCard` only. Every field has a default and
unknown keys are kept, so cards written by earlier versions (fewer fields, other metrics)
still load, and a card read and written again keeps what it had.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CARD_FILE",
    "CLASSIFIER_FILE",
    "EMBEDDER_DIR",
    "JIEBA_CACHE_DIR",
    "Baseline",
    "ClassScores",
    "Confusion",
    "DataSummary",
    "EmbedderCard",
    "Evaluation",
    "Metrics",
    "ModelCard",
    "SegmenterCard",
    "Served",
    "TrainingSource",
]

CARD_FILE = "card.json"
CLASSIFIER_FILE = "classifier.joblib"
EMBEDDER_DIR = "embedder"
JIEBA_CACHE_DIR = "jieba-cache"


class _Part(BaseModel):
    # extra="allow": keys of older or newer cards survive a read and a write
    model_config = ConfigDict(extra="allow")


class ClassScores(_Part):
    precision: float
    recall: float
    f1: float
    support: int


class Confusion(_Part):
    """Rows: true label, columns: prediction, both in ``labels`` order."""

    labels: list[str]
    matrix: list[list[int]]


class Served(_Part):
    """Scores as served: answers below the unknown threshold are "other" and count as misses."""

    unknown_threshold: float
    other_rate: float
    macro_f1: float


class Baseline(_Part):
    model: str
    macro_f1: float
    name: str | None = None       #: its key in models.baselines.BASELINES
    margin: float | None = None   #: the recipe's macro-F1 less this one's, same splits


class Metrics(_Part):
    """Scores on held-out texts (:func:`models.training.score_predictions` and the splits)."""

    macro_f1: float | None = None
    accuracy: float | None = None
    per_class: dict[str, ClassScores] = Field(default_factory=dict)
    confusion: Confusion | None = None
    method: str | None = None       #: how the texts were held out
    folds: int = 1
    n_scored: int | None = None
    C: list[float] = Field(default_factory=list)  #: the C chosen in each fold
    served: Served | None = None
    baseline: Baseline | None = None
    margin_over_baseline: float | None = None
    #: every baseline of models.baselines on the same splits (word-only first)
    baselines: list[Baseline] = Field(default_factory=list)


class Evaluation(Metrics):
    """A registered model scored on a labelled file (``minsheng model evaluate``)."""

    n_texts: int = 0
    unknown_labels: list[str] = Field(default_factory=list)  #: labels the model never learnt


class TrainingSource(_Part):
    """Where the training data came from (a generated corpus records its own keys)."""

    file: str | None = None
    text_cols: list[str] | None = None
    label_col: str | None = None
    corrections: int | None = None  #: review-queue corrections laid over the data


class DataSummary(_Part):
    n_texts: int = 0
    sha256: str | None = None
    label_counts: dict[str, int] = Field(default_factory=dict)


class SegmenterCard(_Part):
    """Hashes of the dictionaries the models were trained with (``None``: no file)."""

    userdict_sha256: str | None = None
    stopwords_sha256: str | None = None
    hmm: bool = True


class EmbedderCard(_Part):
    """The embedder a model was trained with, and so the one that serves it."""

    kind: str = "project"
    path: str | None = None  #: a pretrained model's directory or name
    dim: int | None = None
    wants_segmented: bool | None = None
    marker: dict[str, Any] | None = None  #: the project embedder's marker (corpus hash, ...)


class ModelCard(_Part):
    """What a model version was trained on, with what, and how well it did."""

    version: str
    name: str | None = None
    created: datetime | None = None
    source: TrainingSource = Field(default_factory=TrainingSource)
    data: DataSummary = Field(default_factory=DataSummary)
    labels: list[str] = Field(default_factory=list)
    other_label: str = "other"
    segmenter: SegmenterCard = Field(default_factory=SegmenterCard)
    embedder: EmbedderCard = Field(default_factory=EmbedderCard)
    classifier: dict[str, Any] = Field(default_factory=dict)  #: get_params() and C_
    metrics: Metrics = Field(default_factory=Metrics)
    versions: dict[str, str] = Field(default_factory=dict)  #: python and library versions

    @classmethod
    def read(cls, model_dir: str | Path) -> ModelCard:
        """The card of a model directory."""
        return cls.model_validate_json((Path(model_dir) / CARD_FILE).read_bytes())

    def write(self, model_dir: str | Path) -> Path:
        """Write ``card.json`` into ``model_dir`` (replaced atomically); return its path."""
        path = Path(model_dir) / CARD_FILE
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".card-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.model_dump_json(indent=2))
        os.replace(tmp, path)
        return path
