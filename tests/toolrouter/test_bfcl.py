"""BFCL loader: small copies written here in the package's layout, malformed files, and the shared
folder when present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolrouter.data import load_bfcl
from toolrouter.data.bfcl import BFCL_CATEGORIES, FunctionCall
from toolrouter.errors import DataError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "bfcl"


def _messages(*texts: str) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": t}] for t in texts]


def _doc(name: str, description: str = "") -> dict:
    return {"name": name, "description": description, "parameters": {"type": "dict", "properties": {}}}


def _jsonl(file: Path, rows: list) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_bfcl(root: Path) -> Path:
    """A two-conversation copy of the four categories, laid out as the package ships them."""
    _jsonl(root / "multi_turn_func_doc" / "gorilla_file_system.json", [_doc("cd", "Change directory."), _doc("ls"), _doc("cp")])
    _jsonl(root / "multi_turn_func_doc" / "message_api.json", [_doc("send_message", "Send a message.")])
    _jsonl(root / "BFCL_v4_multi_turn_base.json", [
        {"id": "mt_0", "question": _messages("Go to docs and list it.", "Tell Bob."),
         "involved_classes": ["GorillaFileSystem", "MessageAPI"], "initial_config": {"GorillaFileSystem": {}},
         "excluded_function": ["cp"]},
        {"id": "mt_1", "question": _messages("List here."), "involved_classes": ["GorillaFileSystem"]},
    ])
    _jsonl(root / "possible_answer" / "BFCL_v4_multi_turn_base.json", [
        {"id": "mt_0", "ground_truth": [["cd(folder='docs')", "ls(a=True)"], ["send_message(receiver_id='bob', message='hi')"]]},
        {"id": "mt_1", "ground_truth": [["ls()"]]},
    ])
    _jsonl(root / "BFCL_v4_multiple.json", [
        {"id": "m_0", "question": _messages("Area of a circle of radius 2?"),
         "function": [_doc("circle.area", "Area of a circle."), _doc("square.area")]},
    ])
    _jsonl(root / "possible_answer" / "BFCL_v4_multiple.json", [{"id": "m_0", "ground_truth": [{"circle.area": {"radius": [2]}}]}])
    _jsonl(root / "BFCL_v4_parallel_multiple.json", [
        {"id": "p_0", "question": _messages("Weather in Paris and the time in Oslo."),
         "function": [_doc("weather"), _doc("clock"), _doc("news")]},
    ])
    _jsonl(root / "possible_answer" / "BFCL_v4_parallel_multiple.json", [
        {"id": "p_0", "ground_truth": [{"weather": {"city": ["Paris"]}}, {"clock": {"city": ["Oslo"]}}]},
    ])
    _jsonl(root / "BFCL_v4_irrelevance.json", [{"id": "i_0", "question": _messages("Tell me a joke."), "function": [_doc("weather")]}])
    return root


def test_loads_every_category(tmp_path: Path) -> None:
    data = load_bfcl(write_bfcl(tmp_path))
    first, second = data.multi_turn
    assert first.id == "mt_0" and first.api_sets == ("GorillaFileSystem", "MessageAPI")
    assert first.task_type == "GorillaFileSystem+MessageAPI" and second.task_type == "GorillaFileSystem"
    assert [t.names for t in first.turns] == [("cd", "ls"), ("send_message",)]
    assert first.turns[0].request == "Go to docs and list it."
    assert first.turns[0].calls[1] == FunctionCall("ls", (), {"a": True})
    assert first.excluded_functions == ("cp",) and first.initial_config == {"GorillaFileSystem": {}}
    assert [f.name for f in data.functions_of(first)] == ["cd", "ls", "send_message"]  # cp excluded
    assert [f.name for f in data.functions_of(second)] == ["cd", "ls", "cp"]
    assert data.api_functions["GorillaFileSystem"][0].description == "Change directory."
    (multiple,) = data.multiple
    assert multiple.answer_names == ("circle.area",) and multiple.answer[0][1] == {"radius": [2]}
    assert [f.name for f in multiple.functions] == ["circle.area", "square.area"]
    assert data.parallel_multiple[0].answer_names == ("weather", "clock")
    (irrelevant,) = data.irrelevance
    assert irrelevant.answer == () and irrelevant.request == "Tell me a joke."


def test_reads_only_the_categories_asked_for(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    (root / "BFCL_v4_multi_turn_base.json").unlink()
    data = load_bfcl(root, categories=["multiple"])
    assert len(data.multiple) == 1 and data.multi_turn == () and data.irrelevance == () and data.api_functions == {}
    with pytest.raises(FileNotFoundError, match="BFCL_v4_multi_turn_base.json"):
        load_bfcl(root)
    with pytest.raises(ValueError, match="categories: unknown \\['live_simple'\\]"):
        load_bfcl(root, categories=["multiple", "live_simple"])
    with pytest.raises(FileNotFoundError, match="no BFCL folder"):
        load_bfcl(root / "nope")


@pytest.mark.parametrize(
    ("file", "line", "match"),
    [
        ("BFCL_v4_multiple.json", "{not json", r"BFCL_v4_multiple.json: line 1: not valid JSON"),
        ("BFCL_v4_multiple.json", '{"id": "m_0", "question": "hi", "function": []}', r"line 1: field 'question': expected list, got 'hi'"),
        ("BFCL_v4_multiple.json", '{"id": 7, "question": [], "function": []}', r"line 1: field 'id': expected str, got 7"),
        ("BFCL_v4_multiple.json", '{"id": "m_0", "question": [], "function": [{"description": "x"}]}', r"function\[0\]: expected a function document with a name"),
        ("BFCL_v4_multiple.json", '{"id": "m_9", "question": [], "function": []}', r"id 'm_9' has no ground truth in possible_answer/BFCL_v4_multiple.json"),
        ("possible_answer/BFCL_v4_multiple.json", '{"id": "m_0", "ground_truth": [{"a": 1, "b": 2}]}', r"id 'm_0': field 'ground_truth'"),
        ("possible_answer/BFCL_v4_multi_turn_base.json", '{"id": "mt_0", "ground_truth": [["cd(folder=x)"], []]}', r"id 'mt_0' turn 0: arguments are not literals"),
        ("possible_answer/BFCL_v4_multi_turn_base.json", '{"id": "mt_0", "ground_truth": [["cd"], []]}', r"id 'mt_0' turn 0: not a function call: 'cd'"),
        ("possible_answer/BFCL_v4_multi_turn_base.json", '{"id": "mt_0", "ground_truth": [[]]}', r"id 'mt_0' has 2 turns and 1 answers"),
        ("BFCL_v4_multi_turn_base.json", '{"id": "mt_0", "question": [[], []], "involved_classes": ["NoSuchAPI"]}\n'
         '{"id": "mt_1", "question": [[]], "involved_classes": ["GorillaFileSystem"]}', r"API set 'NoSuchAPI' has no function documents"),
        ("BFCL_v4_multi_turn_base.json", '{"id": "mt_0", "question": [], "involved_classes": [3]}', r"field 'involved_classes'"),
        ("BFCL_v4_irrelevance.json", '{"id": "i", "question": [[{"role": "user", "content": "hi"}]], "function": []}\n'
         '{"id": "i", "question": [], "function": []}', r"line 2: id 'i' appears twice"),
        ("BFCL_v4_irrelevance.json", '{"id": "i", "question": [], "function": []}', r"line 1: field 'question': no turn with a user message"),
        ("BFCL_v4_irrelevance.json", '{"id": "i", "question": [[{"role": "system", "content": "Be brief."}]], "function": []}',
         r"line 1: field question\[0\]: no user message with text"),
        ("BFCL_v4_multi_turn_base.json", '{"id": "mt_0", "question": [[{"role": "user", "content": " "}], []], '
         '"involved_classes": ["GorillaFileSystem"]}', r"line 1: field question\[0\]: no user message with text"),
    ],
)
def test_malformed_files_name_the_file_line_and_field(tmp_path: Path, file: str, line: str, match: str) -> None:
    root = write_bfcl(tmp_path)
    (root / file).write_text(line + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=match):
        load_bfcl(root)


def test_call_strings_are_parsed_not_evaluated() -> None:
    call = FunctionCall.parse("math.mean(numbers=[1, 2.5], note='a(b)')")
    assert (call.name, call.args, call.kwargs) == ("math.mean", (), {"numbers": [1, 2.5], "note": "a(b)"})
    assert FunctionCall.parse(str(call)) == call
    assert FunctionCall.parse("sort('a.txt')").args == ("a.txt",)
    for bad in ("__import__('os').system('x')", "f(**kw)", "1 + 2", "f(x=y)"):
        with pytest.raises(ValueError):
            FunctionCall.parse(bad)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared BFCL folder is not here")
def test_shared_copy_loads() -> None:
    data = load_bfcl(SHARED, BFCL_CATEGORIES)
    assert (len(data.multi_turn), len(data.multiple), len(data.parallel_multiple), len(data.irrelevance)) == (200, 200, 200, 240)
    assert sum(len(c.turns) for c in data.multi_turn) == 734
    available = {c.id: {f.name for f in data.functions_of(c)} for c in data.multi_turn}
    # every ground-truth call names a function the conversation offers
    assert all(set(t.names) <= available[c.id] for c in data.multi_turn for t in c.turns)
    assert all(set(s.answer_names) <= {f.name for f in s.functions} for s in data.multiple + data.parallel_multiple)
    assert all(len(s.answer) == 1 for s in data.multiple) and all(len(s.answer) >= 2 for s in data.parallel_multiple)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    (root / "BFCL_v4_multiple.json").write_bytes(b'{"id": "m_0", "question": "caf\xe9"}\n')
    with pytest.raises(DataError, match=r"BFCL_v4_multiple.json: not UTF-8 text \(byte 0xe9"):
        load_bfcl(root)


# --- a category file cut short or empty, and no category asked for: refused, not loaded short ---
@pytest.mark.parametrize(("category", "keep"), [("multi_turn_base", 1), ("multiple", 0), ("parallel_multiple", 0)])
def test_ground_truth_for_ids_the_category_file_lacks_is_refused(tmp_path: Path, category: str, keep: int) -> None:
    root = write_bfcl(tmp_path)
    file = root / f"BFCL_v4_{category}.json"
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    file.write_text("".join(lines[:keep]), encoding="utf-8")  # cut short at a line's end
    expected = "no entries" if keep == 0 else r"1 id\(s\) of possible_answer/BFCL_v4_multi_turn_base.json have no entry here, first \['mt_1'\]"
    with pytest.raises(DataError, match=rf"BFCL_v4_{category}.json: {expected}"):
        load_bfcl(root, categories=[category])


def test_an_empty_category_without_answers_is_refused(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    (root / "BFCL_v4_irrelevance.json").write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"BFCL_v4_irrelevance.json: no entries"):
        load_bfcl(root, categories=["irrelevance"])


@pytest.mark.parametrize("categories", [[], (), "multiple"])
def test_no_category_or_a_bare_string_is_refused(tmp_path: Path, categories: object) -> None:
    root = write_bfcl(tmp_path)
    with pytest.raises(ValueError, match=r"^categories: expected a non-empty list from \['multi_turn_base'"):
        load_bfcl(root, categories=categories)  # type: ignore[arg-type]
    assert len(load_bfcl(root, categories=iter(["multiple"])).multiple) == 1
