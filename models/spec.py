"""Where a process finds the text models: :class:`ModelSpec`, plain paths and numbers, so
that it pickles and ships to any Beam runner's workers, and serves as the key of a
per-process cache of loaded models."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from models.card import ModelCard

__all__ = ["ModelSpec"]


@dataclass(frozen=True)
class ModelSpec:
    """Everything a worker needs to load one trained model (:meth:`models.text.TextModels.load`).

    ``model_dir`` is a model directory (a registry version, see :mod:`models.card`);
    ``userdict`` and ``stopwords`` are the jieba files the segmenter reads. The embedder is the
    one on the model's card unless ``embedder_kind`` is given (a pretrained embedder lives at
    ``embedder_path``, outside the model directory). ``threads`` caps the BLAS and torch
    thread pools of the process that loads the models (0: the libraries' default).
    ``label_map`` pairs a model's own labels with the service categories they stand for
    (``taxonomy.yaml``'s ``label_map``): the text stage records both. ``gazetteer`` holds the
    district's places as ``models.places.Gazetteer`` records (JSON text): what the place step
    finds in a text, and how it places a record its export did not.
    """

    model_dir: str
    userdict: str
    stopwords: str
    embedder_kind: str | None = None
    embedder_path: str | None = None
    threads: int = 0
    label_map: tuple[tuple[str, str], ...] = ()
    gazetteer: str = "[]"

    @classmethod
    def for_model(
        cls, model_dir: str | Path, *, userdict: str | Path, stopwords: str | Path, threads: int = 0,
        label_map: dict[str, str] | None = None, gazetteer: list[dict] | None = None,
    ) -> ModelSpec:
        """The spec of a trained model, its embedder written out from its card."""
        import json

        embedder = ModelCard.read(model_dir).embedder
        return cls(str(model_dir), str(userdict), str(stopwords), embedder.kind, embedder.path,
                   threads, tuple(sorted((label_map or {}).items())),
                   json.dumps(gazetteer or [], ensure_ascii=False, sort_keys=True))

    def category_of(self, label: str) -> str:
        """The service category a model's label stands for (itself when not mapped)."""
        return dict(self.label_map).get(label, label)

    @property
    def model_version(self) -> str:
        """The version on the model's card (what each classified row records)."""
        return ModelCard.read(self.model_dir).version

    @property
    def models_key(self) -> ModelSpec:
        """What identifies the loaded models: the spec without ``threads``, which changes how
        a process computes, not what it computes with."""
        return replace(self, threads=0)

    def limit_threads(self) -> None:
        """Cap this process's BLAS and torch thread pools at ``threads``, when set."""
        if self.threads > 0:
            import torch
            from threadpoolctl import threadpool_limits

            threadpool_limits(self.threads)
            torch.set_num_threads(self.threads)
