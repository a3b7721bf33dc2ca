"""Tests of the text models: segmentation, embeddings, classification and the one-call API.

Small generated data and fixed seeds keep the module fast (well under a minute) and
deterministic. Nothing here touches the network.
"""

from __future__ import annotations

import copy
import json
import pickle
import shutil
from pathlib import Path

import jieba
import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sklearn.base import clone

from models.card import ModelCard
from models.classify import C_GRID, DemandClassifier
from models.embed import (
    MARKER_FILE,
    FakeEmbedder,
    SentenceTransformerEmbedder,
    build_project_embedder,
    corpus_sha256,
    fine_tune_embedder,
    load_embedder,
    read_marker,
)
from models.segment import Segmenter
from models.spec import ModelSpec
from models.text import TextModels, TextResult
from models.training import train_text_models
from tests.text_corpus import CATEGORIES as _CATEGORIES
from tests.text_corpus import STOPWORDS, USERDICT, toy_corpus

# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("jieba-cache")


@pytest.fixture(scope="module")
def seg(cache_dir: Path) -> Segmenter:
    return Segmenter(userdict=str(USERDICT), stopwords=str(STOPWORDS), cache_dir=str(cache_dir))


@pytest.fixture(scope="module")
def toy_frames(seg: Segmenter, tmp_path_factory: pytest.TempPathFactory):
    """Train/test frames over the toy corpus, embedded by a project embedder built on train."""
    train, test = toy_corpus(240, seed=1), toy_corpus(120, seed=2)
    out = tmp_path_factory.mktemp("emb") / "embedder"
    build_project_embedder(seg.transform([t for t, _ in train]), out, dim=32)
    emb = load_embedder("project", None, out)

    def frame(pairs: list[tuple[str, str]]) -> tuple[pd.DataFrame, np.ndarray]:
        texts = [t for t, _ in pairs]
        toks = seg.transform(texts)
        vecs = emb.encode(toks)
        return (
            pd.DataFrame({"text": texts, "tokens": toks, "embedding": list(vecs)}),
            np.asarray([y for _, y in pairs], dtype=object),
        )

    return frame(train), frame(test)


@pytest.fixture(scope="module")
def fitted(toy_frames) -> DemandClassifier:
    (X, y), _ = toy_frames
    return DemandClassifier(random_state=0).fit(X, y)


# -- segmentation -----------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["农转非", "日间照料", "互助会", "云街道"])
def test_userdict_words_stay_whole(seg: Segmenter, word: str) -> None:
    text = f"我家是{word}的，想在{word}问问"
    assert word in seg.tokens(text)


def test_userdict_changes_segmentation(cache_dir: Path) -> None:
    # Guards the test above: without the user dictionary these words are cut apart.
    plain = Segmenter(stopwords=str(STOPWORDS), cache_dir=str(cache_dir))
    assert "云街道" not in plain.tokens("我在云街道上留言")


def test_stop_words_whitespace_punctuation_dropped(seg: Segmenter) -> None:
    toks = seg.tokens("请问，我们的  低保 怎么申请？？谢谢！")
    assert "低保" in toks
    for gone in ("请问", "我们", "的", "谢谢", "，", "？", "！", " ", ""):
        assert gone not in toks


def test_nfkc_and_lowercase(seg: Segmenter) -> None:
    toks = seg.tokens("家里ＷＩＦＩ坏了，Ｖ空间有人修吗")
    assert "wifi" in toks
    assert "v空间" in toks  # user-dictionary entry "V空间": matched before lower-casing


def test_presegmented_input_is_respected(seg: Segmenter) -> None:
    assert seg.tokens("社区 养老 服务") == ["社区", "养老", "服务"]
    # Cut again, "养老服务" would become two words: the caller's segmentation wins.
    assert seg.tokens("社区 养老服务 需求") == ["社区", "养老服务", "需求"]
    assert seg.tokens("社区养老服务需求") == ["社区", "养老", "服务", "需求"]
    # Spaces used as punctuation around prose are not mistaken for segmentation.
    assert "社保卡" in seg.tokens("你好 我想问一下社保卡怎么补办")


