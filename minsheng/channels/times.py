"""Times as districts write them, parsed into the district's naive wall time."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

_CN_TIME = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2})[时:](\d{1,2})分?(?:(\d{1,2})秒?)?)?$"
)


def parse_time(value: str, formats: list[str]) -> datetime:
    """Parse a time into naive Asia/Shanghai wall time: the channel's formats first, then
    ``2026年10月1日 9时30分``, ISO 8601 and Excel serial dates. Raises ValueError."""
    value = value.strip()
    if not value:
        raise ValueError("empty time")
    if len(value) > 64:  # no time is written that long; strptime on a huge string is slow
        raise ValueError(f"unrecognised time {value[:64]!r}…")
    for fmt in formats:
        try:
            dt = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return _local(dt, value)
    m = _CN_TIME.match(value)
    if m:
        y, mo, d, h, mi, s = (int(x) if x else 0 for x in m.groups())
        return datetime(y, mo, d, h, mi, s)
    try:
        iso = datetime.fromisoformat(value)
    except ValueError:
        pass
    else:
        return _local(iso, value)
    if re.fullmatch(r"\d{5}(\.\d+)?", value):  # Excel serial date (1900 system)
        # Excel stores times as day fractions: round to the second it displayed
        return datetime(1899, 12, 30) + timedelta(seconds=round(float(value) * 86400))
    raise ValueError(f"unrecognised time {value!r}")


def _local(dt: datetime, value: str) -> datetime:
    if dt.tzinfo is not None:
        try:
            dt = dt.astimezone(TZ).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the year 9999 in Shanghai
            raise ValueError(f"time {value!r} is out of range") from None
    return dt
