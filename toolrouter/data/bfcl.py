"""BFCL, the Berkeley Function Calling Leaderboard v4 (Patil et al.): requests with the function
calls that serve them.

``load_bfcl(path)`` reads a folder laid out as the ``bfcl-eval`` package ships its data (and as
``shared/data/bfcl`` holds it):

- ``BFCL_v4_<category>.json``: JSON lines, one entry per line: ``id``, ``question`` (a list of
  turns, each a list of ``{"role", "content"}`` messages), and ``function`` (the offered functions'
  JSON-Schema-like documents) or, for the multi-turn categories, ``involved_classes`` (the API sets)
  with their ``initial_config`` and ``excluded_function``;
- ``possible_answer/BFCL_v4_<category>.json``: the ground truth per ``id``: for a multi-turn
  conversation the calls of each turn as Python call strings (``mv(source='a', destination='b')``),
  for a single turn one ``{function: {argument: [accepted values]}}`` per expected call;
  ``irrelevance`` has none (no offered function fits);
- ``multi_turn_func_doc/<api>.json``: the documents of each API set's functions.

Only the categories asked for are read (default: ``multi_turn_base``, ``multiple``,
``parallel_multiple`` and ``irrelevance``). A call string is parsed with ``ast`` (literals only:
nothing in the data is evaluated).

Example:
    >>> data = load_bfcl("../shared/data/bfcl")  # doctest: +SKIP
    >>> conversation = data.multi_turn[0]  # doctest: +SKIP
    >>> conversation.api_sets, [t.names for t in conversation.turns][:2]  # doctest: +SKIP
    (('TwitterAPI', 'GorillaFileSystem'), [('cd', 'mkdir', 'mv'), ('cd', 'grep')])
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolrouter.data._text import ENCODING, NOT_A_LITERAL, reading
from toolrouter.errors import DataError
from toolrouter.serialization import checked_path

__all__ = [
    "API_DOC_FILES",
    "BFCL_CATEGORIES",
    "BfclData",
    "Conversation",
    "FunctionCall",
    "FunctionDoc",
    "SingleTurn",
    "Turn",
    "load_bfcl",
]

#: The categories the router is tuned and measured on; the package's others are left for a fair test.
BFCL_CATEGORIES = ("multi_turn_base", "multiple", "parallel_multiple", "irrelevance")

#: Multi-turn API set (a class of the ``bfcl-eval`` package) -> its file in ``multi_turn_func_doc``.
API_DOC_FILES = {
    "GorillaFileSystem": "gorilla_file_system.json",
    "MathAPI": "math_api.json",
    "MessageAPI": "message_api.json",
    "TwitterAPI": "posting_api.json",
    "TicketAPI": "ticket_api.json",
    "TradingBot": "trading_bot.json",
    "TravelAPI": "travel_booking.json",
    "VehicleControlAPI": "vehicle_control.json",
    "WebSearchAPI": "web_search.json",
    "MemoryAPI_kv": "memory_kv.json",
    "MemoryAPI_vector": "memory_vector.json",
    "MemoryAPI_rec_sum": "memory_rec_sum.json",
}


@dataclass(frozen=True)
class FunctionDoc:
    """A function a request may call: its name, description and parameters (JSON-Schema-like,
    as the data gives them), and for a multi-turn function the API set it belongs to."""

    name: str
    description: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    api: str | None = None


def _dotted(node: ast.expr) -> bool:
    """Whether ``node`` is a name or a dotted name (``a.b.c``)."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


@dataclass(frozen=True)
class FunctionCall:
    """One call: the function's name and its positional and keyword arguments.

    Example:
        >>> call = FunctionCall.parse("mv(source='a.txt', destination='temp')")
        >>> call.name, call.kwargs
        ('mv', {'source': 'a.txt', 'destination': 'temp'})
        >>> str(call)
        "mv(source='a.txt', destination='temp')"
    """

    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> "FunctionCall":
        """The call a string such as ``sort('report.txt')`` or ``a.b(x=[1, 2])`` writes (a dotted
        name, its arguments Python literals). ``ValueError`` for anything else."""
        if not isinstance(text, str):  # else an AttributeError on .strip that named no call
            raise ValueError(f"not a function call: expected a string, got {text!r:.80}")
        try:
            node = ast.parse(text.strip(), mode="eval").body
        except NOT_A_LITERAL as exc:
            raise ValueError(f"not a function call: {text!r:.200} ({getattr(exc, 'msg', None) or type(exc).__name__})") from None
        if not isinstance(node, ast.Call) or not _dotted(node.func):
            raise ValueError(f"not a function call: {text!r}")
        if any(k.arg is None for k in node.keywords):
            raise ValueError(f"unpacked arguments (**) are not supported: {text!r}")
        names = [k.arg or "" for k in node.keywords]
        repeated = next((name for name in names if names.count(name) > 1), None)
        if repeated is not None:  # Python refuses such a call; it was reported as unpacked arguments
            raise ValueError(f"not a function call: {text!r:.200} (keyword argument repeated: {repeated})")
        try:
            args = tuple(ast.literal_eval(a) for a in node.args)
            kwargs = {name: ast.literal_eval(k.value) for name, k in zip(names, node.keywords)}
        except NOT_A_LITERAL:
            raise ValueError(f"arguments are not literals: {text!r:.200}") from None
        return cls(ast.unparse(node.func), args, kwargs)

    def __str__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


