"""Sentence embeddings for demand texts.

Two real embedders share one protocol (:class:`Embedder`):

* the **project** embedder, built from our own segmented corpus by
  :func:`build_project_embedder`: a sentence-transformers ``StaticEmbedding`` over a word-level
  vocabulary of jieba tokens, initialised from LSA of the corpus, followed by ``Normalize``. It
  needs no download, is fast on CPU, and consumes space-joined jieba tokens;
* a **pretrained** sentence-transformers model from a local directory or the local Hugging Face
  cache (never downloaded at run time), which consumes raw text.

:class:`FakeEmbedder` is a deterministic stand-in for tests.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "MARKER_FILE",
    "Embedder",
    "FakeEmbedder",
    "SentenceTransformerEmbedder",
    "build_project_embedder",
    "corpus_sha256",
    "fine_tune_embedder",
    "load_embedder",
    "read_marker",
]

log = logging.getLogger(__name__)

#: Written next to a project model by :func:`build_project_embedder`; its presence tells a loader
#: that the model expects space-joined jieba tokens rather than raw text.
MARKER_FILE = "minsheng_embedder.json"
UNK = "[UNK]"
# Hugging Face repository ids: "name" or "owner/name".
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


@runtime_checkable
class Embedder(Protocol):
    """What the pipeline needs from an embedder.

    ``wants_segmented`` says which text form :meth:`encode` expects: ``True`` for space-joined
    jieba tokens (``Segmenter.transform``), ``False`` for the raw text.
    """

    dim: int
    wants_segmented: bool

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts: float32 array of shape ``(len(texts), dim)`` with L2-normalised rows
        (a text with no known token gets the zero vector)."""
        ...


def corpus_sha256(texts: Sequence[str]) -> str:
    """SHA-256 of a corpus, each text UTF-8 encoded and followed by a newline."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def read_marker(path: str | Path) -> dict[str, Any] | None:
    """The project marker of a model directory, or ``None`` for any other model."""
    marker = Path(path) / MARKER_FILE
    if not marker.is_file():
        return None
    return json.loads(marker.read_text(encoding="utf-8"))


def _as_unit_float32(vectors: np.ndarray, n: int, dim: int) -> np.ndarray:
    if n == 0:
        # sentence-transformers returns a 1-D empty array for no input; keep the 2-D contract.
        return np.zeros((0, dim), dtype=np.float32)
    out = np.asarray(vectors, dtype=np.float32).reshape(n, dim)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    # Zero rows (no known token) stay zero instead of becoming NaN.
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class SentenceTransformerEmbedder:
    """A local sentence-transformers model, loaded once on CPU.

    Parameters
    ----------
    path:
        A local model directory, or a model name that is already in the local Hugging Face cache.
    batch_size:
        Encoding batch size; by default 1024 for the project (static) model, whose cost per text
        is tiny, and 32 for transformer models.

    ``wants_segmented`` is ``True`` exactly when the directory holds the project marker
    (:data:`MARKER_FILE`). A project model (``StaticEmbedding → Normalize`` over whitespace-split
    words) is a bag of words: :meth:`encode` then sums its token vectors with one sparse
    product instead of going through ``SentenceTransformer.encode``, whose per-text
    preprocessing costs several times the arithmetic (same vectors, tested).
    """

    def __init__(self, path: str | Path, *, batch_size: int | None = None) -> None:
        from sentence_transformers import SentenceTransformer

        self.path = str(path)
        self.marker = read_marker(path) if Path(path).is_dir() else None
        self.wants_segmented: bool = bool(self.marker and self.marker.get("kind") == "project")
        # local_files_only: a name missing from the cache must fail here, not start a download.
        self.model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
        dim = self.model.get_embedding_dimension()
        if dim is None:
            raise ValueError(f"cannot tell the embedding dimension of the model at {self.path}")
        self.dim: int = int(dim)
        self.batch_size = batch_size or (1024 if self.wants_segmented else 32)
        self._bag: tuple[dict[str, int], int, np.ndarray] | None = None
        if self.wants_segmented:
            static = self.model[0]
            vocab = static.tokenizer.get_vocab()
            weights = static.embedding.weight.detach().cpu().numpy().astype(np.float32)
            self._bag = (vocab, vocab[UNK], weights)

    def _encode_bag(self, texts: list[str]) -> np.ndarray:
        import scipy.sparse as sp

        vocab, unk, weights = self._bag  # type: ignore[misc]
        ids = [[vocab.get(tok, unk) for tok in text.split()] for text in texts]
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        cols = np.fromiter(
            (i for row in ids for i in row), dtype=np.int64, count=int(lengths.sum())
        )
        rows = np.repeat(np.arange(len(ids)), lengths)
        # A sum, not StaticEmbedding's mean: both have the same direction, and rows are
        # normalised next. [UNK] counts like any token, as in the model itself.
        counts = sp.csr_matrix(
            (np.ones(len(cols), dtype=np.float32), (rows, cols)),
            shape=(len(ids), weights.shape[0]),
        )
        return np.asarray(counts @ weights)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (see :class:`Embedder`)."""
        texts = list(texts)
        if self._bag is not None:
            return _as_unit_float32(self._encode_bag(texts), len(texts), self.dim)
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            show_progress_bar=False,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return _as_unit_float32(vectors, len(texts), self.dim)

    def __repr__(self) -> str:
        kind = "project" if self.wants_segmented else "pretrained"
        return f"SentenceTransformerEmbedder({self.path!r}, kind={kind}, dim={self.dim})"


