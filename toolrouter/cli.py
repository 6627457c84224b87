"""The ``toolrouter`` command: ``demo``, ``stats`` and ``bench``."""

from __future__ import annotations

import typer

from toolrouter.bench import available_suites, run_suite

app = typer.Typer(help="toolrouter: tool-routing middleware for AI agents.", no_args_is_help=True)


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    help="Run a benchmark suite; options after the suite name go to it (--help lists them).",
)
def bench(ctx: typer.Context, suite: str = typer.Argument(..., help="Suite name.")) -> None:
    if suite not in available_suites():
        raise typer.BadParameter(f"unknown suite {suite!r}; choose from {available_suites()}")
    run_suite(suite, list(ctx.args))


if __name__ == "__main__":
    app()