def _awkward_texts(n: int, seed: int) -> list[str]:
    """Random strings over common characters, user-dictionary words, latin, digits, the
    characters jieba keeps inside a block (+#&._%-), punctuation, full-width forms, CR LF,
    CJK outside jieba's block range and an astral ideograph: every branch of jieba's cut."""
    import random

    rnd = random.Random(seed)
    pieces = list("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同"
                  "工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理")
    pieces += ["农转非", "日间照料", "互助会", "云街道", "V空间", "低保", "社区", "养老", "服务"]
    pieces += list("ABCabcxyz0123456789+#&._%-，。！？ \n\t　①é㐀𠀀ＷＩＦＩ") + ["\r\n", "3.5%", "王小明"]
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40))) for _ in range(n)]
    return texts + ["", " ", "\r\n", "a\r\nb", "iPhone12手机", "中华人民共和国国务院",
                    "家里ＷＩＦＩ坏了，Ｖ空间有人修吗", "社区 养老服务 需求", "标题\n正文" * 200,
                    "没有标点" * 100]  # a block longer than batchcut.LONG


@pytest.mark.parametrize("hmm", [True, False])
def test_batch_cut_is_jiebas(seg: Segmenter, hmm: bool) -> None:
    # The batch cutter computes jieba's word graph and route itself: token for token jieba's.
    from models.batchcut import BatchCutter

    texts = _awkward_texts(1500, seed=hmm)
    want = [seg.tokenizer.lcut(t, HMM=hmm) for t in texts]
    assert BatchCutter(seg.tokenizer).cut(texts, hmm=hmm) == want
    # and so are the segmenter's batch tokens, which training and serving use
    twin = Segmenter(userdict=seg.userdict, stopwords=seg.stopwords, cache_dir=seg.cache_dir,
                     hmm=hmm)
    assert twin.tokens_many(texts) == [twin.tokens(t) for t in texts]
    assert twin.transform(texts) == [" ".join(twin.tokens(t)) for t in texts]


@given(st.text(alphabet=st.characters(codec="utf-8")) | st.text(alphabet="ＡＢａ１，。！？　（）Ａ\u0301"
                                                           "\u0301\u0327é①㍿社区a"))
@hsettings(max_examples=300, deadline=None)
def test_normalise_is_nfkc(text: str) -> None:
    import unicodedata

    from models.segment import _normalise

    assert _normalise(text) == unicodedata.normalize("NFKC", text)


def test_batch_cut_in_parts_is_the_same(seg: Segmenter, monkeypatch: pytest.MonkeyPatch) -> None:
    # a batch longer than CHUNK characters is cut in passes: same tokens, strings in order
    import models.batchcut as batchcut

    texts = _awkward_texts(300, seed=5)
    whole = seg._batch_cutter.cut(texts)
    monkeypatch.setattr(batchcut, "CHUNK", 50)  # some strings are longer than a pass
    assert seg._batch_cutter.cut(texts) == whole == [seg.tokenizer.lcut(t) for t in texts]


def test_batch_cut_follows_dictionary_changes(seg: Segmenter, cache_dir: Path) -> None:
    twin = Segmenter(userdict=seg.userdict, stopwords=seg.stopwords, cache_dir=str(cache_dir))
    text = "我想问问福寿里小区的事"
    before = twin.tokens_many([text])[0]
    assert "福寿里" not in before
    twin.tokenizer.add_word("福寿里", 1000)
    assert "福寿里" in twin.tokens_many([text])[0] == twin.tokens(text)
    # del_word (add_word(w, 0)) keeps FREQ's size and total: still followed
    twin.tokenizer.del_word("福寿里")
    assert "福寿里" not in twin.tokens_many([text])[0]
    assert twin.tokens_many([text])[0] == twin.tokens(text)


