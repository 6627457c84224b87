"""BFCL loader on damaged copies: every error names the file and line it comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolrouter.data import load_bfcl
from toolrouter.data.bfcl import FunctionCall
from toolrouter.errors import DataError

from test_bfcl import write_bfcl


def _rewrite(file: Path, line: int, change) -> None:
    """Apply ``change`` to the JSON entry on line ``line`` (from 1) of ``file``."""
    rows = [json.loads(r) for r in file.read_text(encoding="utf-8").splitlines()]
    change(rows[line - 1])
    file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.parametrize(
    ("call", "match"),
    [(5, r"turn 0: not a function call: expected a string, got 5"), ("ls(", r"turn 0: not a function call: 'ls\('")],
)
def test_a_bad_multi_turn_call_names_the_answer_file_and_line(tmp_path: Path, call: object, match: str) -> None:
    root = write_bfcl(tmp_path)
    answers = root / "possible_answer" / "BFCL_v4_multi_turn_base.json"
    _rewrite(answers, 2, lambda e: e["ground_truth"][0].__setitem__(0, call))
    with pytest.raises(DataError, match=rf"^{answers}: line 2: id 'mt_1' {match}"):
        load_bfcl(root)


def test_a_bad_single_turn_answer_names_the_answer_file_and_line(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    answers = root / "possible_answer" / "BFCL_v4_parallel_multiple.json"
    _rewrite(answers, 1, lambda e: e["ground_truth"].append("clock(city='Oslo')"))
    with pytest.raises(DataError, match=rf"^{answers}: line 1: id 'p_0': field 'ground_truth'"):
        load_bfcl(root)


def test_parse_refuses_a_call_that_is_not_a_string() -> None:
    with pytest.raises(ValueError, match="expected a string, got None"):
        FunctionCall.parse(None)  # type: ignore[arg-type]


def test_a_multi_turn_call_of_a_function_not_offered_is_refused(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    answers = root / "possible_answer" / "BFCL_v4_multi_turn_base.json"
    # cp is a GorillaFileSystem function, but excluded from mt_0; send_message is not one of mt_1's
    for line, turn, call in [(1, 0, "cp(source='a', destination='b')"), (2, 0, "send_message()")]:
        write_bfcl(tmp_path)
        _rewrite(answers, line, lambda e: e["ground_truth"][turn].append(call))
        name = call.split("(")[0]
        with pytest.raises(DataError, match=rf"^{answers}: line {line}: id 'mt_{line - 1}' turn {turn}: '{name}' is no function of"):
            load_bfcl(root)


@pytest.mark.parametrize(
    ("truth", "match"),
    [
        ([{"square.volume": {"side": [2]}}], r"'square.volume' is none of the functions offered"),
        ([{"circle.area": {"radius": 2}}], r"circle.area\(radius\): expected a list of accepted values, got 2"),
    ],
)
def test_a_single_turn_answer_the_entry_cannot_have_is_refused(tmp_path: Path, truth: list, match: str) -> None:
    root = write_bfcl(tmp_path)
    answers = root / "possible_answer" / "BFCL_v4_multiple.json"
    _rewrite(answers, 1, lambda e: e.__setitem__("ground_truth", truth))
    with pytest.raises(DataError, match=rf"^{answers}: line 1: id 'm_0': field 'ground_truth': {match}"):
        load_bfcl(root)


def test_an_unknown_api_set_names_the_line(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    file = root / "BFCL_v4_multi_turn_base.json"
    _rewrite(file, 2, lambda e: e.__setitem__("involved_classes", ["GorillaFileSystem", "NoSuchAPI"]))
    with pytest.raises(DataError, match=rf"^{file}: line 2: field 'involved_classes': API set 'NoSuchAPI' has no function"):
        load_bfcl(root)


@pytest.mark.parametrize("content", [None, 12])
def test_a_user_message_that_is_not_text_is_refused(tmp_path: Path, content: object) -> None:
    root = write_bfcl(tmp_path)
    file = root / "BFCL_v4_multi_turn_base.json"
    _rewrite(file, 2, lambda e: e["question"][0][0].__setitem__("content", content))
    with pytest.raises(DataError, match=rf"^{file}: line 2: field question\[0\]: expected a user message's content to be text, got {content}"):
        load_bfcl(root)


def test_an_excluded_function_that_is_not_a_name_is_refused(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    file = root / "BFCL_v4_multi_turn_base.json"
    _rewrite(file, 1, lambda e: e.__setitem__("excluded_function", [1]))
    with pytest.raises(DataError, match=rf"^{file}: line 1: excluded_function must be a list of names"):
        load_bfcl(root)


def test_an_api_set_documented_twice_or_not_at_all_is_refused(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    docs = root / "multi_turn_func_doc" / "gorilla_file_system.json"
    text = docs.read_text(encoding="utf-8")
    docs.write_text(text + text.splitlines(True)[0], encoding="utf-8")
    with pytest.raises(DataError, match=rf"^{docs}: line 4: function 'cd' appears twice"):
        load_bfcl(root)
    docs.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match=rf"^{docs}: no entries"):
        load_bfcl(root)


def test_a_function_offered_twice_is_refused(tmp_path: Path) -> None:
    root = write_bfcl(tmp_path)
    file = root / "BFCL_v4_parallel_multiple.json"
    _rewrite(file, 1, lambda e: e["function"].append(e["function"][0]))
    with pytest.raises(DataError, match=rf"^{file}: line 1: function\[3\]: function 'weather' appears twice"):
        load_bfcl(root)


def test_a_multi_turn_entry_with_no_turn_is_refused(tmp_path: Path) -> None:
    # with an empty ground truth too, the counts agreed: it loaded as a conversation with no turn
    root = write_bfcl(tmp_path)
    file = root / "BFCL_v4_multi_turn_base.json"
    _rewrite(file, 2, lambda e: e.__setitem__("question", []))
    _rewrite(root / "possible_answer" / file.name, 2, lambda e: e.__setitem__("ground_truth", []))
    with pytest.raises(DataError, match=rf"^{file}: line 2: field 'question': no turn$"):
        load_bfcl(root)
