"""Composite transforms, one per business step of the text stage.

Each step takes and gives a PCollection of batches: lists of plain dicts (feedback rows,
later demand items). Beam's per-element work in Python costs about as much as the text
models themselves, so elements travel a few hundred at a time; the models batch anyway.
Every DoFn sends an element it cannot handle to the ``dead`` output as a dead letter (one
dict per element), counted with a Beam metric, and the rest go on. Models are loaded once
per DoFn instance in ``setup()``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from minsheng.pii import mask

DEAD = "dead"
NAMESPACE = "minsheng"
REQUIRED = ("feedback_id", "channel", "received_at", "week", "community", "text", "content_hash")

Batch = list[dict[str, Any]]
Rejected = tuple[Any, str, str]  # element, reason code, message


@dataclass(frozen=True)
class ModelSpec:
    """Where a worker finds the text models: plain paths, so it ships to any runner."""

    model_dir: str
    userdict: str
    stopwords: str
    embedder_kind: str = "project"
    embedder_path: str | None = None
    other_label: str = "other"
    threads: int = 0  # for BLAS and torch in a worker; 0: the libraries' default

    def limit_threads(self) -> None:
        """Cap this process's BLAS and torch thread pools at ``threads``, when set."""
        if self.threads > 0:
            import torch
            from threadpoolctl import threadpool_limits

            threadpool_limits(self.threads)
            torch.set_num_threads(self.threads)

    @property
    def model_version(self) -> str:
        card = Path(self.model_dir) / "card.json"
        return json.loads(card.read_text(encoding="utf-8")).get("version", "unknown")


def dead_letter(stage: str, element: Any, reason: str, message: str) -> dict[str, Any]:
    payload = element if isinstance(element, dict) else {"value": element}
    return {
        "stage": stage,
        "feedback_id": str(payload.get("feedback_id", "")),
        "content_hash": str(payload.get("content_hash", "")),
        "source_file": str(payload.get("source_file", "")),
        "source_pos": str(payload.get("source_pos", "")),
        "channel": str(payload.get("channel", "pipeline")),
        "reason": reason,
        "message": message[:500],
        "payload": mask(json.dumps(payload, ensure_ascii=False, default=str)[:2000]).text,
    }


class _BatchFn(beam.DoFn):
    """A DoFn over batches of elements. ``run_batch`` returns the elements that go on (one
    batch out per batch in, when not empty) and the rejected ones with their reason; a batch
    that raises is retried one element at a time, so that only the failing elements become
    dead letters. ``ok`` and ``dead_letters`` count elements."""

    stage = "stage"

    def __init__(self) -> None:
        self.ok = Metrics.counter(NAMESPACE, f"{self.stage}_ok")
        self.failed = Metrics.counter(NAMESPACE, f"{self.stage}_dead_letters")

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        raise NotImplementedError

    def process(self, batch: Batch) -> Iterator[Any]:
        try:
            done, rejected = self.run_batch(batch)
        except Exception:
            done, rejected = [], []
            for element in batch:
                try:
                    ok, bad = self.run_batch([element])
                except Exception as exc:  # a bad element must not fail the bundle
                    rejected.append((element, f"{self.stage}_error", repr(exc)))
                    continue
                done += ok
                rejected += bad
        for element, reason, message in rejected:
            self.failed.inc()
            yield pvalue.TaggedOutput(DEAD, dead_letter(self.stage, element, reason, message))
        if done:
            self.ok.inc(len(done))
            yield done


class _ParseFn(_BatchFn):
    stage = "parse"

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        done: Batch = []
        rejected: list[Rejected] = []
        for row in batch:
            missing = [k for k in REQUIRED if row.get(k) in (None, "")]
            if missing:
                rejected.append((row, "missing_field", f"missing {', '.join(missing)}"))
                continue
            received = row["received_at"]
            if isinstance(received, str):
                try:
                    received = datetime.fromisoformat(received)
                except ValueError:
                    rejected.append((row, "bad_time", f"bad received_at {received!r}"))
                    continue
            done.append({**row, "received_at": received, "text": str(row["text"])})
        return done, rejected


