"""The backoff between attempts to bring a dead server back stays at ``max_delay_s`` however long
the server stays down: past about a thousand failures in a row (some 8 hours at the defaults)
the growth overflowed, and the OverflowError, raised in the server's connection task, failed the
task group that holds every server's connection."""

from __future__ import annotations

import pytest

from integrations.mcp.config import ReconnectPolicy


@pytest.mark.parametrize("multiplier", [1.5, 2.0, 10.0])
def test_the_delay_stays_at_its_most_after_any_number_of_failures(multiplier: float) -> None:
    policy = ReconnectPolicy(multiplier=multiplier, max_delay_s=30.0, jitter=0.0)
    assert [policy.delay_s(n, 0.0) for n in (400, 1100, 10**6)] == [30.0, 30.0, 30.0]
    assert ReconnectPolicy(multiplier=multiplier, jitter=0.5).delay_s(10**6, 0.0) == 15.0