def test_batch_cut_is_jiebas_on_board_texts(seg: Segmenter) -> None:
    # Long real-world-like texts (titles + bodies of 300-800 characters, names, estates, phone
    # numbers, latin), as the classifier reads them, in one batch with short ones mixed in.
    from minsheng.demo.board import board_records
    from minsheng.records import compose_text
    from models.batchcut import BatchCutter

    texts = [compose_text(r.title, r.body) for r in board_records(120, seed=3, weeks=4)]
    texts += [t[: len(t) // 7] for t in texts[:40]]
    assert min(map(len, texts[:120])) > 200
    cutter = BatchCutter(seg.tokenizer)
    assert cutter.cut(texts) == [seg.tokenizer.lcut(t) for t in texts]
    assert seg.tokens_many(texts) == [seg.tokens(t) for t in texts]


_ALPHABET = "的是在不了有人这中大社区养老低保服务转非日间照料互助会云街道空间王小明号楼" \
    "ABVabv0159+#&._%-，。！？ \n\r\t　①éＷＩ㐀𠀀\ud800\udcff"  # lone surrogates too


@given(st.lists(st.text(alphabet=_ALPHABET, max_size=300), max_size=8), st.booleans())
@hsettings(max_examples=150, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_batch_cut_is_jiebas_property(seg: Segmenter, texts: list[str], hmm: bool) -> None:
    assert seg._batch_cutter.cut(texts, hmm=hmm) == [seg.tokenizer.lcut(t, HMM=hmm) for t in texts]


def test_own_tokenizer_and_cache_dir(seg: Segmenter, cache_dir: Path) -> None:
    tok = seg.tokenizer
    assert isinstance(tok, jieba.Tokenizer)
    assert tok is not jieba.dt
    assert tok.tmp_dir == str(cache_dir)
    assert (cache_dir / "jieba.cache").is_file()
    assert seg.keyword_extractor.tokenizer is tok
    # Our user dictionary did not leak into the process-global tokenizer.
    assert "云街道" not in jieba.dt.FREQ


def test_cache_dir_is_created(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    Segmenter(cache_dir=str(target)).tokens("测试")
    assert (target / "jieba.cache").is_file()


def test_sklearn_contract(seg: Segmenter) -> None:
    assert seg.fit(["x"]) is seg
    assert seg.transform(["请问日间照料在哪", ""]) == ["日间照料", ""]
    twin = clone(seg)
    assert twin.get_params() == seg.get_params()
    assert twin.transform(["农转非户口"]) == seg.transform(["农转非户口"])


def test_pickles_without_tokenizer_and_without_files(tmp_path: Path, cache_dir: Path) -> None:
    userdict = tmp_path / "userdict.txt"
    stopwords = tmp_path / "stopwords.txt"
    shutil.copy(USERDICT, userdict)
    shutil.copy(STOPWORDS, stopwords)
    seg = Segmenter(userdict=str(userdict), stopwords=str(stopwords), cache_dir=str(cache_dir))
    expected = seg.tokens("请问云街道的互助会在哪")
    own = seg.tokenizer
    blob = pickle.dumps(seg)
    assert b"Tokenizer" not in blob  # the tokenizer (and its 30 MB of dictionary) is not shipped
    assert seg.tokenizer is own  # ... and the sender keeps its own
    # A worker has no copy of the dictionary files: their contents travel with the object.
    userdict.unlink()
    stopwords.unlink()
    for clone_ in (pickle.loads(blob), joblib.load(_joblib_roundtrip(seg, tmp_path))):
        assert clone_.tokens("请问云街道的互助会在哪") == expected
        assert clone_.tokenizer is not seg.tokenizer


def _joblib_roundtrip(obj: object, tmp_path: Path) -> Path:
    path = tmp_path / "obj.joblib"
    joblib.dump(obj, path)
    return path


def test_keywords(seg: Segmenter) -> None:
    text = "我们的日间照料中心太远，日间照料名额也不够，希望增加老年助餐"
    kws = seg.keywords(text, k=3)
    assert len(kws) == 3
    assert kws[0] == "日间照料"  # rare domain word, said twice
    assert not set(kws) & {"我们", "的", "希望"}
    assert seg.keywords(seg.tokens(text), k=3) == kws  # tokens in, same answer
    assert seg.keywords("谢谢", k=3) == []


# -- embeddings -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_dir(seg: Segmenter, tmp_path_factory: pytest.TempPathFactory) -> Path:
    corpus = seg.transform([t for t, _ in toy_corpus(300, seed=3)])
    return build_project_embedder(corpus, tmp_path_factory.mktemp("m") / "embedder", dim=8)


def test_project_embedder_saves_and_reloads(project_dir: Path, seg: Segmenter) -> None:
    from sentence_transformers import SentenceTransformer

    marker = json.loads((project_dir / MARKER_FILE).read_text(encoding="utf-8"))
    corpus = seg.transform([t for t, _ in toy_corpus(300, seed=3)])
    assert marker["kind"] == "project"
    assert marker["corpus_sha256"] == corpus_sha256(corpus)
    assert marker["dim"] == 8 and marker["vocab_size"] > 8

    model = SentenceTransformer(str(project_dir), device="cpu", local_files_only=True)
    vecs = model.encode(["日间照料 老人", "停车位 占道"])
    assert vecs.shape == (2, 8)
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)


def test_project_embedder_is_the_lsa_fold_in(project_dir: Path, seg: Segmenter) -> None:
    # The static model must reproduce TF-IDF → TruncatedSVD exactly (after normalisation).
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = seg.transform([t for t, _ in toy_corpus(300, seed=3)])
    vec = TfidfVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False, min_df=2)
    svd = TruncatedSVD(8, random_state=0, algorithm="randomized", n_iter=7)
    svd.fit(vec.fit_transform(corpus))
    probe = ["日间照料 老人 没见过的词", "医保卡 住院", corpus[0]]
    want = svd.transform(vec.transform(probe))
    want /= np.linalg.norm(want, axis=1, keepdims=True)
    got = load_embedder("project", None, project_dir).encode(probe)
    # Equal up to the sign of each SVD component, which the solver may flip between runs.
    signs = np.sign(np.sum(got * want, axis=0))
    np.testing.assert_allclose(got, want * np.where(signs == 0, 1, signs), atol=1e-4)


def test_project_embedder_similarity(project_dir: Path, seg: Segmenter) -> None:
    emb = load_embedder("project", None, project_dir)
    assert emb.wants_segmented and emb.dim == 8
    a, b, c = emb.encode(seg.transform(["老人日间照料", "独居老人想要居家养老", "小区乱停车占道"]))
    assert a @ b > a @ c + 0.3
    assert emb.encode([]).shape == (0, 8)
    empty = emb.encode(["", "没有 一个 认识"])
    assert empty.dtype == np.float32 and not np.any(empty)  # no known token: zero vector


def test_project_embedder_fast_path_equals_sentence_transformers(
    project_dir: Path, seg: Segmenter
) -> None:
    # encode() sums token vectors itself; it must agree with the library's own encode.
    emb = load_embedder("project", None, project_dir)
    texts = seg.transform([t for t, _ in toy_corpus(50, seed=9)]) + ["", "没有 一个 认识", "老人"]
    want = emb.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    np.testing.assert_allclose(emb.encode(texts), want, atol=1e-6)


def test_fine_tune_pulls_pairs_together(seg: Segmenter, tmp_path: Path) -> None:
    corpus = seg.transform([t for t, _ in toy_corpus(300, seed=3)])
    out = build_project_embedder(corpus, tmp_path / "embedder", dim=8)
    a, b = "停车位 不够", "日间照料 名额"
    before = load_embedder("project", None, out).encode([a, b])
    pairs = [(a, b)] * 40 + [("医保卡 补办", "楼道 清洁")] * 40
    record = fine_tune_embedder(out, pairs, epochs=3, batch_size=2)
    after = load_embedder("project", None, out).encode([a, b])
    assert float(after[0] @ after[1]) > float(before[0] @ before[1]) + 0.1
    assert record["loss"] == "MultipleNegativesRankingLoss" and record["n_pairs"] == 80
    marker = read_marker(out)
    assert marker["fine_tuned"] == record and marker["corpus_sha256"] == corpus_sha256(corpus)
    scored = fine_tune_embedder(out, [(a, b, 1.0), ("医保卡", "楼道", 0.0)], epochs=1)
    assert scored["loss"] == "CoSENTLoss"
    with pytest.raises(ValueError, match="all"):
        fine_tune_embedder(out, [(a, b), (a, b, 1.0)])


def test_pretrained_loads_marker_free_directory(project_dir: Path, tmp_path: Path) -> None:
    # Any local sentence-transformers directory works; without our marker it gets raw text.
    plain = tmp_path / "plain"
    shutil.copytree(project_dir, plain)
    (plain / MARKER_FILE).unlink()
    emb = load_embedder("pretrained", plain, tmp_path / "unused")
    assert isinstance(emb, SentenceTransformerEmbedder)
    assert not emb.wants_segmented
    assert emb.encode(["老人 日间照料"]).shape == (1, 8)


@pytest.mark.parametrize("path", ["/no/such/model/dir", "minsheng-tests/no-such-model", None])
def test_pretrained_missing_raises_helpfully(tmp_path: Path, path: str | None) -> None:
    with pytest.raises(FileNotFoundError) as err:
        load_embedder("pretrained", path, tmp_path)
    message = str(err.value)
    for hint in ("never downloads", "embedder.path", "embedder.kind=project"):
        assert hint in message


def test_project_missing_raises_helpfully(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="train the text models"):
        load_embedder("project", None, tmp_path / "embedder")


def test_fake_embedder_deterministic() -> None:
    texts = ["日间照料 老人", "停车位", ""]
    a, b = FakeEmbedder(16).encode(texts), FakeEmbedder(16).encode(texts)
    assert a.shape == (3, 16) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a[:2], axis=1), 1.0, atol=1e-6)
    assert not np.any(a[2])


