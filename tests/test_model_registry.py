"""The model registry and the labelled-data readers behind `minsheng model train`."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from models.card import TrainingSource
from models.datasets import merge_corrections, read_labelled, read_texts
from models.registry import (
    current,
    current_model_dir,
    list_models,
    resolve,
    staging_version,
    use,
)
from models.spec import ModelSpec
from models.text import TextModels
from models.training import TrainConfig, train_model
from tests.text_corpus import STOPWORDS, USERDICT, toy_corpus


def _fake_version(model_dir: Path, name: str, version: str) -> None:
    with staging_version(model_dir, name) as tmp:
        (tmp / "card.json").write_text(json.dumps({"version": version}), encoding="utf-8")


def test_versions_use_and_resolve(tmp_path: Path) -> None:
    assert list_models(tmp_path) == [] and current(tmp_path) is None
    with pytest.raises(FileNotFoundError, match="model train"):
        current_model_dir(tmp_path)
    _fake_version(tmp_path, "district", "20260101T000000Z-aaaa")
    _fake_version(tmp_path, "district", "20260201T000000Z-bbbb")
    _fake_version(tmp_path, "demo", "20260115T000000Z-cccc")
    assert [e.ref for e in list_models(tmp_path)] == [
        "demo/20260115T000000Z-cccc", "district/20260101T000000Z-aaaa",
        "district/20260201T000000Z-bbbb",
    ]
    assert use(tmp_path, "district").version == "20260201T000000Z-bbbb"  # the latest
    assert current_model_dir(tmp_path) == tmp_path / "registry/district/20260201T000000Z-bbbb"
    use(tmp_path, "district/20260101T000000Z-aaaa")  # or a given version
    assert current(tmp_path).version == "20260101T000000Z-aaaa"
    with pytest.raises(KeyError, match="known: demo, district"):
        resolve(tmp_path, "nosuch")
    with pytest.raises(KeyError):
        use(tmp_path, "district/19990101")
    assert current(tmp_path).version == "20260101T000000Z-aaaa"  # a failed use changes nothing


def test_failed_training_leaves_no_version(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), staging_version(tmp_path, "broken") as tmp:
        (tmp / "classifier.joblib").write_bytes(b"half")
        raise RuntimeError("training crashed")
    assert list_models(tmp_path) == []
    assert list((tmp_path / "registry" / "broken").iterdir()) == []
    with pytest.raises(ValueError, match="bad model name"):
        with staging_version(tmp_path, "../escape"):
            pass


def test_train_model_registers_and_loads(tmp_path: Path) -> None:
    config = TrainConfig(userdict=str(USERDICT), stopwords=str(STOPWORDS), dim=16, cv=3)
    entry, card = train_model(
        toy_corpus(200, seed=4), tmp_path, "toy", config, source=TrainingSource(file="toy.csv"),
    )
    assert current(tmp_path) == entry and entry.card == card
    assert card.name == "toy" and card.source.file == "toy.csv" and card.source.corrections == 0
    assert card.metrics.folds == 3 and card.metrics.n_scored == 200
    spec = ModelSpec.for_model(current_model_dir(tmp_path), userdict=USERDICT, stopwords=STOPWORDS)
    assert (spec.embedder_kind, spec.embedder_path) == ("project", None)  # off the card
    models = TextModels.load(spec)
    assert models.analyse(["小区乱停车，停车位不够"])[0].category == "parking"
    second, _ = train_model(toy_corpus(200, seed=5), tmp_path, "toy", config, make_current=False)
    assert current(tmp_path) == entry and second in list_models(tmp_path)


def test_read_labelled_formats(tmp_path: Path) -> None:
    rows = pd.DataFrame({"标题": ["停车难", "低保", " "], "内容": ["车位不够", "怎么申请", " "],
                         "类别": ["parking", "subsistence", "x"]})
    want = [("停车难\n车位不够", "parking"), ("低保\n怎么申请", "subsistence")]
    rows.to_csv(tmp_path / "a.csv", index=False, encoding="gb18030")
    rows.to_excel(tmp_path / "a.xlsx", index=False)
    rows.to_json(tmp_path / "a.jsonl", orient="records", lines=True, force_ascii=False)
    for name in ("a.csv", "a.xlsx", "a.jsonl"):
        got = read_labelled(tmp_path / name, ["标题", "内容"], "类别")
        assert got == want, name
    with pytest.raises(KeyError, match="类别"):
        read_labelled(tmp_path / "a.csv", ["text"], "label")
    (tmp_path / "a.parquet").write_bytes(b"PAR1")
    with pytest.raises(ValueError, match="expected one of"):
        read_labelled(tmp_path / "a.parquet")
    (tmp_path / "c.txt").write_text("第一条\n\n第二条\n", encoding="utf-8")
    assert read_texts(tmp_path / "c.txt") == ["第一条", "第二条"]
    assert read_texts(tmp_path / "a.csv", ["内容"]) == ["车位不够", "怎么申请"]


def test_merge_corrections() -> None:
    data = [("a", "x"), ("b", "y"), ("a", "x")]
    assert merge_corrections(data, [("a", "z"), ("c", "w")]) == [
        ("a", "z"), ("b", "y"), ("a", "z"), ("c", "w"),
    ]
    assert merge_corrections(data, []) == data
