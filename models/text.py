"""The text stage: segment → embed → classify, and the urgency and sentiment signals.

Every shell (Beam DoFns, Prefect flows, CLI, benchmarks, tests) loads the text models through
:meth:`TextModels.load` and applies them through its batch methods, so that training and
serving can never cut, embed or classify differently. Training is :mod:`models.training`.
The layout of a model directory is in :mod:`models.card`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.card import CLASSIFIER_FILE, EMBEDDER_DIR, JIEBA_CACHE_DIR, ModelCard
from models.classify import DemandClassifier
from models.embed import Embedder, load_embedder
from models.places import Gazetteer, Place, PlaceExtractor
from models.segment import Segmenter
from models.signals import sentiment, urgency
from models.spec import ModelSpec

__all__ = [
    "Classification",
    "Segmented",
    "Signals",
    "TextModels",
    "TextResult",
    "file_sha256",
    "make_segmenter",
]

log = logging.getLogger(__name__)

#: Keywords kept per text.
KEYWORDS = 3
#: Ranked categories kept per text.
TOP_K = 3


@dataclass(frozen=True)
class Segmented:
    """A text's tokens (stop words removed) and its keywords."""

    tokens: list[str]
    keywords: list[str]

    @property
    def joined(self) -> str:
        """The space-joined tokens: the form the embedder and the classifier consume."""
        return " ".join(self.tokens)


@dataclass(frozen=True)
class Classification:
    """A text's category (``other`` below the classifier's threshold), the top probability,
    and the most probable categories, best first."""

    category: str
    confidence: float
    top3: list[tuple[str, float]]


@dataclass(frozen=True)
class Signals:
    """Rules over the masked text (:mod:`models.signals`)."""

    urgent: bool
    sentiment: int  #: -1, 0 or 1


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


def file_sha256(path: str | Path | None) -> str | None:
    """SHA-256 of a file, or ``None`` when there is no such file."""
    if not path or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_segmenter(
    userdict: str | Path | None, stopwords: str | Path | None, model_dir: str | Path
) -> Segmenter:
    """The segmenter of a model directory: the given dictionaries, the directory's jieba cache."""
    return Segmenter(
        userdict=str(userdict) if userdict else None,
        stopwords=str(stopwords) if stopwords else None,
        cache_dir=str(Path(model_dir) / JIEBA_CACHE_DIR),
    )


