"""The ``meta`` package is quiet unless the application sets up logging, and renders its events as
``toolrouter`` does."""

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


def test_an_application_with_plain_logging_gets_plain_event_lines(caplog: pytest.LogCaptureFixture) -> None:
    # as toolrouter's events are: "event key=value ...", not structlog's console rendering (its own
    # timestamp and level, and colour codes on a terminal) inside the application's log line
    learner = MAML(nn.Linear(1, 1))
    with caplog.at_level(logging.ERROR, logger="meta"), pytest.raises(NonFiniteLossError):
        learner._check_finite(float("nan"))
    (record,) = [r for r in caplog.records if r.name == "meta.base"]
    assert record.getMessage() == "non_finite_loss step=1 loss=nan what='meta-loss'"
    assert record.event == "non_finite_loss" and record.fields["what"] == "meta-loss"


def test_an_event_below_the_enabled_level_is_not_rendered(caplog: pytest.LogCaptureFixture) -> None:
    import meta.maml

    rendered = []

    class Costly:
        def __repr__(self) -> str:
            rendered.append(1)
            return "costly"

    with caplog.at_level(logging.WARNING, logger="meta"):
        meta.maml.log.info("maml_path", detail=Costly())
    assert rendered == [] and not caplog.records
    with caplog.at_level(logging.INFO, logger="meta"):
        meta.maml.log.info("maml_path", detail=Costly())
    assert rendered == [1] and caplog.records[-1].getMessage() == "maml_path detail=costly"
