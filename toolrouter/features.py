"""Text to a fixed-size feature vector for the contextual policies, with no dependencies.

``HashingFeaturizer`` hashes word unigrams, word bigrams and character n-grams (3 to 5 characters,
within words padded with spaces) into ``dim`` buckets with a signed hash (the "hashing trick",
Weinberger et al., 2009), weights them by ``1 + log(count)`` and L2-normalises the result.

The hash is BLAKE2b keyed with the seed, so vectors are the same in every process and on every
machine (Python's ``hash()`` is salted per process and would not be). Results are cached by text
(least recently used), and cached vectors are read-only so a caller cannot corrupt the cache.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, OrderedDict

import numpy as np

__all__ = ["HashingFeaturizer"]

_WORD = re.compile(r"\w+", re.UNICODE)


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

    def tokens(self, text: str) -> list[str]:
        """The n-grams that are hashed, each prefixed by its kind (``w:``, ``b:``, ``c:``)."""
        words = _WORD.findall(text.lower())
        grams = [f"w:{w}" for w in words]
        grams += [f"b:{a} {b}" for a, b in zip(words, words[1:])]
        if self.char_ngrams is not None:
            lo, hi = self.char_ngrams
            for w in words:
                padded = f" {w} "
                for n in range(lo, min(hi, len(padded)) + 1):
                    grams += [f"c:{padded[i:i + n]}" for i in range(len(padded) - n + 1)]
        return grams

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim)
        counts = Counter(self.tokens(text))
        if not counts:
            return v
        idx = np.empty(len(counts), dtype=np.int64)
        val = np.empty(len(counts))
        for k, (gram, count) in enumerate(counts.items()):
            h = int.from_bytes(
                hashlib.blake2b(gram.encode("utf-8"), digest_size=8, key=self._key).digest(), "little"
            )
            idx[k] = h % self.dim
            # the top bit decides the sign, so colliding n-grams cancel instead of piling up
            val[k] = (1.0 + math.log(count)) * (1.0 if h >> 63 else -1.0)
        np.add.at(v, idx, val)
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