# -- classifier -------------------------------------------------------------------------------


def test_classifier_fit_and_probabilities(toy_frames, fitted: DemandClassifier) -> None:
    (X, y), (Xt, yt) = toy_frames
    fresh = DemandClassifier()
    assert fresh.fit(X, y) is fresh
    assert list(fitted.classes_) == sorted(set(y))
    proba = fitted.predict_proba(Xt)
    assert proba.shape == (len(Xt), len(fitted.classes_))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert np.mean(fitted.predict(Xt) == yt) >= 0.9


def test_top_k(toy_frames, fitted: DemandClassifier) -> None:
    _, (Xt, _) = toy_frames
    top = fitted.top_k(Xt, k=3)
    proba = fitted.predict_proba(Xt)
    assert len(top) == len(Xt) and all(len(row) == 3 for row in top)
    for row, p in zip(top, proba, strict=True):
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=True)
        assert row[0][0] == fitted.classes_[p.argmax()] and row[0][1] == pytest.approx(p.max())


def test_unknown_threshold_gives_other(toy_frames, fitted: DemandClassifier) -> None:
    _, (Xt, _) = toy_frames
    lax = fitted.predict(Xt)
    assert "other" not in set(lax)  # the toy test set is all in-domain and easy
    # The threshold is read at predict time: no refit needed to change it.
    strict = copy.deepcopy(fitted).set_params(unknown_threshold=1.01, other_label="其他")
    assert set(strict.predict(Xt)) == {"其他"}
    # Thresholding is per row: exactly the rows below it change.
    proba = fitted.predict_proba(Xt)
    mid = float(np.median(proba.max(axis=1)))
    got = copy.deepcopy(fitted).set_params(unknown_threshold=mid).predict(Xt)
    below = proba.max(axis=1) < mid
    assert below.any() and not below.all()
    assert np.all(got[below] == "other") and np.all(got[~below] == lax[~below])


