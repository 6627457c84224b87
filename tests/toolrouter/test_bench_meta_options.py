"""``toolrouter bench meta``: list options and alphabets a run cannot use are refused in one line
naming the option, before any model trains (they ended in tracebacks, some after the sections
before them had run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()


def refused(argv: list[str], expected: str) -> None:
    result = runner.invoke(app, ["bench", "meta", *argv])
    assert result.exit_code == 2, (argv, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0] == f"toolrouter bench meta: {expected}", result.stderr


@pytest.mark.parametrize("option", ["--train-shots", "--eval-shots", "--ways", "--shots"])
@pytest.mark.parametrize("value", ["5,x", "0", ","])
def test_shots_and_ways_must_be_counts(option: str, value: str) -> None:
    # "sinusoid" first: the omniglot options were read only when that later section began
    refused(["--sections", "sinusoid,omniglot", option, value, "--minutes", "0.0001", "--max-steps", "1"],
            f"{option}: expected comma-separated integers >= 1, got {value!r}")


def test_an_unknown_initialisation_is_refused() -> None:
    refused(["--sections", "sinusoid", "--sinusoid-init", "xavier", "--max-steps", "1"],
            "--sinusoid-init: expected 'torch' or 'maml', got 'xavier'")


@pytest.fixture()
def omniglot(omniglot_zip) -> Path:  # type: ignore[no-untyped-def]
    return omniglot_zip(["Greek", "Latin", "Korean"], drawers=2)


def test_alphabets_the_data_lacks_or_that_overlap_are_refused(omniglot: Path) -> None:
    common = ["--sections", "omniglot", "--omniglot", str(omniglot), "--max-steps", "1"]
    result = runner.invoke(app, ["bench", "meta", *common, "--test-alphabets", "Klingon"])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.stderr.startswith("toolrouter bench meta: --test-alphabets: alphabets: ['Klingon'] not found"), result.stderr
    result = runner.invoke(app, ["bench", "meta", *common, "--test-alphabets", "Greek", "--val-alphabets", "Kor"])
    assert result.exit_code == 2 and result.stderr.startswith("toolrouter bench meta: --val-alphabets: alphabets: ['Kor']")
    refused([*common, "--test-alphabets", "Greek", "--val-alphabets", "Latin,Greek"],
            "--val-alphabets: ['Greek'] are also --test-alphabets")


def test_episodes_the_data_cannot_give_are_refused_before_training(omniglot: Path) -> None:
    # two images per character: 1-shot episodes with one query at most; it failed after the training
    common = ["--sections", "omniglot", "--omniglot", str(omniglot), "--test-alphabets", "Greek", "--max-steps", "1",
              "--methods", "protonet", "--channels", "4", "--max-train-classes", "0"]
    refused([*common, "--ways", "2", "--shots", "1", "--test-query", "2"],
            "--ways, --shots, --test-query: n_way=2 is more than the 0 classes with at least k_shot + n_query = 3 "
            "examples (of 4 classes in all) in the test alphabets")
    refused([*common, "--ways", "2", "--shots", "1", "--test-query", "1", "--train-way", "9"],
            "--train-way, --train-shot, --train-query: n_way=9 is more than the 0 classes with at least k_shot + "
            "n_query = 6 examples (of 8 classes in all) in the training alphabets")


@pytest.mark.parametrize(("argv", "expected"), [
    (["--sections", "sinusoid,sinusoid", "--max-steps", "1"], "--sections: ['sinusoid'] given more than once"),
    (["--sections", "sinusoid", "--sinusoid-methods", "maml,maml", "--max-steps", "1"], "--sinusoid-methods: ['maml'] given more than once"),
    (["--sections", ",", "--max-steps", "1"], "--sections: none given; choose from ['correctness', 'speed', 'sinusoid', 'omniglot']"),
])
def test_a_section_or_method_named_twice_or_none_is_refused(argv: list[str], expected: str) -> None:
    # a repeat trained and printed the same models twice
    refused(["--minutes", "0.0001", "--train-shots", "5", "--eval-shots", "5", "--test-tasks", "2", *argv], expected)
