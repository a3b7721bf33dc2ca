from datetime import datetime

import apache_beam as beam
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.util import assert_that, equal_to

from pipelines.transforms import DEAD, MaskPersonalData, ParseFeedback, SplitDemandItems, explode, place_fields


def _pipeline():
    # pinned in-process runner: the default DirectRunner may fetch the Prism binary
    return BeamTestPipeline(runner="FnApiRunner")


def _row(fid, text, **kw):
    row = {"feedback_id": fid, "channel": "hotline", "received_at": datetime(2026, 11, 3, 9),
           "week": "2026-W45", "community": "C03", "text": text, "content_hash": "h",
           "source_file": "f.csv", "source_pos": "line 2"}
    row.update(kw)
    return row


@pytest.mark.parametrize("channel,text,n", [
    ("hotline", "楼道灯坏了好久了", 1),
    # the facts of one complaint are one item; a list of requests is several
    ("hotline", "工地晚上施工，一是噪音大，二是时间长，三是没人管", 1),
    ("hotline", "有两件事：1、低保复核进度查询；2、医保卡丢了怎么补办", 2),
    ("platform", "2026年11月3日来电反映噪音问题", 1),
    ("meeting", "一是小区停车位太少，二是电梯经常坏，三是日间照料名额不够", 3),
])
def test_a_record_is_one_item_unless_it_lists_several_demands(channel, text, n):
    items = explode(_row(f"{channel}:1", text, channel=channel))
    assert len(items) == n and [i["item_id"] for i in items] == [f"{channel}:1#{k}" for k in range(1, n + 1)]


def test_an_unplaced_record_takes_the_community_of_the_place_it_names():
    from models.places import Place

    estate = Place(kind="estate", name="阳光小区", key="gaz:C05:阳光小区", strength=1.0,
                   entry="C05:阳光小区", community="C05", detail="3栋")
    site = Place(kind="institution", name="工地", key="inst:工地@unknown", strength=0.3, named=False)
    fields = place_fields(_row("hotline:1", "t", community="unknown"), [site, estate])
    assert fields["community"] == "C05" and fields["place"] == "阳光小区3栋"
    assert "community" not in place_fields(_row("hotline:1", "t", community="C03"), [estate])
    assert place_fields(_row("hotline:1", "t", community="unknown"), [site]) == {
        "places": fields["places"][:0] + '[{"kind": "institution", "name": "工地", "key": "inst:工地@unknown", '
        '"strength": 0.3, "named": false, "entry": null, "community": null, "detail": null}]', "place": None}


def test_parse_sends_bad_rows_to_dead_letters():
    with _pipeline() as p:
        batches = p | beam.Create([[
            _row("hotline:1", "想申请低保"),
            _row("hotline:2", ""),
            _row("hotline:3", "时间坏了", received_at="not a time"),
        ], [_row("hotline:4", "电梯坏了")]])
        out = batches | ParseFeedback()
        assert_that(out.ok | "ok ids" >> beam.Map(lambda b: [r["feedback_id"] for r in b]),
                    equal_to([["hotline:1"], ["hotline:4"]]), label="ok")
        assert_that(out[DEAD] | "dead" >> beam.Map(lambda d: (d["feedback_id"], d["reason"])),
                    equal_to([("hotline:2", "missing_field"), ("hotline:3", "bad_time")]), label="dead")


def test_mask_and_split_keep_ids_stable():
    with _pipeline() as p:
        items = (
            p
            | beam.Create([[_row("meeting:1", "一是电话13812345678打不通，二是希望增加托老名额", channel="meeting")]])
            | MaskPersonalData()
            | SplitDemandItems()
            | beam.FlatMap(lambda batch: [(r["item_id"], "13812345678" in r["text"]) for r in batch])
        )
        assert_that(items, equal_to([("meeting:1#1", False), ("meeting:1#2", False)]))


def test_a_failing_element_becomes_a_dead_letter_and_its_batch_goes_on():
    from pipelines.transforms import _BatchFn

    class _Upper(_BatchFn):
        stage = "upper"

        def run_batch(self, batch):
            if any(r["text"] == "boom" for r in batch):
                raise ValueError("cannot upper boom")
            return [{**r, "text": r["text"].upper()} for r in batch], []

    with _pipeline() as p:
        out = (
            p
            | beam.Create([[_row("p:1", "ab"), _row("p:2", "boom"), _row("p:3", "cd")]])
            | beam.ParDo(_Upper()).with_outputs(DEAD, main="ok")
        )
        assert_that(out.ok, equal_to([[_row("p:1", "AB"), _row("p:3", "CD")]]), label="ok")
        assert_that(out[DEAD] | beam.Map(lambda d: (d["feedback_id"], d["stage"], d["reason"])),
                    equal_to([("p:2", "upper", "upper_error")]), label="dead")


def test_local_worker_processes_share_out_the_cores(monkeypatch):
    import os

    from pipelines.batch import BeamRun

    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    multi = ("--direct_running_mode", "multi_processing")
    assert BeamRun().worker_threads() == 0  # one process: library defaults
    assert BeamRun(("--direct_num_workers", "2", *multi)).worker_threads() == 4
    assert BeamRun(("--direct_num_workers", "16", *multi)).worker_threads() == 1
    assert BeamRun(("--direct_num_workers", "0", *multi)).worker_threads() == 1  # one per core
    assert BeamRun(("--direct_num_workers", "2")).worker_threads() == 0  # threads in one process


