"""The model registry: versioned text-model artefacts and the one the pipeline uses.

Layout under the settings' ``model_dir``::

    registry/<name>/<version>/   one trained model (see models.card): card.json,
                                 classifier.joblib, embedder/, jieba-cache/
    current.json                 {"name": ..., "version": ...}: the model in use

A version directory is complete or absent: training writes into a hidden sibling and renames
it into place. ``current.json`` is replaced atomically, so a pipeline that starts while
``model use`` runs sees the old model or the new one, never a mix. Every shell finds the
models through :func:`current_model_dir`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from models.card import CARD_FILE, ModelCard

__all__ = [
    "CARD_FILE",
    "ModelEntry",
    "check_name",
    "current",
    "current_model_dir",
    "list_models",
    "resolve",
    "staging_version",
    "use",
]

REGISTRY_DIR = "registry"
CURRENT_FILE = "current.json"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class ModelEntry:
    """One registered model version."""

    name: str
    version: str
    path: Path

    @property
    def card(self) -> ModelCard:
        """The model card written at training time."""
        return ModelCard.read(self.path)

    @property
    def ref(self) -> str:
        """``name/version``, as :func:`resolve` and :func:`use` accept it."""
        return f"{self.name}/{self.version}"


def check_name(name: str) -> str:
    """A registry name: letters, digits, ``.``, ``_``, ``-``; returns it unchanged."""
    if not _NAME.match(name):
        raise ValueError(
            f"bad model name {name!r}: use letters, digits, '.', '_' or '-' (at most 64)"
        )
    return name


def list_models(model_dir: Path) -> list[ModelEntry]:
    """Every complete model version, by name, oldest version first."""
    root = Path(model_dir) / REGISTRY_DIR
    if not root.is_dir():
        return []
    return [
        ModelEntry(name_dir.name, version_dir.name, version_dir)
        for name_dir in sorted(root.iterdir()) if name_dir.is_dir()
        for version_dir in sorted(name_dir.iterdir())
        if not version_dir.name.startswith(".") and (version_dir / CARD_FILE).is_file()
    ]


def resolve(model_dir: Path, ref: str) -> ModelEntry:
    """The model named ``ref``: ``NAME`` (its latest version) or ``NAME/VERSION``."""
    name, _, version = ref.partition("/")
    versions = [e for e in list_models(model_dir) if e.name == name]
    if version:
        versions = [e for e in versions if e.version == version]
    if not versions:
        known = sorted({e.ref if version else e.name for e in list_models(model_dir)})
        raise KeyError(
            f"no model {ref!r} in {Path(model_dir) / REGISTRY_DIR}; known: "
            f"{', '.join(known) or 'none (train one with `minsheng model train`)'}"
        )
    return versions[-1]


def current(model_dir: Path) -> ModelEntry | None:
    """The model in use, or ``None`` when none was chosen yet."""
    pointer = Path(model_dir) / CURRENT_FILE
    if not pointer.is_file():
        return None
    data = json.loads(pointer.read_text(encoding="utf-8"))
    return resolve(model_dir, f"{data['name']}/{data['version']}")


def current_model_dir(model_dir: Path) -> Path:
    """Directory of the model in use: what the pipeline and the flows load models from."""
    entry = current(model_dir)
    if entry is None:
        raise FileNotFoundError(
            f"no model in use under {model_dir}: train one (`minsheng model train --data FILE`, "
            "or any flow that processes feedback) or pick one with `minsheng model use NAME`"
        )
    return entry.path


def use(model_dir: Path, ref: str) -> ModelEntry:
    """Make the model ``ref`` (``NAME`` or ``NAME/VERSION``) the one in use."""
    entry = resolve(model_dir, ref)
    pointer = Path(model_dir) / CURRENT_FILE
    fd, tmp = tempfile.mkstemp(dir=pointer.parent, prefix=".current-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"name": entry.name, "version": entry.version}, f)
    os.replace(tmp, pointer)
    return entry


@contextmanager
def staging_version(model_dir: Path, name: str) -> Iterator[Path]:
    """A fresh directory to train model ``name`` into; yields its path.

    On a clean exit the directory becomes ``registry/<name>/<version>``, ``version`` read from
    the ``card.json`` written into it; on an error it is removed.
    """
    parent = Path(model_dir) / REGISTRY_DIR / check_name(name)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=parent, prefix=".training-"))
    try:
        yield tmp
        os.replace(tmp, parent / ModelCard.read(tmp).version)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
