"""The references every evaluation of the classifier is compared with, on the same splits:
plain scikit-learn TF-IDF + LinearSVC with library defaults, over the same input frame as
:class:`~models.classify.DemandClassifier` (columns ``text`` and ``tokens``).

``word``: TF-IDF of jieba words. ``word+char``: that and TF-IDF of character 1–3-grams of
the raw text, the strong baseline on long message-board text (it beat the old recipe there).
"""

from __future__ import annotations

from typing import Any

from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from models.classify import split_tokens

__all__ = ["BASELINES", "make_baseline"]

#: Baseline name → what it is, as cards and `model train` print it.
BASELINES = {
    "word": "TF-IDF of jieba words + LinearSVC, scikit-learn defaults",
    "word+char": "TF-IDF of jieba words and of character 1-3-grams + LinearSVC, scikit-learn defaults",
}


def make_baseline(name: str, random_state: int = 0) -> Any:
    """An unfitted baseline pipeline over a frame with ``text`` and ``tokens``."""
    words = TfidfVectorizer(tokenizer=split_tokens, token_pattern=None, lowercase=False)
    blocks = [("words", words, "tokens")]
    if name == "word+char":
        blocks.append(("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3)), "text"))
    elif name != "word":
        raise ValueError(f"unknown baseline {name!r}: one of {', '.join(BASELINES)}")
    return make_pipeline(ColumnTransformer(blocks), LinearSVC(random_state=random_state))