def test_save_load_roundtrip(toy_frames, fitted: DemandClassifier, tmp_path: Path) -> None:
    _, (Xt, _) = toy_frames
    path = fitted.save(tmp_path / "clf" / "classifier.joblib")
    back = DemandClassifier.load(path)
    assert back.get_params() == fitted.get_params()
    np.testing.assert_array_equal(back.predict_proba(Xt), fitted.predict_proba(Xt))
    np.testing.assert_array_equal(back.predict(Xt), fitted.predict(Xt))
    with pytest.raises(FileNotFoundError):
        DemandClassifier.load(tmp_path / "missing.joblib")


def test_classifier_rejects_bad_input(toy_frames, fitted: DemandClassifier) -> None:
    _, (Xt, _) = toy_frames
    with pytest.raises(ValueError, match="column"):
        fitted.predict(Xt.drop(columns=["tokens"]))
    wrong_dim = Xt.assign(embedding=[np.zeros(7, dtype=np.float32)] * len(Xt))
    with pytest.raises(ValueError, match="dimensions"):
        fitted.predict(wrong_dim)


def test_fast_probabilities_equal_the_pipeline(toy_frames, fitted: DemandClassifier) -> None:
    # predict_proba computes the calibrated SVC itself; scikit-learn's pipeline is the truth.
    _, (Xt, _) = toy_frames
    np.testing.assert_allclose(
        fitted.predict_proba(Xt), fitted.pipeline_.predict_proba(Xt), rtol=1e-9, atol=1e-12)
    one = fitted.predict_proba(Xt.iloc[:1])
    np.testing.assert_allclose(one, fitted.pipeline_.predict_proba(Xt.iloc[:1]), atol=1e-12)
    assert fitted.C_ in C_GRID
    assert "_svc_parts_cache" not in pickle.loads(pickle.dumps(fitted)).__dict__


def test_fixed_c_and_tiny_classes(toy_frames) -> None:
    (X, y), _ = toy_frames
    assert DemandClassifier(C=0.5).fit(X, y).C_ == 0.5
    two = np.asarray(["a", "b"] * 2 + ["c"], dtype=object)
    with pytest.raises(ValueError, match="at least 2 examples"):
        DemandClassifier().fit(X.iloc[:5], two)


def test_logreg_variant(toy_frames) -> None:
    (X, y), (Xt, yt) = toy_frames
    clf = DemandClassifier(estimator="logreg").fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(Xt).sum(axis=1), 1.0, atol=1e-6)
    assert np.mean(clf.predict(Xt) == yt) >= 0.9


