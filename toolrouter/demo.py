"""The demo behind ``toolrouter demo``: a simulated agent learns which of its tools to call.

Ten simulated tools (``toolrouter.simulation``) serve three capabilities with different, hidden
success rates, quality, cost and latency. The agent makes about a thousand calls by capability
through ``ToolMiddleware``; each call tries the router's first choice and falls back on failure,
and every attempt teaches the router. Because the truth is known, the demo reports, per tool, what
the router learned next to the true expected utility, and the regret of the router's first choices
against always calling the best tool of each capability (and, for scale, against picking at random).

Example:
    >>> report = run_demo(calls=60, seed=0, progress=False)
    >>> report.calls
    60
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from meta._checks import check_flag
from toolrouter._checks import check_count
from toolrouter._console import check_console
from toolrouter.errors import AllToolsFailedError
from toolrouter.learner import ToolMetaLearner
from toolrouter.middleware import ToolFailure, ToolMiddleware, ToolOutput
from toolrouter.models import UtilityWeights
from toolrouter.policies import POLICIES
from toolrouter.simulation import SyntheticEnvironment, _capabilities
from toolrouter.store.memory import MemoryStore
from toolrouter.store.postgres import masked, without_password
from toolrouter.store.sqlite import SQLiteStore
from toolrouter.store_stats import contextual_note

__all__ = ["DemoReport", "ToolRow", "run_demo", "print_report", "CAPABILITIES"]

CAPABILITIES = ("search", "code", "llm")


@dataclass(frozen=True)
class ToolRow:
    """One line of the demo's table."""

    tool_id: str
    capability: str
    calls: int
    success_rate: float
    mean_utility: float
    learned_utility: float | None
    true_utility: float
    best: bool


@dataclass
class DemoReport:
    """What the demo measured. Regret sums, over calls, the true expected utility of the best tool
    of the call's capability minus that of the router's first choice."""

    calls: int
    seed: int
    policy: str
    store: str | None
    attempts: int
    failed_calls: int
    regret: float
    random_regret: float
    last_window_regret: float
    last_window: int
    best_choice_rate_last_window: float
    rows: list[ToolRow] = field(default_factory=list)
    seconds: float = 0.0
    #: whether the learned state outlives the process (a store, and not ``memory://`` or
    #: ``sqlite:///:memory:``)
    persisted: bool = False


def _simulated_tool(env: SyntheticEnvironment, tool_id: str, capability: str) -> Any:
    """The environment's tool as an agent's function that reports its simulated cost and latency
    (latency is simulated, not slept, so the demo runs in seconds)."""

    def tool(*args: Any, **kwargs: Any) -> ToolOutput:
        result = env.call(tool_id, step=capability)
        if not result.success:
            raise ToolFailure(f"{tool_id} failed", cost=result.cost, latency_s=result.latency_s)
        return ToolOutput(
            value={"tool_id": tool_id, "args": args},
            quality=result.quality,
            cost=result.cost,
            latency_s=result.latency_s,
        )

    tool.__name__ = tool_id
    return tool


