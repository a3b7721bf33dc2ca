"""The service hotline (服务热线): work orders, one row per order, CSV or .xlsx.

The channel that grows to megacity volume (Beijing 12345: about 65,000 appeals a day) stays in
Arrow end to end. A plain UTF-8 CSV is read by DuckDB itself inside the validating query
(``sql/hotline_csv.sql``); any other file goes through Arrow's reader (or openpyxl) into the
same query (``sql/validate_hotline.sql``), which validates every row at once and masks the
common shapes of personal data (``sql/pii_macros.sql``); Python's masker sees only the texts the
SQL cannot mask exactly. The caller's number goes to the contacts, never to the raw table.
"""

from __future__ import annotations

import json
import mmap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from minsheng.channels.base import Channel, ChannelBatch, IngestLimits, ReadContext, UnreadableInput
from minsheng.channels.decode import SAMPLE, sniff_encoding
from minsheng.channels.sql import channel_sql
from minsheng.channels.tabular import TabularInput, read_tabular, require_columns
from minsheng.channels.times import FALLBACK_FORMATS
from minsheng.clock import Clock, SystemClock
from minsheng.domain import ChannelMapping, District
from minsheng.pii import PREFILTER, SQL_PATTERNS, mask_array, mask_text, mask_value, true_positions
from minsheng.records import compose_text
from minsheng.textcheck import HINT, mojibake_flags


@dataclass
class ValidatedHotline:
    """Good rows (key, received_at, community, text masked, caller_phone, _row) and the
    rejected ones (_row, reason, message, payload masked)."""

    good: pa.Table
    rejected: pa.Table
    #: what the positions count (``row``; ``line``/``item`` of a JSON export)
    unit: str = "row"


def validate_hotline(
    inp: TabularInput,
    mapping: ChannelMapping,
    district: District,
    *,
    clock: Clock | None = None,
    limits: IngestLimits = IngestLimits(),
    source: str = "",
) -> ValidatedHotline:
    f = mapping.fields
    if missing := [name for name in REQUIRED if name not in f]:
        raise UnreadableInput(f"{source}: channels.yaml maps no hotline field {', '.join(missing)}")
    require_columns(inp, list(f.values()), source)
    staged = _staged(inp, f)
    con = duckdb.connect()
    try:
        con.register("_staged", staged)
        result = _run_validation(con, mapping, district, clock, limits)
    finally:
        con.close()
    return _finish(result, [(n, raw, *inp.reason_for(n)) for n, raw in inp.ragged], inp.unit)


#: The fields a hotline mapping must have; ``community``, ``caller_phone`` and ``title`` may be
#: left out (an unmapped community loads as ``unknown`` and is placed from the text).
REQUIRED = ("order_id", "received_at", "text")
#: The fields the validating query reads, in its order.
STAGED = ("order_id", "received_at", "community", "caller_phone", "text")


def _staged(inp: TabularInput, f: dict[str, str]) -> pa.Table:
    """The validating query's input: the mapped columns by field name, null for a field the
    mapping leaves out, the title joined to the text as training joins them."""
    n = inp.table.num_rows
    cols = {name: inp.table[f[name]] if name in f else pa.nulls(n, pa.string()) for name in STAGED}
    if "title" in f:
        cols["text"] = pa.array([compose_text(t, b) for t, b in zip(
            inp.table[f["title"]].to_pylist(), cols["text"].to_pylist(), strict=True)], pa.string())
    return pa.table(cols | {"_row": inp.table["_row"]})


def validate_hotline_file(
    path: Path,
    mapping: ChannelMapping,
    district: District,
    *,
    clock: Clock | None = None,
    limits: IngestLimits = IngestLimits(),
) -> ValidatedHotline:
    """Read and validate a hotline export. A plain UTF-8 CSV is read by DuckDB itself, inside
    the validating query; any other file, or one DuckDB would read differently from Arrow
    (ragged rows, a damaged character, a space before a quote, ...), goes through
    :func:`read_tabular` and :func:`validate_hotline`, with the same result."""
    result = _validate_plain_csv(path, mapping, district, clock, limits)
    if result is not None:
        return _finish(result, [])
    return validate_hotline(read_tabular(path, mapping.encoding), mapping, district,
                            clock=clock, limits=limits, source=path.name)


