"""``toolrouter demo --store URL`` on a store another router uses: the demo removed that router's
tools (they are not of its simulated world) and saved its own state over that router's snapshot.
It now refuses such a store, naming it, and leaves it as it was."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.cli import app
from toolrouter.demo import run_demo


def _router_store(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    with ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], store=url, policy="gaussian_ts") as router:
        router.learn_from_execution(TaskProfile(task_id="t", required_capabilities=["search"]), [ExecutionResult(tool_id="web", step="search", success=True)])
        router.save()
    return url


def test_the_demo_refuses_another_routers_store_and_leaves_it_as_it_was(tmp_path) -> None:
    url = _router_store(tmp_path)
    with pytest.raises(ValueError, match=r"store: .*router\.db holds tools the demo does not make \(\['web'\]\)"):
        run_demo(calls=5, store=url, progress=False)

    with ToolMetaLearner(store=url) as router:
        assert list(router.tools) == ["web"] and router.tool_statistics()["web"].calls == 1


def test_the_cli_names_the_store_option(tmp_path) -> None:
    result = CliRunner().invoke(app, ["demo", "--calls", "5", "--store", _router_store(tmp_path)], terminal_width=300)
    assert result.exit_code == 2 and "holds tools the demo does not make" in result.output


def test_a_demo_store_still_resumes(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = run_demo(calls=10, store=url, progress=False)
    again = run_demo(calls=10, store=url, progress=False)
    assert sum(r.calls for r in again.rows) == first.attempts + again.attempts
