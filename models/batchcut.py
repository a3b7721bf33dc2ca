"""jieba's accurate mode (``Tokenizer.lcut(s, HMM=...)``) for a batch of strings, with the
word graph and the best route computed by NumPy array operations over every string at once.

jieba cuts one character at a time in Python: it looks up every prefix of the text at each
position in its prefix dictionary (``get_DAG``), then finds the most probable route through
those words right to left (``calc``). On message-board texts of a few hundred characters that
was 3 000 Python steps per text and the slowest part of classifying from raw text.
:class:`BatchCutter` does the same over a batch: the n-grams of every position are hashed
together and looked up in the tokenizer's own prefix dictionary (``FREQ``, read, never
changed), and the route is solved one distance-from-the-block-end at a time for all blocks
at once. The result is jieba's, token for token (ties broken as jieba breaks them, same
floating-point operations in the same order; tested against ``lcut`` on real and adversarial
text): the dictionary, the user dictionary and the HMM (``jieba.finalseg``, which this calls
for the runs it applies to) stay jieba's.

Blocks longer than :data:`LONG` characters (a text with no punctuation for a page) are cut by
jieba itself, so that one such block cannot make a batch take a step per character.
"""

from __future__ import annotations

from math import log
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CHUNK", "LONG", "BatchCutter"]

#: Blocks longer than this are cut by jieba itself.
LONG = 256
# Runs of characters whose HMM cut is remembered (a few MB at most).
_HMM_CACHE = 100_000
#: Characters cut in one pass at most (a string longer than this is a pass of its own): a
#: pass holds some hundred bytes per character in arrays (10,000 board texts at once peaked
#: at 900 MB more), and passes that fit the CPU caches better are faster too (3,000 board
#: texts: 3,200 texts/s in one pass, 5,000-5,700 in passes of 100,000 characters).
CHUNK = 100_000
# A multiplier for the polynomial hash of n-grams (odd, 64-bit, arbitrary but fixed).
_B = np.uint64(0x9E3779B97F4A7C15)
# jieba's re_han_default: the characters of a block that the word graph cuts.
_HAN_PUNCT = np.array([ord(c) for c in "+#&._%-"], dtype=np.int64)


def _codes(text: str) -> np.ndarray:
    # surrogatepass: a lone surrogate (text read with errors="surrogateescape") is one
    # character outside every block, as jieba treats it, not an encoding error
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)


def _in_block(codes: np.ndarray) -> np.ndarray:
    """Characters of jieba's ``re_han_default`` class."""
    return (
        ((codes >= 0x4E00) & (codes <= 0x9FD5))
        | ((codes >= 0x30) & (codes <= 0x39))
        | ((codes >= 0x41) & (codes <= 0x5A))
        | ((codes >= 0x61) & (codes <= 0x7A))
        | np.isin(codes, _HAN_PUNCT)
    )


def _eng(codes: np.ndarray) -> np.ndarray:
    """Characters of jieba's ``re_eng``: ASCII letters and digits."""
    return (
        ((codes >= 0x30) & (codes <= 0x39))
        | ((codes >= 0x41) & (codes <= 0x5A))
        | ((codes >= 0x61) & (codes <= 0x7A))
    )


