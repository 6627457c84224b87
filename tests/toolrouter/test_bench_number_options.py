"""Every number option of the suites that is not a count (minutes, learning rates, weights,
durations) refuses NaN, the infinities and values out of its range in one line naming it, before
anything runs: a NaN passed every comparison and the suites ran with it."""

from __future__ import annotations

import argparse

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()

POSITIVE = [
    ("meta", "--minutes"),
    ("meta", "--inner-lr"),
    ("meta", "--meta-lr"),
    ("meta", "--omniglot-minutes"),
    ("meta", "--fewshot-lr"),
    ("meta", "--maml-inner-lr"),
    ("meta", "--maml-meta-lr"),
    ("meta", "--recipe-cpu-minutes"),
    ("meta-router", "--dr-drop"),
    ("meta-router", "--mt-lr"),
    ("meta-router", "--mt-finetune-lr"),
    ("meta-router", "--mt-ft-cpu-s"),
    ("meta-router", "--rb-context-scale"),
    ("meta-router", "--rb-regularization"),
    ("meta-router", "--rb-ridge"),
    ("store", "--duration-s"),
]
NON_NEGATIVE = [("meta-router", "--mt-hashing-weight"), ("meta-router", "--rb-exploration"), ("routing", "--cost-weight")]


def refused(suite: str, option: str, value: str, bound: str) -> None:
    # "-inf" alone reads as an option; the unknown option after it stops a suite that took the
    # value before it runs anything (argparse reports a bad value first)
    result = runner.invoke(app, ["bench", suite, f"{option}={value}", "--no-such-option"])
    assert result.exit_code == 2, (suite, option, value, result.output)
    assert f"argument {option}: expected a finite number{bound}, got '{value}'" in result.output, result.output


@pytest.mark.parametrize(("suite", "option"), POSITIVE)
def test_positive_numbers_refuse_nan_infinity_zero_and_negative(suite: str, option: str) -> None:
    for value in ("nan", "inf", "0", "-1"):
        refused(suite, option, value, " > 0")


@pytest.mark.parametrize(("suite", "option"), NON_NEGATIVE)
def test_weights_refuse_nan_infinity_and_negative(suite: str, option: str) -> None:
    for value in ("nan", "-inf", "-0.5"):
        refused(suite, option, value, " >= 0")


def test_a_signed_number_refuses_only_what_is_not_finite() -> None:
    from toolrouter.bench._args import real

    refused("meta-router", "--rb-pessimism", "nan", "")
    assert real()("-1.5") == -1.5 and real(0)("0") == 0.0
    with pytest.raises(argparse.ArgumentTypeError, match="expected a finite number > 0, got 'x'"):
        real(0, low_open=True)("x")
