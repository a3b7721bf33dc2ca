"""Mutual-aid meeting notes (互助会): one Markdown, text or Word file per meeting, a header
block, then the demands as a list; each list item is one record."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa

from minsheng.channels.base import (
    Channel,
    ChannelBatch,
    FeedbackRecord,
    Item,
    ReadContext,
    UnreadableInput,
)
from minsheng.channels.decode import read_text
from minsheng.channels.times import parse_time
from minsheng.pii import mask_text


def meeting_text(path: Path, encoding: str | None = None) -> str:
    """The text of a meeting note: Markdown or plain text as is; a .docx rendered as
    Markdown (headings as ``##``, list paragraphs as ``1.``) so that one parser serves all."""
    if path.suffix.lower() != ".docx":
        return read_text(path, encoding)
    import docx  # python-docx

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # a broken zip or not a Word file
        raise UnreadableInput(f"{path.name}: cannot open as .docx: {exc}") from exc
    lines = []
    for para in document.paragraphs:
        body = para.text.strip()
        if not body:
            continue
        style = (para.style.name if para.style is not None else "").lower()
        numbered = para._p.pPr is not None and para._p.pPr.numPr is not None
        if style.startswith(("heading", "title")):
            lines += ["", f"## {body}", ""]
        elif numbered or "list" in style:
            lines.append(f"1. {body}")
        else:
            lines += [body, ""]
    return "\n".join(lines) + "\n"


_BREAKS = re.compile(r"[\r\n]+")


def join_lines(text: str) -> str:
    """An item wrapped over several lines as one line: each line break goes, with the
    whitespace around it. In linear time: the regex ``\\s*[\\r\\n]+\\s*`` it replaces took
    quadratic time on a long run of spaces (a hostile note stalled the reader)."""
    lines = _BREAKS.split(text)
    if len(lines) == 1:
        return text
    return "".join([lines[0].rstrip(), *(line.strip() for line in lines[1:-1]), lines[-1].lstrip()])


def records(path: Path, ctx: ReadContext) -> Iterator[Item]:
    """Mutual-aid meeting notes (.md, .txt, .docx): a header block, then the demands as a
    list after a heading (or a short line) that names 诉求 or 需求. Each list item is one
    record, keyed by the file's hash and the item's character span in the note's text."""
    mapping = ctx.mapping
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableInput(f"cannot read {path}: {exc.strerror}") from exc
    text = meeting_text(path, mapping.encoding)
    sha = hashlib.sha256(raw).hexdigest()
    header = {}
    # lines end as CommonMark ends them (CR LF, LF or CR alone): markdown-it's line numbers
    # and the header labels agree on any of them
    lines = _LINE_BREAK.split(text)
    for name, label in mapping.header_labels.items():
        header[name] = header_value(lines, label)
    community = ctx.community(header.get("community"))
    if community is None:
        yield ctx.reject("header", "unknown_community", f"unknown community {header.get('community')!r}", text[:500])
        return
    try:
        day = parse_time(header.get("date", ""), mapping.time_formats)
    except ValueError as exc:
        yield ctx.reject("header", "bad_time", str(exc), text[:500])
        return
    items = demand_list_items(text)
    if not items:
        yield ctx.reject("body", "no_demands", "no list after a 诉求/需求 heading", text[:500])
        return
    # Meetings are held in the afternoon; noon keeps event time inside the meeting day.
    received = day.replace(hour=12)
    for n, (start, end) in enumerate(items, start=1):
        pos = f"chars {start}-{end}"
        # a NUL is no character of a note (CommonMark reads it as U+FFFD): dropped
        item = join_lines(text[start:end]).replace("\x00", "")
        masked = mask_text(item)
        if not masked:
            yield ctx.reject(pos, "empty_text", "empty item", item)
            continue
        if bad := ctx.implausible(pos, received, masked, item):
            yield bad
            continue
        extra = {
            "file_sha256": sha, "meeting_date": day.date(), "group_name": header.get("group") or None,
            "item_no": n, "span_start": start, "span_end": end,
        }
        yield FeedbackRecord("meeting", f"{sha[:16]}:{start}-{end}", received, community, masked,
                             ctx.file, pos, extra=extra)


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def header_value(lines: list[str], label: str) -> str:
    """The value of the first ``label: value`` (or ``label：value``) line, stripped; "" if
    none. Line by line in linear time: the regex ``^label\\s*[:：]\\s*(.+?)\\s*$`` it replaces
    took quadratic time on a header line padded with a long run of spaces."""
    for line in lines:
        if not line.startswith(label):
            continue
        rest = line[len(label):].lstrip()
        if rest[:1] in (":", "："):
            value = rest[1:].strip()
            if value:
                return value
    return ""


def demand_list_items(text: str) -> list[tuple[int, int]]:
    """Character spans of the list items under the first block that names 诉求/需求,
    parsed with markdown-it (CommonMark)."""
    from markdown_it import MarkdownIt

    # block structure only: the items are spans of the text, so inline parsing (emphasis,
    # links…) is not needed, and on a huge hostile paragraph it took minutes
    tokens = MarkdownIt("commonmark").disable("inline").parse(text)
    # line starts as markdown-it counts lines (str.splitlines also breaks at \x0b, \x1c, U+2028…)
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    if starts[-1] == len(text):
        starts.pop()
    starts.append(len(text))
    # markdown-it reads a NUL as U+FFFD: search its content in the text as it reads it
    probe = text.replace("\x00", "\ufffd")
    spans: list[tuple[int, int]] = []
    in_section = False
    depth = 0
    for i, tok in enumerate(tokens):
        if tok.type in ("heading_open", "paragraph_open") and depth == 0:
            inline = tokens[i + 1].content if i + 1 < len(tokens) else ""
            names_demands = ("诉求" in inline or "需求" in inline) and len(inline) <= 20
            if tok.type == "heading_open" or names_demands:
                if spans:
                    break
                in_section = names_demands
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif tok.type == "inline" and in_section and depth == 1 and tok.map:
            first, last = tok.map
            first_line = tok.content.split("\n", 1)[0]
            start = probe.find(first_line, starts[first])
            if start < 0:  # content markdown-it rewrote (tabs, entities): the line's start
                start = starts[first]
            end = starts[last] if last < len(starts) else len(text)
            while end > start and text[end - 1].isspace():
                end -= 1
            spans.append((start, end))
    return spans


def read(path: Path, ctx: ReadContext) -> ChannelBatch:
    return CHANNEL.batch(path.name, records(path, ctx))


CHANNEL = Channel(
    name="meeting",
    patterns=("meetings/*.md", "meetings/*.txt", "meetings/*.docx"),
    read=read,
    raw_table="raw_meeting",
    key_column="item_key",
    columns=(("file_sha256", pa.string()), ("meeting_date", pa.date32()), ("group_name", pa.string()),
             ("item_no", pa.int64()), ("span_start", pa.int64()), ("span_end", pa.int64())),
    free_text=("group_name",),
)
