"""Every Python example in README.md runs as written, and shows the values it gives."""

import ast
import contextlib
import doctest
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
# a comment that shows a value (a literal or a repr), not one that explains the line
SHOWN = re.compile(r"""[\[{('"]|[A-Z]\w*\(""")


def test_readme_has_examples():
    assert len(BLOCKS) >= 3


def _run(block: str, name: str) -> None:
    """Run ``block`` statement by statement; an expression statement ending in a comment that shows a
    value must give that value (its repr; ``...`` matches anything), and a ``print`` ending in a
    comment must print it."""
    lines = block.splitlines()
    namespace = {"__name__": "readme"}
    for node in ast.parse(block).body:
        comment = lines[node.end_lineno - 1].partition("  #")[2].strip()
        expression = node.value if isinstance(node, ast.Expr) else None
        is_print = isinstance(expression, ast.Call) and getattr(expression.func, "id", None) == "print"
        shown = comment if is_print or (expression is not None and SHOWN.match(comment)) else ""
        if not shown:
            exec(compile(ast.Module([node], []), name, "exec"), namespace)
            continue
        if is_print:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                exec(compile(ast.Module([node], []), name, "exec"), namespace)
            got = out.getvalue().strip()
        else:
            got = repr(eval(compile(ast.Expression(expression), name, "eval"), namespace))
        assert doctest.OutputChecker().check_output(shown + "\n", got + "\n", doctest.ELLIPSIS), (
            f"{name}, line {node.end_lineno}: shows {shown}, gives {got}"
        )


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may create a store or save files in the working directory
    _run(BLOCKS[index], f"README.md[python block {index}]")


def test_readme_gateway_config_loads(tmp_path, monkeypatch):
    # the MCP gateway's example config, as the gateway reads it (its servers are not started)
    pytest.importorskip("mcp")
    monkeypatch.setenv("SEARCH_API_KEY", "sk-example")  # the config names it
    from integrations.mcp.config import load_config

    (toml,) = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    (tmp_path / "gateway.toml").write_text(toml, encoding="utf-8")
    config = load_config(tmp_path / "gateway.toml")
    assert sorted(config.servers) == ["intranet", "legacy", "search_a", "search_b"]
    assert config.servers["legacy"].transport == "sse"
    assert config.servers["search_a"].env == {"SEARCH_API_KEY": "sk-example"}
    assert config.router.store == f"sqlite:///{tmp_path / 'gateway.db'}"  # relative to the config file
    assert config.grouping.capabilities["web_search"].tools == ["search_a:search", "search_b:web_query"]


def test_the_quick_start_is_what_ci_runs():
    # the README's promise (this set-up runs the demo, and the tests) holds only if CI runs exactly it
    quick_start = README.read_text(encoding="utf-8").partition("## Quick start")[2].partition("\n## ")[0]
    commands = [block.strip() for block in re.findall(r"```bash\n(.*?)```", quick_start, flags=re.S)]
    ci = (README.parent / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    # a chain of commands ends in `|| exit 1` there: set -e stops at its last command only
    run = [line.strip().removesuffix(" || exit 1") for line in ci if line.strip() and not line.lstrip().startswith("#")]
    demo_install, _, demo = commands[0].partition(" && ")
    assert commands[1] in run and demo in run, f"{commands} are not what .ci/run runs: {run}"
    assert demo_install.replace("-e .", '-e ".[dev]"') in commands[1]  # the tests' install, less the dev extra


def test_the_readme_names_every_dataset_data_fetch_downloads():
    from toolrouter.data.manifest import DATASETS

    text = " ".join(README.read_text(encoding="utf-8").split())
    (listed,) = re.findall(r"`toolrouter data fetch \[NAME \.\.\.\]` downloads the public datasets \(([^)]*)\)", text)
    assert sorted(name.strip().lower().replace("-", "") for name in listed.split(",")) == sorted(DATASETS)