def _validate_plain_csv(
    path: Path, mapping: ChannelMapping, district: District, clock: Clock | None, limits: IngestLimits,
) -> pa.Table | None:
    """The validating query over DuckDB's own read of the file, or None where Arrow must read
    it. DuckDB and Arrow agree on a UTF-8 CSV whose header is plain, that has no field with
    a space or tab before its opening quote (DuckDB drops them), and no row that does not fit
    the header (the staging SQL fails on one); tests/test_hotline_fast_path.py compares them."""
    if path.suffix.lower() != ".csv" or not path.is_file() or "title" in mapping.fields:
        return None  # a title is joined to the text by compose_text, in Python
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE)
        try:
            whole = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):
            return None
        with whole:
            if whole.find(b'"') >= 0 and (whole.find(b' "') >= 0 or whole.find(b'\t"') >= 0):
                return None
            # a quote left open: Arrow's reader puts the records it would swallow back
            if whole.find(b'"') >= 0 and np.count_nonzero(np.frombuffer(whole, np.uint8) == 0x22) % 2:
                return None
    try:
        encoding = sniff_encoding(sample, mapping.encoding)
    except UnreadableInput:
        return None
    text = sample.decode(encoding, errors="ignore").lstrip("\ufeff") if encoding in ("utf-8", "utf-8-sig") else ""
    if "\n" not in text:
        return None
    first_line = text.split("\n", 1)[0].rstrip("\r")
    if '"' in first_line or "\r" in first_line:
        return None
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    header = [h.strip() for h in first_line.split(delimiter)]
    if (len(set(header)) != len(header) or any(col not in header for col in mapping.fields.values())
            or any(name not in mapping.fields for name in REQUIRED)):
        return None
    fields = ", ".join(f"c{header.index(mapping.fields[name])} as {name}" if name in mapping.fields
                       else f"null::varchar as {name}" for name in STAGED)
    staging = channel_sql("hotline_csv").format(fields=fields, last=f"c{len(header) - 1}")
    con = duckdb.connect()
    try:
        for parallel in (True, False):
            try:
                con.sql(staging, params={
                    "path": str(path),
                    "types": {f"c{i}": "VARCHAR" for i in range(len(header))} | {"_extra": "VARCHAR"},
                    "delim": delimiter,
                    "never": "\x00\x01\x02",
                    "parallel": parallel,
                }).create_view("_staged", replace=True)
                result = _run_validation(con, mapping, district, clock, limits)
                break
            except duckdb.Error as exc:
                # DuckDB's parallel reader cannot pad rows when a quoted field holds a newline
                if not parallel or "parallel=false" not in str(exc):
                    return None
    finally:
        con.close()
    # the validating query keeps the file's order: data rows are records 2, 3, ...
    rows = pa.array(np.arange(2, result.num_rows + 2, dtype=np.int64))
    return result.set_column(result.schema.get_field_index("_row"), "_row", rows)


def _run_validation(
    con: duckdb.DuckDBPyConnection, mapping: ChannelMapping, district: District,
    clock: Clock | None, limits: IngestLimits,
) -> pa.Table:
    """validate_hotline.sql over ``_staged`` on ``con``: one row per row staged."""
    communities = district.placement()  # blank and "unknown" values: community unknown
    now = (clock or SystemClock()).now()
    con.execute(channel_sql("pii_macros"))
    return con.sql(channel_sql("validate_hotline"), params={
        "formats": mapping.time_formats or ["%Y-%m-%d %H:%M:%S"],
        "fallback_formats": FALLBACK_FORMATS,
        "earliest": datetime.combine(limits.earliest, datetime.min.time()),
        "latest": now + limits.future_tolerance,
        "max_chars": limits.max_chars,
        "pii_prefilter": PREFILTER,
        "mojibake_hint": HINT,
        "pii_or_mojibake": f"{PREFILTER}|{HINT}",
        "community_names": list(communities),  # matched trimmed, as written (not lower-cased)
        "community_codes": list(communities.values()),
        **SQL_PATTERNS,
    }).to_arrow_table()


