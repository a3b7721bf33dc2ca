"""Chinese word segmentation for every text minsheng reads.

One :class:`Segmenter` wraps its own ``jieba.Tokenizer`` (never the process-global ``jieba.dt``),
loaded with the project's user dictionary and stop words, so that the Beam pipeline, the Prefect
flows and training all cut text the same way. It follows the scikit-learn transformer contract
(stateless: ``fit`` learns nothing) and pickles without its tokenizer, so it can be shipped to
Beam workers or ``joblib``-dumped and rebuilt lazily where it lands.
"""

from __future__ import annotations

import heapq
import io
import os
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jieba
from sklearn.base import BaseEstimator, TransformerMixin

__all__ = ["Segmenter", "default_cache_dir"]

# A token made only of punctuation, symbols, whitespace or underscores carries no demand signal.
# (\W is "not a word character"; CJK ideographs, latin letters and digits are word characters.)
_NOISE = re.compile(r"^[\W_]+$")
# Text that already went through a segmenter: a CJK character, whitespace, a CJK character.
_PRESEGMENTED = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]\s+[\u3400-\u9fff\uf900-\ufaff]")
# In pre-segmented text a whitespace-separated piece longer than this that is not a dictionary
# word is a run of prose (residents also use spaces as punctuation: "你好 我想问一下社保卡怎么办"),
# so it is cut rather than kept whole. jieba's own words are 1-4 characters long.
_MAX_PIECE = 4
# Distinct raw words remembered per segmenter (a few MB); beyond it, words are cleaned afresh.
_CLEAN_CACHE = 200_000