# -- the one-call API -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ModelCard]:
    model_dir = tmp_path_factory.mktemp("models")
    card = train_text_models(
        toy_corpus(300, seed=4), model_dir, userdict=USERDICT, stopwords=STOPWORDS, dim=32
    )
    return model_dir, card


def test_train_writes_models_and_card(trained: tuple[Path, ModelCard]) -> None:
    model_dir, card = trained
    files = ("classifier.joblib", "card.json", f"embedder/{MARKER_FILE}", "jieba-cache/jieba.cache")
    for name in files:
        assert (model_dir / name).is_file(), name
    assert ModelCard.read(model_dir) == card
    raw = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    assert raw["embedder"]["dim"] == 32 and raw["labels"] == sorted(_CATEGORIES)  # plain JSON
    assert card.labels == sorted(_CATEGORIES)
    assert card.embedder.dim == 32 and card.embedder.marker["kind"] == "project"
    metrics = card.metrics
    assert metrics.folds == 1 and metrics.n_scored == 60  # the 20 % hold-out
    assert set(metrics.per_class) == set(_CATEGORIES)
    assert metrics.macro_f1 >= 0.9
    assert metrics.baseline.macro_f1 >= 0.8
    assert metrics.margin_over_baseline == pytest.approx(
        metrics.macro_f1 - metrics.baseline.macro_f1)
    assert [b.name for b in metrics.baselines] == ["word", "word+char"]  # the same folds, both
    assert all(b.margin == pytest.approx(metrics.macro_f1 - b.macro_f1) for b in metrics.baselines)
    conf = metrics.confusion
    assert conf.labels[:6] == sorted(_CATEGORIES)
    assert sum(map(sum, conf.matrix)) == 60
    assert card.classifier["C_"] in (0.1, 0.3, 1.0, 3.0)
    assert len(card.data.sha256) == 64 and card.versions["jieba"] == "0.42.1"
    assert card.version


def _spec(model_dir: Path, **kw) -> ModelSpec:
    return ModelSpec(str(model_dir), str(USERDICT), str(STOPWORDS), **kw)


def test_analyse(trained: tuple[Path, ModelCard]) -> None:
    model_dir, card = trained
    models = TextModels.load(_spec(model_dir))
    assert isinstance(models, TextModels) and models.version == card.version
    texts = [
        "请问日间照料怎么申请？家里有独居老人",
        "小区乱停车，停车位不够",
        "楼道清洁没人管，物业费白交了",
    ]
    results = models.analyse(texts)
    assert [r.category for r in results] == ["elderly_care", "parking", "property"]
    assert [r.urgent for r in results] == [False, False, False]
    assert results[2].sentiment == -1  # "白交了": a complaint
    for r in results:
        assert isinstance(r, TextResult)
        assert r.embedding.shape == (32,) and abs(float(np.linalg.norm(r.embedding)) - 1) < 1e-5
        assert len(r.top3) == 3 and r.confidence == r.top3[0][1]
        assert r.keywords and set(r.keywords) <= set(r.tokens)
    # A batch gives the same answers as one text at a time.
    one = models.analyse(texts[1:2])[0]
    assert one.category == results[1].category and one.tokens == results[1].tokens
    assert one.confidence == pytest.approx(results[1].confidence)
    assert models.analyse([]) == []


def test_load_rejects_embedder_of_other_dim(trained: tuple[Path, ModelCard], project_dir: Path) -> None:
    model_dir, _ = trained  # classifier trained on 32 dimensions; project_dir gives 8
    with pytest.raises(ValueError, match="dimensions"):
        TextModels.load(_spec(model_dir, embedder_kind="pretrained", embedder_path=str(project_dir)))


def test_train_rejects_tiny_classes(tmp_path: Path) -> None:
    pairs = toy_corpus(60, seed=5) + [("一个孤零零的例子", "lonely")]
    with pytest.raises(ValueError, match="lonely"):
        train_text_models(pairs, tmp_path, userdict=USERDICT, stopwords=STOPWORDS, dim=8)


def test_generated_corpus_macro_f1(settings, tmp_path: Path) -> None:
    """The whole recipe on the project's generator: train on one sample, score another."""
    from sklearn.metrics import f1_score

    from minsheng.demo.generate import labelled_corpus

    train = labelled_corpus(1500, seed=1, taxonomy=settings.taxonomy)
    test = labelled_corpus(500, seed=2, taxonomy=settings.taxonomy)
    train_text_models(train, tmp_path, userdict=USERDICT, stopwords=STOPWORDS)
    models = TextModels.load(_spec(tmp_path))
    predicted = [r.category for r in models.analyse([t for t, _ in test])]
    assert f1_score([y for _, y in test], predicted, average="macro") >= 0.85


