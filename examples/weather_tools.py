"""The toolbox the examples share: one capability, ``get_weather``, served by two backends.

``weather_api`` is cheap and fast but flaky (it fails about half its calls, drawn from a seeded
generator so that every run is the same); ``weather_mirror`` is dearer and dependable. The
router starts out preferring the API on its advertised profile, falls back to the mirror when the
API fails, and learns from each attempt which one to call first. Both stand in for HTTP weather
services with a small table, so that the examples run offline.

``run_questions`` puts the examples' questions to a model and then prints what the router learned
(``print_learned``: ``learner.tool_statistics()`` of the toolbox's middleware).
"""

from __future__ import annotations

import random
from collections.abc import Callable

from integrations import Toolbox

__all__ = ["QUESTIONS", "make_toolbox", "print_learned", "run_questions"]

_WEATHER = {
    "Oslo": ("light rain", 7),
    "Rome": ("sunny", 24),
    "Lima": ("overcast", 18),
    "Cairo": ("clear", 31),
    "Tokyo": ("showers", 21),
    "Quito": ("thunderstorms", 15),
    "Perth": ("windy", 19),
    "Paris": ("partly cloudy", 16),
}

#: The requests the examples send to the model, one conversation each.
QUESTIONS = [f"What's the weather in {city}?" for city in _WEATHER]


def _forecast(city: str) -> dict:
    sky, temp_c = _WEATHER.get(city.split(",")[0].strip(), ("unknown", None))  # "Oslo, Norway" too
    return {"city": city, "sky": sky, "temp_c": temp_c}


def make_toolbox(seed: int = 0) -> Toolbox:
    """A ``Toolbox`` (a new router, seeded) whose ``get_weather`` has a flaky and a dependable
    backend."""
    toolbox = Toolbox(seed=seed)
    outages = random.Random(seed)

    # the profile says what the backend advertises; the router learns how it really does
    @toolbox.tool("get_weather", cost_per_use=0.001, reliability=0.99, expected_latency_s=0.1)
    def weather_api(city: str) -> dict:
        """The current weather in a city: sky and temperature.

        Args:
            city: The city's name in English, for example "Oslo".
        """
        if outages.random() < 0.5:
            raise ConnectionError("weather api: 503 Service Unavailable")
        return _forecast(city)

    @toolbox.tool("get_weather", cost_per_use=0.01, reliability=0.9, expected_latency_s=0.5)
    def weather_mirror(city: str) -> dict:
        return _forecast(city)

    return toolbox


def print_learned(toolbox: Toolbox) -> None:
    """Print what the router learned about each backend (``learner.tool_statistics()``)."""
    print("\nWhat the router learned:")
    print(f"  {'tool':<18}{'calls':>6}{'ok':>5}{'success':>9}{'expected utility':>18}")
    for tool_id, stats in toolbox.middleware.learner.tool_statistics().items():
        expected = "n/a" if stats.expected_utility is None else f"{stats.expected_utility:.2f}"
        success = f"{stats.success_rate:.0%}" if stats.calls else "n/a"  # never called: no rate, not 0%
        print(f"  {tool_id:<18}{stats.calls:>6}{stats.successes:>5}{success:>9}{expected:>18}")


def run_questions(ask: Callable[[Toolbox, str], str]) -> None:
    """Put each of ``QUESTIONS`` to a model, in a conversation of its own, with ``ask(toolbox,
    question)`` (which returns the model's answer) and a new toolbox; print the answers, then what
    the router learned."""
    toolbox = make_toolbox()
    for question in QUESTIONS:
        print(f"Q: {question}\nA: {ask(toolbox, question)}")
    print_learned(toolbox)
