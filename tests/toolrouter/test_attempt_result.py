"""``ExecutionResult._of_attempt``, the attempt loop's constructor that skips validation, builds
the same object as the validating constructor: a pydantic upgrade that changed what a model
instance holds would fail here, not in a user's hands. A user's timestamps are kept in UTC."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.models import MAX_ERROR_CHARS, ExecutionResult


@pytest.mark.parametrize(
    "fields",
    [
        {"tool_id": "web", "step": "search", "success": True, "quality": None, "cost": 0.0, "latency_s": 0.25, "error": None},
        {"tool_id": "web", "step": "search", "success": True, "quality": 0.4, "cost": 2, "latency_s": 1, "error": None},
        {"tool_id": "db", "step": "main", "success": False, "quality": 0.0, "cost": 0.5, "latency_s": 3.0, "error": "TimeoutError: slow"},
        {"tool_id": "db", "step": "main", "success": False, "quality": 0.0, "cost": 0.0, "latency_s": 0.0, "error": "x" * (MAX_ERROR_CHARS + 10)},
    ],
)
def test_the_unvalidated_constructor_builds_what_validation_builds(fields: dict) -> None:
    fast = ExecutionResult._of_attempt(**fields)
    checked = ExecutionResult(**fields).model_copy(update={"timestamp": fast.timestamp})
    assert fast == checked
    assert fast.model_dump() == checked.model_dump()
    assert fast.model_dump_json() == checked.model_dump_json()
    assert fast.model_fields_set == ExecutionResult(**fields).model_fields_set
    assert repr(fast) == repr(checked) and hash(fast) == hash(checked)
    assert type(fast.cost) is float and type(fast.latency_s) is float
    assert len(fast.error or "") <= MAX_ERROR_CHARS
    assert fast.model_copy(update={"step": "other"}).step == "other"
    with pytest.raises(ValidationError):
        fast.success = False  # frozen, as a validated instance is
    assert ExecutionResult.model_validate(fast.model_dump()) == fast


def test_a_timestamp_in_another_zone_or_none_is_kept_as_the_utc_instant(tmp_path: Path) -> None:
    plus_five = timezone(timedelta(hours=5))
    stamps = [datetime(2026, 1, 1, 12, 0), datetime(2026, 1, 1, 12, 0, tzinfo=plus_five), "2026-01-01T09:00:00Z"]
    router = ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["x"])], seed=0, store=f"sqlite:///{tmp_path / 's.db'}")
    task = TaskProfile(task_id="t", required_capabilities=["x"])
    router.learn_from_execution(task, [ExecutionResult(tool_id="a", step="x", success=True, timestamp=t) for t in stamps])
    reopened = ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["x"])], seed=0, store=f"sqlite:///{tmp_path / 's.db'}")
    read = [a.timestamp for a in reopened.store.attempts()]
    assert read == [datetime(2026, 1, 1, h, 0, tzinfo=timezone.utc) for h in (12, 7, 9)]
    assert all(t.tzinfo is timezone.utc for t in read) and sorted(read)[0].hour == 7  # comparable with each other


@pytest.mark.parametrize("stamp", ["0", "1700000000", b"1.7e12", 0, 1.7e12, Decimal(1700000000)])
def test_a_timestamp_that_is_a_number_is_refused_naming_it(stamp: object) -> None:
    # pydantic read a number, or text that is one, as a Unix time: "0" was a call that ended in
    # 1970, and 1.7e12 milliseconds where 1.7e10 would have been seconds
    with pytest.raises(ValidationError) as caught:
        ExecutionResult(tool_id="a", success=True, timestamp=stamp)
    expected = f"timestamp: expected a datetime or ISO 8601 text (2026-01-31T12:00:00Z), got {stamp!r}; a Unix time is"
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("yesterday", "timestamp\n  Input should be a valid datetime or date"),
        (True, "timestamp\n  Input should be a valid datetime"),
        ("9999-12-31T23:59:59-01:00", "timestamp: 9999-12-31T23:59:59-01:00 is out of datetime's range in UTC"),
    ],
)
def test_a_timestamp_that_is_no_time_is_refused_naming_it(stamp: object, expected: str) -> None:
    # a time past UTC's range raised OverflowError, naming nothing
    with pytest.raises(ValidationError, match=expected):
        ExecutionResult(tool_id="a", success=True, timestamp=stamp)


def test_a_timestamp_as_iso_text_or_a_date_is_read_in_utc() -> None:
    stamps = ("2026-01-31", "2026-01-31T03:00:00+03:00", "2026-01-31T00:00:00Z", date(2026, 1, 31))
    read = [ExecutionResult(tool_id="a", success=True, timestamp=t).timestamp for t in stamps]
    assert read == [datetime(2026, 1, 31, tzinfo=timezone.utc)] * 4
    assert all(t.tzinfo is timezone.utc for t in read)
    result = ExecutionResult(tool_id="a", success=True)
    assert ExecutionResult.model_validate_json(result.model_dump_json()) == result  # its own JSON read back
