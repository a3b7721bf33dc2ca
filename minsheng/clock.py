"""The clock, behind an interface so that tests can fix "now"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime:
        """Naive Asia/Shanghai wall time, as every timestamp in the warehouse."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(SHANGHAI).replace(tzinfo=None)


@dataclass(frozen=True)
class FixedClock:
    at: datetime

    def now(self) -> datetime:
        return self.at