@dataclass(frozen=True)
class Turn:
    """One user turn of a conversation: what the user asked, and the calls that serve it, in order."""

    request: str
    calls: tuple[FunctionCall, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The called functions' names, in order."""
        return tuple(c.name for c in self.calls)


@dataclass(frozen=True)
class Conversation:
    """A multi-turn conversation over one or more API sets (``involved_classes``), their initial
    state, the functions left out of it, and its turns."""

    id: str
    api_sets: tuple[str, ...]
    turns: tuple[Turn, ...]
    initial_config: Mapping[str, Any] = field(default_factory=dict)
    excluded_functions: tuple[str, ...] = ()

    @property
    def task_type(self) -> str:
        """The API sets, sorted and joined with ``+``: conversations over the same sets are one
        task type."""
        return "+".join(sorted(self.api_sets))


@dataclass(frozen=True)
class SingleTurn:
    """One request with the functions offered for it, and the calls that answer it: one
    ``(function, {argument: accepted values})`` per expected call (none for ``irrelevance``)."""

    id: str
    request: str
    functions: tuple[FunctionDoc, ...]
    answer: tuple[tuple[str, Mapping[str, list[Any]]], ...] = ()

    @property
    def answer_names(self) -> tuple[str, ...]:
        """The expected calls' function names (a function called twice appears twice)."""
        return tuple(name for name, _ in self.answer)


@dataclass(frozen=True)
class BfclData:
    """The categories read by ``load_bfcl`` (empty where not asked for), and the multi-turn API sets'
    function documents."""

    multi_turn: tuple[Conversation, ...] = ()
    multiple: tuple[SingleTurn, ...] = ()
    parallel_multiple: tuple[SingleTurn, ...] = ()
    irrelevance: tuple[SingleTurn, ...] = ()
    api_functions: Mapping[str, tuple[FunctionDoc, ...]] = field(default_factory=dict)

    def functions_of(self, conversation: Conversation) -> tuple[FunctionDoc, ...]:
        """The functions a conversation may call: those of its API sets, less the excluded ones."""
        excluded = set(conversation.excluded_functions)
        return tuple(
            f for api in conversation.api_sets for f in self.api_functions.get(api, ()) if f.name not in excluded
        )


def _lines(file: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with reading(file), file.open(encoding=ENCODING) as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{file}: line {line_no}: not valid JSON ({exc.msg})") from None
            except RecursionError:  # arrays or objects nested deeper than the decoder goes
                raise DataError(f"{file}: line {line_no}: not valid JSON (nested too deeply)") from None
            if not isinstance(entry, dict):
                raise DataError(f"{file}: line {line_no}: expected a JSON object, got {type(entry).__name__}")
            yield line_no, entry


def _field(file: Path, line_no: int, entry: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = entry.get(name)
    if not isinstance(value, kind):
        raise DataError(f"{file}: line {line_no}: field {name!r}: expected {getattr(kind, '__name__', kind)}, got {value!r:.80}")
    return value


def _request(file: Path, line_no: int, turn: Any, where: str) -> str:
    if not isinstance(turn, list) or not all(isinstance(m, dict) for m in turn):
        raise DataError(f"{file}: line {line_no}: field {where}: expected a list of messages, got {turn!r:.80}")
    said = [m.get("content") for m in turn if m.get("role") == "user"]
    for content in said:  # else None or a number was read as the words "None" or "12"
        if not isinstance(content, str):
            raise DataError(f"{file}: line {line_no}: field {where}: expected a user message's content to be text, got {content!r:.80}")
    request = " ".join(said).strip()
    if not request:  # a turn cut out of its entry: an empty request would be routed as one
        raise DataError(f"{file}: line {line_no}: field {where}: no user message with text (got {turn!r:.80})")
    return request


def _function(file: Path, where: str, raw: Any, api: str | None = None) -> FunctionDoc:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise DataError(f"{file}: {where}: expected a function document with a name, got {raw!r:.80}")
    description = raw.get("description", "")
    parameters = raw.get("parameters", {})
    if not isinstance(description, str) or not isinstance(parameters, dict):
        raise DataError(f"{file}: {where}: function {raw['name']!r}: description must be a string and parameters an object")
    return FunctionDoc(raw["name"], description, parameters, api)


def _functions(file: Path, entries: Iterable[tuple[str, Any]], api: str | None = None) -> tuple[FunctionDoc, ...]:
    """The documents of ``entries`` (``(where, raw document)`` each), each name once: a name
    documented twice is a damaged copy, and which of the two a call means is unknown."""
    docs: dict[str, FunctionDoc] = {}
    for where, raw in entries:
        doc = _function(file, where, raw, api)
        if doc.name in docs:
            raise DataError(f"{file}: {where}: function {doc.name!r} appears twice")
        docs[doc.name] = doc
    return tuple(docs.values())


def _answers(file: Path) -> dict[str, tuple[str, list[Any]]]:
    """Per id, where its ground truth is (``"<file>: line <n>: id <id>"``, for the errors its
    content raises) and the ground truth."""
    if not file.is_file():
        raise FileNotFoundError(f"path: no file {str(file)!r}")
    out: dict[str, tuple[str, list[Any]]] = {}
    for line_no, entry in _lines(file):
        key = _field(file, line_no, entry, "id", str)
        if key in out:
            raise DataError(f"{file}: line {line_no}: id {key!r} appears twice")
        out[key] = (f"{file}: line {line_no}: id {key!r}", _field(file, line_no, entry, "ground_truth", list))
    return out


def _api_functions(root: Path, apis: Iterable[str]) -> dict[str, tuple[FunctionDoc, ...]]:
    out = {}
    for api in sorted(set(apis)):
        file = root / "multi_turn_func_doc" / API_DOC_FILES[api]
        if not file.is_file():
            raise FileNotFoundError(f"path: no file {str(file)!r}")
        out[api] = _functions(file, ((f"line {n}", entry) for n, entry in _lines(file)), api)
        if not out[api]:  # else the API set's functions were lost without a word
            raise DataError(f"{file}: no entries")
    return out


def _conversations(root: Path, category: str) -> tuple[tuple[Conversation, ...], dict[str, tuple[FunctionDoc, ...]]]:
    """The conversations, and the function documents of the API sets they use."""
    file = root / f"BFCL_v4_{category}.json"
    answers = _answers(root / "possible_answer" / file.name)
    docs: dict[str, tuple[FunctionDoc, ...]] = {}
    out = []
    seen: set[str] = set()
    for line_no, entry in _lines(file):
        key = _field(file, line_no, entry, "id", str)
        questions = _field(file, line_no, entry, "question", list)
        apis = _field(file, line_no, entry, "involved_classes", list)
        if key in seen:
            raise DataError(f"{file}: line {line_no}: id {key!r} appears twice")
        seen.add(key)
        if not all(isinstance(a, str) and a for a in apis):
            raise DataError(f"{file}: line {line_no}: field 'involved_classes': expected class names, got {apis!r:.80}")
        for api in apis:
            if api not in API_DOC_FILES:
                raise DataError(
                    f"{file}: line {line_no}: field 'involved_classes': API set {api!r} has no function documents; "
                    f"known: {sorted(API_DOC_FILES)}"
                )
        if not questions:  # with an empty ground truth, it loaded as a conversation with nothing to route
            raise DataError(f"{file}: line {line_no}: field 'question': no turn")
        if key not in answers:
            raise DataError(f"{file}: line {line_no}: id {key!r} has no ground truth in possible_answer/{file.name}")
        where, truth = answers[key]
        if len(truth) != len(questions):
            raise DataError(f"{file}: line {line_no}: id {key!r} has {len(questions)} turns and {len(truth)} answers")
        excluded = entry.get("excluded_function", [])
        config = entry.get("initial_config", {})
        if not isinstance(excluded, list) or not all(isinstance(f, str) for f in excluded) or not isinstance(config, dict):
            raise DataError(f"{file}: line {line_no}: excluded_function must be a list of names and initial_config an object")
        docs.update(_api_functions(root, (a for a in apis if a not in docs)))
        offered = {f.name for a in apis for f in docs[a]} - set(excluded)
        turns = []
        for t, (question, calls) in enumerate(zip(questions, truth)):
            if not isinstance(calls, list):
                raise DataError(f"{where} turn {t}: expected a list of calls, got {calls!r:.80}")
            try:
                parsed = tuple(FunctionCall.parse(c) for c in calls)
            except ValueError as exc:
                raise DataError(f"{where} turn {t}: {exc}") from None
            # a call no offered function serves is ground truth for another conversation (or none)
            for call in parsed:
                if call.name not in offered:
                    raise DataError(f"{where} turn {t}: {call.name!r} is no function of {apis!r} (less those excluded)")
            turns.append(Turn(_request(file, line_no, question, f"question[{t}]"), parsed))
        out.append(Conversation(key, tuple(str(a) for a in apis), tuple(turns), config, tuple(excluded)))
    _check_complete(file, seen, answers)
    return tuple(out), dict(sorted(docs.items()))


def _single_turns(root: Path, category: str, with_answers: bool) -> tuple[SingleTurn, ...]:
    file = root / f"BFCL_v4_{category}.json"
    answers = _answers(root / "possible_answer" / file.name) if with_answers else {}
    out = []
    seen: set[str] = set()
    for line_no, entry in _lines(file):
        key = _field(file, line_no, entry, "id", str)
        if key in seen:
            raise DataError(f"{file}: line {line_no}: id {key!r} appears twice")
        seen.add(key)
        questions = _field(file, line_no, entry, "question", list)
        functions = _field(file, line_no, entry, "function", list)
        docs = _functions(file, ((f"line {line_no}: function[{i}]", f) for i, f in enumerate(functions)))
        request = " ".join(_request(file, line_no, q, f"question[{i}]") for i, q in enumerate(questions))
        answer: list[tuple[str, Mapping[str, list[Any]]]] = []
        if with_answers:
            if key not in answers:
                raise DataError(f"{file}: line {line_no}: id {key!r} has no ground truth in possible_answer/{file.name}")
            where, truth = answers[key]
            for call in truth:
                if not isinstance(call, dict) or len(call) != 1 or not isinstance(next(iter(call.values())), dict):
                    raise DataError(
                        f"{where}: field 'ground_truth': expected one "
                        f"{{function: {{argument: accepted values}}}} per call, got {call!r:.80}"
                    )
                ((name, arguments),) = call.items()
                if name not in {d.name for d in docs}:
                    raise DataError(f"{where}: field 'ground_truth': {name!r} is none of the functions offered")
                for argument, accepted in arguments.items():
                    if not isinstance(accepted, list):
                        raise DataError(
                            f"{where}: field 'ground_truth': {name}({argument}): expected a list of accepted values, got {accepted!r:.80}"
                        )
                answer.append((name, arguments))
        if not questions:  # an entry with no turn asks nothing: its request would be empty
            raise DataError(f"{file}: line {line_no}: field 'question': no turn with a user message")
        out.append(SingleTurn(key, request, docs, tuple(answer)))
    _check_complete(file, seen, answers)
    return tuple(out)


def _check_complete(file: Path, ids: set[str], answers: Mapping[str, Any]) -> None:
    """A category file with no entry, or ground truth for ids it does not hold, is cut short (or
    not the file its answers belong to): its entries would be lost without a word."""
    if not ids:
        raise DataError(f"{file}: no entries")
    orphans = [key for key in answers if key not in ids]
    if orphans:
        raise DataError(
            f"{file}: {len(orphans)} id(s) of possible_answer/{file.name} have no entry here, "
            f"first {orphans[:3]!r} (a file cut short?)"
        )


def load_bfcl(path: str | Path, categories: Iterable[str] = BFCL_CATEGORIES) -> BfclData:
    """Read ``categories`` of BFCL v4 from the folder ``path`` (see the module's docstring).

    Raises ``FileNotFoundError`` naming a missing folder or file, ``ValueError`` for no category
    or one this loader does not know, and :class:`~toolrouter.errors.DataError` (a ``ValueError``)
    naming the file, the line or id, and the field for a malformed entry, ground truth that calls a
    function its entry does not offer, a category file with no entry, or ground truth for ids the
    category file lacks (a file cut short).
    """
    root = checked_path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path: no BFCL folder at {str(root)!r}")
    wanted = [] if isinstance(categories, str) else list(dict.fromkeys(categories))
    if not wanted:
        raise ValueError(f"categories: expected a non-empty list from {list(BFCL_CATEGORIES)}, got {categories!r}")
    unknown = [c for c in wanted if c not in BFCL_CATEGORIES]
    if unknown:
        raise ValueError(f"categories: unknown {unknown!r}; this loader reads {list(BFCL_CATEGORIES)}")
    for category in wanted:
        file = root / f"BFCL_v4_{category}.json"
        if not file.is_file():
            raise FileNotFoundError(f"path: no file {str(file)!r}")
    parts: dict[str, Any] = {}
    if "multi_turn_base" in wanted:
        parts["multi_turn"], parts["api_functions"] = _conversations(root, "multi_turn_base")
    for category in ("multiple", "parallel_multiple", "irrelevance"):
        if category in wanted:
            parts[category] = _single_turns(root, category, with_answers=category != "irrelevance")
    return BfclData(**parts)
