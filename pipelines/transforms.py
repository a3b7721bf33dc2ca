"""Composite transforms, one per business step of the text stage.

Each step takes and gives a PCollection of batches: lists of plain dicts (feedback rows,
later demand items). Beam's per-element work in Python costs about as much as the text
models themselves, so elements travel a few hundred at a time; the models batch anyway.
Every DoFn sends an element it cannot handle to the ``dead`` output as a dead letter (one
dict per element), counted with a Beam metric, and the rest go on. The model steps are a few
lines around one :class:`models.text.TextModels`, acquired in ``setup()`` from a per-process
cache keyed by the :class:`~models.spec.ModelSpec`: the three steps of a worker process share
one loaded copy of the models.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from minsheng.domain import UNKNOWN_COMMUNITY
from minsheng.pii import mask, mask_value
from models.spec import ModelSpec
from models.splitting import split_demands

if TYPE_CHECKING:  # the models are imported by the workers that load them
    from models.text import TextModels

DEAD = "dead"
NAMESPACE = "minsheng"
REQUIRED = ("feedback_id", "channel", "received_at", "week", "community", "text", "content_hash")

Batch = list[dict[str, Any]]
Rejected = tuple[Any, str, str]  # element, reason code, message

# A handle (a key, not the models) into Beam's per-process cache: made when a process imports
# this module, so every model step in that process finds the same entry, whichever pipeline
# built it. The entry holds the last spec's models; another spec replaces them.
_TEXT_MODELS = Shared()


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
        "payload": json.dumps(mask_value(payload), ensure_ascii=False,
                              default=lambda v: mask(str(v)).text)[:2000],
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


def explode(row: dict[str, Any]) -> Batch:
    """A feedback row's demand items, keyed ``feedback_id#n``: one item unless the record is a
    list of demands (``models.splitting.split_demands``)."""
    return [{**row, "item_id": f"{row['feedback_id']}#{n}", "text": part}
            for n, part in enumerate(split_demands(row["text"], row["channel"]), start=1)]


class SplitDemandItems(beam.PTransform):
    """One feedback row → its demand items, keyed ``feedback_id#n``: a meeting note's points
    each, any other record whole unless it plainly lists several demands."""

    def expand(self, batches: beam.PCollection) -> beam.PCollection:
        return batches | "Split" >> beam.Map(lambda batch: [i for row in batch for i in explode(row)])


class _ModelFn(_BatchFn):
    """A batch step over the text models of ``spec``, loaded once per worker process."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def setup(self) -> None:
        from models.text import TextModels

        logging.getLogger("jieba").setLevel(logging.WARNING)  # one dictionary-load line per worker otherwise
        self.spec.limit_threads()
        spec = self.spec
        self.models: TextModels = _TEXT_MODELS.acquire(lambda: TextModels.load(spec),
                                                       tag=spec.models_key)


class _SegmentFn(_ModelFn):
    stage = "segment"

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        done: Batch = []
        rejected: list[Rejected] = []
        for item, seg in zip(batch, self.models.segment([i["text"] for i in batch]), strict=True):
            if not seg.tokens:
                rejected.append((item, "no_tokens", "text has no words after segmentation"))
                continue
            done.append({**item, "tokens": seg.joined, "keywords": seg.keywords})
        return done, rejected


class Segment(beam.PTransform):
    """jieba segmentation with the domain dictionary, stop words removed, keywords."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def expand(self, batches: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return batches | "Segment" >> beam.ParDo(_SegmentFn(self.spec)).with_outputs(DEAD, main="ok")


def place_fields(item: dict[str, Any], places: list[Any]) -> dict[str, Any]:
    """The place fields of an item: every place its text names (``places``, JSON), the one
    that best identifies it (``place``: the strongest, then the first), and — when the record
    did not say where it happened — the community of the first of them the gazetteer knows."""
    best = max(places, key=lambda p: p.strength, default=None)  # max keeps the first of equals
    out = {
        "places": json.dumps([{"kind": p.kind, "name": p.name, "key": p.key, "strength": p.strength,
                               "named": p.named, "entry": p.entry, "community": p.community,
                               "detail": p.detail} for p in places], ensure_ascii=False),
        "place": (best.name + (best.detail or "")) if best is not None and best.named else None,
    }
    if item["community"] == UNKNOWN_COMMUNITY:
        placed = [p.community for p in ([best] if best else []) + places if p.community]
        if placed:
            out["community"] = placed[0]
    return out


class _PlacesFn(_ModelFn):
    stage = "places"

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        found = self.models.places([i["text"] for i in batch], [i["community"] for i in batch])
        return [{**item, **place_fields(item, places)} for item, places in zip(batch, found, strict=True)], []


class ExtractPlaces(beam.PTransform):
    """The places a demand names (the district's gazetteer, then patterns over the tokens),
    and the community of a record whose export did not say."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def expand(self, batches: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return batches | "Places" >> beam.ParDo(_PlacesFn(self.spec)).with_outputs(DEAD, main="ok")


class _EmbedFn(_ModelFn):
    stage = "embed"

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        vectors = self.models.embed([i["text"] for i in batch], [i["tokens"] for i in batch])
        return [{**item, "embedding": vec} for item, vec in zip(batch, vectors, strict=True)], []


class Embed(beam.PTransform):
    """Sentence embeddings, a batch at a time."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def expand(self, batches: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return batches | "Encode" >> beam.ParDo(_EmbedFn(self.spec)).with_outputs(DEAD, main="ok")


class _ClassifyFn(_ModelFn):
    stage = "classify"

    def run_batch(self, batch: Batch) -> tuple[Batch, list[Rejected]]:
        texts = [i["text"] for i in batch]
        classes = self.models.classify(texts, [i["tokens"] for i in batch],
                                       [i["embedding"] for i in batch])
        signals = self.models.signals(texts)
        return [{
            **item,
            "label": c.category,
            "category": self.spec.category_of(c.category),
            "confidence": float(c.confidence),
            "top3": json.dumps([[k, round(float(p), 4)] for k, p in c.top3], ensure_ascii=False),
            "embedding": [float(x) for x in item["embedding"]],
            "model_version": self.models.version,
            "urgent": sig.urgent,
            "sentiment": sig.sentiment,
        } for item, c, sig in zip(batch, classes, signals, strict=True)], []


class Classify(beam.PTransform):
    """Service category with calibrated top-3 scores (below the threshold: other), urgency
    and sentiment."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec

    def expand(self, batches: beam.PCollection) -> beam.pvalue.DoOutputsTuple:
        return batches | "Predict" >> beam.ParDo(_ClassifyFn(self.spec)).with_outputs(DEAD, main="ok")
