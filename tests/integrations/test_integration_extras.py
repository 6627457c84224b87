"""The import rules of ``integrations``: the core never imports it, it imports no framework until a
provider module is used, and a missing framework names its extra."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from integrations._extras import require

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("openai", "anthropic", "langchain", "langchain_core")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_core_never_imports_integrations() -> None:
    done = run_python(
        "import sys, toolrouter, toolrouter.middleware, toolrouter.cli, meta, adapters_lib\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'integrations'))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_package_imports_no_framework() -> None:
    done = run_python(
        "import sys, integrations, integrations.schema, integrations.dispatch, integrations.toolbox\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FRAMEWORKS!r}))"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("framework", ["openai", "anthropic"])
def test_a_missing_framework_names_its_extra(framework: str) -> None:
    done = run_python(
        f"import sys\nsys.modules[{framework!r}] = None  # as if not installed\n"
        "import integrations\n"
        f"try:\n    import integrations.{framework}\nexcept ImportError as exc:\n    print(exc)\n"
        "else:\n    print('imported')"
    )
    assert done.returncode == 0, done.stderr
    assert f'pip install "toolrouter[{framework}]"' in done.stdout
    assert f"{framework!r} cannot be imported" in done.stdout


def test_require_returns_the_module_or_names_the_extra() -> None:
    assert require("json", "any") is importlib.import_module("json")
    with pytest.raises(ImportError, match=r'pip install "toolrouter\[langchain\]"') as info:
        require("a_module_that_is_not_installed_here", "langchain")
    assert info.value.name == "a_module_that_is_not_installed_here"
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
