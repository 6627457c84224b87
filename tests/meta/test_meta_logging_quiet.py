"""The ``meta`` package is quiet unless the application sets up logging, as ``toolrouter`` is."""

from __future__ import annotations

import io
import logging

import pytest
import torch
from torch import nn

from meta import MAML
from meta.base import NonFiniteLossError


def test_a_warning_of_meta_is_not_printed_by_the_last_resort_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    # an application that configured nothing: no handler on the root logger
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    printed = io.StringIO()
    monkeypatch.setattr(logging, "lastResort", logging.StreamHandler(printed))
    learner = MAML(nn.Linear(1, 1))
    with pytest.raises(NonFiniteLossError):
        learner._check_finite(torch.tensor(float("nan")))  # logs "non_finite_loss" at error level
    assert printed.getvalue() == ""


def test_an_application_that_sets_up_logging_still_sees_the_events(caplog: pytest.LogCaptureFixture) -> None:
    learner = MAML(nn.Linear(1, 1))
    with caplog.at_level(logging.ERROR, logger="meta"), pytest.raises(NonFiniteLossError):
        learner._check_finite(float("inf"))
    assert any("non_finite_loss" in r.getMessage() for r in caplog.records)