def run_demo(
    calls: int = 1000,
    seed: int = 0,
    *,
    store: str | None = None,
    policy: str = "gaussian_ts",
    n_tools: int = 10,
    capabilities: Sequence[str] = CAPABILITIES,
    progress: bool = True,
    console: Console | None = None,
    replace: bool = False,
) -> DemoReport:
    """Run the simulated agent for ``calls`` routed calls and return what it learned.

    A ``store`` the demo used before resumes; one that holds tools the demo does not make (another
    router's) raises ``ValueError`` naming it, untouched: the run would remove them and overwrite
    that router's snapshot. So does a store the demo made with another ``seed`` (whose tools of the
    same ids are other tools), unless ``replace``: then what was learned of them is dropped and the
    run starts over on that store."""
    import time

    calls = check_count("calls", calls, low=1)
    progress = check_flag("progress", progress)  # progress="no" showed the bar
    replace = check_flag("replace", replace)
    console = check_console(console)
    if not isinstance(policy, str) or policy not in POLICIES:
        raise ValueError(f"policy: unknown policy {policy!r}; choose from {sorted(POLICIES)}")
    seed = check_count("seed", seed)
    n_tools = check_count("n_tools", n_tools, low=1)
    capabilities = _capabilities(capabilities)  # a string is one capability, as for the environment
    if n_tools < len(capabilities):  # tools are dealt round-robin: each capability needs one
        raise ValueError(f"n_tools: {n_tools} tools cannot serve the {len(capabilities)} capabilities {list(capabilities)}")
    t0 = time.perf_counter()
    weights = UtilityWeights()
    env = SyntheticEnvironment.make(n_tools=n_tools, capabilities=capabilities, seed=seed)
    contextual = POLICIES[policy].contextual
    # no context in this world (each capability has its own route): contextual policies get one
    # zero feature, and learn each tool's utility in their intercept (neural_linear: its constant feature)
    dim = 1
    router = ToolMetaLearner(
        store=store, policy=policy, seed=seed, weights=weights, context_dim=dim if contextual else None
    )
    try:
        made = re.compile("(?:" + "|".join(map(re.escape, capabilities)) + r")_\d+")
        foreign = sorted(t for t in router.tools if not made.fullmatch(t))
        if foreign:  # another router's store: the demo would remove its tools and overwrite its snapshot
            raise ValueError(
                f"store: {masked(store or '')} holds tools the demo does not make ({foreign[:5]}), which a run would "
                "remove, overwriting that router's snapshot: give the demo a store of its own (sqlite:///demo.db)"
            )
        # resumed from a store: a tool of the same id from another seed is another tool (its cost,
        # latency and truth differ), so what was learned of it cannot be kept; it went without a word
        other = sorted(t for t, profile in router.tools.items() if env.profiles.get(t) != profile)
        if other and not replace:
            raise ValueError(
                f"seed: {masked(store or '')} was learned with another seed than {seed}: its tools {other[:5]} are "
                f"other tools under seed {seed}, so a run would drop what was learned of them and overwrite the "
                "snapshot: rerun with the store's seed to resume it, give this seed a store of its own, or replace "
                "it (toolrouter demo --replace) to start over"
            )
        for tool_id in other:
            router.remove_tool(tool_id)
        middleware = ToolMiddleware(router)
        for sim in env.tools:
            cap = sim.profile.capabilities[0]
            fn = _simulated_tool(env, sim.profile.tool_id, cap)
            if sim.profile.tool_id in router.tools:
                # known from the store (the same tool): keep what was learned
                middleware.attach(fn, sim.profile.tool_id)
            else:
                middleware.register(
                    fn,
                    cap,
                    tool_id=sim.profile.tool_id,
                    cost_per_use=sim.profile.cost_per_use,
                    reliability=sim.profile.reliability,
                    expected_latency_s=sim.profile.expected_latency_s,
                    tool_type=sim.profile.tool_type,
                    description=sim.profile.description,
                )
        true_eu = {t.profile.tool_id: t.expected_utility(weights, 0) for t in env.tools}
        by_cap = {c: [t.profile.tool_id for t in env.tools if t.profile.serves(c)] for c in capabilities}
        best = {c: max(true_eu[t] for t in ids) for c, ids in by_cap.items()}
        mean = {c: float(np.mean([true_eu[t] for t in ids])) for c, ids in by_cap.items()}
        routes = {c: middleware.route(c, features=[0.0] if contextual else None) for c in capabilities}
        # a rerun on a store goes on with the agent's life: its requests and the tools' outcomes are new
        # draws, keyed by how many attempts the router has learned from (a fresh run keeps its seeds);
        # the first run's draws again would teach the router the same outcomes twice
        done = sum(s.calls for s in router.tool_statistics().values())
        stream = [done] if done else []
        env.rng = np.random.default_rng([seed, *stream])
        rng = np.random.default_rng([seed + 1, *stream])
        regret = random_regret = 0.0
        window = max(1, calls // 5)
        last_regret, last_best, failed, attempts = 0.0, 0, 0, 0

        def one_call(i: int) -> None:
            nonlocal regret, random_regret, last_regret, last_best, failed, attempts
            cap = capabilities[int(rng.integers(len(capabilities)))]
            try:
                outcome = routes[cap].run(f"request {i}")
                chosen, n = outcome.attempts[0].tool_id, len(outcome.attempts)
            except AllToolsFailedError as exc:
                chosen, n = exc.attempts[0].tool_id, len(exc.attempts)
                failed += 1
            attempts += n
            r = best[cap] - true_eu[chosen]
            regret += r
            random_regret += best[cap] - mean[cap]
            if i >= calls - window:
                last_regret += r
                last_best += int(true_eu[chosen] >= best[cap])

        if progress:
            columns = (TextColumn("learning"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
            with Progress(*columns, console=console, transient=False) as bar:
                task = bar.add_task("calls", total=calls)
                for i in range(calls):
                    one_call(i)
                    bar.advance(task)
        else:
            for i in range(calls):
                one_call(i)

        stats = router.tool_statistics()
        rows = [
            ToolRow(
                tool_id=t.profile.tool_id,
                capability=t.profile.capabilities[0],
                calls=stats[t.profile.tool_id].calls,
                success_rate=stats[t.profile.tool_id].success_rate,
                mean_utility=stats[t.profile.tool_id].mean_utility,
                learned_utility=stats[t.profile.tool_id].expected_utility,
                true_utility=true_eu[t.profile.tool_id],
                best=true_eu[t.profile.tool_id] >= best[t.profile.capabilities[0]],
            )
            for t in sorted(env.tools, key=lambda t: (t.profile.capabilities[0], -true_eu[t.profile.tool_id]))
        ]
        # an in-memory database (memory://, sqlite:///:memory:) goes with the process
        in_memory = isinstance(router.store, MemoryStore) or (
            isinstance(router.store, SQLiteStore) and router.store.path == ":memory:"
        )
        persisted = router.store is not None and not in_memory
        if router.store is not None:
            router.save()
    finally:  # an interrupted run (Ctrl-C) releases the store and threads too
        router.close()
    return DemoReport(
        calls=calls,
        seed=seed,
        policy=policy,
        store=store,
        attempts=attempts,
        failed_calls=failed,
        regret=regret,
        random_regret=random_regret,
        last_window_regret=last_regret,
        last_window=window,
        best_choice_rate_last_window=last_best / window,
        rows=rows,
        seconds=time.perf_counter() - t0,
        persisted=persisted,
    )


def print_report(report: DemoReport, console: Console | None = None) -> None:
    """Print the demo's tables."""
    console = check_console(console) or Console()
    table = Table(title=f"What the router learned ({report.calls} calls, policy {report.policy}, seed {report.seed})")
    for name in ("tool", "capability", "calls", "success", "mean utility", "learned", "true"):
        # wrapped, never cut: on 70 columns every true utility read "1.3…"
        table.add_column(name, justify="left" if name in ("tool", "capability") else "right", overflow="fold")
    for r in report.rows:
        learned = "-" if r.learned_utility is None else f"{r.learned_utility:.3f}"
        name = f"[bold]{r.tool_id} *[/bold]" if r.best else r.tool_id
        # a tool never called has no observed success or utility (not 0%), as `toolrouter stats` shows it
        observed = (f"{r.success_rate:.0%}", f"{r.mean_utility:.3f}") if r.calls else ("-", "-")
        table.add_row(name, r.capability, str(r.calls), *observed, learned, f"{r.true_utility:.3f}")
    console.print(table)
    console.print(
        "mean utility: observed; learned: the policy's posterior mean; true: the simulator's expected\n"
        "utility. * marks the best tool of its capability."
    )
    if POLICIES[report.policy].contextual:
        console.print(f"learned: {contextual_note(report.policy)}")
    regret = Table(title="Regret of the first choice against the best fixed tool per capability")
    for name in ("", "value"):
        regret.add_column(name, justify="left" if not name else "right")
    regret.add_row("cumulative regret, router", f"{report.regret:.1f}")
    regret.add_row("cumulative regret, random choice (expected)", f"{report.random_regret:.1f}")
    regret.add_row(f"regret per call, last {report.last_window} calls", f"{report.last_window_regret / report.last_window:.3f}")
    regret.add_row(f"best tool chosen, last {report.last_window} calls", f"{report.best_choice_rate_last_window:.0%}")
    regret.add_row("attempts (with fallbacks)", str(report.attempts))
    regret.add_row("calls where every tool failed", str(report.failed_calls))
    regret.add_row("seconds", f"{report.seconds:.2f}")
    console.print(regret)
    store = report.store and masked(report.store)  # a terminal, or a CI log, must not show a password
    if report.persisted:
        # a command to copy: with "***" for the password it would fail to connect; without one,
        # libpq reads the password from where such a command keeps it out of the shell's history
        command = f"`toolrouter stats --store {shlex.quote(without_password(report.store))}`"
        if store != report.store:
            command += " with the password in PGPASSWORD or ~/.pgpass"
        console.print(f"learned state saved in {store}; run again to continue, or {command}")
    elif store:
        console.print(f"{store} keeps the learned state for this run only: a file store (sqlite:///demo.db) lets a rerun continue")
