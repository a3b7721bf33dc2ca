"""TF-IDF of character or word n-grams, computed with NumPy array operations.

:class:`NgramTfidf` gives the same matrix (up to column order) as scikit-learn's
``TfidfVectorizer(analyzer="char" | <whitespace split>, ngram_range, sublinear_tf=True,
min_df)``, several times faster: scikit-learn counts n-grams in a Python loop over a dict,
which cost more than the jieba segmentation of the same text and made these features the
slowest part of the text stage. Here each unit (a character, or a word of space-joined
tokens) becomes a 21-bit integer, an n-gram of up to three units is packed into one 64-bit
key, every text of a batch is handled at once, and the vocabulary lookup goes through a hash
index over the key array.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from itertools import chain, repeat

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.preprocessing import normalize
from sklearn.utils.validation import check_is_fitted

__all__ = ["NgramTfidf"]

_BITS = 21  # every Unicode code point + 1 fits in 21 bits, so three units fit in 63
_MAX_N = 3
_UNSEEN = (1 << _BITS) - 1  # a word unknown at fit time: in no n-gram of the vocabulary
# scikit-learn's char analyzer collapses runs of whitespace; so do we, to stay equivalent.
_WHITE_SPACES = re.compile(r"\s\s+")


class NgramTfidf(TransformerMixin, BaseEstimator):
    """Sublinear, L2-normalised TF-IDF of the n-grams of each text.

    Parameters
    ----------
    analyzer:
        ``"char"``: n-grams of characters (lower-cased, whitespace runs collapsed, as
        scikit-learn's ``analyzer="char"``); ``"word"``: n-grams of the whitespace-separated
        words of already segmented text (``"老人 日间照料 需求"``).
    ngram_range:
        Smallest and largest n-gram length; at most 3.
    min_df:
        Keep n-grams that occur in at least this many training texts.

    Learned attributes: ``keys_`` (sorted packed n-grams of the vocabulary), ``idf_``
    (smoothed inverse document frequencies, in ``keys_`` order), ``n_features_out_``, and for
    words ``words_`` (each word of ``min_df`` training texts or more → its unit number).
    """

    def __init__(
        self, analyzer: str = "char", ngram_range: tuple[int, int] = (1, 3), min_df: int = 2
    ) -> None:
        self.analyzer = analyzer
        self.ngram_range = ngram_range
        self.min_df = min_df

    def _units(self, texts: Iterable[str], learn: bool) -> tuple[np.ndarray, np.ndarray]:
        """Every unit of every text as a number from 1, and the number of units per text."""
        if self.analyzer == "char":
            docs = [_WHITE_SPACES.sub(" ", t.lower()) for t in texts]
            lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
            codes = np.frombuffer("".join(docs).encode("utf-32-le"), dtype=np.uint32)
            return codes.astype(np.int64) + 1, lengths
        if self.analyzer != "word":
            raise ValueError(f"analyzer must be 'char' or 'word', got {self.analyzer!r}")
        docs = [t.split() for t in texts]
        if learn:
            # Only words of min_df texts or more can be part of a kept n-gram; the rest (a
            # name, a number that escaped masking) must not be stored in the model either.
            df = Counter(w for d in docs for w in set(d))
            frequent = sorted(w for w, n in df.items() if n >= self.min_df)
            words = {w: i for i, w in enumerate(frequent, 1)}
            if len(words) >= _UNSEEN:
                raise ValueError(f"more than {_UNSEEN - 1} distinct words")
            self.words_ = words
        lengths = np.fromiter(map(len, docs), dtype=np.int64, count=len(docs))
        # map over two iterables calls words_.get(word, _UNSEEN) without a Python frame
        codes = np.fromiter(map(self.words_.get, chain.from_iterable(docs), repeat(_UNSEEN)),
                            dtype=np.int64, count=int(lengths.sum()))
        return codes, lengths

    def _grams(self, texts: Iterable[str], learn: bool) -> tuple[np.ndarray, np.ndarray, int]:
        """Packed n-grams of every text and the index of the text each comes from."""
        lo, hi = self.ngram_range
        if not 1 <= lo <= hi <= _MAX_N:
            raise ValueError(f"ngram_range must lie within (1, {_MAX_N}), got {self.ngram_range}")
        codes, lengths = self._units(texts, learn)
        doc_of = np.repeat(np.arange(len(lengths)), lengths)
        doc_end = np.cumsum(lengths)[doc_of]  # where the text of each position ends
        keys, owners = [], []
        key, unseen = codes, codes == _UNSEEN
        for n in range(1, hi + 1):
            if n > 1:
                key = (key[:-1] << _BITS) + codes[n - 1 :]
                unseen = unseen[:-1] | (codes[n - 1 :] == _UNSEEN)
            if n >= lo:
                inside = (np.arange(len(key)) + n <= doc_end[: len(key)]) & ~unseen
                keys.append(key[inside])
                owners.append(doc_of[: len(key)][inside])
        return np.concatenate(keys), np.concatenate(owners), len(lengths)

    def fit(self, X: Iterable[str], y: object = None) -> NgramTfidf:
        """Learn the vocabulary (n-grams in ``min_df`` texts or more) and the IDF weights."""
        keys, owners, n_docs = self._grams(X, learn=True)
        order = np.lexsort((owners, keys))
        keys, owners = keys[order], owners[order]
        first = np.ones(len(keys), dtype=bool)
        first[1:] = (keys[1:] != keys[:-1]) | (owners[1:] != owners[:-1])
        vocab, df = np.unique(keys[first], return_counts=True)
        keep = df >= self.min_df
        if not keep.any():
            raise ValueError(f"no {self.analyzer} n-gram occurs in {self.min_df}+ texts")
        self.__dict__.pop("_index", None)
        self.keys_ = vocab[keep]
        self.idf_ = (np.log((1 + n_docs) / (1 + df[keep])) + 1).astype(np.float32)
        self.n_features_out_ = len(self.keys_)
        return self

    def transform(self, X: Iterable[str]) -> sp.csr_matrix:
        """Sparse ``(n_texts, n_features_out_)`` float32 matrix with unit-norm rows."""
        check_is_fitted(self, "keys_")
        keys, owners, n_docs = self._grams(X, learn=False)
        index = self.__dict__.get("_index")
        if index is None:
            # A hash index: several times faster than a binary search over keys_.
            index = self.__dict__["_index"] = pd.Index(self.keys_)
        col = index.get_indexer(keys)
        known = col >= 0
        # Built column-wise first: an n-gram has one length, and the texts of each length come
        # in text order, so every column's rows arrive sorted; the conversion to rows is then
        # a linear pass that leaves each row's columns sorted, duplicates side by side, and
        # summing them needs no sort (a per-row sort was a third of the transform).
        counts = sp.csc_matrix(
            (np.ones(int(known.sum()), dtype=np.float32), (owners[known], col[known])),
            shape=(n_docs, self.n_features_out_),
        ).tocsr()
        counts.sum_duplicates()
        counts.data = (np.log(counts.data) + 1) * self.idf_[counts.indices]
        return normalize(counts, copy=False)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        """The n-grams of the vocabulary as strings (words joined by a space), in column
        order."""
        check_is_fitted(self, "keys_")
        mask = (1 << _BITS) - 1
        if self.analyzer == "char":
            unit, sep = (lambda code: chr(code - 1)), ""
        else:
            by_code = {i: w for w, i in self.words_.items()}
            unit, sep = by_code.__getitem__, " "
        names = []
        for key in self.keys_.tolist():
            units = []
            while key:
                units.append(unit(key & mask))
                key >>= _BITS
            names.append(sep.join(reversed(units)))
        return np.asarray(names, dtype=object)
