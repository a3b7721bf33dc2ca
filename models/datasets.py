"""Labelled texts from the files districts keep: CSV, JSON Lines or Excel.

A district's own work orders arrive as whatever its case system exports; :func:`read_labelled`
turns one such file into ``(text, label)`` pairs, and :func:`merge_corrections` lays the
review queue's corrections over them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from minsheng.records import compose_text

__all__ = ["FORMATS", "merge_corrections", "read_labelled", "read_table", "read_texts"]

#: File suffixes :func:`read_table` understands (:func:`read_texts` also takes ``.txt``).
FORMATS = (".csv", ".tsv", ".jsonl", ".json", ".xlsx")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV/TSV (UTF-8, with or without BOM, else GB18030), JSON Lines or .xlsx file,
    every column as text."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    if suffix in (".csv", ".tsv"):
        sep = "\t" if suffix == ".tsv" else ","
        try:
            return pd.read_csv(
                path, sep=sep, dtype=str, encoding="utf-8-sig", keep_default_na=False
            )
        except UnicodeDecodeError:
            # Exports from Chinese Excel and case systems are often GB18030 (a GBK superset).
            return pd.read_csv(path, sep=sep, dtype=str, encoding="gb18030", keep_default_na=False)
    if suffix in (".jsonl", ".json"):
        return pd.read_json(path, lines=True, dtype=False).astype(str)
    if suffix == ".xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    raise ValueError(f"cannot read {path.name}: expected one of {', '.join(FORMATS)}")


def _require(frame: pd.DataFrame, cols: Sequence[str], path: Path) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise KeyError(
            f"{Path(path).name} has no column(s) {missing}; its columns: {list(frame.columns)}"
        )


def _joined(frame: pd.DataFrame, cols: Sequence[str], path: Path) -> pd.Series:
    _require(frame, cols, path)
    return frame[list(cols)].fillna("").astype(str).agg(lambda row: compose_text(*row), axis=1)


def read_texts(path: Path, text_cols: Sequence[str] = ("text",)) -> list[str]:
    """The non-empty texts of a file: one per line of a ``.txt`` file, else the ``text_cols``
    of a table (joined with a newline)."""
    if Path(path).suffix.lower() == ".txt":
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
        return [line.strip() for line in lines if line.strip()]
    return [t for t in _joined(read_table(path), text_cols, path) if t]


def read_labelled(
    path: Path, text_cols: Sequence[str] = ("text",), label_col: str = "label"
) -> list[tuple[str, str]]:
    """``(text, label)`` pairs of a file; several text columns (e.g. a title and a body) are
    joined with a newline. Rows whose text or label is empty are skipped."""
    frame = read_table(path)
    _require(frame, [*text_cols, label_col], path)
    texts = _joined(frame, text_cols, path)
    labels = frame[label_col].fillna("").astype(str).str.strip()
    return [(t, y) for t, y in zip(texts, labels, strict=True) if t and y]


def merge_corrections(
    labelled: Iterable[tuple[str, str]], corrections: Iterable[tuple[str, str]]
) -> list[tuple[str, str]]:
    """Training pairs with reviewers' corrections applied: a corrected text takes the
    corrected label wherever it occurs, and corrected texts not in ``labelled`` are added."""
    fixed = dict(corrections)
    pairs = list(labelled)
    seen = {t for t, _ in pairs}
    return [(t, fixed.get(t, y)) for t, y in pairs] + [
        (t, y) for t, y in fixed.items() if t not in seen
    ]
