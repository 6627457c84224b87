"""The ``toolrouter`` command: ``demo``, ``stats``, ``prune``, ``snapshots``, ``meta-train``, ``bench``, ``mcp`` and ``data``."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from toolrouter._console import output_console
from toolrouter.bench import DATA_ERRORS, UsageError, available_suites, run_suite

app = typer.Typer(help="toolrouter: tool-routing middleware for AI agents.", no_args_is_help=True)


def _logging(verbose: bool, log_json: bool) -> None:
    from toolrouter.logging import configure_logging

    configure_logging("info" if verbose else "warning", json=log_json)


@contextlib.contextmanager
def _reported(command: str):  # type: ignore[no-untyped-def]
    """A store that cannot be used now, saved state that is damaged, or a missing extra (a
    ``postgresql://`` store without psycopg) ends ``toolrouter COMMAND`` with one line naming it
    (exit status 1), not a traceback."""
    from toolrouter.errors import CorruptStateError
    from toolrouter.store import StoreUnavailableError

    try:
        yield
    except (StoreUnavailableError, CorruptStateError, ImportError) as exc:
        typer.echo(f"toolrouter {command}: {exc}", err=True)
        raise typer.Exit(1) from None


@contextlib.contextmanager
def _open_existing_store(url: str, command: str, read_only: bool = False):  # type: ignore[no-untyped-def]
    """The store at ``url``, closed at the end; a URL where there is no store yet is an error
    (opening would create an empty one: a missing SQLite file, a database the router never wrote
    to), and so is a store that lasts one process (this command's would be empty). A command that
    only reads opens it ``read_only``: a store file it may read but not write is read. Errors as
    ``_reported`` says."""
    from toolrouter.store import open_store

    if url.startswith("memory://") or url == "sqlite:///:memory:":
        raise typer.BadParameter(
            f"{url!r} lasts one process, so this command would read an empty store: name the file or server "
            "the router wrote to",
            param_hint="--store",
        )
    try:
        with _reported(command):
            store = open_store(url, create=False, read_only=read_only)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--store") from None
    with _reported(command), store:
        yield store


def _checked_snapshot(name: str, option: str = "--snapshot") -> str:
    """A snapshot name given as ``option`` if a store can keep it, else a usage error naming the
    option (an argument that is not UTF-8 reaches Python with lone surrogates)."""
    from toolrouter.store.base import check_snapshot_name

    try:
        return check_snapshot_name(name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _parser(kind: type, expected: str):  # type: ignore[no-untyped-def]
    """An option's parser to ``kind`` (``int`` or ``float``), taking what typer's own takes: text
    that is not one is refused naming it (typer said "Input should be a valid integer" without
    the value given), ``expected`` saying what the option takes."""
    from pydantic import TypeAdapter, ValidationError

    adapter = TypeAdapter(kind)

    def parse(text):  # type: ignore[no-untyped-def]
        try:
            return adapter.validate_python(text)
        except ValidationError:
            raise typer.BadParameter(f"{expected}, got {text!r}") from None

    return parse


def _bounded(default, help: str, low: float, high: float | None = None, **kwargs):  # type: ignore[no-untyped-def]
    """An option whose value must lie in [``low``, ``high``]. typer's own ``min=``/``max=`` check
    said "Input should be greater than or equal to 1" without the value given; this one names it
    (the option's name comes with every ``BadParameter``), as it does text that is no number."""
    from meta._checks import _bounds

    # in the words of the library's own checks: "expected an integer in [1, 1000000], got 0"
    bound = _bounds("[", low, high, "]").lstrip()
    expected = f"expected {'an integer' if isinstance(low, int) else 'a number'} {bound}"

    def check(value):  # type: ignore[no-untyped-def]
        if value is not None and not (value >= low and (high is None or value <= high)):
            raise typer.BadParameter(f"{expected}, got {value}")
        return value

    parser = _parser(int if isinstance(low, int) else float, expected)
    return typer.Option(default, help=f"{help} ({bound})", callback=check, parser=parser, **kwargs)


#: The most calls ``toolrouter demo`` makes, and steps ``toolrouter meta-train`` runs: about ten
#: minutes of work each on 2 cores (the demo's memory:// store, under 1 GB). Above them a typo
#: (an extra 0 or three) was accepted and ran for hours.
MAX_DEMO_CALLS = 1_000_000
MAX_META_STEPS = 20_000


@app.command(help="A simulated agent with ten tools learns which to call; prints what it learned.")
def demo(
    ctx: typer.Context,
    calls: int = _bounded(1000, "How many routed calls the agent makes.", 1, MAX_DEMO_CALLS),
    # the router's bound: above it the router's refusal was reported as a bad --store or --policy
    seed: int = _bounded(0, "Seed of the simulated tools and of the router.", 0, 2**128 - 1),
    store: str = typer.Option(None, help="Store URL: sqlite:///demo.db keeps what was learned, and a rerun resumes it; memory:// lasts one run."),
    policy: str = typer.Option("gaussian_ts", help="Bandit policy (see toolrouter.policies)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log one event per decision and outcome."),
    log_json: bool = typer.Option(False, "--log-json", help="Log events as JSON lines (those of -v with it, else warnings only)."),
    tour: bool = typer.Option(False, "--tour", help="Run the tour of the whole framework instead (run_meta_learning_demo)."),
    plots: str = typer.Option(None, help="With --tour: write one figure per step into this folder (needs matplotlib)."),
    scale: float = typer.Option(
        1.0, help="With --tour: multiplies every step's iterations (1: the documented run; at most 100).",
        parser=_parser(float, "expected a number"),
    ),
    steps: str = typer.Option(None, help="With --tour: the steps to run, comma-separated (default: all)."),
    replace: bool = typer.Option(
        False, "--replace", help="On a --store made with another --seed: drop what it learned and start over (else refused)."
    ),
) -> None:
    """``toolrouter demo``: run the simulated agent and print what it learned; ``--tour``: the tour."""
    # an option of the other run would be ignored without a word: the run would not be the one asked
    # for; given at all, not only unlike its default (--tour --calls 1000 went through)
    other_run = ("calls", "store", "policy", "replace") if tour else ("plots", "scale", "steps")
    ignored = [
        # by its name: typer 0.29 has its own copy of click, whose ParameterSource is not click's
        f"--{name}" for name in other_run if ctx.get_parameter_source(name).name == "COMMANDLINE"
    ]
    if ignored:
        raise typer.BadParameter(f"{', '.join(ignored)}: {'not' if tour else 'only'} for the tour (--tour)")
    if tour:
        _logging(verbose, log_json)
        _tour(seed, plots, scale, steps)
        return
    from toolrouter.demo import print_report, run_demo
    from toolrouter.policies import POLICIES

    if policy not in POLICIES:
        raise typer.BadParameter(f"unknown policy {policy!r}; choose from {sorted(POLICIES)}", param_hint="--policy")
    _logging(verbose, log_json)
    console = output_console()
    try:
        with _reported("demo"):
            report = run_demo(calls, seed, store=store, policy=policy, progress=not verbose, console=console, replace=replace)
    except ValueError as exc:  # a bad store URL or another router's store; or a store saved with another policy or seed
        # only a policy or seed the store was not saved with is that option's too: the others are the store's alone
        field = str(exc).split(":", 1)[0]
        hint = f"--store / --{field}" if field in ("policy", "seed") else "--store"
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    print_report(report, console)


def _tour(seed: int, plots: str | None, scale: float, steps: str | None) -> None:
    # integrations is loaded here only: no library module of toolrouter imports it
    from integrations.experts.tour import run_meta_learning_demo

    console = output_console()
    chosen = None if steps is None else [s.strip() for s in steps.split(",") if s.strip()]
    try:
        results = run_meta_learning_demo(scale=scale, seed=seed, steps=chosen, plots=plots, console=console)
    except ValueError as exc:  # bad steps, scale, seed or plots folder: the message names the argument
        field = str(exc).split(":", 1)[0]
        hint = f"--{field}" if field in ("steps", "scale", "seed", "plots") else None
        raise typer.BadParameter(str(exc), param_hint=hint) from None
    table = Table(title=f"The tour: {results['seconds']['total']:.0f} s in all")
    table.add_column("step", no_wrap=True)
    table.add_column("seconds")
    table.add_column("measured", overflow="fold")
    for name, seconds in results["seconds"].items():
        if name != "total":
            table.add_row(name, f"{seconds:.1f}", results[name]["figure"])
    console.print(table)


def _plain_console() -> Console:
    """A console for what a store holds: tool, route and snapshot names, URLs and errors come from
    users and are printed as they are, not read as rich markup (a tool "page[size]" lost its
    "[size]", and a "[/x]" in a name stopped the command with MarkupError)."""
    return output_console(markup=False)


@app.command(help="What a store has learned: attempts per route (task type/step) and tool, and its snapshot.")
def stats(
    store: str = typer.Option(..., help="Store URL, for example sqlite:///router.db."),
    snapshot: str = typer.Option("learner", help="Name of the router's snapshot in the store."),
) -> None:
    """``toolrouter stats``: print what a store has learned."""
    from toolrouter.store_stats import contextual_note, store_stats

    console = _plain_console()
    snapshot = _checked_snapshot(snapshot)
    with _open_existing_store(store, "stats", read_only=True) as st, store_stats(st, snapshot) as learned:
        router, snap, not_rebuilt = learned.router, learned.snapshot, learned.not_rebuilt
        detecting = router is not None and router.drift_detection is not None
        # (task type, most probable structure) of tasks without declared steps
        structures = [] if router is None else [(t, router.structures.distribution(t, top=1)[0]) for t in router.structures.task_types]
        table = Table(title=f"{st.url}: {learned.attempts} attempts")
        # drift detection's columns in a table of their own: beside the others, eleven columns on
        # an 80-column terminal cut every number to "1.2…"
        drift = Table(title="drift detection")
        for t, columns in ((table, ("route", "tool", "calls", "success", "utility", "learned", "cost", "latency s")),
                           (drift, ("route", "tool", "resets", "last reset", "rechecks"))):
            for name in columns:
                if name in ("route", "tool", "last reset"):  # wrapped, never cut: routes differ at their end
                    t.add_column(name, overflow="fold")
                else:
                    t.add_column(name, justify="right")
        for row in learned.rows:
            r, value, last = row.kept, row.learned, row.last_reset
            means = ("-",) * 4 if r is None else (
                f"{r.success_rate:.0%}", f"{r.mean_utility:.3f}", f"{r.mean_cost:.3f}", f"{r.mean_latency_s:.3f}"
            )
            route = f"{row.task_type}/{row.step}"
            table.add_row(
                route,
                row.tool_id,
                "0" if r is None else str(r.calls),
                *means[:2],
                "-" if value is None else f"{value:.3f}",
                *means[2:],
            )
            when = "-" if last is None else f"{last.outcomes_ago} calls ago: {last.reason}"
            drift.add_row(route, row.tool_id, str(row.resets), when, str(row.rechecks))
        console.print(table)
        if detecting:
            console.print(drift)
        if structures:
            plans = Table(title="plans learned for tasks without declared steps")
            for name in ("task type", "structure (step <- the steps it consumes)", "traces", "probability"):
                plans.add_column(name, justify="right" if name in ("traces", "probability") else "left", overflow="fold")
            for task_type, proposal in structures:
                shown = "; ".join(
                    s.step if not s.depends_on else f"{s.step} <- {', '.join(s.depends_on)}" for s in proposal.steps
                )
                plans.add_row(task_type, shown, f"{proposal.traces}/{proposal.task_type_traces}", f"{proposal.probability:.2f}")
            console.print(plans)
        if snap is None:
            console.print(f"no snapshot named {snapshot!r} (learned: '-')")
        elif not_rebuilt is not None:
            console.print(f"snapshot {snap.name!r}: learned: '-', this command cannot rebuild the router ({not_rebuilt})")
        else:
            console.print(
                f"snapshot {snap.name!r}: includes attempts up to id {snap.watermark}, saved {snap.created:%Y-%m-%d %H:%M:%S} UTC; "
                "calls, success, utility, cost, latency: over the attempts kept; learned: the policy's posterior mean utility"
                + (f" ({contextual_note(router.policy_name)})" if router.contextual else "")
                + (
                    "; resets: changes the drift detector found (each restarts what was learned of the tool); "
                    "rechecks: calls that tried the tool because it had not been tried for a while"
                    if detecting else ""
                )
            )


@app.command(help="Delete the attempts every snapshot in a store already holds, so that a long-lived store stops growing.")
def prune(
    store: str = typer.Option(..., help="Store URL, for example sqlite:///router.db."),
    upto: int = _bounded(
        None, "Delete the attempts up to this id; at most, and by default, the lowest snapshot watermark.", 0
    ),
) -> None:
    """``toolrouter prune``: delete what the snapshots hold (see ``Store.prune``)."""
    console = _plain_console()
    with _open_existing_store(store, "prune") as st:
        names = st.snapshot_names()
        if not names:
            raise typer.BadParameter(
                f"store {st.url!r} has no snapshot, so every attempt is still needed: save the router's state "
                "first (ToolMetaLearner.save())",
                param_hint="--store",
            )
        bound = st.prunable()
        if upto is not None and upto > bound:
            raise typer.BadParameter(
                f"{upto} is above {bound}, the lowest watermark of the snapshots {names}: a snapshot does not hold "
                "the attempts above it (toolrouter snapshots lists them, and --drop deletes those of routers no longer used)",
                param_hint="--upto",
            )
        target = bound if upto is None else upto
        gone = st.prune(target)
        console.print(f"{st.url}: deleted {gone} attempts up to id {target}; {st.count()} kept")


@app.command(help="List a store's snapshots (what each holds, which holds prune back); --drop deletes those of routers no longer used.")
def snapshots(
    store: str = typer.Option(..., help="Store URL, for example sqlite:///router.db."),
    drop: list[str] = typer.Option(
        None, "--drop", help="Delete this snapshot (repeat for more): a router opened on its name starts from what the log keeps."
    ),
) -> None:
    """``toolrouter snapshots``: list, and delete, a store's snapshots (see ``Store.delete_snapshot``)."""
    from toolrouter.errors import UnknownSnapshotError

    console = _plain_console()
    drop = [_checked_snapshot(name, "--drop") for name in drop or ()]
    with _open_existing_store(store, "snapshots", read_only=not drop) as st:
        names = st.snapshot_names()
        unknown = [name for name in drop if name not in names]
        if unknown:  # checked before anything is deleted
            raise typer.BadParameter(f"store {st.url!r} has no snapshot {unknown[0]!r}; it has {names}", param_hint="--drop")
        for name in dict.fromkeys(drop):
            try:
                st.delete_snapshot(name)
            except UnknownSnapshotError as exc:  # deleted meanwhile by another process
                raise typer.BadParameter(str(exc), param_hint="--drop") from None
            console.print(f"{st.url}: deleted snapshot {name!r}")
        table = Table(title=f"{st.url}: snapshots")
        for column in ("snapshot", "attempts up to id", "saved (UTC)", "bytes"):
            table.add_column(column, overflow="fold", justify="left" if column == "snapshot" else "right")
        kept = st.snapshot_infos()
        for snap in kept:
            table.add_row(snap.name, str(snap.watermark), f"{snap.created:%Y-%m-%d %H:%M:%S}", str(snap.size))
        console.print(table)
        if kept:
            lowest = min(kept, key=lambda s: s.watermark)
            console.print(f"prune deletes the attempts up to id {lowest.watermark}, held back by snapshot {lowest.name!r}")
        else:
            console.print("no snapshot: prune deletes nothing")


#: The argument of ``meta_train`` (or the router) that each ``toolrouter meta-train`` option sets.
_META_TRAIN_OPTIONS = {
    "algorithm": "--algorithm", "tasks": "--tasks", "meta_steps": "--steps", "featurizer": "--featurizer",
    "seed": "--seed", "time_budget_s": "--time-budget", "from_kept": "--from-kept", "snapshot_name": "--snapshot",
    "policy": "--store",  # a router saved with another policy: the store is the one to change
}


@app.command(
    "meta-train",
    help="Meta-train the reward model on a store's history (a router with policy neural_linear) and keep it in the store.",
)
def meta_train_command(
    store: str = typer.Option(..., help="Store URL of a router saved with policy neural_linear."),
    snapshot: str = typer.Option("learner", help="Name of the router's snapshot in the store."),
    algorithm: str = typer.Option("maml", help="maml, fomaml or reptile."),
    tasks: str = typer.Option("task_type", help="What one meta-learning task is: task_type, tool or both."),
    steps: int = _bounded(300, "Meta-training steps.", 1, MAX_META_STEPS),
    featurizer: str = typer.Option("hashing", help="The router's text featurizer: hashing, minilm or minilm+hashing."),
    seed: int = _bounded(0, "Seed of meta-training.", 0),
    time_budget: float = typer.Option(
        None, help="Stop meta-training after this many seconds.", parser=_parser(float, "expected a number")
    ),
    from_kept: bool = typer.Option(
        False, "--from-kept",
        help="After a prune: train on, and rebuild the routes from, the attempts kept, losing what the routes learned of those pruned.",
    ),
) -> None:
    """``toolrouter meta-train``: learn the router's priors offline, from its store."""
    from toolrouter.features import make_featurizer
    from toolrouter.learner import ToolMetaLearner

    console = _plain_console()
    snapshot = _checked_snapshot(snapshot)
    with _open_existing_store(store, "meta-train") as st:
        if st.get_snapshot(snapshot) is None:
            raise typer.BadParameter(f"store {st.url!r} has no router snapshot {snapshot!r}", param_hint="--snapshot")
        try:
            # "hashing" is the router's own default (HashingFeaturizer of its context_dim)
            featurize = None if featurizer == "hashing" else make_featurizer(featurizer)
            # the router closed (its subscription to the store cancelled) before the store, however meta-training ends
            with ToolMetaLearner.load(st, snapshot_name=snapshot, sync_every=None, featurizer=featurize) as router:
                model = router.meta_train(algorithm=algorithm, tasks=tasks, meta_steps=steps, seed=seed, time_budget_s=time_budget, from_kept=from_kept)
        except ValueError as exc:  # named by the option the user typed, where the message names one
            field = str(exc).split(":", 1)[0]
            raise typer.BadParameter(str(exc), param_hint=_META_TRAIN_OPTIONS.get(field)) from None
        table = Table(title=f"reward model for {st.url} ({snapshot!r})")
        table.add_column("what")
        table.add_column("value", justify="right")
        for key, value in {**model.info, "tools": len(model.tool_ids), "prior_scale": model.prior_scale,
                           "new_tool_scale": model.new_tool_scale, "noise": model.noise, "watermark": model.watermark}.items():
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
        console.print(table)


@contextlib.contextmanager
def _terminate_cleanly():  # type: ignore[no-untyped-def]
    """SIGTERM (``kill``, a CI job's time limit) ends the command as Ctrl-C does, through its
    cleanup: by default it ended the process at once, leaving a suite's throwaway PostgreSQL
    server running, its folders on disk and its worker processes waiting, and ``data fetch``'s
    staging folder in the data folder."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # the shell's status for a process ended by the signal

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_version(wanted: bool) -> None:
    if wanted:
        from toolrouter import __version__

        typer.echo(f"toolrouter {__version__}")
        raise typer.Exit()


@app.callback()
def _every_command(
    ctx: typer.Context,
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
) -> None:
    # every command's cleanup, not only bench's (data fetch's staging folder stayed behind)
    ctx.with_resource(_terminate_cleanly())


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,  # so that `toolrouter bench SUITE --help` reaches the suite's own parser
    # typer renders help texts as rich markup, where a bracketed word is a style tag and vanishes
    help=escape("Run a benchmark suite: toolrouter bench SUITE [options]; SUITE --help lists its options."),
)
def bench(
    ctx: typer.Context, suite: str = typer.Argument("", help="Suite name.", show_default=False)
) -> None:
    """``toolrouter bench SUITE``: run a benchmark suite."""
    if suite in ("", "--help", "-h"):
        typer.echo("usage: toolrouter bench SUITE [options]   (SUITE --help lists its options)")
        typer.echo("suites: " + ", ".join(available_suites()))
        return
    if suite not in available_suites():
        raise typer.BadParameter(f"unknown suite {suite!r}; choose from {available_suites()}", param_hint="SUITE")
    try:
        run_suite(suite, list(ctx.args))
    except (*DATA_ERRORS, UsageError) as exc:  # bad data or a bad option is the user's to fix: one line, no traceback
        message = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
        typer.echo(f"toolrouter bench {suite}: {message}", err=True)
        raise typer.Exit(2) from None


mcp_app = typer.Typer(
    help=escape("The learning MCP gateway: many MCP servers behind one (pip install \"toolrouter[mcp]\")."),
    no_args_is_help=True,
)
app.add_typer(mcp_app, name="mcp")


def _mcp_cli():  # type: ignore[no-untyped-def]
    """``integrations.mcp.cli``, imported only when an ``mcp`` command runs (the core never imports
    ``integrations``); a missing extra is one line naming it."""
    try:
        from integrations.mcp import cli
    except ImportError as exc:
        typer.echo(f"toolrouter mcp: {exc}", err=True)
        raise typer.Exit(1) from None
    return cli


def _mcp_config_errors():  # type: ignore[no-untyped-def]
    from integrations.mcp.config import ConfigError
    from integrations.mcp.grouping import GroupingError

    return ConfigError, GroupingError


@mcp_app.command("serve", help="Serve the gateway of CONFIG (TOML or JSON) over stdio, or streamable HTTP with --http.")
def mcp_serve(
    config: str = typer.Argument(..., help="The gateway's config file."),
    http: str = typer.Option(None, "--http", help="Serve streamable HTTP at HOST:PORT (e.g. 127.0.0.1:8765, or [::1]:8765 for IPv6) instead of stdio."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log one event per routed call (to stderr)."),
    log_json: bool = typer.Option(False, "--log-json", help="Log events as JSON lines (those of -v with it, else warnings only)."),
    allow_remote: bool = typer.Option(
        False, "--allow-remote",
        help="Serve --http on a host other than 127.0.0.1, localhost or [::1] (0.0.0.0, [::]): there anyone who "
        "reaches the port calls the servers' tools, unauthenticated; put an authenticating proxy in front.",
    ),
) -> None:
    """``toolrouter mcp serve CONFIG``: run the gateway until the client leaves or a signal stops it."""
    cli = _mcp_cli()
    _logging(verbose, log_json)  # to stderr: over stdio, stdout is the client's
    try:
        cli.serve(config, http, allow_remote)
    except (*_mcp_config_errors(), ValueError, OSError) as exc:  # OSError: the --http address
        typer.echo(f"toolrouter mcp serve: {exc}", err=True)
        raise typer.Exit(2) from None


@mcp_app.command(
    "tools",
    help="Start the servers of CONFIG and print the tools the gateway exposes and how they were grouped. "
    "Exits 1 when no server started (some down: listed with a warning each, exit 0).",
)
def mcp_tools(config: str = typer.Argument(..., help="The gateway's config file.")) -> None:
    """``toolrouter mcp tools CONFIG``: the grouping the gateway would serve."""
    cli = _mcp_cli()
    try:
        cli.print_tools(config, output_console())
    except _mcp_config_errors() as exc:
        typer.echo(f"toolrouter mcp tools: {exc}", err=True)
        raise typer.Exit(2) from None
    except cli.NoServerStartedError as exc:
        typer.echo(f"toolrouter mcp tools: {exc}", err=True)
        raise typer.Exit(1) from None


@mcp_app.command("stats", help="What a gateway's store has learned: per capability and server, calls, success, latency, utility.")
def mcp_stats(
    store: str = typer.Option(..., help="The gateway's store URL, for example sqlite:///gateway.db."),
    snapshot: str = typer.Option("learner", help="Name of the router's snapshot in the store."),
) -> None:
    """``toolrouter mcp stats --store URL``."""
    cli = _mcp_cli()
    snapshot = _checked_snapshot(snapshot)
    with _open_existing_store(store, "mcp stats", read_only=True) as st:  # a missing SQLite file is an error
        cli.print_stats(st, snapshot, output_console())


data_app = typer.Typer(
    help="The public datasets the benchmarks read: list them, fetch them from their original sources.",
    no_args_is_help=True,
)
app.add_typer(data_app, name="data")
_DIR_HELP = "Cache folder of the datasets (default: $TOOLROUTER_DATA, else the user cache folder)."


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _data_folder(directory: str | None) -> Path:
    """The data folder of ``--dir``, ``$TOOLROUTER_DATA`` or the user cache folder; one that is a
    file is a usage error named where it came from (``data list`` would read every dataset
    "missing", ``data fetch`` could not write there), the same for both commands."""
    from toolrouter.data.fetch import ENV_DATA_DIR, data_dir

    root = data_dir(directory)
    if root.exists() and not root.is_dir():
        # a $TOOLROUTER_DATA that is a file was blamed on a --dir never given
        source = "--dir" if directory else f"${ENV_DATA_DIR}" if os.environ.get(ENV_DATA_DIR) else "the user cache folder"
        raise typer.BadParameter(f"the data folder {str(root)!r} is a file", param_hint=source)
    return root


@data_app.command("list", help="Each dataset: its source, licence, size, what its digests check, and whether it is present.")
def data_list(directory: str = typer.Option(None, "--dir", help=_DIR_HELP)) -> None:
    """``toolrouter data list``: the manifest and the state of the cache folder."""
    from toolrouter.data.fetch import dataset_status
    from toolrouter.data.manifest import DATASETS

    root = _data_folder(directory)
    table = Table(title=f"datasets in {root}")
    for name in ("dataset", "source", "licence", "size", "sha256 of", "present"):
        # wrapped, never cut: on 80 columns every source read "brendenlake/…", its revision lost
        table.add_column(name, justify="right" if name == "size" else "left", overflow="fold")
    for d in DATASETS.values():
        source = f"{d.repository}@{d.revision[:10]}" if d.revision else f"{d.repository} (revision not pinned)"
        size = _megabytes(sum(o.size for o in d.outputs))
        table.add_row(d.name, source, d.licence, size, d.check, dataset_status(d, root))
    output_console().print(table)


#: The argument of ``fetch`` that each ``toolrouter data fetch`` option sets.
_FETCH_OPTIONS = {"names": "NAMES", "timeout_s": "--timeout", "base_url": "--base-url"}


@data_app.command("fetch", help="Download datasets (default: all) at their pinned revisions, check their sha256, convert them.")
def data_fetch(
    names: list[str] = typer.Argument(None, help="Dataset names (toolrouter data list); none: all.", show_default=False),
    directory: str = typer.Option(None, "--dir", help=_DIR_HELP),
    base_url: str = typer.Option(
        None, "--base-url", help="Where the repositories' raw files are served, as BASE/REPOSITORY/REVISION/PATH (a mirror, or file://)."
    ),
    timeout: float = _bounded(60.0, "Seconds to wait for each connection and read.", 0.001),
) -> None:
    """``toolrouter data fetch [NAME ...]``: fill the cache folder."""
    from toolrouter.data.convert import UpstreamFormatError
    from toolrouter.data.fetch import DEFAULT_BASE_URL, ChecksumError, fetch

    _data_folder(directory)  # a file there: refused as data list refuses it, before anything is fetched
    try:
        # an empty --base-url (an unset "$MIRROR") is refused by fetch, not taken for the default
        report = fetch(names or None, directory, base_url=DEFAULT_BASE_URL if base_url is None else base_url, timeout_s=timeout)
    except (ChecksumError, UpstreamFormatError, OSError) as exc:  # the network's, the source's or the folder's fault: one line, no traceback
        typer.echo(f"toolrouter data fetch: {exc}", err=True)
        raise typer.Exit(1) from None
    except (TypeError, ValueError) as exc:  # the message names fetch's argument
        field = str(exc).split(":", 1)[0]
        raise typer.BadParameter(str(exc), param_hint=_FETCH_OPTIONS.get(field, "NAMES")) from None
    for item in report:
        size = _megabytes(item.bytes) if item.bytes else ""
        typer.echo(f"{item.status:8} {item.dataset:12} {item.path} {size}".rstrip())
    skipped = sorted({item.dataset for item in report if item.status == "skipped"})
    if skipped:
        typer.echo(f"skipped {', '.join(skipped)}: no upstream revision pinned (toolrouter data list)")


if __name__ == "__main__":
    app()
