"""A simulated tool ecosystem for the planning benchmark: known truth, some tools flaky or hanging.

Tools come from ``toolrouter.simulation.SyntheticEnvironment`` (their success probability, quality
and cost are the ground truth); a share of them is made bad: half *flaky* (rarely succeed), half
*hanging* (often sleep 50-200 ms, past the executor's timeout). Calls really sleep, but briefly: a
simulated latency of L seconds sleeps L milliseconds, so a run of hundreds of tasks takes seconds.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from toolrouter.executor import StepRequest
from toolrouter.middleware import ToolOutput
from toolrouter.models import TaskProfile, TaskStep
from toolrouter.simulation import SimulatedToolError, SyntheticEnvironment

CAPABILITIES = ("search", "fetch", "analysis", "llm")

#: search -> two fetches in parallel -> analysis -> summary: the research task of the benchmark.
RESEARCH_STEPS = (
    TaskStep(step_id="search", capability="search"),
    TaskStep(step_id="fetch_a", capability="fetch", depends_on=["search"]),
    TaskStep(step_id="fetch_b", capability="fetch", depends_on=["search"]),
    TaskStep(step_id="analyse", capability="analysis", depends_on=["fetch_a", "fetch_b"]),
    TaskStep(step_id="summarise", capability="llm", depends_on=["analyse"]),
)


@dataclass
class Ecosystem:
    """The simulated tools, which of them are bad, and their functions for the executor."""

    env: SyntheticEnvironment
    flaky: set[str]
    hanging: set[str]
    functions: dict[str, Callable[[StepRequest], Any]]

    @property
    def profiles(self):  # type: ignore[no-untyped-def]
        """The tools' profiles, as a router takes them."""
        return list(self.env.profiles.values())


def make_ecosystem(
    tools_per_capability: int = 6,
    bad_share: float = 0.3,
    hang_probability: float = 0.8,
    hang_s: tuple[float, float] = (0.05, 0.2),
    seed: int = 0,
) -> Ecosystem:
    """``tools_per_capability`` tools for each of ``CAPABILITIES``; ``bad_share`` of them bad."""
    n = tools_per_capability * len(CAPABILITIES)
    env = SyntheticEnvironment.make(n_tools=n, capabilities=CAPABILITIES, seed=seed)
    rng = random.Random(seed)
    ids = [t.profile.tool_id for t in env.tools]
    bad = rng.sample(ids, round(bad_share * n))
    flaky = set(bad[: len(bad) // 2])
    hanging = set(bad[len(bad) // 2 :])
    for tool in env.tools:
        if tool.profile.tool_id in flaky:
            tool.success_prob = 0.15
        else:  # the rest work well (0.85 to 0.99, in the environment's order), so a good plan exists
            tool.success_prob = 0.85 + 0.14 * (tool.success_prob - 0.35) / 0.6
    call_rng = random.Random(seed + 1)

    def make_function(tool_id: str) -> Callable[[StepRequest], Any]:
        sim = env.tool(tool_id)

        async def call(request: StepRequest) -> ToolOutput:
            if tool_id in hanging and call_rng.random() < hang_probability:
                await asyncio.sleep(call_rng.uniform(*hang_s))
            result = env.call(tool_id, step=request.step_id)
            await asyncio.sleep(sim.latency_mean_s / 1000.0)
            if not result.success:
                raise SimulatedToolError(f"{tool_id} failed")
            return ToolOutput({"tool": tool_id, "from": sorted(request.upstream)}, quality=result.quality)

        call.__name__ = tool_id
        return call

    return Ecosystem(env, flaky, hanging, {t: make_function(t) for t in ids})


def research_task(i: int, max_cost: float | None = None) -> TaskProfile:
    """The i-th research task (same graph, a fresh task id)."""
    return TaskProfile(task_id=f"task-{i}", task_type="research", steps=RESEARCH_STEPS, max_cost=max_cost)
