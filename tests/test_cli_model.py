"""`minsheng model …` on a labelled file a user brings: train, list, evaluate, use,
build-embedder, and the review loop that feeds corrections into the next training."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from flows.cli_model import model_app
from tests.conftest import point_settings_at
from tests.test_review import _insert, _item, _vector
from tests.text_corpus import toy_corpus

runner = CliRunner()
PHONE = "13912345678"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    point_settings_at(tmp_path, monkeypatch)
    frame = pd.DataFrame(toy_corpus(180, seed=4), columns=["内容", "类别"])
    frame.loc[0, "内容"] += f"，电话{PHONE}"
    frame.to_csv(tmp_path / "orders.csv", index=False)
    pd.DataFrame(toy_corpus(60, seed=6), columns=["内容", "类别"]).to_excel(
        tmp_path / "check.xlsx", index=False)
    return tmp_path


def _run(*args: str) -> str:
    result = runner.invoke(model_app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_train_list_evaluate_use(home: Path) -> None:
    out = _run("train", "--data", str(home / "orders.csv"), "--text-col", "内容",
               "--label-col", "类别", "--cv", "3")
    for shown in ("per class", "confusion matrix", "3-fold stratified cross-validation",
                  "baseline (TF-IDF", "margin", "registered orders/"):
        assert shown in out
    version_dir = next((home / "data/models/registry/orders").iterdir())
    card = json.loads((version_dir / "card.json").read_text(encoding="utf-8"))
    assert card["source"]["file"].endswith("orders.csv") and card["data"]["n_texts"] == 180
    assert PHONE.encode() not in (version_dir / "classifier.joblib").read_bytes()

    assert "orders/" in _run("list") and "3-fold CV" in _run("list")
    out = _run("evaluate", "--data", str(home / "check.xlsx"), "--text-col", "内容",
               "--label-col", "类别")
    assert "macro-F1" in out and "as served" in out

    _run("train", "--data", str(home / "orders.csv"), "--text-col", "内容", "--label-col",
         "类别", "--name", "other-model", "--no-use")
    assert "in use: orders/" in _run("use", "orders")
    missing = runner.invoke(model_app, ["use", "nosuch"])
    assert missing.exit_code == 2 and "known: orders, other-model" in missing.output
    bad = runner.invoke(model_app, ["train", "--data", str(home / "orders.csv")])
    assert bad.exit_code == 2 and "内容" in bad.output  # names the columns it found


def test_build_embedder_with_pairs(home: Path) -> None:
    (home / "corpus.txt").write_text(
        "\n".join(t for t, _ in toy_corpus(200, seed=2)), encoding="utf-8")
    pd.DataFrame({"text1": ["停车位不够", "医保卡补办"], "text2": ["乱停车", "异地就医"]}).to_csv(
        home / "pairs.csv", index=False)
    out = _run("build-embedder", "--corpus", str(home / "corpus.txt"), "--dim", "8",
               "--pairs", str(home / "pairs.csv"), "--out", str(home / "emb"))
    assert "corpus sha256" in out
    marker = json.loads((home / "emb" / "minsheng_embedder.json").read_text(encoding="utf-8"))
    assert marker["dim"] == 8 and marker["fine_tuned"]["n_pairs"] == 2
    trained = _run("train", "--data", str(home / "orders.csv"), "--text-col", "内容",
                   "--label-col", "类别", "--embedder", str(home / "emb"))
    assert "registered" in trained


def test_corrections_flow_into_the_next_training(home: Path) -> None:
    from warehouse import resource
    from warehouse.review import refresh_review_queue

    _run("train", "--data", str(home / "orders.csv"), "--text-col", "内容", "--label-col", "类别")
    con = resource.connect(home / "data" / "minsheng.duckdb")
    resource.migrate(con)
    _insert(con, [_item("hotline:1#1", 0.3, _vector(1), text="门口的车把路堵死了")])
    refresh_review_queue(con, 0.6)
    con.close()
    assert "hotline:1#1" in _run("review")
    wrong = runner.invoke(model_app, ["correct", "hotline:1#1", "nonsense"])
    assert wrong.exit_code == 2 and "not a label" in wrong.output
    assert "→ parking" in _run("correct", "hotline:1#1", "parking")
    _run("train", "--data", str(home / "orders.csv"), "--text-col", "内容", "--label-col", "类别")
    from models.registry import current

    card = current(home / "data" / "models").card
    assert card.source.corrections == 1 and card.data.n_texts == 181


def test_flow_keeps_a_chosen_model(home: Path) -> None:
    from flows.context import RunContext
    from flows.demo import train_demo_model_task
    from models.registry import staging_version, use

    models = home / "data" / "models"
    for name, kind, path in (("district", "project", None), ("bge", "pretrained", "/m/bge")):
        with staging_version(models, name) as tmp:
            card = {"version": "20260101T000000Z-x", "embedder": {"kind": kind, "path": path}}
            (tmp / "card.json").write_text(json.dumps(card), encoding="utf-8")
    use(models, "district")
    kept = train_demo_model_task.fn(RunContext.load()).embedder
    assert (kept.kind, kept.path) == ("project", None)
    # chosen by someone, with another embedder than the configured one: still kept (the
    # pipeline reads the embedder from the model's card)
    use(models, "bge")
    assert train_demo_model_task.fn(RunContext.load()).embedder.path == "/m/bge"


def test_retrain_trains_the_model_in_use_again(home: Path) -> None:
    """The retrain task reads the file and columns on the card, lays the corrections over
    them and registers a new version of the same name, through the same train_model as the
    CLI; a model whose card names no file is refused in one line."""
    from flows.context import RunContext
    from flows.tasks import retrain_task
    from models.registry import current, list_models, staging_version, use
    from warehouse import resource
    from warehouse.review import correct, refresh_review_queue

    _run("train", "--data", str(home / "orders.csv"), "--text-col", "内容", "--label-col", "类别")
    models = home / "data" / "models"
    first = current(models)
    con = resource.connect(home / "data" / "minsheng.duckdb")
    resource.migrate(con)
    _insert(con, [_item("hotline:1#1", 0.3, _vector(1), text="门口的车把路堵死了")])
    refresh_review_queue(con, 0.6)
    correct(con, "hotline:1#1", "parking")
    con.close()
    out = retrain_task.fn(RunContext.load())
    new = current(models)
    assert out["model"] == new.ref != first.ref and new.name == "orders"
    card = new.card
    assert card.source.file == first.card.source.file and card.source.text_cols == ["内容"]
    assert card.source.corrections == 1 and card.data.n_texts == 181
    assert card.embedder.kind == first.card.embedder.kind and out["macro_f1"] == card.metrics.macro_f1
    assert PHONE.encode() not in (new.path / "classifier.joblib").read_bytes()  # masked again

    with staging_version(models, "district") as tmp:
        (tmp / "card.json").write_text(json.dumps({"version": "20260101T000000Z-x"}), encoding="utf-8")
    use(models, "district")
    with pytest.raises(ValueError, match="records no training file"):
        retrain_task.fn(RunContext.load())
    assert len(list_models(models)) == 3
