"""Text to a fixed-size feature vector for the contextual policies, with no dependencies.

``HashingFeaturizer`` hashes word unigrams, word bigrams and character n-grams (3 to 5 characters,
within words padded with spaces) into ``dim`` buckets with a signed hash (the "hashing trick",
Weinberger et al., 2009), damps each bucket's count ``c`` to ``sign(c) log(1 + |c|)`` and
L2-normalises the result.

The hash is BLAKE2b keyed with the seed, so vectors are the same in every process and on every
machine (Python's ``hash()`` is salted per process and would not be). Results are cached by text
(least recently used), and cached vectors are read-only so a caller cannot corrupt the cache.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict

import numpy as np

__all__ = ["HashingFeaturizer"]

_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_WORDS = 1 << 16


class HashingFeaturizer:
    """Hashed word and character n-gram features of a text.

    Arguments:
        dim: length of the vector (number of hash buckets).
        seed: selects the hash function; different seeds give unrelated features.
        char_ngrams: (smallest, largest) character n-gram length; ``None`` for words only.
        cache_size: how many texts' vectors to keep (0 disables the cache).

    Example:
        >>> f = HashingFeaturizer(dim=64)
        >>> v = f("Write a python function to add two numbers.")
        >>> v.shape, v.dtype.name, round(float(v @ v), 6)
        ((64,), 'float64', 1.0)
        >>> bool(f("Write a python function to add two numbers.") @ v > 0.999)
        True
    """

    def __init__(
        self,
        dim: int = 256,
        seed: int = 0,
        *,
        char_ngrams: tuple[int, int] | None = (3, 5),
        cache_size: int = 4096,
    ) -> None:
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive integer, got {dim!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
            raise ValueError(f"seed must be an integer in [0, 2**64), got {seed!r}")
        if char_ngrams is not None:
            lo, hi = char_ngrams
            if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
                raise ValueError(f"char_ngrams must be (low, high) with 1 <= low <= high, got {char_ngrams!r}")
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 0:
            raise ValueError(f"cache_size must be a non-negative integer, got {cache_size!r}")
        self.dim = int(dim)
        self.seed = int(seed)
        self.char_ngrams = char_ngrams
        self.cache_size = cache_size
        self._key = self.seed.to_bytes(8, "little")
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._words: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def tokens(self, text: str) -> list[str]:
        """The n-grams that are hashed, each prefixed by its kind (``w:``, ``b:``, ``c:``)."""
        words = _WORD.findall(text.lower())
        grams = [g for w in words for g in self._grams_of_word(w)]
        return grams + [f"b:{a} {b}" for a, b in zip(words, words[1:])]

    def _hash(self, gram: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8, key=self._key).digest(), "little")
        # the top bit decides the sign, so colliding n-grams cancel instead of piling up
        return h % self.dim, 1.0 if h >> 63 else -1.0

    def _grams_of_word(self, word: str) -> list[str]:
        grams = [f"w:{word}"]
        if self.char_ngrams is not None:
            lo, hi = self.char_ngrams
            padded = f" {word} "
            for n in range(lo, min(hi, len(padded)) + 1):
                grams += [f"c:{padded[i:i + n]}" for i in range(len(padded) - n + 1)]
        return grams

    def _word_buckets(self, word: str) -> tuple[np.ndarray, np.ndarray]:
        """(buckets, signs) of a word's unigram and character n-grams, cached per word: words
        repeat across texts far more than texts do, and hashing is the hot spot."""
        hit = self._words.get(word)
        if hit is None:
            pairs = [self._hash(g) for g in self._grams_of_word(word)]
            hit = (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs]))
            if len(self._words) >= _MAX_WORDS:
                self._words.clear()  # bounded memory; recomputed identically
            self._words[word] = hit
        return hit

    def _vector(self, text: str) -> np.ndarray:
        words = _WORD.findall(text.lower())
        if not words:
            return np.zeros(self.dim)
        parts = [self._word_buckets(w) for w in words]
        bigrams = [self._hash(f"b:{a} {b}") for a, b in zip(words, words[1:])]
        idx = np.concatenate([p[0] for p in parts] + [np.array([b[0] for b in bigrams], dtype=np.int64)])
        sign = np.concatenate([p[1] for p in parts] + [np.array([b[1] for b in bigrams])])
        v = np.bincount(idx, weights=sign, minlength=self.dim)
        v = np.sign(v) * np.log1p(np.abs(v))  # damp repeated n-grams (sublinear term frequency)
        norm = float(np.linalg.norm(v))
        return v / norm if norm > 0 else v

    def __call__(self, text: str) -> np.ndarray:
        """Feature vector of ``text``: float64, shape ``(dim,)``, unit L2 norm (zeros for a text
        without words). The array is read-only; copy it to modify it."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        v = self._vector(text)
        v.flags.writeable = False
        if self.cache_size:
            self._cache[text] = v
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return v

    def transform(self, texts: list[str]) -> np.ndarray:
        """Feature vectors of many texts, shape ``(len(texts), dim)``."""
        out = np.zeros((len(texts), self.dim))
        for i, text in enumerate(texts):
            out[i] = self(text)
        return out