class BatchCutter:
    """``[tokenizer.lcut(s, HMM=hmm) for s in strings]``, computed for the batch at once.

    Built from an initialised ``jieba.Tokenizer``; its tables are rebuilt when the tokenizer's
    dictionary changes: ``add_word`` changes ``total`` or the size of ``FREQ``, ``del_word``
    (``add_word(w, 0)``) adds to the HMM's force-split words, a re-initialised tokenizer has
    another ``FREQ``. (Assigning ``FREQ[w]`` directly is not seen: use jieba's methods.)
    """

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self._version: tuple[int, ...] | None = None
        self._hmm_cache: dict[str, list[int]] = {}

    # -- tables -------------------------------------------------------------------------------

    def _tables(self) -> None:
        tok = self.tokenizer
        tok.check_initialized()
        from jieba import finalseg

        version = (id(tok.FREQ), len(tok.FREQ), tok.total, len(finalseg.Force_Split_Words))
        if version == self._version:
            return
        self._hmm_cache = {}
        logtotal = log(tok.total)
        by_len: dict[int, list[str]] = {}
        for word in tok.FREQ:
            by_len.setdefault(len(word), []).append(word)
        tables = {}
        for n, words in by_len.items():
            codes = _codes("".join(words)).reshape(len(words), n)
            h = np.zeros(len(words), dtype=np.uint64)
            for j in range(n):
                h = h * _B + codes[:, j].astype(np.uint64)
            index = pd.Index(h)
            if not index.is_unique:  # two words of one length with one hash: never seen
                raise RuntimeError(f"n-gram hash collision among {n}-character dictionary words")
            freq = tok.FREQ
            # jieba's weight of a word: log(freq) - log(total), computed as jieba computes it
            weight = np.array([log(freq[w]) - logtotal if freq[w] else np.nan for w in words])
            tables[n] = (index, weight)
        self._by_len = tables
        self._max_len = max(tables)
        self._unknown = 0.0 - logtotal  # log(FREQ.get(c) or 1) - logtotal for a word-less char
        self._version = version

    # -- cutting ------------------------------------------------------------------------------

    def cut(self, strings: list[str], hmm: bool = True) -> list[list[str]]:
        """jieba's tokens of each string (accurate mode), in order."""
        if not strings:
            return []
        self._tables()
        out: list[list[str]] = []
        first, size = 0, 0
        for i, n in enumerate(map(len, strings)):
            if size and size + n > CHUNK:
                out += self._cut(strings[first:i], hmm)
                first, size = i, 0
            size += n
        return out + self._cut(strings[first:], hmm)

    def _cut(self, strings: list[str], hmm: bool) -> list[list[str]]:
        big = "".join(strings)
        lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        total = int(offsets[-1])
        if total == 0:
            return [[] for _ in strings]
        codes = _codes(big)
        string_start = np.zeros(total, dtype=bool)
        string_start[offsets[:-1][lengths > 0]] = True
        in_block = _in_block(codes)
        # block boundaries: a block is a run of block characters within one string
        starts_b = in_block & (string_start | ~np.concatenate([[False], in_block[:-1]]))
        block_start = np.flatnonzero(starts_b)
        ends_flag = in_block & (np.concatenate([string_start[1:], [True]])
                                | ~np.concatenate([in_block[1:], [False]]))
        block_end = np.flatnonzero(ends_flag) + 1
        block_len = block_end - block_start

        # every character outside a block is its own token ("\r\n" is one, as in jieba)
        token_start = ~in_block
        crlf = np.flatnonzero((codes[1:] == 10) & (codes[:-1] == 13)
                              & ~in_block[1:] & ~in_block[:-1] & ~string_start[1:]) + 1
        token_start[crlf] = False
        token_start[block_start] = True

        short = block_len <= LONG
        if short.any():
            starts = self._cut_blocks(codes, block_start[short], block_len[short], hmm, big)
            token_start[starts] = True
        for s, e in zip(block_start[~short].tolist(), block_end[~short].tolist(), strict=True):
            pos = s
            for word in self.tokenizer.cut(big[s:e], HMM=hmm):
                token_start[pos] = True
                pos += len(word)

        bounds = np.flatnonzero(token_start)
        ends = np.append(bounds[1:], total).tolist()
        words = [big[a:b] for a, b in zip(bounds.tolist(), ends, strict=True)]
        cuts = np.searchsorted(bounds, offsets).tolist()
        return [words[cuts[i]:cuts[i + 1]] for i in range(len(strings))]

    def _cut_blocks(self, codes: np.ndarray, block_start: np.ndarray, block_len: np.ndarray,
                    hmm: bool, big: str) -> np.ndarray:
        """Word-start positions (in ``big``) of the given blocks, as jieba cuts them."""
        nb = len(block_start)
        # gapped coordinates: each block's characters, then one slot for "the end of the block"
        gstart = np.concatenate([[0], np.cumsum(block_len + 1)[:-1]])
        size = int(gstart[-1] + block_len[-1] + 1)
        owner = np.repeat(np.arange(nb), block_len)
        # position of each block character within its block
        within = np.arange(len(owner)) - np.repeat(np.cumsum(block_len) - block_len, block_len)
        src = np.repeat(block_start, block_len) + within  # index into big
        gpos = np.repeat(gstart, block_len) + within  # index in gapped coordinates
        gend = np.repeat(gstart + block_len, block_len)  # the end slot of each char's block
        c = np.zeros(size, dtype=np.uint64)
        c[gpos] = codes[src].astype(np.uint64)

        # the word graph: every n-gram that is a dictionary word (FREQ > 0); FREQ holds every
        # prefix of every word, so an n-gram can only be a word where its (n-1)-prefix is in it
        e_pos, e_len, e_w = [], [], []
        alive = gpos
        alive_end = gend
        h = np.zeros(len(alive), dtype=np.uint64)
        for n in range(1, self._max_len + 1):
            fits = alive + n <= alive_end
            alive, alive_end, h = alive[fits], alive_end[fits], h[fits]
            if not len(alive):
                break
            h = h * _B + c[alive + n - 1]
            table = self._by_len.get(n)
            if table is None:
                # no dictionary entry of this length, and so none longer that extends these
                # (every prefix of a longer entry is an entry): stop
                break
            index, weight = table
            col = index.get_indexer(h)
            found = col >= 0
            w = weight[col[found]]
            word = ~np.isnan(w)
            e_pos.append(alive[found][word])
            e_len.append(np.full(int(word.sum()), n, dtype=np.int64))
            e_w.append(w[word])
            alive, alive_end, h = alive[found], alive_end[found], h[found]

        pos = np.concatenate(e_pos) if e_pos else np.zeros(0, dtype=np.int64)
        ln = np.concatenate(e_len) if e_len else np.zeros(0, dtype=np.int64)
        wt = np.concatenate(e_w) if e_w else np.zeros(0)
        # a character that begins no word is a word of its own, of weight log(1) - log(total)
        has = np.zeros(size, dtype=bool)
        has[pos] = True
        lone = gpos[~has[gpos]]
        pos = np.concatenate([pos, lone])
        ln = np.concatenate([ln, np.ones(len(lone), dtype=np.int64)])
        wt = np.concatenate([wt, np.full(len(lone), self._unknown)])

        # the best route, right to left: each position's best word is the one with the highest
        # weight + route of what follows, ties to the longest (jieba maxes (score, end) tuples)
        end_slot = np.zeros(size, dtype=np.int64)
        end_slot[gpos] = gend
        dist = end_slot[pos] - pos
        order = np.lexsort((ln, pos, dist))
        pos, ln, wt, dist = pos[order], ln[order], wt[order], dist[order]
        target = pos + ln
        new_group = np.ones(len(pos), dtype=bool)
        new_group[1:] = pos[1:] != pos[:-1]
        group_start = np.flatnonzero(new_group)
        group_size = np.diff(np.append(group_start, len(pos)))
        d_edges = np.searchsorted(dist, np.arange(1, LONG + 2))
        d_groups = np.searchsorted(group_start, d_edges)
        route = np.zeros(size)  # an end slot's route is 0
        best_len = np.zeros(size, dtype=np.int64)
        idx = np.arange(len(pos))
        for d in range(1, int(block_len.max()) + 1):
            a, b = d_edges[d - 1], d_edges[d]
            if a == b:
                continue
            ga, gb = d_groups[d - 1], d_groups[d]
            gs = group_start[ga:gb] - a
            score = wt[a:b] + route[target[a:b]]
            best = np.maximum.reduceat(score, gs)
            tie = np.where(score == np.repeat(best, group_size[ga:gb]), idx[a:b], -1)
            pick = np.maximum.reduceat(tie, gs)
            at = pos[pick]
            route[at] = best
            best_len[at] = ln[pick]

        # walk each block from its start along the best words
        is_start = np.zeros(size + 1, dtype=bool)
        frontier = gstart
        while len(frontier):
            is_start[frontier] = True
            frontier = frontier + best_len[frontier]
            frontier = frontier[best_len[frontier] > 0]
        word_at = np.flatnonzero(is_start[gpos])  # indices into gpos/src of word starts
        single = best_len[gpos[word_at]] == 1
        if not hmm:
            # runs of one-character ASCII letters or digits are joined into one token
            eng = single & _eng(codes[src[word_at]].astype(np.int64))
            same_block = np.zeros(len(word_at), dtype=bool)
            same_block[1:] = owner[word_at[1:]] == owner[word_at[:-1]]
            joined = np.zeros(len(word_at), dtype=bool)
            joined[1:] = eng[1:] & eng[:-1] & same_block[1:]
            return src[word_at[~joined]]
        return self._hmm_runs(src, word_at, single, owner, big)

    def _hmm_runs(self, src: np.ndarray, word_at: np.ndarray, single: np.ndarray,
                  owner: np.ndarray, big: str) -> np.ndarray:
        """jieba's ``__cut_DAG``: a run of two or more one-character words that is not itself
        a dictionary word goes to the HMM (``jieba.finalseg.cut``)."""
        from jieba import finalseg

        freq = self.tokenizer.FREQ
        cache = self._hmm_cache
        starts = src[word_at]
        # runs of consecutive single-character words within one block
        same_block = np.zeros(len(word_at), dtype=bool)
        same_block[1:] = owner[word_at[1:]] == owner[word_at[:-1]]
        cont = np.zeros(len(word_at), dtype=bool)
        cont[1:] = single[1:] & single[:-1] & same_block[1:]
        run_first = single & ~cont
        first = np.flatnonzero(run_first)
        # length of each run: count of continuing words after the first
        run_id = np.cumsum(run_first) - 1
        counts = np.bincount(run_id[single], minlength=len(first))
        long_runs = counts >= 2
        keep = np.ones(len(word_at), dtype=bool)
        extra: list[int] = []
        for f, k in zip(first[long_runs].tolist(), counts[long_runs].tolist(), strict=True):
            s = int(starts[f])
            buf = big[s:s + k]
            if freq.get(buf):
                continue  # jieba yields its characters one by one: as they are
            keep[f + 1:f + k] = False
            # the HMM's word ends within the run, the run's own end left out (the next word
            # starts there); runs repeat, so they are remembered
            ends = cache.get(buf)
            if ends is None:
                ends, p = [], 0
                for word in finalseg.cut(buf):
                    p += len(word)
                    ends.append(p)
                ends.pop()
                if len(cache) < _HMM_CACHE:
                    cache[buf] = ends
            extra.extend(s + e for e in ends)
        out = starts[keep]
        if extra:
            out = np.concatenate([out, np.asarray(extra, dtype=np.int64)])
        return out
