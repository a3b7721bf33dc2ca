"""Typed views of the district, taxonomy and channel configuration, and the ISO-week helpers
shared by every stage."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field


class Community(BaseModel):
    code: str
    name: str
    registered: int
    nongzhuanfei: float = Field(ge=0, le=1)
    elderly: float = Field(ge=0, le=1)
    floating: float = Field(ge=0, le=1)


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
    issued: int
    returned: int
    valid: int
    items: list[SurveyItem]
    max_blank_items: int = 3


class District(BaseModel):
    name: str
    timezone: str = "Asia/Shanghai"
    registered_population: int
    resident_population: int
    communities: list[Community]
    survey: SurveyDesign

    @property
    def community_codes(self) -> list[str]:
        return [c.code for c in self.communities]

    def community_by_name(self) -> dict[str, str]:
        """Map both codes and Chinese names to codes: exports use either."""
        out = {c.code: c.code for c in self.communities}
        out.update({c.name: c.code for c in self.communities})
        return out


class Category(BaseModel):
    code: str
    name: str
    group: str
    needs: list[str]
    served: bool = True


class Taxonomy(BaseModel):
    categories: list[Category]
    other: dict[str, str] = Field(default_factory=lambda: {"code": "other", "name": "其他"})

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.categories]

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