def _finish(result: pa.Table, ragged_rows: list[tuple[int | None, str, str, str]],
            unit: str = "row") -> ValidatedHotline:
    """Split the validating query's rows into good and rejected ones; judge mojibake and mask
    the texts the SQL left to Python."""
    if result["reason"].null_count == result.num_rows:  # the common case: nothing to reject
        good, bad = result, result.slice(0, 0)
    else:
        ok = pc.is_null(result["reason"])
        good, bad = result.filter(ok), result.filter(pc.invert(ok))
    # mojibake can only be judged on decoded text, after the row is otherwise good, and on
    # the text as read (raw_text, where the SQL has masked it)
    hinted = true_positions(good["maybe_mojibake"])
    if len(hinted):
        suspects = good.take(hinted)
        as_read = pc.coalesce(suspects["raw_text"], suspects["text"])
        garbled_suspects = mojibake_flags(as_read, pa.array(np.ones(len(hinted), dtype=bool)))
        if pc.any(garbled_suspects).as_py():
            flagged = suspects.filter(garbled_suspects)
            n = flagged.num_rows
            flagged = flagged.set_column(flagged.schema.get_field_index("text"), "text",
                                         as_read.filter(garbled_suspects))
            flagged = flagged.set_column(flagged.schema.get_field_index("reason"), "reason",
                                         pa.array(["mojibake"] * n, pa.string()))
            flagged = flagged.set_column(flagged.schema.get_field_index("message"), "message",
                                         pa.array(["text looks mis-decoded"] * n, pa.string()))
            bad = pa.concat_tables([bad, flagged])
            garbled = np.zeros(good.num_rows, dtype=bool)
            garbled[hinted[garbled_suspects.to_numpy(zero_copy_only=False)]] = True
            good = good.filter(pa.array(~garbled))
    # the texts the SQL could not mask exactly go through minsheng.pii.mask
    good = good.set_column(good.schema.get_field_index("text"), "text",
                           mask_array(good["text"], good["pii_hard"]))
    rejected = pa.table({
        "_row": bad["_row"],
        "reason": bad["reason"],
        "message": mask_array(bad["message"]),
        "payload": pa.array([
            json.dumps(mask_value({k: v for k, v in row.items() if k not in ("reason", "message", "_row")}),
                       ensure_ascii=False, default=lambda v: mask_text(str(v)))[:65536]
            # times as text: a time past the year 9999 in Shanghai has no Python datetime
            for row in bad.select(["order_id", "received_at", "community", "caller_phone", "text",
                                   "reason", "message", "_row"]).set_column(
                1, "received_at", pc.cast(bad["received_at"], pa.string())).to_pylist()
        ], pa.string()),
    })
    ragged = pa.table({
        "_row": pa.array([n for n, *_ in ragged_rows], pa.int64()),
        "reason": pa.array([r[2] for r in ragged_rows], pa.string()),
        "message": pa.array([r[3] for r in ragged_rows], pa.string()),
        "payload": pa.array([mask_text(r[1])[:65536] for r in ragged_rows], pa.string()),
    })
    return ValidatedHotline(
        good.select(["order_id", "received_at", "community", "text", "caller_phone", "_row"]),
        pa.concat_tables([rejected, ragged]),
        unit,
    )


def batch_from_validated(v: ValidatedHotline, source_file: str) -> ChannelBatch:
    """A validated hotline file as a batch, without leaving Arrow."""
    good = v.good
    n = good.num_rows
    records = pa.table({
        "key": good["order_id"], "received_at": good["received_at"].cast(pa.timestamp("us")),
        "community": good["community"], "text": good["text"],
        "extra_json": pa.repeat(pa.scalar("", pa.string()), n),
        "source_pos": pc.binary_join_element_wise(f"{v.unit} ", pc.cast(good["_row"], pa.string()), ""),
        "_ord": good["_row"],
    })
    contacts = pa.table({"key": good["order_id"],
                         "field": pa.repeat(pa.scalar("caller_phone", pa.string()), n),
                         "value": good["caller_phone"], "_ord": good["_row"]})
    rej = v.rejected
    rejected = pa.table({
        "source_pos": pc.binary_join_element_wise(
            f"{v.unit} ", pc.fill_null(pc.cast(rej["_row"], pa.string()), "?"), ""),
        "reason": rej["reason"], "message": rej["message"], "payload": rej["payload"],
    })
    return ChannelBatch("hotline", source_file, records, rejected, contacts=contacts)


def read(path: Path, ctx: ReadContext) -> ChannelBatch:
    v = validate_hotline_file(path, ctx.mapping, ctx.district, clock=ctx.clock, limits=ctx.limits)
    return batch_from_validated(v, path.name)


CHANNEL = Channel(
    name="hotline",
    patterns=("hotline/*.csv", "hotline/*.xlsx", "hotline/*.json", "hotline/*.jsonl"),
    read=read,
    raw_table="raw_hotline",
    key_column="order_id",
    contacts=("caller_phone",),
)