def test_model_spec_caps_the_numeric_thread_pools():
    import subprocess
    import sys

    code = (
        "from models.spec import ModelSpec\n"
        "import torch, numpy\n"
        "from threadpoolctl import threadpool_info\n"
        "ModelSpec('m', 'u', 's', threads=1).limit_threads()\n"
        "assert torch.get_num_threads() == 1, torch.get_num_threads()\n"
        "assert all(p['num_threads'] == 1 for p in threadpool_info()), threadpool_info()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


# -- the model steps: a few lines around one TextModels per process ---------------------------


@pytest.fixture(scope="module")
def toy_model(tmp_path_factory):
    from models.training import train_text_models
    from tests.text_corpus import STOPWORDS, USERDICT, toy_corpus

    model_dir = tmp_path_factory.mktemp("transforms-model")
    train_text_models(toy_corpus(240, seed=4), model_dir, userdict=USERDICT, stopwords=STOPWORDS, dim=16)
    return model_dir, USERDICT, STOPWORDS


def _spec_for(model_dir, userdict, stopwords):
    from models.spec import ModelSpec

    return ModelSpec.for_model(model_dir, userdict=userdict, stopwords=stopwords)


def _model_steps(p, spec, batches):
    from pipelines.transforms import Classify, Embed, Segment

    segmented = p | beam.Create(batches) | "Segment" >> Segment(spec)
    embedded = segmented.ok | "Embed" >> Embed(spec)
    classified = embedded.ok | "Classify" >> Classify(spec)
    dead = (segmented[DEAD], embedded[DEAD], classified[DEAD]) | beam.Flatten()
    return classified.ok, dead


TEXTS = ["请问日间照料怎么申请？家里有独居老人", "小区乱停车，停车位不够，紧急", "，，。。",
         "楼道清洁没人管，物业费白交了", "社区图书室很好，谢谢"]


def test_model_steps_give_the_rows_of_analyse(toy_model):
    """Segment → Embed → Classify write on each item what TextModels.analyse says of its text,
    in the item fields the loader reads; a text with no words is a dead letter."""
    import json

    import numpy as np

    from models.text import TextModels

    spec = _spec_for(*toy_model)
    items = [{**_row(f"hotline:{n}", t), "item_id": f"hotline:{n}#1"} for n, t in enumerate(TEXTS)]
    kept = [i for i in items if i["text"] != "，，。。"]
    models = TextModels.load(spec)
    expected = {}
    for item, r in zip(kept, models.analyse([i["text"] for i in kept]), strict=True):
        expected[item["item_id"]] = {
            **item, "tokens": " ".join(r.tokens), "keywords": r.keywords, "category": r.category,
            "label": r.category,
            "confidence": r.confidence, "top3": json.dumps([[c, round(p, 4)] for c, p in r.top3],
                                                            ensure_ascii=False),
            "embedding": [float(x) for x in r.embedding], "model_version": models.version,
            "urgent": r.urgent, "sentiment": r.sentiment,
        }

    def same_rows(batches):
        rows = [row for batch in batches for row in batch]
        assert sorted(r["item_id"] for r in rows) == sorted(expected)
        for row in rows:
            want = expected[row["item_id"]]
            assert row.keys() == want.keys()
            for key, value in want.items():
                if key in ("confidence", "embedding"):
                    np.testing.assert_allclose(row[key], value, rtol=1e-6, atol=1e-7)
                else:
                    assert row[key] == value, key

    with _pipeline() as p:
        out, dead = _model_steps(p, spec, [items])
        assert_that(out, same_rows, label="rows")
        assert_that(dead | beam.Map(lambda d: (d["feedback_id"], d["stage"], d["reason"])),
                    equal_to([("hotline:2", "segment", "no_tokens")]), label="dead")
    assert models.version == spec.model_version and expected  # the card's version on each row


def test_labels_are_mapped_to_categories_and_kept(toy_model):
    """A model's own label is kept on the item; its category is what label_map maps it to."""
    from dataclasses import replace

    from models.text import TextModels

    spec = _spec_for(*toy_model)
    items = [{**_row(f"hotline:{n}", t), "item_id": f"hotline:{n}#1"} for n, t in enumerate(TEXTS)
             if t != "，，。。"]
    labels = {r.category for r in TextModels.load(spec).analyse([i["text"] for i in items])}
    mapped = sorted(labels)[0]
    spec = replace(spec, label_map=((mapped, "district_category"),))

    def check(batches):
        rows = [row for batch in batches for row in batch]
        assert {r["label"] for r in rows} == labels
        for r in rows:
            assert r["category"] == ("district_category" if r["label"] == mapped else r["label"])

    with _pipeline() as p:
        out, _ = _model_steps(p, spec, [items])
        assert_that(out, check, label="mapped")


def test_model_steps_load_the_models_once_per_process(toy_model, tmp_path, monkeypatch):
    """The three steps of a pipeline (and each of their bundles) share one TextModels in a
    process; another model is loaded when the spec names it."""
    import shutil

    from models.text import TextModels

    loads = []
    real = TextModels.load.__func__

    def counting(cls, spec):
        loads.append(spec.model_dir)
        return real(cls, spec)

    monkeypatch.setattr(TextModels, "load", classmethod(counting))
    model_dir, userdict, stopwords = toy_model
    here = shutil.copytree(model_dir, tmp_path / "model")  # a spec no earlier test loaded
    spec = _spec_for(here, userdict, stopwords)
    batches = [[{**_row(f"p:{b}{n}", t), "item_id": f"p:{b}{n}#1"} for n, t in enumerate(TEXTS)]
               for b in range(4)]
    with _pipeline() as p:
        out, _ = _model_steps(p, spec, batches)
        assert_that(out | beam.Map(len) | beam.CombineGlobally(sum), equal_to([16]))
    assert loads == [str(here)]
    other = _spec_for(shutil.copytree(model_dir, tmp_path / "other"), userdict, stopwords)
    with _pipeline() as p:
        _model_steps(p, other, batches[:1])
    assert loads == [str(here), str(other.model_dir)]
