"""``run_demo`` checks its options before it runs: bad input names the option and the value."""

import pytest

from toolrouter.demo import run_demo


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"calls": "5"}, "calls: expected an integer >= 1, got '5'"),
        ({"calls": 2.5}, "calls: expected an integer >= 1, got 2.5"),
        ({"calls": True}, "calls: expected an integer >= 1, got True"),
        ({"n_tools": "3"}, "n_tools: expected an integer >= 1, got '3'"),
        ({"policy": ["ucb1"]}, "policy: unknown policy ['ucb1']"),
        ({"capabilities": ["search", ""]}, "capabilities: expected non-empty strings"),
    ],
)
def test_bad_options_name_the_option(options, message):
    with pytest.raises(ValueError) as info:
        run_demo(**{"calls": 3, "progress": False, **options})
    assert message in str(info.value)


def test_a_string_is_one_capability():
    # not one capability per character
    report = run_demo(calls=4, n_tools=2, capabilities="search", progress=False)
    assert {r.capability for r in report.rows} == {"search"}
    assert len(report.rows) == 2
