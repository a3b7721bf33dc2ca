"""The supply registry, after the Open Referral HSDS ideas: providers (organisations), their
services, each service's categories (primary or secondary fit), service area (communities),
location, schedule, eligibility (age, resident type) and weekly capacity in a declared unit.

Capacity is a number, or dated snapshots — ``[{from: 2026-W40, capacity: 30}, {from:
2026-W45, capacity: 40}]`` — so that past weeks keep their own capacity when it changes; before
its first snapshot a service has no capacity row at all.

Read from YAML (nested) or CSV (one row per service, or per capacity snapshot) and validated
against the taxonomy and the district: an unknown category or community, a negative
capacity or a missing unit is an error naming the service (and for CSV the row).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator

from minsheng.domain import UNKNOWN_COMMUNITY, District, Taxonomy
from minsheng.matching import ANYONE, Eligibility

_WEEK = r"^\d{4}-W\d{2}$"


class SupplyError(ValueError):
    pass


#: The provider kinds of the case study ("one centre, three bases, two platforms").
KNOWN_KINDS = ("centre", "base", "ngo", "mutual_aid")


class CapacitySnapshot(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_week: str = Field(alias="from", pattern=_WEEK)
    capacity: int = Field(ge=0)


class Service(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    categories: dict[str, Literal["primary", "secondary"]]
    area: Literal["all"] | list[str] = "all"
    unit: str = Field(min_length=1)
    capacity: Annotated[
        Annotated[Annotated[int, Field(ge=0)], Tag("number")]
        | Annotated[list[CapacitySnapshot], Tag("snapshots")],
        Discriminator(lambda v: "snapshots" if isinstance(v, list) else "number"),
    ]
    eligibility: Eligibility = ANYONE
    location: str | None = None   # community it is delivered from; none: at home, by phone or web
    schedule: str | None = None   # opening hours, as the provider states them

    @field_validator("categories")
    @classmethod
    def _non_empty(cls, v: dict[str, str]) -> dict[str, str]:
        if not v:
            raise ValueError("a service must serve at least one category")
        return v

    @field_validator("capacity")
    @classmethod
    def _snapshots_in_order(cls, v: int | list[CapacitySnapshot]) -> int | list[CapacitySnapshot]:
        if isinstance(v, list):
            weeks = [s.from_week for s in v]
            if not weeks or weeks != sorted(set(weeks)):
                raise ValueError("capacity snapshots must be dated by distinct weeks, in order")
        return v

    def capacity_in(self, week: str) -> tuple[int, str | None] | None:
        """Capacity in force in ``week`` and the week of the snapshot it comes from (None for an
        undated figure); None before the first snapshot."""
        if isinstance(self.capacity, int):
            return self.capacity, None
        current = [s for s in self.capacity if s.from_week <= week]
        return (current[-1].capacity, current[-1].from_week) if current else None


class Provider(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    # free text: a district names its own kinds (政府部门, 社工站, ...); KNOWN_KINDS are the
    # case study's, which reports group by
    kind: str = Field(min_length=1)
    location: str | None = None   # where its services are delivered from, unless a service says
    services: list[Service]


class Registry(BaseModel):
    providers: list[Provider]

    def services(self) -> list[tuple[Provider, Service]]:
        return [(p, s) for p in self.providers for s in p.services]


def load_registry(path: Path, taxonomy: Taxonomy, district: District) -> Registry:
    """Read and validate a supply registry file (``.yaml``/``.yml`` or ``.csv``)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SupplyError(f"cannot read supply registry {path}: {exc.strerror}") from exc
    if path.suffix.lower() == ".csv":
        raw, rows = _from_csv(path.name, text)
    else:
        raw, rows = yaml.safe_load(text), None
    try:
        registry = Registry.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise SupplyError(f"{path.name}: {_locate(raw, first['loc'], rows)}: {first['msg']}") from exc
    categories = set(taxonomy.codes)
    communities = set(district.community_codes)
    seen: set[str] = set()
    for provider, service in registry.services():
        where = f"service {service.id} of provider {provider.id}"
        if rows:
            where = f"row {rows[service.id]} ({where})"
        if service.id in seen:
            raise SupplyError(f"{path.name}: {where}: duplicate service id")
        seen.add(service.id)
        unknown = set(service.categories) - categories
        if unknown:
            raise SupplyError(f"{path.name}: {where}: unknown category {sorted(unknown)}")
        named = set(service.area if service.area != "all" else [])
        named |= {x for x in (service.location, provider.location) if x}
        if named - communities:
            raise SupplyError(f"{path.name}: {where}: unknown community {sorted(named - communities)}")
    return registry


