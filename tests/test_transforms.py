from datetime import datetime

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.transforms import DEAD, MaskPersonalData, ParseFeedback, SplitDemandItems, split_items


def _pipeline():
    # pinned in-process runner: the default DirectRunner may fetch the Prism binary
    return BeamTestPipeline(runner="FnApiRunner")


def _row(fid, text, **kw):
    row = {"feedback_id": fid, "channel": "hotline", "received_at": datetime(2026, 11, 3, 9),
           "week": "2026-W45", "community": "C03", "text": text, "content_hash": "h",
           "source_file": "f.csv", "source_pos": "line 2"}
    row.update(kw)
    return row


@pytest.mark.parametrize("text,n", [
    ("楼道灯坏了好久了", 1),
    ("一是小区停车位太少，二是电梯经常坏，三是希望增加日间照料名额", 3),
    ("有两件事：1、低保复核进度查询；2、医保卡丢了怎么补办", 2),
    ("2026年11月3日来电反映噪音问题", 1),
])
def test_split_items(text, n):
    assert len(split_items(text)) == n


def test_parse_sends_bad_rows_to_dead_letters():
    with _pipeline() as p:
        rows = p | beam.Create([
            _row("hotline:1", "想申请低保"),
            _row("hotline:2", ""),
            _row("hotline:3", "时间坏了", received_at="not a time"),
        ])
        out = rows | ParseFeedback()
        assert_that(out.ok | "ok ids" >> beam.Map(lambda r: r["feedback_id"]), equal_to(["hotline:1"]), label="ok")
        assert_that(out[DEAD] | "dead" >> beam.Map(lambda d: (d["feedback_id"], d["reason"])),
                    equal_to([("hotline:2", "missing_field"), ("hotline:3", "bad_time")]), label="dead")


def test_mask_and_split_keep_ids_stable():
    with _pipeline() as p:
        items = (
            p
            | beam.Create([_row("hotline:1", "一是电话13812345678打不通，二是希望增加托老名额")])
            | MaskPersonalData()
            | SplitDemandItems()
            | beam.Map(lambda r: (r["item_id"], "13812345678" in r["text"]))
        )
        assert_that(items, equal_to([("hotline:1#1", False), ("hotline:1#2", False)]))
