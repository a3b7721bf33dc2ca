"""``minsheng validate``: a district's config folder checked as a whole, every problem named
with its file and line.

Errors stop a run (a registry category the taxonomy lacks, a model whose labels are neither
category codes nor mapped, a community the adjacency names but the district lacks, a file that
does not parse); notes say what a missing optional part means (no survey, no adjacency, a file
taken from the packaged defaults, a provider kind of the district's own).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from minsheng.channels import CHANNELS
from minsheng.domain import ChannelMapping, District, Taxonomy

#: The fields each channel's mapping must name (the others are optional).
REQUIRED_FIELDS = {
    "hotline": ("order_id", "received_at", "text"),
    "platform": ("message_id", "received_at", "text"),
    "survey": ("response_id", "submitted_at", "respondent_type"),
    "wechat": ("user", "received_at", "text"),
    "meeting": (),
}


@dataclass(frozen=True)
class Problem:
    """One finding: ``file:line: message``; ``error`` stops runs, a note does not."""

    file: str
    line: int | None
    message: str
    error: bool = True

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{'error' if self.error else 'note '} {where}: {self.message}"


def _node_line(node: yaml.Node | None, path: Sequence[Any]) -> int | None:
    """The 1-based line of the value at ``path`` (keys and list indexes) in a composed YAML
    node tree; the deepest line found when the path runs out."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(step)), None)
            if pair is None:
                break
            line, node = pair[0].start_mark.line + 1, pair[1]  # the key's line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line


class _Folder:
    def __init__(self, config_dir: Path, packaged: Path) -> None:
        self.dir, self.packaged = config_dir, packaged
        self.problems: list[Problem] = []
        self.loaded: dict[str, tuple[Any, yaml.Node | None]] = {}

    def source(self, name: str) -> Path:
        own = self.dir / name
        if own.exists():
            return own
        if self.dir.resolve() != self.packaged.resolve():
            self.problems.append(Problem(name, None, f"not in {self.dir}: the packaged default is used", False))
        return self.packaged / name

    def load(self, name: str) -> tuple[Any, yaml.Node | None]:
        if name not in self.loaded:
            self.loaded[name] = self._load(name)
        return self.loaded[name]

    def _load(self, name: str) -> tuple[Any, yaml.Node | None]:
        path = self.source(name)
        try:
            text = path.read_text(encoding="utf-8")
            return yaml.safe_load(text) or {}, yaml.compose(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            self.problems.append(Problem(name, mark.line + 1 if mark else None, f"not valid YAML: {exc}"))
        except OSError as exc:
            self.problems.append(Problem(name, None, f"cannot read: {exc.strerror}"))
        return None, None

    def model(self, name: str, cls: type[BaseModel], data: Any, node: yaml.Node | None) -> Any:
        if data is None:
            return None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = [p for p in err["loc"] if not isinstance(p, str) or not p.startswith("function-")]
                field = ".".join(str(p) for p in loc) or "(top level)"
                self.problems.append(Problem(name, _node_line(node, loc), f"{field}: {err['msg']}"))
            return None


def validate_folder(config_dir: Path, packaged: Path, *, registry: Path | None = None,
                    model_labels: Sequence[str] | None = None, model_ref: str = "") -> list[Problem]:
    """Every problem of the config folder ``config_dir`` (files it lacks come from ``packaged``),
    of the supply ``registry`` (default: ``supply.yaml`` there) and of the model in use whose
    labels are ``model_labels``."""
    from minsheng.matching import MatchConfigError, load_match_config
    from minsheng.supply import KNOWN_KINDS, SupplyError, load_registry

    f = _Folder(config_dir, packaged)
    district = f.model("district.yaml", District, *f.load("district.yaml"))
    taxonomy = f.model("taxonomy.yaml", Taxonomy, *f.load("taxonomy.yaml"))
    if district is not None and district.survey is None:
        f.problems.append(Problem("district.yaml", None, "no survey block: questionnaires cannot be "
                                  "ingested and the report leaves the survey out", False))
    if district is not None and not any(c.places or c.aliases for c in district.communities):
        f.problems.append(Problem("district.yaml", None, "no aliases or places: a record whose export "
                                  "has no community column can only be placed by a community's name", False))

    raw, node = f.load("channels.yaml")
    if isinstance(raw, dict):
        for name, mapping in raw.items():
            line = _node_line(node, [name])
            if name not in CHANNELS:
                f.problems.append(Problem("channels.yaml", line, f"unknown channel {name!r} (known: {', '.join(CHANNELS)})"))
                continue
            m = f.model("channels.yaml", ChannelMapping, mapping or {}, node)
            if m is not None and (missing := [k for k in REQUIRED_FIELDS[name] if k not in m.fields]):
                f.problems.append(Problem("channels.yaml", line, f"{name}: no column mapped for {', '.join(missing)}"))

    if district is not None:
        try:
            config = load_match_config(f.source("matching.yaml"), district.community_codes)
            f.problems += [Problem("matching.yaml", None, note, False) for note in config.notes]
        except MatchConfigError as exc:
            f.problems.append(Problem("matching.yaml", None, str(exc)))

    supply = registry or config_dir / "supply.yaml"
    if district is not None and taxonomy is not None:
        if not supply.exists():
            f.problems.append(Problem(supply.name, None, "no supply registry: matching has no capacity to "
                                      "match against (`minsheng init` writes a starter)", False))
        else:
            try:
                reg = load_registry(supply, taxonomy, district)
                for p in reg.providers:
                    if p.kind not in KNOWN_KINDS:
                        f.problems.append(Problem(supply.name, None, f"provider {p.id} is of kind {p.kind!r}, "
                                                  f"not one of {', '.join(KNOWN_KINDS)}: shown as is", False))
            except SupplyError as exc:
                f.problems.append(Problem(supply.name, None, str(exc)))
        if model_labels is not None and (bad := taxonomy.unmapped(list(model_labels))):
            f.problems.append(Problem("taxonomy.yaml", _node_line(f.load("taxonomy.yaml")[1], ["label_map"]),
                                      f"the model in use ({model_ref}) predicts labels that are neither "
                                      f"category codes nor in label_map: {', '.join(bad)}"))
    return f.problems
