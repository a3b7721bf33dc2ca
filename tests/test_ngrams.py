"""NgramTfidf must equal scikit-learn's TfidfVectorizer, column for column."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer

from models.ngrams import NgramTfidf

TRAIN = [
    "请问日间照料怎么申请？", "小区乱停车，停车位不够", "楼道清洁没人管，物业费白交了",
    "日间照料名额不够", "停车位太少了  晚上停车难", "ＡＢＣ物业  电梯坏了\n\n没人修", "😀 物业 😀",
    "电梯坏了", "请问医保卡怎么补办", "医保卡丢了",
]
TEST = ["日间照料和停车位", "", "从没见过的句子", "物业电梯 坏了😀", "a"]
WORDS_TRAIN = ["日间照料 名额 不够", "停车位 不够", "物业 电梯 坏了", "电梯 坏了 没人 修",
               "日间照料 申请", "停车位 太少", "物业 费", "电梯 维修 物业"]
WORDS_TEST = ["日间照料 不够 电梯", "", "没见过 的 词", "电梯 坏了"]


def _reference(analyzer: str, ngram_range: tuple[int, int], min_df: int) -> TfidfVectorizer:
    kwargs = ({"analyzer": "char"} if analyzer == "char" else
              {"tokenizer": str.split, "token_pattern": None, "lowercase": False})
    return TfidfVectorizer(ngram_range=ngram_range, sublinear_tf=True, min_df=min_df,
                           dtype=np.float32, **kwargs)


def _assert_same(analyzer: str, ngram_range: tuple[int, int], min_df: int,
                 train: list[str], test: list[str]) -> None:
    ref = _reference(analyzer, ngram_range, min_df).fit(train)
    fast = NgramTfidf(analyzer, ngram_range, min_df).fit(train)
    names = fast.get_feature_names_out()
    assert sorted(names) == sorted(ref.get_feature_names_out())
    columns = [ref.vocabulary_[n] for n in names]
    want = ref.transform(test)[:, columns].toarray()
    got = fast.transform(test)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got.toarray(), want, atol=1e-6)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (1, 3), (2, 3), (3, 3)])
@pytest.mark.parametrize("min_df", [1, 2])
def test_char_ngrams_equal_sklearn(ngram_range: tuple[int, int], min_df: int) -> None:
    _assert_same("char", ngram_range, min_df, TRAIN, TEST)


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 3)])
@pytest.mark.parametrize("min_df", [1, 2])
def test_word_ngrams_equal_sklearn(ngram_range: tuple[int, int], min_df: int) -> None:
    _assert_same("word", ngram_range, min_df, WORDS_TRAIN, WORDS_TEST)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet="老人停车位物业 ab\n😀", max_size=12), min_size=3, max_size=12))
def test_any_texts_equal_sklearn(texts: list[str]) -> None:
    try:
        _reference("char", (1, 3), 1).fit(texts)
    except ValueError:  # nothing to learn (all texts empty): both refuse
        with pytest.raises(ValueError):
            NgramTfidf("char", (1, 3), 1).fit(texts)
        return
    _assert_same("char", (1, 3), 1, texts, texts[::-1])


def test_rare_words_are_not_stored() -> None:
    # A word of one text (a name, a number that escaped masking) must not persist in the model.
    fast = NgramTfidf("word", (1, 2), min_df=2).fit(WORDS_TRAIN + ["张三 13800000000 电梯"])
    assert "13800000000" not in fast.words_ and "张三" not in fast.words_
    assert "电梯" in fast.words_


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError, match="ngram_range"):
        NgramTfidf("char", (1, 4)).fit(TRAIN)
    with pytest.raises(ValueError, match="analyzer"):
        NgramTfidf("bytes").fit(TRAIN)
    with pytest.raises(ValueError, match="occurs"):
        NgramTfidf("char", (3, 3), min_df=5).fit(["ab", "cd"])
