"""Typed views of the district, taxonomy and channel configuration, and the ISO-week helpers
shared by every stage."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


#: The community of a record whose place could not be told: counted district-wide.
UNKNOWN_COMMUNITY = "unknown"
#: Community values that say "not known" (compared case-blind, trimmed): a record with one, or
#: from a channel whose mapping has no community field, loads as :data:`UNKNOWN_COMMUNITY`
#: and the text stage places it from its text. Any other value that names no community is a
#: data error (``unknown_community``): an alias to add, or a typo.
UNPLACED_VALUES = ("", "unknown", "未知", "不详", "无", "暂无", "-", "/", "null", "none", "n/a")


class PlaceSpec(BaseModel):
    """A place inside a community: an estate (小区/楼盘), road, building, institution or
    landmark. ``kind`` may be left out: it is read off the name's suffix (小区 → estate,
    路 → road, 医院 → institution, 公园 → landmark)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2)
    kind: str | None = None
    aliases: list[str] = Field(default_factory=list)


class Community(BaseModel):
    """A community (社区) of the district. Only ``code`` and ``name`` are required; the
    demographic shares are used where a district has them (the demo generator, reports).
    ``aliases`` are other names residents use for it; ``places`` are estates (小区/楼盘), roads,
    buildings and landmarks inside it: the gazetteer that places a record whose export has no
    community column."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    name: str
    aliases: list[str] = Field(default_factory=list)
    places: list[PlaceSpec] = Field(default_factory=list)
    registered: int | None = None

    @field_validator("places", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        # a place is a name, or a mapping with its kind and aliases
        return [{"name": v} if isinstance(v, str) else v for v in value or []]
    nongzhuanfei: float | None = Field(None, ge=0, le=1)
    elderly: float | None = Field(None, ge=0, le=1)
    floating: float | None = Field(None, ge=0, le=1)


class SurveyItem(BaseModel):
    code: str
    group: str
    name: str
    scale: str  # "approve" (赞成/一般/不赞成) or "satisfied" (满意/一般/不满意)
    positive: float
    neutral: float | None = None
    provider: str | None = None

    @property
    def options(self) -> tuple[str, str, str]:
        if self.scale == "approve":
            return ("赞成", "一般", "不赞成")
        return ("满意", "一般", "不满意")


class SurveyDesign(BaseModel):
    issued: int | None = None    # questionnaires handed out; None: not known
    returned: int | None = None
    valid: int | None = None
    items: list[SurveyItem] = Field(default_factory=list)
    max_blank_items: int = 3


class District(BaseModel):
    """The district of a config folder (``district.yaml``). Only a name and the communities
    are required: a district without a survey, demographics or a gazetteer leaves them out."""

    name: str
    timezone: str = "Asia/Shanghai"
    registered_population: int | None = None
    resident_population: int | None = None
    communities: list[Community]
    survey: SurveyDesign | None = None

    @model_validator(mode="after")
    def _unique(self) -> District:
        seen: dict[str, str] = {}
        for c in self.communities:
            for name in (c.code, c.name, *c.aliases):
                if seen.get(name, c.code) != c.code:
                    raise ValueError(f"{name!r} names both {seen[name]} and {c.code}")
                seen[name] = c.code
        if UNKNOWN_COMMUNITY in seen:
            raise ValueError(f"{UNKNOWN_COMMUNITY!r} is reserved for records that cannot be placed")
        return self

    @property
    def community_codes(self) -> list[str]:
        return [c.code for c in self.communities]

    def community_by_name(self) -> dict[str, str]:
        """Map codes, names and aliases to codes: exports use any of them."""
        out = {c.code: c.code for c in self.communities}
        out.update({c.name: c.code for c in self.communities})
        out.update({a: c.code for c in self.communities for a in c.aliases})
        return out

    def placement(self) -> dict[str, str]:
        """:meth:`community_by_name` plus the values that say "not known" →
        :data:`UNKNOWN_COMMUNITY` (the lookup every reader uses)."""
        return {**{v: UNKNOWN_COMMUNITY for v in UNPLACED_VALUES}, **self.community_by_name()}

    def community_of(self, value: object) -> str | None:
        """The community code a record's community value names, :data:`UNKNOWN_COMMUNITY`
        when it is blank or says "not known", None when it names no community."""
        text = str(value if value is not None else "").strip()
        return self.placement().get(text) or self.placement().get(text.lower())

    def gazetteer(self) -> dict[str, str]:
        """Every name that places a text in a community (names, aliases, places) → its code.
        (Codes are for export columns; nobody writes "C03" in a message.)"""
        out = {c.name: c.code for c in self.communities}
        out.update({a: c.code for c in self.communities for a in c.aliases})
        out.update({name: c.code for c in self.communities for p in c.places
                    for name in (p.name, *p.aliases)})
        return out


class Category(BaseModel):
    code: str
    name: str
    group: str
    needs: list[str]
    served: bool = True


class Taxonomy(BaseModel):
    """The two-level demand taxonomy (category → needs) that matching and the gap tables use.
    A district's model may predict labels of its own (its departments, say): ``label_map``
    maps each such label to a category code; a label that is a category code maps to itself."""

    categories: list[Category]
    other: dict[str, str] = Field(default_factory=lambda: {"code": "other", "name": "其他"})
    label_map: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _mapped_to_codes(self) -> Taxonomy:
        known = {*self.codes, self.other_code}
        if bad := sorted(f"{label} → {code}" for label, code in self.label_map.items() if code not in known):
            raise ValueError(f"label_map maps to codes that are not categories: {', '.join(bad)}")
        return self

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.categories]

    def category_of(self, label: str) -> str:
        """The category a model's label stands for (itself when it is a category code)."""
        return self.label_map.get(label, label)

    def unmapped(self, labels: list[str]) -> list[str]:
        """The labels that are neither category codes nor mapped to one."""
        known = {*self.codes, self.other_code}
        return sorted(label for label in labels if self.category_of(label) not in known)

    @property
    def other_code(self) -> str:
        return self.other["code"]

    def names(self) -> dict[str, str]:
        out = {c.code: c.name for c in self.categories}
        out[self.other_code] = self.other["name"]
        return out


class ChannelMapping(BaseModel):
    fields: dict[str, str] = Field(default_factory=dict)
    time_formats: list[str] = Field(default_factory=list)
    encoding: str | None = None
    item_prefix: str | None = None
    item_offset: int = 0
    header_labels: dict[str, str] = Field(default_factory=dict)


def iso_week(d: date | datetime) -> str:
    """``2026-W47`` for a date."""
    y, w, _ = d.isocalendar()
    return f"{y}-W{w:02d}"


def week_start(week: str) -> date:
    """Monday of an ISO week given as ``YYYY-Www``."""
    year, w = week.split("-W")
    return date.fromisocalendar(int(year), int(w), 1)


def week_range(start_week: str, weeks: int) -> list[str]:
    first = week_start(start_week)
    return [iso_week(first + timedelta(weeks=i)) for i in range(weeks)]
