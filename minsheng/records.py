"""The row shapes the stages hand each other, defined once as Arrow schemas.

The Beam writers write them, the loader merges them, and a test checks the warehouse
migrations give the tables these columns (``tests/test_records.py``).
"""

from __future__ import annotations

import pyarrow as pa


def compose_text(*parts: object) -> str:
    """The text a model sees of a record with several text fields (a title and a body): the
    non-blank parts, trimmed, one a line; a part equal to the one before it is left out (an
    export that copies the title into an empty body). Training (``models.datasets``) and
    serving (the channel readers) both join with this function, so a model is served the text
    shape it learnt from (``tests/test_formats.py``)."""
    texts = [str(p).strip() for p in parts if p is not None and str(p).strip()]
    kept = [t for n, t in enumerate(texts) if n == 0 or t != texts[n - 1]]
    return "\n".join(kept)

#: One classified demand item: a row of ``demand_items`` (less ``processed_at``, set on merge).
DEMAND_ITEM = pa.schema([
    ("item_id", pa.string()),        # feedback_id#n
    ("feedback_id", pa.string()),
    ("channel", pa.string()),
    ("received_at", pa.timestamp("us")),
    ("week", pa.string()),
    ("community", pa.string()),
    ("text", pa.string()),           # masked
    ("tokens", pa.string()),         # space-joined jieba tokens
    ("keywords", pa.list_(pa.string())),
    ("category", pa.string()),      # the service category (the label, mapped by label_map)
    ("label", pa.string()),         # what the model predicted, in its own labels
    ("confidence", pa.float64()),
    ("top3", pa.string()),           # json [[category, probability], ...]
    ("embedding", pa.list_(pa.float32())),
    ("place", pa.string()),          # the place that best identifies the demand (masked text)
    ("places", pa.string()),         # json: every place the text names (models.places.Place)
    ("content_hash", pa.string()),   # of the feedback version the item came from
    ("model_version", pa.string()),
    ("urgent", pa.bool_()),
    ("sentiment", pa.int8()),
])

#: An element a pipeline step could not handle; it ends in ``quarantine``.
DEAD_LETTER = pa.schema([
    (name, pa.string())
    for name in ("stage", "feedback_id", "content_hash", "source_file", "source_pos", "channel",
                 "reason", "message", "payload")
])

#: A window's demand count: a row of ``demand_counts_hourly`` / ``demand_trend_daily``.
WINDOW_COUNT = pa.schema([
    ("window_start", pa.timestamp("us")),
    ("window_end", pa.timestamp("us")),
    ("community", pa.string()),
    ("category", pa.string()),
    ("items", pa.int64()),
    ("timing", pa.string()),      # early | on_time | late
    ("pane_index", pa.int64()),   # the runner's pane index; null from a bounded run
])