@dataclass
class TextModels:
    """The three text models of one trained version, loaded once, applied in batches.

    Every method takes a batch (a list) and returns one result per text, in order; pass a few
    hundred texts at a time rather than one: embedding and classification run once per call.
    Texts are PII-masked.
    """

    segmenter: Segmenter
    embedder: Embedder
    classifier: DemandClassifier
    version: str = "unknown"  #: the card's version, recorded on each classified row
    places_of: PlaceExtractor | None = None  #: the district's places, over this segmenter

    @classmethod
    def load(cls, spec: ModelSpec) -> TextModels:
        """Load the models a spec names (offline), after capping the thread pools at
        ``spec.threads``.

        The embedder is the one on the model card unless the spec names another. Fails
        (``ValueError``) when the embedder does not give the dimension the classifier was
        trained on; warns when the user dictionary or the stop words changed since training
        (tokens would no longer match what the models learnt from).
        """
        spec.limit_threads()
        model_dir = Path(spec.model_dir)
        classifier = DemandClassifier.load(model_dir / CLASSIFIER_FILE)
        card = ModelCard.read(model_dir)
        if spec.embedder_kind is None:
            kind, path = card.embedder.kind, card.embedder.path
        else:
            kind, path = spec.embedder_kind, spec.embedder_path
        embedder = load_embedder(kind, path, model_dir / EMBEDDER_DIR)
        if embedder.dim != classifier.embedding_dim_:
            raise ValueError(
                f"the {kind} embedder gives {embedder.dim} dimensions but the classifier in "
                f"{model_dir} was trained on {classifier.embedding_dim_}: retrain with this embedder"
            )
        for name, file, trained in (
            ("userdict", spec.userdict, card.segmenter.userdict_sha256),
            ("stopwords", spec.stopwords, card.segmenter.stopwords_sha256),
        ):
            if trained is not None and trained != file_sha256(file):
                log.warning("%s %s changed since the models in %s were trained", name, file,
                            model_dir)
        segmenter = make_segmenter(spec.userdict, spec.stopwords, model_dir)
        gazetteer = Gazetteer.from_records(json.loads(spec.gazetteer))
        return cls(segmenter, embedder, classifier, card.version, PlaceExtractor(segmenter, gazetteer))

    def places(self, texts: Sequence[str], communities: Sequence[str | None]) -> list[list[Place]]:
        """The places each text names (estates, roads, buildings, institutions, landmarks,
        communities: :mod:`models.places`), the gazetteer's first; ``communities`` scope the
        generic ones."""
        extractor = self.places_of or PlaceExtractor(self.segmenter)
        return [extractor.extract(t, c) for t, c in zip(texts, communities, strict=True)]

    def segment(self, texts: Sequence[str]) -> list[Segmented]:
        """Tokens and the top keywords of each text (an empty token list when a text has no
        words)."""
        seg = self.segmenter
        # all the cuts, then all the keywords: each pass keeps its own large table (jieba's
        # prefix dictionary, its IDF table) in the CPU caches; alternating costs about 10 %
        tokens = seg.tokens_many(texts)
        return [Segmented(t, seg.keywords(t, k=KEYWORDS)) for t in tokens]

    def embed(self, texts: Sequence[str], tokens: Sequence[str] | None = None) -> np.ndarray:
        """Sentence embeddings, float32 of shape ``(len(texts), dim)`` with unit rows.

        ``tokens`` are the texts' space-joined tokens (:attr:`Segmented.joined`), used when the
        embedder wants segmented input; segmented here when not given.
        """
        if not self.embedder.wants_segmented:
            return self.embedder.encode(list(texts))
        if tokens is None:
            tokens = [s.joined for s in self.segment(texts)]
        return self.embedder.encode(list(tokens))

    def classify(
        self, texts: Sequence[str], tokens: Sequence[str], embeddings: Sequence[np.ndarray] | np.ndarray
    ) -> list[Classification]:
        """Category, confidence and top-3 of each text, from its text, space-joined tokens and
        embedding (one probability matrix for the batch)."""
        if len(texts) == 0:
            return []
        frame = pd.DataFrame({"text": list(texts), "tokens": list(tokens),
                              "embedding": list(embeddings)})
        proba = self.classifier.predict_proba(frame)
        labels = self.classifier.labels_from_proba(proba)
        ranked = self.classifier.top_k_from_proba(proba, k=TOP_K)
        return [Classification(str(label), top[0][1], top)
                for label, top in zip(labels, ranked, strict=True)]

    def signals(self, texts: Sequence[str]) -> list[Signals]:
        """Urgency and sentiment of each text."""
        return [Signals(urgency(text), sentiment(text)) for text in texts]

    def analyse(self, texts: Sequence[str]) -> list[TextResult]:
        """Segment, embed, classify and read the signals of a batch of texts.

        ``category`` is the classifier's label, or its ``other_label`` when ``confidence``
        (the top probability) is below its threshold.
        """
        texts = list(texts)
        if not texts:
            return []
        segmented = self.segment(texts)
        joined = [s.joined for s in segmented]
        vectors = self.embed(texts, joined)
        classes = self.classify(texts, joined, vectors)
        return [
            TextResult(seg.tokens, seg.keywords, vec, c.category, c.confidence, c.top3,
                       sig.urgent, sig.sentiment)
            for seg, vec, c, sig in zip(segmented, vectors, classes, self.signals(texts),
                                        strict=True)
        ]
