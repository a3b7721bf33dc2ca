"""Message exports as JSON: JSON Lines (one object a line) or one JSON array of objects."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from minsheng.channels.base import UnreadableInput
from minsheng.channels.decode import read_text


def json_entries(path: Path, encoding: str | None = None) -> Iterator[tuple[str, object, str | None]]:
    """``(position, value, error)`` for each entry: ``item N`` of an array, or ``line N`` of
    JSON Lines, where a line that does not parse comes with its error (and the line as value).
    A file that is neither raises :class:`UnreadableInput`."""
    text = read_text(path, encoding)
    if text.lstrip().startswith("["):
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableInput(f"{path.name}: not a JSON array: {exc.msg} at line {exc.lineno}") from exc
        for n, obj in enumerate(values, start=1):
            yield f"item {n}", obj, None
        return
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {line_no}", json.loads(line), None
        except json.JSONDecodeError as exc:
            yield f"line {line_no}", line, exc.msg
