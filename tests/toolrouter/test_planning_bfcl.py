"""The BFCL section of the planning benchmark at toy size: its tables, figures in range, the
baselines beside the model, and the split kept apart."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from toolrouter.bench._planning_bfcl import Predictor, held_apart, multiset_f1, run_sequences, sequence_metrics
from toolrouter.bench.planning import main
from toolrouter.data import load_bfcl

# request templates of two API sets and the calls that serve each
FILES = [
    ("List what is in the {x} folder.", ("cd", "ls")),
    ("Make a new directory called {x}.", ("mkdir",)),
    ("Move report.txt into {x}.", ("mv",)),
]
MESSAGES = [("Send {x} a note saying hello.", ("get_user_id", "send_message")), ("Show my inbox, {x}.", ("view_messages",))]
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "zeta"]


def _doc(name: str, description: str) -> dict:
    return {"name": name, "description": f"This tool belongs to a set. Tool description: {description}", "parameters": {}}


def _jsonl(file: Path, rows: list) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def write_toy_bfcl(root: Path, seed: int = 0) -> Path:
    """A small BFCL folder whose calls follow from the requests' wording."""
    rng = random.Random(seed)
    _jsonl(root / "multi_turn_func_doc" / "gorilla_file_system.json", [
        _doc("cd", "Change the current directory."), _doc("ls", "List the files of the directory."),
        _doc("mkdir", "Create a directory."), _doc("mv", "Move a file."),
    ])
    _jsonl(root / "multi_turn_func_doc" / "message_api.json", [
        _doc("get_user_id", "Look up a user's id."), _doc("send_message", "Send a message to a user."),
        _doc("view_messages", "Show the messages received."),
    ])
    questions, answers = [], []
    for i in range(24):
        apis = ["GorillaFileSystem"] + (["MessageAPI"] if i % 2 else [])
        templates = FILES + (MESSAGES if i % 2 else [])
        turns = [rng.choice(templates) for _ in range(3)]
        questions.append({"id": f"mt_{i}", "involved_classes": apis,
                          "question": [[{"role": "user", "content": t.format(x=rng.choice(WORDS))}] for t, _ in turns]})
        answers.append({"id": f"mt_{i}", "ground_truth": [[f"{c}()" for c in calls] for _, calls in turns]})
    _jsonl(root / "BFCL_v4_multi_turn_base.json", questions)
    _jsonl(root / "possible_answer" / "BFCL_v4_multi_turn_base.json", answers)
    offered = [_doc("weather", "Weather forecast of a city."), _doc("clock", "The local time in a city."),
               _doc("news", "Today's news headlines.")]
    single = {"multiple": [], "parallel_multiple": [], "irrelevance": []}
    truth = {"multiple": [], "parallel_multiple": []}
    for i in range(12):
        city = rng.choice(["Paris", "Oslo", "Lima"])
        single["multiple"].append({"id": f"m_{i}", "function": offered[:2],
                                   "question": [[{"role": "user", "content": f"What is the weather forecast in {city}?"}]]})
        truth["multiple"].append({"id": f"m_{i}", "ground_truth": [{"weather": {"city": [city]}}]})
        single["parallel_multiple"].append({"id": f"p_{i}", "function": offered, "question": [[{
            "role": "user", "content": f"The weather forecast and the local time in {city}."}]]})
        truth["parallel_multiple"].append({"id": f"p_{i}", "ground_truth": [{"weather": {}}, {"clock": {}}]})
        single["irrelevance"].append({"id": f"i_{i}", "function": offered[:1],
                                      "question": [[{"role": "user", "content": "Write a poem about the sea."}]]})
    for category, rows in single.items():
        _jsonl(root / f"BFCL_v4_{category}.json", rows)
    for category, rows in truth.items():
        _jsonl(root / "possible_answer" / f"BFCL_v4_{category}.json", rows)
    return root


