"""The examples in ``examples/`` run offline as written: each runs in a subprocess without provider
keys (so against its scripted model), every question gets its tool's answer, and what the router
prints at the end matches what happened: the flaky backend failed, the other answered instead, and
the router learned to prefer it."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from provider_stub import offline

pytestmark = pytest.mark.timeout(600)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROVIDER_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_MODEL", "ANTHROPIC_MODEL", "LANGCHAIN_MODEL")
WEATHER = {"Oslo": "light rain", "Rome": "sunny", "Lima": "overcast", "Cairo": "clear", "Tokyo": "showers",
           "Quito": "thunderstorms", "Perth": "windy", "Paris": "partly cloudy"}  # fmt: skip
ROW = re.compile(r"^  (\w+) +(\d+) +(\d+) +(\d+%|n/a) +(\S+)$", re.M)


def run_example(name: str) -> str:
    """Run ``examples/<name>`` as a user would, without keys; its standard output."""
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_VARIABLES and not k.lower().endswith("_proxy")}
    # a request that leaves the machine goes to a proxy that is not there, and fails at once
    env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", NO_PROXY="127.0.0.1,localhost")
    # the checkout's packages, as an install provides them
    env.update(HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def learned(output: str) -> dict[str, dict[str, float | None]]:
    """The table the example prints last: per tool, calls, successes and expected utility."""
    table = output.split("What the router learned:")[1]
    return {
        tool: {"calls": int(calls), "ok": int(ok), "expected": None if expected == "n/a" else float(expected)}
        for tool, calls, ok, _, expected in ROW.findall(table)
    }


def assert_weather_learned(stats: dict[str, dict[str, float | None]], questions: int) -> None:
    api, mirror = stats["weather_api"], stats["weather_mirror"]
    assert api["ok"] + mirror["ok"] == questions  # one success per question
    assert api["calls"] > api["ok"] >= 1  # the flaky API failed sometimes...
    assert mirror["calls"] == mirror["ok"] >= 1  # ...and the mirror answered instead
    assert mirror["expected"] > api["expected"]  # the router learned which to prefer


@pytest.mark.parametrize("name", ["openai_tools.py", "anthropic_tools.py"])
def test_provider_example_answers_every_question_and_learns(name: str) -> None:
    output = run_example(name)
    answers = re.findall(r"^Q: What's the weather in (\w+)\?\nA: (.*)$", output, re.M)
    assert [city for city, _ in answers] == list(WEATHER)
    for city, answer in answers:
        assert re.fullmatch(rf'The tools say: {{"city":"{city}","sky":"{WEATHER[city]}","temp_c":\d+}}', answer), answer
    assert_weather_learned(learned(output), questions=len(WEATHER))


def test_langchain_example_shortlists_routes_and_learns() -> None:
    output = run_example("langchain_agent.py")
    turns = re.findall(r"^Q: (.*)\n   tools shown: (.*)\nA: (.*)$", output, re.M)
    assert len(turns) == 8
    wanted = {"weather": "get_weather", "EUR": "convert_currency", "USD": "convert_currency",
              "Search": "web_search", "Email": "send_email"}  # fmt: skip
    for question, shown, answer in turns:
        capability = next(c for word, c in wanted.items() if word in question)
        assert len(shown.split(", ")) == 2 and capability in shown.split(", "), (question, shown)
        assert answer.startswith("The tools say: ") and "failed" not in answer, (question, answer)
    assert 'The tools say: {"city":"Oslo","sky":"light rain","temp_c":7}' in output
    assert 'The tools say: {"amount":2875.0,"currency":"NOK"}' in output
    assert "The tools say: sent to ann@example.com" in output
    stats = learned(output)
    assert_weather_learned(stats, questions=sum("weather" in q for q, _, _ in turns))
    assert {tool: s["calls"] for tool, s in stats.items() if not tool.startswith("weather")} == {
        "exchange_rates": 2, "search": 1, "mail": 1, "translate": 0,
    }  # fmt: skip


@pytest.mark.parametrize("server", [offline.openai_server, offline.anthropic_server])
def test_the_scripted_server_stands_in_only_without_the_key(server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXAMPLE_PROVIDER_KEY", "sk-set")
    with server(unless_set="EXAMPLE_PROVIDER_KEY") as base_url:
        assert base_url is None  # the example builds the provider's own client
    monkeypatch.delenv("EXAMPLE_PROVIDER_KEY")
    with server(unless_set="EXAMPLE_PROVIDER_KEY") as base_url:
        assert base_url is not None and base_url.startswith("http://127.0.0.1:")


def test_a_backend_never_called_shows_no_success_rate(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # it read "0%", as if it had failed every call it never got
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import weather_tools

    toolbox = weather_tools.make_toolbox()
    toolbox.middleware.call("get_weather", city="Oslo")
    weather_tools.print_learned(toolbox)
    rates = {tool: (calls, ok, rate) for tool, calls, ok, rate, _ in ROW.findall(capsys.readouterr().out)}
    called = [tool for tool, (calls, _, _) in rates.items() if calls != "0"]
    assert len(rates) == 2 and len(called) >= 1, rates
    for tool, (calls, ok, rate) in rates.items():
        assert rate == (f"{int(ok) / int(calls):.0%}" if tool in called else "n/a"), rates
