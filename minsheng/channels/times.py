"""Times as districts write them, parsed into the district's naive wall time.

One list of formats (:data:`FALLBACK_FORMATS`) serves both parsers: :func:`parse_time` here
and the hotline's validating SQL (``sql/validate_hotline.sql`` gets it as a parameter), so that
a time either reads is read the same by both (``tests/test_hostile_inputs.py`` compares them).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

#: Tried after a channel's own formats: the shapes real exports use. Month and day may be one
#: digit (``2026/11/3``); date-only times are midnight; ``20261103`` is a compact date.
FALLBACK_FORMATS: list[str] = [
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d",
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d",
    "%Y%m%d %H:%M:%S", "%Y%m%d %H:%M", "%Y%m%d%H%M%S", "%Y%m%d",
    "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日%H时%M分",
    "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M", "%Y年%m月%d日",
]

_CN_TIME = re.compile(
    r"^(\d{4})年(\d{1,2})月(\d{1,2})日\s*(?:(\d{1,2})[时:](\d{1,2})分?(?::?(\d{1,2})秒?)?)?$"
)
_SERIAL = re.compile(r"\d{5}(\.\d+)?")


def parse_time(value: str, formats: list[str]) -> datetime:
    """Parse a time into naive Asia/Shanghai wall time: the channel's formats first, then
    :data:`FALLBACK_FORMATS` (``2026/11/3``, ``2026年11月3日 14:05``, ``20261103``…), ISO 8601
    with or without an offset, and Excel serial dates. Raises ValueError, also for a time
    past the calendar once moved to Shanghai (``9999-12-31T23:59:59-14:00``)."""
    value = value.strip()
    if not value:
        raise ValueError("empty time")
    if len(value) > 64:  # no time is written that long; strptime on a huge string is slow
        raise ValueError(f"unrecognised time {value[:64]!r}…")
    for fmt in [*formats, *FALLBACK_FORMATS]:
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
    if _SERIAL.fullmatch(value):
        return from_excel_serial(float(value))
    raise ValueError(f"unrecognised time {value!r}")


def from_excel_serial(serial: float) -> datetime:
    """An Excel serial date (1900 system) as the wall time it displays: Excel stores times as
    day fractions, so round to the second."""
    return datetime(1899, 12, 30) + timedelta(seconds=round(serial * 86400))


def _local(dt: datetime, value: str) -> datetime:
    if dt.tzinfo is not None:
        try:
            dt = dt.astimezone(TZ).replace(tzinfo=None)
        except OverflowError:  # 9999-12-31T23:59:59-14:00 is past the year 9999 in Shanghai
            raise ValueError(f"time {value!r} is out of range") from None
    return dt
