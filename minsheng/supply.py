"""The supply registry: providers, their services, service areas and weekly capacity.

Loaded from YAML and validated against the taxonomy and the district: an unknown category
or community, a negative capacity or a missing unit is an error naming the service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

from minsheng.domain import District, Taxonomy


class SupplyError(ValueError):
    pass


class Service(BaseModel):
    id: str
    name: str
    categories: dict[str, Literal["primary", "secondary"]]
    area: Literal["all"] | list[str] = "all"
    unit: str = Field(min_length=1)
    capacity: int = Field(ge=0)
    eligibility: dict[str, object] = Field(default_factory=dict)

    @field_validator("categories")
    @classmethod
    def _non_empty(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("a service must serve at least one category")
        return v


class Provider(BaseModel):
    id: str
    name: str
    kind: Literal["centre", "base", "ngo", "mutual_aid"]
    services: list[Service]


class Registry(BaseModel):
    providers: list[Provider]

    def services(self) -> list[tuple[Provider, Service]]:
        return [(p, s) for p in self.providers for s in p.services]


def load_registry(path: Path, taxonomy: Taxonomy, district: District) -> Registry:
    """Read and validate a supply registry file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SupplyError(f"cannot read supply registry {path}: {exc.strerror}") from exc
    try:
        registry = Registry.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _locate(raw, first["loc"])
        raise SupplyError(f"{path.name}: {where}: {first['msg']}") from exc
    categories = set(taxonomy.codes)
    communities = set(district.community_codes)
    seen: set[str] = set()
    for provider, service in registry.services():
        where = f"service {service.id} of provider {provider.id}"
        if service.id in seen:
            raise SupplyError(f"{path.name}: {where}: duplicate service id")
        seen.add(service.id)
        unknown = set(service.categories) - categories
        if unknown:
            raise SupplyError(f"{path.name}: {where}: unknown category {sorted(unknown)}")
        if service.area != "all":
            bad = set(service.area) - communities
            if bad:
                raise SupplyError(f"{path.name}: {where}: unknown community {sorted(bad)}")
    return registry


def _locate(raw: object, loc: tuple[object, ...]) -> str:
    """Name the provider/service that a validation error points at."""
    parts = []
    node = raw
    for step in loc:
        try:
            node = node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and "id" in node:
            parts.append(str(node["id"]))
    field = ".".join(str(s) for s in loc if isinstance(s, str))
    return (" / ".join(parts) or "registry") + (f" field {field}" if field else "")


def area_of(service: Service, district: District) -> list[str]:
    return district.community_codes if service.area == "all" else list(service.area)
