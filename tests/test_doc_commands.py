"""Every command line the documentation shows names a command, a benchmark suite and options that
exist: README.md, BENCHMARKS.md and docs/ (what the options do is the suites' and commands' own tests')."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import typer

from toolrouter.bench import available_suites
from toolrouter.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "BENCHMARKS.md", *sorted((ROOT / "docs").rglob("*.md"))]
# a command runs to the end of its line (or shell comment); a trailing backslash continues it
COMMAND = re.compile(r"(?:^|&&)[ \t]*toolrouter ((?:mcp |data )?[a-z][a-z-]*)((?:[^#|\n\\]|\\\n)*)", flags=re.M)
OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z0-9-]*)")


def code(text: str) -> str:
    """The code blocks and spans of a Markdown text (prose may say "toolrouter" too)."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return "\n".join(blocks + spans)


def commands() -> list[tuple[str, str, list[str]]]:
    found = []
    for doc in DOCS:
        for match in COMMAND.finditer(code(doc.read_text(encoding="utf-8"))):
            words = match.group(2).split()
            name = match.group(1)
            if name == "bench":
                if not words or not re.fullmatch(r"[a-z][a-z-]*", words[0]):
                    continue  # `toolrouter bench SUITE`, `toolrouter bench <suite>`: the placeholder
                name, words = f"bench {words[0]}", words[1:]
            found.append((doc.relative_to(ROOT).as_posix(), name, OPTION.findall(" ".join(words))))
    return found


def options_of(name: str) -> set[str]:
    if name.startswith("bench "):
        suite = name.split()[1]
        assert suite in available_suites(), f"no benchmark suite {suite!r}"
        parser = importlib.import_module(f"toolrouter.bench.{suite.replace('-', '_')}").build_parser()
        return {option for action in parser._actions for option in action.option_strings}
    command = typer.main.get_command(app)
    for word in name.split():
        assert word in command.commands, f"no command 'toolrouter {name}'"
        command = command.commands[word]
    return {option for param in command.params for option in param.opts + param.secondary_opts} | {"--help"}


def test_the_docs_show_commands() -> None:
    assert len(commands()) > 50


@pytest.mark.parametrize("name", sorted({name for _, name, _ in commands()}))
def test_every_documented_option_exists(name: str) -> None:
    known = options_of(name)
    unknown = {(doc, option) for doc, command, options in commands() if command == name for option in options if option not in known}
    assert not unknown, f"toolrouter {name}: no such options {sorted(unknown)}"
