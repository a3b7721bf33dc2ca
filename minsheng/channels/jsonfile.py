"""Message exports as JSON: JSON Lines (one object a line) or one JSON array of objects.

What Python's parser accepts but nothing after it can hold is an error of that entry, not of
the file: nesting deeper than the interpreter's stack, integers of thousands of digits, and
lone UTF-16 surrogates (``"\\ud800"``), which no UTF-8 text can carry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from minsheng.channels.base import UnreadableInput
from minsheng.channels.decode import DAMAGE_MARK, read_text, unmark

#: An escaped surrogate: only a lone one is an error, which only a check after parsing tells.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
#: Deeper than any export nests; far below the interpreter's recursion limit.
MAX_DEPTH = 64
#: The error of an entry that holds bytes not in the file's encoding (``undecodable_bytes``).
UNDECODABLE = "bytes that are not in the file's encoding"


def parse_entry(text: str) -> tuple[object, str | None]:
    """One JSON value: ``(value, None)``, or ``(text, error)`` when it cannot be one."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return text, exc.msg
    except RecursionError:
        return text, "nested too deeply"
    except ValueError as exc:  # an integer too long to convert
        return text, str(exc).split(";")[0]
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        return text, "a \\u escape is a lone surrogate (not a character)"
    if _depth(value) > MAX_DEPTH:
        return text, "nested too deeply"
    return value, None


def _has_lone_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return _LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def _depth(value: object) -> int:
    """Nesting depth of containers (a scalar: 0, ``{}``: 1), without recursion; it stops
    counting past MAX_DEPTH."""
    depth, level = 0, [value]
    while depth <= MAX_DEPTH:
        containers = [v for v in level if isinstance(v, (dict, list))]
        if not containers:
            break
        depth += 1
        level = [c for v in containers for c in (v.values() if isinstance(v, dict) else v)]
    return depth


def json_entries(path: Path, encoding: str | None = None) -> Iterator[tuple[str, object, str | None]]:
    """``(position, value, error)`` for each entry: ``item N`` of an array, or ``line N`` of
    JSON Lines, where a line that does not parse comes with its error (and the line as value).
    An entry holding bytes that are not in the file's encoding comes with :data:`UNDECODABLE`
    (and its text, the bytes as U+FFFD). A file that is neither raises :class:`UnreadableInput`."""
    text = read_text(path, encoding, mark=True)
    damaged = DAMAGE_MARK in text
    if text.lstrip().startswith("["):
        values, error = parse_entry(text)
        if error is None and isinstance(values, list) and not damaged:
            for n, obj in enumerate(values, start=1):
                yield f"item {n}", obj, None
            return
        if error is None and "\n" not in text.strip() and not (damaged and isinstance(values, list)):
            raise UnreadableInput(f"{path.name}: not a JSON array of objects")
        if text.lstrip()[1:].lstrip().startswith("{"):
            # an array of objects one of which cannot be held (or is damaged): the others load
            yield from _array_items(text)
            return
        # not one array: JSON Lines whose first line is not an object
    for line_no, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if not line.strip():
            continue
        if damaged and DAMAGE_MARK in line:
            yield f"line {line_no}", unmark(line), UNDECODABLE
            continue
        value, error = parse_entry(line)
        yield f"line {line_no}", value, error


def _array_items(text: str) -> Iterator[tuple[str, object, str | None]]:
    """The items of a JSON array one at a time: each spans to the comma that follows it at
    depth 1 (outside strings), so that one bad item is one error."""
    depth, inside, escaped_at, start, n = 0, False, -1, None, 0
    for m in re.finditer(r'[\[\]{}",\\]', text):
        ch = m.group()
        if inside:
            if m.start() == escaped_at:
                continue
            if ch == "\\":
                escaped_at = m.end()
            elif ch == '"':
                inside = False
            continue
        if ch == '"':
            inside = True
        elif ch in "[{":
            depth += 1
            if depth == 1:
                start = m.end()
        elif ch in "]}":
            depth -= 1
            if depth == 0 and start is not None:
                n += 1
                yield _item(n, text[start:m.start()])
                return
        elif ch == "," and depth == 1 and start is not None:
            n += 1
            yield _item(n, text[start:m.start()])
            start = m.end()
    if start is not None and text[start:].strip():
        yield _item(n + 1, text[start:])


def _item(n: int, piece: str) -> tuple[str, object, str | None]:
    if DAMAGE_MARK in piece:
        return f"item {n}", unmark(piece.strip()), UNDECODABLE
    value, error = parse_entry(piece.strip())
    return f"item {n}", value, error