def default_cache_dir() -> Path:
    """Per-user cache directory for jieba's prefix dictionary when none is given.

    jieba's default is ``/tmp/jieba.cache``, shared by every user and process on the machine;
    ours lives under ``$XDG_CACHE_HOME`` (or ``~/.cache``).
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "minsheng" / "jieba"


# The full-width forms and the ideographic space, each to its compatibility decomposition
# (NFKD): replacing characters by their NFKD leaves a text's NFKD, and so its NFKC, unchanged.
_FULL_WIDTH = {c: unicodedata.normalize("NFKD", chr(c)) for c in [*range(0xFF01, 0xFF5F), 0x3000]}


def _normalise(text: str) -> str:
    # NFKC folds full-width latin, digits and punctuation (ＡＢＣ，１２) into their ASCII forms,
    # which is how the dictionaries spell them. The quick check spares most texts a copy.
    if unicodedata.is_normalized("NFKC", text):
        return text
    # Chinese text fails the check for its full-width punctuation (，。！) alone: replaced by
    # table, the text is most often NFKC already, which is then its NFKC (see _FULL_WIDTH);
    # half the time of normalize on message-board text.
    folded = text.translate(_FULL_WIDTH)
    if unicodedata.is_normalized("NFKC", folded):
        return folded
    return unicodedata.normalize("NFKC", text)


class Segmenter(BaseEstimator, TransformerMixin):
    """jieba segmentation with the project's user dictionary and stop words.

    Parameters
    ----------
    userdict:
        Path of a jieba user dictionary (``word [freq] [tag]`` per line), or ``None``.
    stopwords:
        Path of a stop-word list (one word per line), or ``None``.
    cache_dir:
        Directory for jieba's prefix-dictionary cache (created if missing). ``None`` uses
        :func:`default_cache_dir`. Never the shared ``/tmp``.
    hmm:
        Let jieba's HMM join characters into words that are in no dictionary.

    The tokenizer is created on first use. Pickling drops it but keeps the *contents* of the
    user dictionary and stop-word files, so a worker that unpickles the segmenter does not need
    the files at the same paths.
    """

    def __init__(
        self,
        userdict: str | None = None,
        stopwords: str | None = None,
        cache_dir: str | None = None,
        hmm: bool = True,
    ) -> None:
        self.userdict = userdict
        self.stopwords = stopwords
        self.cache_dir = cache_dir
        self.hmm = hmm

    # -- scikit-learn contract ----------------------------------------------------------------

    def fit(self, X: Iterable[str] | None = None, y: Any = None) -> Segmenter:
        """Learn nothing (segmentation is fixed by the dictionaries); return ``self``."""
        return self

    def transform(self, texts: Iterable[str]) -> list[str]:
        """Space-joined tokens of each text: the form every downstream model consumes."""
        return [" ".join(t) for t in self.tokens_many(texts)]

    def __sklearn_is_fitted__(self) -> bool:
        # Stateless: usable without fit (lets it sit in a Pipeline that is only transformed).
        return True

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    # -- segmentation -------------------------------------------------------------------------

    def tokens(self, text: str) -> list[str]:
        """Tokens of one text: NFKC-normalised, latin lower-cased, without stop words,
        whitespace or pure punctuation.

        Text that is already segmented (whitespace between CJK characters, e.g.
        ``"社区 养老 服务"``) is split on whitespace instead of being cut again; within it,
        only long pieces that are not dictionary words are cut (see ``_MAX_PIECE``).
        """
        if not text:
            return []
        tok = self.tokenizer
        text = _normalise(text)
        if _PRESEGMENTED.search(text):
            raw: list[str] = []
            freq = tok.FREQ
            for piece in text.split():
                if len(piece) <= _MAX_PIECE or freq.get(piece):
                    raw.append(piece)
                else:
                    raw.extend(tok.cut(piece, HMM=self.hmm))
        else:
            raw = tok.lcut(text, HMM=self.hmm)
        return self._clean(raw)

    def tokens_many(self, texts: Iterable[str]) -> list[list[str]]:
        """:meth:`tokens` of each text (the same tokens, tested), cut as one batch: jieba's
        word graph and best route computed for every text at once
        (:class:`models.batchcut.BatchCutter`), several times faster than one text at a
        time on texts of a few hundred characters."""
        tok = self.tokenizer
        freq = tok.FREQ
        plans: list[Any] = []  # per text: None (empty), an int (a string to cut) or a list
        to_cut: list[str] = []
        for text in texts:
            if not text:
                plans.append(None)
                continue
            text = _normalise(text)
            if _PRESEGMENTED.search(text):
                items: list[str | int] = []
                for piece in text.split():
                    if len(piece) <= _MAX_PIECE or freq.get(piece):
                        items.append(piece)
                    else:
                        items.append(len(to_cut))
                        to_cut.append(piece)
                plans.append(items)
            else:
                plans.append(len(to_cut))
                to_cut.append(text)
        cuts = self._batch_cutter.cut(to_cut, hmm=self.hmm)
        out: list[list[str]] = []
        for plan in plans:
            if plan is None:
                out.append([])
            elif isinstance(plan, int):
                out.append(self._clean(cuts[plan]))
            else:
                raw: list[str] = []
                for item in plan:
                    if isinstance(item, int):
                        raw.extend(cuts[item])
                    else:
                        raw.append(item)
                out.append(self._clean(raw))
        return out

    def _clean(self, raw: list[str]) -> list[str]:
        """Raw jieba words without stop words, whitespace or pure punctuation, latin
        lower-cased."""
        stop = self._stop_words
        # Words repeat (Zipf): remember what each raw word becomes, which costs one dict
        # lookup instead of strip, lower, a stop-word test and a regex per word.
        clean = self.__dict__.setdefault("_clean_cache", {})
        out = list(map(clean.get, raw))  # map and filter: no Python step per word
        if None in out:
            for i, w in enumerate(raw):
                if out[i] is None:
                    # Lower-case after cutting, not before: dictionary entries such as "V空间"
                    # are case-sensitive in jieba and would no longer match a lower-cased text.
                    c = w.strip().lower()
                    if c in stop or _NOISE.match(c):
                        c = ""
                    if len(clean) < _CLEAN_CACHE:
                        clean[w] = c
                    out[i] = c
        return list(filter(None, out))

    def keywords(self, text_or_tokens: str | Sequence[str], k: int = 3) -> list[str]:
        """Top-``k`` keywords by jieba's TF-IDF, without stop words.

        Scores are exactly those of ``jieba.analyse.TFIDF.extract_tags`` (term frequency times
        jieba's IDF table, median IDF for unknown words, words shorter than two characters
        skipped, ties in order of first occurrence), computed over *our* tokens: so stop words,
        punctuation and pre-segmented input are handled as in :meth:`tokens`. Pass the output
        of :meth:`tokens` to avoid cutting the text twice.
        """
        toks = self.tokens(text_or_tokens) if isinstance(text_or_tokens, str) else text_or_tokens
        extractor = self.keyword_extractor
        idf, median = extractor.idf_freq.get, extractor.median_idf
        stop = self._stop_words
        freq = Counter(w for w in toks if len(w) > 1 and w not in stop)
        # Dividing by the total, as jieba does, does not change the order; skip it.
        # nlargest is documented to equal a stable sort: ties keep first-seen order.
        return heapq.nlargest(k, freq, key=lambda w: freq[w] * idf(w, median))

    # -- lazily built resources ---------------------------------------------------------------

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        """This segmenter's own ``jieba.Tokenizer`` (built on first access)."""
        tok = self.__dict__.get("_tokenizer")
        if tok is None:
            with self._lock:
                tok = self.__dict__.get("_tokenizer")
                if tok is None:
                    tok = self._build_tokenizer()
                    self.__dict__["_tokenizer"] = tok
        return tok

    @property
    def _batch_cutter(self) -> Any:
        cutter = self.__dict__.get("_cutter")
        if cutter is None:
            from models.batchcut import BatchCutter

            with self._lock:
                cutter = self.__dict__.get("_cutter")
                if cutter is None:
                    cutter = self.__dict__["_cutter"] = BatchCutter(self.tokenizer)
        return cutter

    @property
    def keyword_extractor(self) -> Any:
        """A ``jieba.analyse.TFIDF`` whose tokenizers are ours (built on first access).

        Its ``extract_tags`` may be used directly; :meth:`keywords` only borrows its IDF table.
        """
        ext = self.__dict__.get("_extractor")
        if ext is None:
            with self._lock:
                ext = self.__dict__.get("_extractor")
                if ext is None:
                    # Imported here: importing jieba.analyse reads its 6 MB IDF table and builds
                    # module-level extractors, which an import of this module must not do.
                    import jieba.analyse
                    import jieba.posseg

                    ext = jieba.analyse.TFIDF()
                    ext.tokenizer = self.tokenizer
                    ext.postokenizer = jieba.posseg.POSTokenizer(self.tokenizer)
                    ext.stop_words |= self._stop_words
                    self.__dict__["_extractor"] = ext
        return ext

    @property
    def _lock(self) -> threading.RLock:
        lock = self.__dict__.get("_lock_obj")
        if lock is None:
            # setdefault is atomic under the GIL, so two threads end up sharing one lock.
            lock = self.__dict__.setdefault("_lock_obj", threading.RLock())
        return lock

    @property
    def _stop_words(self) -> frozenset[str]:
        self._load_resources()
        return self.__dict__["_stop_set"]

    def _load_resources(self) -> None:
        """Read the user dictionary and stop-word files once, keeping their contents."""
        if "_stop_set" in self.__dict__:
            return
        with self._lock:
            if "_stop_set" in self.__dict__:
                return
            userdict = Path(self.userdict).read_bytes() if self.userdict else b""
            stop: set[str] = set()
            if self.stopwords:
                for line in Path(self.stopwords).read_text(encoding="utf-8-sig").splitlines():
                    word = _normalise(line.strip()).lower()
                    if word:
                        stop.add(word)
            self.__dict__["_userdict_bytes"] = userdict
            self.__dict__["_stop_set"] = frozenset(stop)

    def _build_tokenizer(self) -> jieba.Tokenizer:
        self._load_resources()
        tok = jieba.Tokenizer()
        cache = Path(self.cache_dir) if self.cache_dir else default_cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        tok.tmp_dir = str(cache)
        tok.initialize()
        if self.__dict__["_userdict_bytes"]:
            stream = io.BytesIO(self.__dict__["_userdict_bytes"])
            stream.name = str(self.userdict)  # jieba names the file in its error messages
            tok.load_userdict(stream)
        return tok

    # -- pickling -----------------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        # Snapshot the dictionaries now, so the receiving side needs no access to the files.
        self._load_resources()
        # A copy: BaseEstimator.__getstate__ may hand back the live __dict__ itself, and popping
        # from that would strip the tokenizer from this (sending) object too.
        state = dict(super().__getstate__())
        for key in ("_tokenizer", "_extractor", "_lock_obj", "_clean_cache", "_cutter"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
