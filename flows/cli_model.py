"""``minsheng model …``: train, compare, pick and review the text models.

Each command is a few lines over :mod:`models` and :mod:`warehouse.review`; heavy imports
happen inside the commands so that ``--help`` stays instant.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

model_app = typer.Typer(
    help="Text models: train on any labelled data, list, evaluate, pick the one in use, review.",
    no_args_is_help=True, add_completion=False,
)
console = Console()
err = Console(stderr=True)

if TYPE_CHECKING:
    from models.card import Metrics

DbOpt = Annotated[
    Optional[Path], typer.Option("--db", help="warehouse file (corrections, review queue)")]
TextCols = Annotated[Optional[list[str]], typer.Option(
    "--text-col",
    help="text column; repeat to join several, e.g. a title and a body [default: text]")]
LabelCol = Annotated[str, typer.Option("--label-col", help="label column")]


def _settings(db: Path | None = None):  # type: ignore[no-untyped-def]
    from minsheng.settings import load_settings

    return load_settings(db=db)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(message)
    return typer.Exit(code)


def _labelled(path: Path, text_cols: list[str] | None, label_col: str) -> list[tuple[str, str]]:
    from models.datasets import read_labelled

    try:
        pairs = read_labelled(path, text_cols or ["text"], label_col)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise _fail(str(exc).strip('"')) from None
    if not pairs:
        raise _fail(f"{path.name}: no rows with both a text and a label")
    return pairs


def _print_metrics(metrics: Metrics) -> None:
    table = Table("label", "precision", "recall", "F1", "support", title="per class")
    for label, m in metrics.per_class.items():
        table.add_row(label, f"{m.precision:.3f}", f"{m.recall:.3f}", f"{m.f1:.3f}", str(m.support))
    console.print(table)
    if (conf := metrics.confusion) is not None:
        # Labels by number: a dozen label names side by side do not fit a terminal.
        console.print("confusion matrix (rows: true label, columns: prediction): " + " · ".join(
            f"{i} {label}" for i, label in enumerate(conf.labels, start=1)))
        matrix = Table("", *(str(i) for i in range(1, len(conf.labels) + 1)), box=None)
        for i, row in enumerate(conf.matrix, start=1):
            matrix.add_row(str(i), *(str(v) if v else "·" for v in row))
        console.print(matrix)
    console.print(f"macro-F1 {metrics.macro_f1:.4f} · accuracy {metrics.accuracy:.4f}"
                  + (f" · {metrics.method}" if metrics.method else ""))
    for base in metrics.baselines or ([metrics.baseline] if metrics.baseline else []):
        margin = base.margin if base.margin is not None else metrics.margin_over_baseline
        console.print(f"baseline ({base.model}), same splits: macro-F1 {base.macro_f1:.4f} · "
                      f"margin {margin:+.4f}")
    if (served := metrics.served) is not None:
        console.print(f"as served (below {served.unknown_threshold} → other): "
                      f"{served.other_rate:.1%} other · macro-F1 {served.macro_f1:.4f}")


@model_app.command()
def train(
    data: Annotated[Path, typer.Option(help="labelled texts: .csv, .tsv, .jsonl or .xlsx")],
    text_col: TextCols = None,
    label_col: LabelCol = "label",
    cv: Annotated[int, typer.Option(
        help="cross-validation folds; below 2: one 80/20 hold-out")] = 0,
    name: Annotated[Optional[str], typer.Option(
        help="registry name [default: the file's stem]")] = None,
    embedder: Annotated[Optional[str], typer.Option(
        help="a local sentence-transformers model (e.g. from build-embedder) instead of the "
             "configured one")] = None,
    corrections: Annotated[bool, typer.Option(
        help="lay the review queue's corrections over the data")] = True,
    make_current: Annotated[bool, typer.Option(
        "--use/--no-use", help="make it the model in use")] = True,
    db: DbOpt = None,
) -> None:
    """Train the text models on a labelled file, print their scores, register a new version."""
    import re
    from dataclasses import replace

    from models.card import TrainingSource
    from models.training import TrainConfig, train_model
    from warehouse.resource import Warehouse
    from warehouse.review import corrections as read_corrections

    s = _settings(db)
    labelled = _labelled(data, text_col, label_col)
    fixed: list[tuple[str, str]] = []
    if corrections and s.db.exists():
        with Warehouse(s.db).connect(read_only=True) as con:
            fixed = read_corrections(con)
    name = name or re.sub(r"[^A-Za-z0-9._-]+", "-", data.stem).strip("-.") or "model"
    config = replace(TrainConfig.from_settings(s), cv=cv if cv >= 2 else None)
    if embedder:
        config = replace(config, embedder_kind="pretrained", embedder_path=embedder)
    with console.status(f"training {name} on {len(labelled)} texts"
                        + (f" + {len(fixed)} corrections" if fixed else "")
                        + (f", {cv}-fold cross-validation" if cv >= 2 else "")):
        try:
            entry, card = train_model(
                labelled, s.model_dir, name, config, corrections=fixed, make_current=make_current,
                source=TrainingSource(file=str(data), text_cols=text_col or ["text"],
                                      label_col=label_col),
            )
        except (ValueError, FileNotFoundError) as exc:
            raise _fail(str(exc)) from None
    _print_metrics(card.metrics)
    console.print(f"registered {entry.ref}" + (" (in use)" if make_current else ""))


@model_app.command("list")
def list_() -> None:
    """The registered models, oldest first; * marks the one in use."""
    from models.registry import current, list_models

    s = _settings()
    in_use = current(s.model_dir)
    table = Table("", "model", "texts", "labels", "macro-F1", "evaluation", "embedder")
    for e in list_models(s.model_dir):
        card = e.card
        m = card.metrics
        evaluation = f"{m.folds}-fold CV" if m.folds > 1 else "hold-out"
        f1 = m.macro_f1 if m.macro_f1 is not None else float("nan")
        table.add_row("*" if in_use == e else "", e.ref, str(card.data.n_texts),
                      str(len(card.labels)), f"{f1:.4f}", evaluation, card.embedder.kind)
    console.print(table)


@model_app.command()
def evaluate(
    data: Annotated[Path, typer.Option(help="labelled texts: .csv, .tsv, .jsonl or .xlsx")],
    text_col: TextCols = None,
    label_col: LabelCol = "label",
    model: Annotated[Optional[str], typer.Option(
        help="NAME or NAME/VERSION [default: the one in use]")] = None,
) -> None:
    """Score a registered model on a labelled file."""
    from models.registry import current_model_dir, resolve
    from models.spec import ModelSpec
    from models.text import TextModels
    from models.training import evaluate_text_models

    s = _settings()
    labelled = _labelled(data, text_col, label_col)
    try:
        path = resolve(s.model_dir, model).path if model else current_model_dir(s.model_dir)
    except (KeyError, FileNotFoundError) as exc:
        raise _fail(str(exc).strip('"')) from None
    try:
        models = TextModels.load(ModelSpec.for_model(path, userdict=s.userdict, stopwords=s.stopwords))
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    metrics = evaluate_text_models(models, labelled)
    _print_metrics(metrics)
    if metrics.unknown_labels:
        console.print(f"labels the model does not know: {', '.join(metrics.unknown_labels)}")


@model_app.command()
def use(
    ref: Annotated[str, typer.Argument(help="NAME (its latest version) or NAME/VERSION")],
) -> None:
    """Make a registered model the one that the pipeline uses."""
    from models.registry import use as use_model

    try:
        entry = use_model(_settings().model_dir, ref)
    except KeyError as exc:
        raise _fail(str(exc).strip('"')) from None
    console.print(f"in use: {entry.ref}")


@model_app.command("build-embedder")
def build_embedder(
    corpus: Annotated[Path, typer.Option(
        help="texts: .txt (one per line), .csv, .tsv, .jsonl or .xlsx")],
    text_col: TextCols = None,
    out: Annotated[Optional[Path], typer.Option(
        help="model directory [default: MODEL_DIR/embedders/<corpus stem>]")] = None,
    dim: Annotated[Optional[int], typer.Option(help="dimensions [default: embedder.dim]")] = None,
    pairs: Annotated[Optional[Path], typer.Option(
        help="fine-tune on pairs: columns text1, text2 [, score in 0..1]")] = None,
    epochs: Annotated[int, typer.Option(help="fine-tuning epochs")] = 1,
) -> None:
    """Build the project embedder from a corpus (recording its hash), optionally fine-tune it."""
    from minsheng.pii import mask_text
    from models.datasets import read_table, read_texts
    from models.embed import build_project_embedder, fine_tune_embedder, read_marker
    from models.text import make_segmenter

    s = _settings()
    out = out or s.model_dir / "embedders" / corpus.stem
    try:
        texts = [mask_text(t) for t in read_texts(corpus, text_col or ["text"])]
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise _fail(str(exc).strip('"')) from None
    seg = make_segmenter(s.userdict, s.stopwords, s.model_dir)
    dim = dim or s.embedder.dim
    with console.status(f"building a {dim}-dimensional embedder from {len(texts)} texts"):
        try:
            build_project_embedder(seg.transform(texts), out, dim=dim)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    if pairs is not None:
        table = read_table(pairs)
        cols = ["text1", "text2"] + (["score"] if "score" in table.columns else [])
        if not {"text1", "text2"} <= set(table.columns):
            raise _fail(f"{pairs.name} needs columns text1 and text2; it has {list(table.columns)}")
        rows = [
            (*seg.transform([mask_text(a), mask_text(b)]), *(float(x) for x in rest))
            for a, b, *rest in table[cols].itertuples(index=False)
        ]
        with console.status(f"fine-tuning on {len(rows)} pairs"):
            fine_tune_embedder(out, rows, epochs=epochs)
    marker = read_marker(out) or {}
    console.print(f"embedder: {out.resolve()}  (corpus sha256 "
                  f"{marker.get('corpus_sha256', '?')[:12]}…, "
                  f"vocabulary {marker.get('vocab_size')})")
    console.print(f"train with it: minsheng model train --embedder {out} …  (or set "
                  f"MINSHENG_EMBEDDER__KIND=pretrained MINSHENG_EMBEDDER__PATH={out})")


@model_app.command()
def review(
    limit: Annotated[int, typer.Option(help="rows to show")] = 20,
    db: DbOpt = None,
) -> None:
    """The open review queue, least confident first."""
    from warehouse.query import run_query
    from warehouse.resource import Warehouse
    from warehouse.sql import read_sql

    s = _settings(db)
    result = run_query(Warehouse(s.db), read_sql("queries", "review_queue") + f"\nlimit {int(limit)}")
    table = Table(*result.columns)
    for row in result.rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


@model_app.command()
def correct(
    item_id: Annotated[str, typer.Argument(help="demand item, e.g. hotline:…#1")],
    label: Annotated[str, typer.Argument(help="the right category")],
    new_label: Annotated[bool, typer.Option(
        help="allow a label the model in use does not know")] = False,
    db: DbOpt = None,
) -> None:
    """Label a demand item; the next `model train` learns from it."""
    from models.registry import current
    from warehouse.resource import Warehouse
    from warehouse.review import correct as record

    s = _settings(db)
    entry = current(s.model_dir)
    known = set(entry.card.labels) if entry else set()
    if known and label not in known and not new_label:
        raise _fail(f"{label!r} is not a label of {entry.ref}: one of {', '.join(sorted(known))} "
                    "(or pass --new-label)")
    try:
        with Warehouse(s.db).connect() as con:
            record(con, item_id, label)
    except KeyError as exc:
        raise _fail(str(exc).strip('"')) from None
    console.print(f"{item_id} → {label}")