class ParseFeedback(beam.PTransform):
    """Validate feedback rows: every required field present, event time parsed."""

    def expand(self, batches: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return batches | "Validate" >> beam.ParDo(_ParseFn()).with_outputs(DEAD, main="ok")


class _MaskFn(beam.DoFn):
    def __init__(self) -> None:
        self.masked = Metrics.counter(NAMESPACE, "pii_masked")

    def process(self, batch: Batch) -> Iterator[Batch]:
        out = []
        for row in batch:
            result = mask(row["text"])
            if result.had_pii:
                self.masked.inc(sum(result.found.values()))
            out.append({**row, "text": result.text})
        yield out


class MaskPersonalData(beam.PTransform):
    """Mask phone, ID, card numbers, e-mails and addresses (idempotent: ingestion masks too,
    and a streaming source may not have been through ingestion)."""

    def expand(self, batches: beam.PCollection) -> beam.PCollection:
        return batches | "Mask" >> beam.ParDo(_MaskFn())


# An enumerator ("1、", "(2)", "三是") counts only at the start or after punctuation, so that
# "唯一是" or a date is never taken for one.
_ENUMERATION = re.compile(
    r"(?:^|(?<=[，,；;。：:\s]))(?:[（(]?[1-9一二三四五六七八九][)）、.](?!\d)|[一二三四五六七八九]是)"
)


def split_items(text: str) -> list[str]:
    """Split an utterance that enumerates several demands ("一是…二是…", "1、…2、…");
    anything else is one demand item."""
    marks = list(_ENUMERATION.finditer(text))
    if len(marks) < 2:
        return [text]
    ends = [m.start() for m in marks[1:]] + [len(text)]
    parts = [text[m.end():end].strip(" ，,；;。\n") for m, end in zip(marks, ends, strict=True)]
    parts = [p for p in parts if len(p) >= 4]
    return parts if len(parts) >= 2 else [text]


def explode(row: dict[str, Any]) -> Batch:
    """A feedback row's demand items, keyed ``feedback_id#n``."""
    return [{**row, "item_id": f"{row['feedback_id']}#{n}", "text": part}
            for n, part in enumerate(split_items(row["text"]), start=1)]


class SplitDemandItems(beam.PTransform):
    """One feedback row → one or more demand items, keyed ``feedback_id#n``."""

    def expand(self, batches: beam.PCollection) -> beam.PCollection:
        return batches | "Split" >> beam.Map(lambda batch: [i for row in batch for i in explode(row)])


class _SegmentFn(_BatchFn):
    stage = "segment"

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def setup(self) -> None:
        import logging

        from models.segment import Segmenter

        logging.getLogger("jieba").setLevel(logging.WARNING)  # one dictionary-load line per worker otherwise

        self.segmenter = Segmenter(
            userdict=self.spec.userdict, stopwords=self.spec.stopwords,
            cache_dir=str(Path(self.spec.model_dir) / "jieba-cache"),
        )

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        done: Batch = []
        rejected: list[Rejected] = []
        for item in batch:
            tokens = self.segmenter.tokens(item["text"])
            if not tokens:
                rejected.append((item, "no_tokens", "text has no words after segmentation"))
                continue
            done.append({**item, "tokens": " ".join(tokens),
                         "keywords": self.segmenter.keywords(tokens, k=3)})
        return done, rejected


class Segment(beam.PTransform):
    """jieba segmentation with the domain dictionary, stop words removed, keywords."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def expand(self, batches: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return batches | "Segment" >> beam.ParDo(_SegmentFn(self.spec)).with_outputs(DEAD, main="ok")


class _EmbedFn(_BatchFn):
    stage = "embed"

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def setup(self) -> None:
        from models.embed import load_embedder

        self.spec.limit_threads()
        self.embedder = load_embedder(
            self.spec.embedder_kind, self.spec.embedder_path, Path(self.spec.model_dir) / "embedder"
        )

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        field = "tokens" if self.embedder.wants_segmented else "text"
        vectors = self.embedder.encode([item[field] for item in batch])
        return [{**item, "embedding": vec} for item, vec in zip(batch, vectors, strict=True)], []


class Embed(beam.PTransform):
    """Sentence embeddings, a batch at a time."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def expand(self, batches: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return batches | "Encode" >> beam.ParDo(_EmbedFn(self.spec)).with_outputs(DEAD, main="ok")


class _ClassifyFn(_BatchFn):
    stage = "classify"

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def setup(self) -> None:
        from models.classify import DemandClassifier
        from models.signals import sentiment, urgency

        self.spec.limit_threads()
        self.classifier = DemandClassifier.load(Path(self.spec.model_dir) / "classifier.joblib")
        self.version = self.spec.model_version
        self.urgency, self.sentiment = urgency, sentiment

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        import pandas as pd

        frame = pd.DataFrame({
            "text": [i["text"] for i in batch],
            "tokens": [i["tokens"] for i in batch],
            "embedding": [i["embedding"] for i in batch],
        })
        proba = self.classifier.predict_proba(frame)
        top = self.classifier.top_k_from_proba(proba, k=3)
        labels = self.classifier.labels_from_proba(proba)
        out = []
        for item, label, ranked in zip(batch, labels, top, strict=True):
            out.append({
                **item,
                "category": str(label),
                "confidence": float(ranked[0][1]),
                "top3": json.dumps([[c, round(float(p), 4)] for c, p in ranked], ensure_ascii=False),
                "embedding": [float(x) for x in item["embedding"]],
                "model_version": self.version,
                "urgent": self.urgency(item["text"]),
                "sentiment": self.sentiment(item["text"]),
            })
        return out, []


class Classify(beam.PTransform):
    """Service category with calibrated top-3 scores (below the threshold: other), urgency
    and sentiment."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def expand(self, batches: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return batches | "Predict" >> beam.ParDo(_ClassifyFn(self.spec)).with_outputs(DEAD, main="ok")