def test_bfcl_section_quick_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "figures.json"
    main(["--bfcl", str(write_toy_bfcl(tmp_path / "bfcl")), "--quick", "--json", str(out)])
    printed = capsys.readouterr().out
    for title in ("BFCL multi_turn_base, report split", "Learning curve", "BFCL single-turn categories", "Cost per call"):
        assert title in printed
    figures = json.loads(out.read_text())
    methods = figures["sequences"]["methods"]
    assert set(methods) == {"structure model, library defaults", "most frequent sequence per API set",
                            "nearest earlier turn, TF-IDF",
                            "nearest earlier turn, hashing"}
    for scores in methods.values():
        for mean, se in scores.values():
            assert 0.0 <= mean <= 1.0 and se >= 0.0
    # the calls follow from the wording: the model learns them, the per-API-set frequency cannot
    model = methods["structure model, library defaults"]
    assert model["exact"][0] >= 0.9
    assert model["exact"][0] > methods["most frequent sequence per API set"]["exact"][0]
    curve = figures["sequences"]["curve"]["structure model, library defaults"]
    assert list(curve) == ["0", "10", "12"]  # 12 conversations in the tune half
    single = figures["single_turn"]
    assert set(single) == {"selection top-1", "false abstention (multiple)", "abstention (irrelevance)", "set F1"}
    assert all(0.0 <= mean <= 1.0 for metric in single.values() for mean, _ in metric.values())
    assert single["selection top-1"]["structure model"][0] == 1.0
    for cost in figures["cost"].values():
        assert cost["learn_from_execution_ms"] > 0 and cost["optimize_task_execution_ms"] > 0


def test_split_is_fixed_and_disjoint() -> None:
    items = list(range(101))
    tune, report = held_apart(items)
    assert held_apart(items) == (tune, report)
    assert len(tune) == 50 and sorted(tune + report) == items


def test_sequence_metrics() -> None:
    rows = [("c1", ("cd", "ls"), ("cd", "ls")), ("c1", ("ls",), ("cd", "ls")), ("c2", ("mv",), ("mkdir",))]
    m = sequence_metrics(rows)
    assert m["exact"].mean == pytest.approx(1 / 3)
    assert m["node_f1"].mean == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert m["edge_f1"].mean == pytest.approx(0.5) and m["edge_f1"].n == 2  # the one-call pair has no order
    assert multiset_f1(("a", "a"), ("a",)) == pytest.approx(2 / 3) and multiset_f1((), ()) == 1.0


def test_options_that_are_not_the_defaults_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "figures.json"
    main(["--bfcl", str(write_toy_bfcl(tmp_path / "bfcl")), "--quick", "--json", str(out),
          "--structure-config", '{"ridge": 0.3}'])
    printed = " ".join(capsys.readouterr().out.split())
    methods = json.loads(out.read_text())["sequences"]["methods"]
    assert "structure model, options in the title" in methods and "structure model, library defaults" not in methods
    assert "(options {'ridge': 0.3})" in printed


def test_seed_start_gives_later_orders(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    main(["--bfcl", str(write_toy_bfcl(tmp_path / "bfcl")), "--quick", "--split", "tune", "--seeds", "2",
          "--seed-start", "4", "--json", str(out)])
    assert json.loads(out.read_text())["sequences"]["seeds"] == [4, 5]


def test_a_turn_is_shown_what_was_predicted_for_its_conversation_s_earlier_turns(tmp_path: Path) -> None:
    class Recorder(Predictor):
        name = "recorder"

        def __init__(self) -> None:
            self.learned: list[tuple] = []
            self.shown: list[tuple] = []

        def learn(self, key, task_type, request, calls, earlier=()):  # type: ignore[no-untyped-def]
            self.learned.append((calls, earlier))

        def predict(self, task_type, request, offered, earlier=()):  # type: ignore[no-untyped-def]
            self.shown.append(earlier)
            return (request.split()[0],)

    data = load_bfcl(write_toy_bfcl(tmp_path / "bfcl"))
    conversation = data.multi_turn[0]
    recorder = Recorder()
    run_sequences(data, [recorder], [], [conversation])
    predicted = [(t.request.split()[0],) for t in conversation.turns]
    assert recorder.shown == [sum(predicted[:i], ()) for i in range(len(predicted))]
    # learned after all its turns, each with its conversation's earlier true calls
    truth = [t.names for t in conversation.turns]
    assert recorder.learned == [(truth[i], sum(truth[:i], ())) for i in range(len(truth))]