_NOT_FIELDS = {"providers", "services", "number", "snapshots"}  # containers and union tags


def _locate(raw: Any, loc: tuple[Any, ...], rows: dict[str, int] | None) -> str:
    """Name the provider/service (and CSV row) that a validation error points at."""
    parts = []
    node = raw
    service = None
    for step in loc:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, dict) and "id" in node:
            parts.append(str(node["id"]))
            service = node["id"]
    field = ".".join(s for s in loc if isinstance(s, str) and s not in _NOT_FIELDS)
    where = " / ".join(parts) or "registry"
    if rows and service in rows:
        where = f"row {rows[service]} ({where})"
    return where + (f" field {field}" if field else "")


_CSV_REQUIRED = ("provider_id", "provider_name", "provider_kind", "service_id", "service_name",
                 "categories", "area", "unit", "capacity")


def _from_csv(name: str, text: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Nest a flat CSV into the registry's shape. Columns: provider_id, provider_name,
    provider_kind, service_id, service_name, categories (``culture:primary
    daily_life:secondary``), area (``all`` or ``C01 C02``), unit, capacity; optional from_week
    (one row per dated snapshot), min_age, max_age, resident_types (``户籍居民 流动人口``),
    location, schedule. Returns the nested registry and each service's first row number."""
    reader = csv.DictReader(text.splitlines())
    missing = [c for c in _CSV_REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise SupplyError(f"{name}: missing column(s) {', '.join(missing)}")
    providers: dict[str, dict[str, Any]] = {}
    services: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}
    for n, row in enumerate(reader, start=2):  # row 1 is the header
        row = {k: (v or "").strip() for k, v in row.items() if k}
        sid = row["service_id"]
        where = f"{name}: row {n} (service {sid or '?'})"
        try:
            categories = dict(pair.split(":", 1) for pair in row["categories"].split())
        except ValueError:
            raise SupplyError(f"{where}: categories must read like 'culture:primary daily_life:secondary'") from None
        capacity = _csv_int(row["capacity"], where, "capacity")
        elig = {k: _csv_int(row[k], where, k) for k in ("min_age", "max_age") if row.get(k)}
        if row.get("resident_types"):
            elig["resident_types"] = row["resident_types"].split()
        service = {"id": sid, "name": row["service_name"], "categories": categories,
                   "area": "all" if row["area"] in ("", "all") else row["area"].split(),
                   "unit": row["unit"], "eligibility": elig,
                   **{k: row[k] for k in ("location", "schedule") if row.get(k)}}
        snapshot = {"from": row["from_week"], "capacity": capacity} if row.get("from_week") else None
        if sid in services:
            known = services[sid]
            if {k: v for k, v in known.items() if k != "capacity"} != service:
                raise SupplyError(f"{where}: a repeated service row may differ only in from_week and capacity")
            if snapshot is None or not isinstance(known["capacity"], list):
                raise SupplyError(f"{where}: a service repeated on several rows needs from_week on each")
            known["capacity"].append(snapshot)
            continue
        service["capacity"] = [snapshot] if snapshot else capacity
        services[sid] = service
        first_row[sid] = n
        provider = providers.setdefault(row["provider_id"], {
            "id": row["provider_id"], "name": row["provider_name"], "kind": row["provider_kind"],
            "services": []})
        provider["services"].append(service)
    return {"providers": list(providers.values())}, first_row


def _csv_int(value: str, where: str, column: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        if not value:
            raise SupplyError(f"{where}: {column} is empty") from None
        return value  # let validation report it with the field's own message


def area_of(service: Service, district: District) -> list[str]:
    """The communities a service serves: ``all`` is the whole district, the records no place
    could be found for (community ``unknown``) included."""
    if service.area == "all":
        return [*district.community_codes, UNKNOWN_COMMUNITY]
    return list(service.area)