# -- the model card and the loader's checks ---------------------------------------------------

#: A card as the first registered models wrote it: no name or source, hold-out metrics of
#: another shape (macro_f1_argmax, test_size, ...), no embedder marker.
OLD_CARD = {
    "version": "20260101T000000Z-0badcafe",
    "created": "2026-01-01T00:00:00+00:00",
    "data": {"n_texts": 300, "sha256": "ab" * 32, "label_counts": {"parking": 50}},
    "labels": sorted(_CATEGORIES),
    "other_label": "other",
    "segmenter": {"userdict_sha256": None, "stopwords_sha256": None, "hmm": True},
    "embedder": {"kind": "project", "path": None, "dim": 32},
    "classifier": {"C": "auto", "unknown_threshold": 0.35},
    "metrics": {"method": "stratified hold-out", "test_size": 0.2, "n_train": 240, "n_test": 60,
                "macro_f1": 0.97, "accuracy": 0.97, "macro_f1_argmax": 0.98, "other_rate": 0.01,
                "per_class": {"parking": {"precision": 1.0, "recall": 0.9, "f1": 0.95,
                                          "support": 10}}},
    "versions": {"python": "3.11.9"},
}


def _copy_model(model_dir: Path, to: Path, **card: object) -> Path:
    """A copy of a trained model directory whose card.json is replaced by ``card`` (a dict)."""
    shutil.copytree(model_dir, to)
    if card:
        (to / "card.json").write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")
    return to


def test_model_card_round_trip(trained: tuple[Path, ModelCard], tmp_path: Path) -> None:
    _, card = trained
    card.write(tmp_path)
    back = ModelCard.read(tmp_path)
    assert back == card and back.created == card.created and back.metrics.served == card.metrics.served
    # a key this version does not know (written by a newer one) survives a read and a write
    raw = json.loads((tmp_path / "card.json").read_text(encoding="utf-8"))
    raw["embedder"]["pooling"] = "sum"
    raw["reviewed_by"] = "planner"
    (tmp_path / "card.json").write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    ModelCard.read(tmp_path).write(tmp_path)
    again = json.loads((tmp_path / "card.json").read_text(encoding="utf-8"))
    assert again["embedder"]["pooling"] == "sum" and again["reviewed_by"] == "planner"


def test_an_old_card_still_loads(trained: tuple[Path, ModelCard], tmp_path: Path) -> None:
    old = ModelCard.model_validate(OLD_CARD)
    assert old.name is None and old.source.file is None and old.embedder.marker is None
    assert old.metrics.macro_f1 == 0.97 and old.metrics.folds == 1 and old.metrics.baseline is None
    assert old.metrics.per_class["parking"].recall == 0.9
    assert old.metrics.model_extra["macro_f1_argmax"] == 0.98  # kept, though no longer written
    # a model directory with such a card serves as before, under the card's version
    model_dir = _copy_model(trained[0], tmp_path / "old", **OLD_CARD)
    models = TextModels.load(ModelSpec.for_model(model_dir, userdict=USERDICT, stopwords=STOPWORDS))
    assert models.version == OLD_CARD["version"]
    assert models.analyse(["小区乱停车，停车位不够"])[0].category == "parking"
    # the barest card (a version only) reads too
    assert ModelCard.model_validate({"version": "v"}).embedder.kind == "project"


def test_load_serves_with_the_embedder_on_the_card(
    trained: tuple[Path, ModelCard], project_dir: Path, tmp_path: Path
) -> None:
    """A card naming an embedder of another dimension than the classifier's is refused, with
    the spec written out from the card and with the spec left to read it."""
    _, card = trained
    wrong = card.model_copy(update={"embedder": card.embedder.model_copy(
        update={"kind": "pretrained", "path": str(project_dir), "dim": 8})})
    model_dir = _copy_model(trained[0], tmp_path / "wrong")
    wrong.write(model_dir)
    spec = ModelSpec.for_model(model_dir, userdict=USERDICT, stopwords=STOPWORDS)
    assert (spec.embedder_kind, spec.embedder_path) == ("pretrained", str(project_dir))
    for s in (spec, _spec(model_dir)):
        with pytest.raises(ValueError, match="gives 8 dimensions but the classifier .* 32"):
            TextModels.load(s)