class FakeEmbedder:
    """Deterministic embedder for tests: each whitespace token maps to a fixed pseudo-random
    unit vector (seeded by a hash of the token), a text to the normalised sum of its tokens.

    Texts sharing tokens are therefore closer than texts that share none, with no model files.
    """

    def __init__(self, dim: int = 32, *, wants_segmented: bool = True) -> None:
        self.dim = dim
        self.wants_segmented = wants_segmented
        self._vectors: dict[str, np.ndarray] = {}

    def _vector(self, token: str) -> np.ndarray:
        v = self._vectors.get(token)
        if v is None:
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            seed = int.from_bytes(digest, "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            v /= np.linalg.norm(v)
            self._vectors[token] = v
        return v

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts (see :class:`Embedder`)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            # Raw text has no spaces to split on: fall back to characters.
            toks = text.split() if self.wants_segmented else list(text.replace(" ", ""))
            for tok in toks:
                out[i] += self._vector(tok)
        return _as_unit_float32(out, len(texts), self.dim)


def _space_split(doc: str) -> list[str]:
    return doc.split()


def build_project_embedder(
    segmented_corpus: Sequence[str],
    out_dir: Path,
    dim: int = 128,
    random_state: int = 0,
    min_df: int = 2,
) -> Path:
    """Build the project embedder from space-joined jieba tokens and save it to ``out_dir``.

    The model is ``StaticEmbedding → Normalize``. Its vocabulary is every token in at least
    ``min_df`` texts (plus ``[UNK]``), split on whitespace by a ``tokenizers`` WordLevel
    tokenizer. Token vectors come from LSA: ``TfidfVectorizer`` → ``TruncatedSVD(dim)``, and
    the vector of token *t* is ``idf(t) · svd.components_[:, t]`` (``[UNK]`` is zero). Because
    ``StaticEmbedding`` averages its token vectors, a text's embedding is then exactly the LSA
    fold-in ``svd.transform(tfidf.transform([text]))`` after normalisation, for any text, seen
    or not. If the vocabulary is too small for ``dim`` components, the extra dimensions are
    zero so that the output dimension is always ``dim``.

    Writes :data:`MARKER_FILE` with the corpus SHA-256, and returns ``out_dir``. Load the model
    with ``SentenceTransformer(str(out_dir))`` or :func:`load_embedder`.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, StaticEmbedding
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from tokenizers import Tokenizer, pre_tokenizers
    from tokenizers.models import WordLevel

    corpus = list(segmented_corpus)
    if not corpus:
        raise ValueError("cannot build an embedder from an empty corpus")
    vectorizer = TfidfVectorizer(
        tokenizer=_space_split, token_pattern=None, lowercase=False, min_df=min_df, dtype=np.float32
    )
    try:
        tfidf = vectorizer.fit_transform(corpus)
    except ValueError as exc:  # every token rarer than min_df
        raise ValueError(
            f"no token occurs in {min_df}+ texts of the corpus ({len(corpus)} texts)"
        ) from exc
    terms = vectorizer.get_feature_names_out()
    n_terms = len(terms)
    # TruncatedSVD needs fewer components than features (and than documents, to be meaningful).
    k = max(1, min(dim, n_terms - 1, tfidf.shape[0] - 1))
    svd = TruncatedSVD(n_components=k, random_state=random_state, algorithm="randomized", n_iter=7)
    svd.fit(tfidf)
    term_vectors = (svd.components_.T * vectorizer.idf_[:, None]).astype(np.float32)
    weights = np.zeros((n_terms + 1, dim), dtype=np.float32)  # row 0: [UNK]
    weights[1:, :k] = term_vectors
    if k < dim:
        log.warning(
            "vocabulary of %d tokens allows only %d LSA dimensions; padding to %d", n_terms, k, dim
        )

    vocab = {UNK: 0, **{str(t): i + 1 for i, t in enumerate(terms)}}
    tokenizer = Tokenizer(WordLevel(vocab=vocab, unk_token=UNK))
    # No normaliser: inputs are Segmenter output, already NFKC-normalised and lower-cased the
    # same way as the vocabulary; normalising again could only break exact matches.
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()

    model = SentenceTransformer(
        modules=[StaticEmbedding(tokenizer, embedding_weights=weights), Normalize()], device="cpu"
    )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save(str(out_dir))
    marker = {
        "kind": "project",
        "format": 1,
        "corpus_sha256": corpus_sha256(corpus),
        "n_texts": len(corpus),
        "dim": dim,
        "lsa_components": k,
        "explained_variance": float(svd.explained_variance_ratio_.sum()),
        "vocab_size": len(vocab),
        "min_df": min_df,
        "random_state": random_state,
    }
    (out_dir / MARKER_FILE).write_text(
        json.dumps(marker, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    return out_dir


def fine_tune_embedder(
    model_dir: Path,
    pairs: Sequence[tuple[str, str]] | Sequence[tuple[str, str, float]],
    *,
    epochs: int = 1,
    batch_size: int = 64,
    learning_rate: float = 0.05,
    random_state: int = 0,
) -> dict[str, Any]:
    """Fine-tune the sentence-transformers model in ``model_dir`` on labelled pairs, in place.

    ``pairs`` are ``(a, b)`` texts that mean the same thing (trained with
    ``MultipleNegativesRankingLoss``: the other pairs of a batch are the negatives), or
    ``(a, b, score)`` with a similarity score in [0, 1] (``CoSENTLoss``). Texts must be in the
    form the model reads: space-joined jieba tokens for a project model. The high default
    learning rate suits a ``StaticEmbedding``, whose only parameters are token vectors.
    Records what was done in the project marker (if any) and returns that record.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import (
        CoSENTLoss,
        MultipleNegativesRankingLoss,
    )

    rows = [tuple(p) for p in pairs]
    if len(rows) < 2:
        raise ValueError("fine-tuning needs at least two pairs")
    scored = len(rows[0]) == 3
    if any(len(r) != len(rows[0]) for r in rows):
        raise ValueError("pairs must all be (a, b) or all (a, b, score)")
    torch.manual_seed(random_state)
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    loss = CoSENTLoss(model) if scored else MultipleNegativesRankingLoss(model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate)
    order = np.random.default_rng(random_state)
    model.train()
    # A plain loop rather than SentenceTransformerTrainer: that needs `datasets` and
    # `accelerate`, two large dependencies for what is a few dozen optimiser steps.
    for _ in range(epochs):
        shuffled = order.permutation(len(rows))
        for start in range(0, len(rows), batch_size):
            batch = [rows[i] for i in shuffled[start : start + batch_size]]
            if len(batch) < 2:
                continue
            features = [model.preprocess([r[i] for r in batch]) for i in (0, 1)]
            labels = torch.tensor([float(r[2]) if scored else 0.0 for r in batch])
            optimiser.zero_grad()
            loss(features, labels).backward()
            optimiser.step()
    model.eval()
    model.save(str(model_dir))
    record = {
        "loss": type(loss).__name__,
        "n_pairs": len(rows),
        "pairs_sha256": corpus_sha256(["\t".join(map(str, r)) for r in rows]),
        "epochs": epochs,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
    }
    marker = read_marker(model_dir)
    if marker is not None:
        marker["fine_tuned"] = record
        (Path(model_dir) / MARKER_FILE).write_text(
            json.dumps(marker, ensure_ascii=False, indent=2), encoding="utf-8"
        )
    return record


def _missing_pretrained(path: str, why: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"pretrained embedder {path!r} is not available offline: {why}. minsheng never downloads "
        "models at run time. Either copy a sentence-transformers model to a local directory "
        "(on a machine with network: SentenceTransformer(NAME).save(DIR)) and set "
        "embedder.path to that directory (MINSHENG_EMBEDDER__PATH=DIR), or pre-fill the local "
        "Hugging Face cache (`hf download NAME`), or use embedder.kind=project, which is built "
        "from our own corpus by training."
    )


def load_embedder(kind: str, path: str | Path | None, project_dir: Path) -> Embedder:
    """Load the embedder named by the settings, offline.

    ``kind="project"`` loads the model built by :func:`build_project_embedder` in
    ``project_dir``. ``kind="pretrained"`` loads ``path``: a local model directory, or a model
    name found in the local Hugging Face cache. Anything missing raises
    :class:`FileNotFoundError` saying what to do; nothing is downloaded.
    """
    if kind == "project":
        project_dir = Path(project_dir)
        if read_marker(project_dir) is None:
            raise FileNotFoundError(
                f"no project embedder in {project_dir} (missing {MARKER_FILE}): train the text "
                "models first (`minsheng model train`, or models.training.train_model)."
            )
        return SentenceTransformerEmbedder(project_dir)
    if kind != "pretrained":
        raise ValueError(f"unknown embedder kind {kind!r}: expected 'project' or 'pretrained'")
    if path is None or str(path).strip() == "":
        raise _missing_pretrained("", "embedder.path is not set")
    spec = str(path)
    local = Path(spec).expanduser()
    if local.is_dir():
        if not (local / "modules.json").is_file() and not (local / "config.json").is_file():
            raise _missing_pretrained(spec, "the directory holds no modules.json or config.json")
        return SentenceTransformerEmbedder(local)
    if local.exists() or not _REPO_ID.match(spec):
        raise _missing_pretrained(spec, "no such model directory")
    from huggingface_hub import try_to_load_from_cache

    cached = any(
        isinstance(try_to_load_from_cache(spec, name), str)
        for name in ("modules.json", "config.json")
    )
    if not cached:
        raise _missing_pretrained(
            spec, "no such directory, and not in the local Hugging Face cache"
        )
    try:
        return SentenceTransformerEmbedder(spec)
    except (OSError, ValueError) as exc:  # e.g. a partial cache entry
        raise _missing_pretrained(spec, f"loading from the local cache failed ({exc})") from exc
