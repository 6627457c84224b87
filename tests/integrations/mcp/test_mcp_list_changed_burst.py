"""A burst of ``notifications/tools/list_changed`` from a server is followed by one listing at a
time, plus one for those that came while it ran, where each notification started a listing of
its own (a server that changes many tools at once was listed as many times, and listings that
end out of order, as HTTP requests may, could leave an older one in place of a newer one)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends
from mcp_harness import upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_burst_of_list_changed_is_listed_once_or_twice_not_once_each(pid_dir: Path) -> None:
    async with McpBackends(ToolMiddleware(seed=0), {"c": upstream("churning", pid_dir, "--name", "c")}) as mcp:
        assert not (await mcp.call("churn", {"times": 20})).is_error
        with anyio.fail_after(20):  # every tool added is exposed
            while not {f"t{i}" for i in range(20)} <= set(mcp.capabilities):
                await anyio.sleep(0.02)
        await anyio.sleep(0.3)  # listings still running would be counted below
        listings, at_once = map(int, (await mcp.call("listings", {})).content[0].text.split())
        assert at_once == 1
        assert 2 <= listings <= 4  # the first, then one or two for the burst: not 21
        assert mcp.upstreams["c"].connections == 1
        # of so many tools, an unknown one's error names the ten closest and the count, not all
        unknown = (await mcp.call("t19x", {})).content[0].text
        assert unknown.startswith(f"unknown tool 't19x'; the closest of the {len(mcp.capabilities)} tools are 't19', ")
        assert unknown.count("'") == 2 * 11  # the name and ten tools