def test_load_warns_when_the_dictionaries_changed(
    trained: tuple[Path, ModelCard], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    changed = tmp_path / "userdict.txt"
    changed.write_text(USERDICT.read_text(encoding="utf-8") + "新词 5 n\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="models.text"):
        TextModels.load(_spec(trained[0]))
    assert not caplog.records
    with caplog.at_level("WARNING", logger="models.text"):
        TextModels.load(ModelSpec(str(trained[0]), str(changed), str(STOPWORDS)))
    assert [r.getMessage() for r in caplog.records] == [
        f"userdict {changed} changed since the models in {trained[0]} were trained"]


def test_batch_methods_compose_into_analyse(trained: tuple[Path, ModelCard]) -> None:
    models = TextModels.load(_spec(trained[0]))
    texts = ["电梯坏了三天了，老人上不了楼，紧急！", "社区的图书室很好，谢谢", "想咨询失业登记"]
    segmented = models.segment(texts)
    vectors = models.embed(texts, [s.joined for s in segmented])
    np.testing.assert_allclose(vectors, models.embed(texts))  # segments when not given tokens
    classes = models.classify(texts, [s.joined for s in segmented], vectors)
    signals = models.signals(texts)
    for r, seg, vec, c, sig in zip(models.analyse(texts), segmented, vectors, classes, signals,
                                   strict=True):
        assert (r.tokens, r.keywords) == (seg.tokens, seg.keywords)
        np.testing.assert_array_equal(r.embedding, vec)
        assert (r.category, r.confidence, r.top3) == (c.category, c.confidence, c.top3)
        assert (r.urgent, r.sentiment) == (sig.urgent, sig.sentiment)
    assert signals[0].urgent and signals[1].sentiment == 1
    assert models.classify([], [], []) == [] and models.segment([]) == []


# -- the recipe for long text: NB-SVM, the lead block, no embedding features, two baselines ---


def test_nbsvc_is_one_linear_model_over_scaled_features(toy_frames) -> None:
    import scipy.sparse as sp
    from sklearn.svm import LinearSVC

    from models.classify import NBSVC

    (X, y), _ = toy_frames
    m = sp.csr_matrix(np.abs(np.random.default_rng(0).normal(size=(len(y), 30))))
    nb = NBSVC(C=0.3, alpha=0.1)
    assert nb.fit(m, y) is nb and nb.coef_.shape == (len(set(y)), 30)
    # the scaling folds into the weights: class c's score is its LinearSVC's on X ⊙ r_c
    c = nb.classes_[0]
    mine = np.asarray(y) == c
    p = np.asarray(m[mine].sum(axis=0)).ravel() + 0.1
    q = np.asarray(m[~mine].sum(axis=0)).ravel() + 0.1
    r = np.log((p / p.sum()) / (q / q.sum()))
    svc = LinearSVC(C=0.3, random_state=0).fit(m @ sp.diags(r), mine.astype(int))
    np.testing.assert_allclose(nb.decision_function(m)[:, 0], svc.decision_function(m @ sp.diags(r)),
                               rtol=1e-6, atol=1e-9)
    assert clone(nb).get_params() == nb.get_params()


def test_recipe_blocks_and_lead(toy_frames, fitted: DemandClassifier) -> None:
    from models.classify import lead_text, lead_tokens

    names = [n for n, _, _ in fitted.pipeline_.named_steps["features"].transformers_ if n != "remainder"]
    assert names == ["words", "chars", "lead_words", "lead_chars"]  # no embedding block
    assert fitted.get_params()["estimator"] == "nbsvm" and fitted.C_ == 0.3
    assert lead_text(["标题在这里\n正文很长很长", "没有标题的一段很长很长的文字，超过二十个字符了吧对吧"]) == [
        "标题在这里", "没有标题的一段很长很长的文字，超过二十个"]
    assert lead_tokens([" ".join(map(str, range(40)))]) == [" ".join(map(str, range(15)))]
    (X, y), _ = toy_frames
    with_embedding = DemandClassifier(embedding_weight=1.0, lead_weight=0).fit(X, y)
    assert [n for n, _, _ in with_embedding.pipeline_.named_steps["features"].transformers_ if n != "remainder"] == [
        "words", "chars", "embedding"]


def test_both_baselines_fit_the_classifier_frame(toy_frames) -> None:
    from models.baselines import BASELINES, make_baseline

    (X, y), (Xt, yt) = toy_frames
    for name in BASELINES:
        assert np.mean(make_baseline(name).fit(X, y).predict(Xt) == yt) >= 0.8
    with pytest.raises(ValueError, match="unknown baseline"):
        make_baseline("chars")
