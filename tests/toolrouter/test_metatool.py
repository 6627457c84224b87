"""MetaTool loader (on small copies written here, and the shared folder when present), the tool
split, and the benchmark section at toy size."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import torch

from toolrouter.data.metatool import MetaToolData, load_metatool

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"

TOOLS = {
    "WeatherTool": "Weather forecasts for any city.",
    "MapTool": "Directions, routes and places nearby.",
    "MailTool": "Write and send emails.",
    "EmptyTool": "A tool nobody asked for.",
}
ROWS = [
    ("Will it rain in Paris tomorrow?", "WeatherTool"),
    ("Forecast for Oslo this weekend", "WeatherTool"),
    ("Forecast for Oslo this weekend", "WeatherTool"),  # repeat
    ('How do I get to the airport, "fast"?', "MapTool"),
    ("Send Bob the report, please", "MailTool"),
]


def write(folder: Path, tools: object = TOOLS, rows: list[tuple[str, str]] = ROWS, header: str = "query,tool") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tools.json").write_text(json.dumps(tools), encoding="utf-8")
    import csv

    with (folder / "queries.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return folder


def test_loads_tools_and_queries(tmp_path: Path):
    data = load_metatool(write(tmp_path))
    assert data.tools == TOOLS and data.tool_names == list(TOOLS)
    assert len(data) == 4  # the repeated row is dropped
    assert data.queries[2] == 'How do I get to the airport, "fast"?'
    assert data.labels == ("WeatherTool", "WeatherTool", "MapTool", "MailTool")
    assert data.counts() == {"WeatherTool": 2, "MapTool": 1, "MailTool": 1, "EmptyTool": 0}
    assert data.queries_by_tool()["WeatherTool"] == ["Will it rain in Paris tomorrow?", "Forecast for Oslo this weekend"]
    assert len(load_metatool(tmp_path, drop_duplicates=False)) == 5


def test_subset_keeps_only_named_tools(tmp_path: Path):
    sub = load_metatool(write(tmp_path)).subset(["MailTool", "WeatherTool"])
    assert list(sub.tools) == ["MailTool", "WeatherTool"]
    assert set(sub.labels) == {"MailTool", "WeatherTool"} and len(sub) == 3
    with pytest.raises(KeyError, match="Nope"):
        sub.subset(["Nope"])


def _many_tools(n: int = 10) -> MetaToolData:
    tools = {f"t{i}": f"tool number {i}" for i in range(n)}
    rows = [(f"query {j} for t{i}", f"t{i}") for i in range(n) for j in range(i % 3 + 1)]
    return MetaToolData(tools=tools, queries=tuple(q for q, _ in rows), labels=tuple(t for _, t in rows))


def test_split_is_deterministic_disjoint_and_complete():
    data = _many_tools()
    train, held = data.split_tools(seed=3, held_out=3)
    assert (train, held) == data.split_tools(seed=3, held_out=3)
    assert len(held) == 3 and not set(train) & set(held) and set(train) | set(held) == set(data.tools)
    assert train == sorted(train) and held == sorted(held)
    assert any(data.split_tools(seed=s, held_out=3)[1] != held for s in range(4, 10))
    assert len(data.split_tools(seed=0, held_out=0.5)[1]) == 5
    # min_queries leaves tools with too few requests out of both parts
    train2, held2 = data.split_tools(seed=0, held_out=2, min_queries=2)
    assert set(train2) | set(held2) == {t for t, c in data.counts().items() if c >= 2}


@pytest.mark.parametrize(
    ("held_out", "exc", "match"),
    [(0, ValueError, "held_out"), (10, ValueError, "held_out"), (1.5, ValueError, "held_out"), ("3", TypeError, "held_out")],
)
def test_split_rejects_bad_sizes(held_out, exc, match):
    with pytest.raises(exc, match=match):
        _many_tools().split_tools(seed=0, held_out=held_out)


def test_split_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed"):
        _many_tools().split_tools(seed=-1)


def test_missing_folder_and_files(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="no MetaTool folder"):
        load_metatool(tmp_path / "absent")
    folder = write(tmp_path / "a")
    (folder / "queries.csv").unlink()
    with pytest.raises(FileNotFoundError, match="queries.csv"):
        load_metatool(folder)
    folder = write(tmp_path / "b")
    (folder / "tools.json").unlink()
    with pytest.raises(FileNotFoundError, match="tools.json"):
        load_metatool(folder)


def test_query_with_unknown_tool_names_row_and_tool(tmp_path: Path):
    folder = write(tmp_path, rows=ROWS + [("Translate this", "TranslateTool")])
    with pytest.raises(ValueError, match=r"row 7: field tool 'TranslateTool' is not in tools.json"):
        load_metatool(folder)


@pytest.mark.parametrize(
    ("tools", "rows", "header", "match"),
    [
        ({"A": ""}, [("q", "A")], "query,tool", "tool 'A': description must be a non-empty string"),
        ({"A": 3}, [("q", "A")], "query,tool", "tool 'A': description"),
        (["A"], [("q", "A")], "query,tool", "expected a non-empty JSON object"),
        ({"A": "desc"}, [("q", "A")], "text,tool", r"missing column\(s\) \['query'\]"),
        ({"A": "desc"}, [("  ", "A")], "query,tool", "row 2: field query is empty"),
        ({"A": "d", "B": "e"}, [("q", "A"), ("q", "B")], "query,tool", "row 3: query 'q' is labelled 'B' here and 'A' earlier"),
        ({"A": "desc"}, [], "query,tool", "no queries"),
    ],
)
def test_malformed_files_name_the_problem(tmp_path: Path, tools, rows, header, match):
    with pytest.raises(ValueError, match=match):
        load_metatool(write(tmp_path, tools=tools, rows=rows, header=header))


def test_invalid_json_names_the_file(tmp_path: Path):
    folder = write(tmp_path)
    (folder / "tools.json").write_text('{"A": "x",', encoding="utf-8")
    with pytest.raises(ValueError, match=r"tools.json: not valid JSON \(line 1"):
        load_metatool(folder)


@pytest.mark.skipif(not (SHARED / "metatool").is_dir(), reason="shared MetaTool data not present")
def test_real_metatool_folder():
    data = load_metatool(SHARED / "metatool")
    counts = data.counts()
    assert len(data.tools) == 100 and 10_000 < len(data) < 10_300
    assert min(counts.values()) == 12 and max(counts.values()) > 1000  # the imbalance the docs warn of
    assert all(t in data.tools for t in set(data.labels))
    train, held = data.split_tools(seed=0, held_out=30, min_queries=2)
    assert len(held) == 30 and len(train) == 70


@pytest.mark.skipif(not (SHARED / "metatool").is_dir(), reason="shared MetaTool data not present")
def test_benchmark_section_runs_at_toy_size(capsys, tmp_path: Path):
    from toolrouter.bench import _meta_router_metatool as section

    parser = argparse.ArgumentParser()
    section.add_arguments(parser.add_argument_group("metatool"))
    args = parser.parse_args(["--mt-featurizer", "hashing", "--mt-json", str(tmp_path / "mt.json")])
    args.quick, args.seeds, args.data, args.threads = True, 1, str(SHARED), 1
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        section.run(args)
    finally:
        torch.set_num_threads(previous)
    out = capsys.readouterr().out
    assert "6-way over held-out tools" in out and "selector, trained" in out and "mean embedding (hashing)" in out
    for k in ("0", "1", "5", "20"):
        assert f"| {k} | selector, trained |" in out
    # the per-seed dump holds every (method, K) of the table, with the seed, for pooling runs
    runs = json.loads((tmp_path / "mt.json").read_text())["runs"]
    assert {(r["method"], r["k"]) for r in runs} == {(m, k) for m in ("mean embedding (hashing)", "selector, untrained", "selector, trained") for k in (0, 1, 5, 20)}
    assert {r["seed"] for r in runs} == {0} and all(0.0 <= r["top1_micro"] <= r["top5_micro"] <= 1.0 for r in runs)


MULTI_ROWS = [
    ("Will it rain in Paris tomorrow?", "WeatherTool"),
    ("Directions to the beach and the weather there", "MapTool"),
    ("Send Bob the report, please", "MailTool"),
    ("Directions to the beach and the weather there", "WeatherTool"),
    ("Directions to the beach and the weather there", "MapTool"),  # a repeat of its first label
]


def test_a_request_with_two_labels_is_refused_by_default(tmp_path: Path):
    with pytest.raises(ValueError, match=r"row 5: query 'Directions to the beach.*' is labelled 'WeatherTool' here and 'MapTool' earlier.*multi_label"):
        load_metatool(write(tmp_path, rows=MULTI_ROWS))
    with pytest.raises(ValueError, match="multi_label: expected 'error', 'keep' or 'drop', got 'both'"):
        load_metatool(tmp_path, multi_label="both")  # type: ignore[arg-type]


def test_a_kept_multi_label_request_is_served_by_either_tool(tmp_path: Path):
    data = load_metatool(write(tmp_path, rows=MULTI_ROWS), multi_label="keep")
    assert data.queries == ("Will it rain in Paris tomorrow?", "Directions to the beach and the weather there", "Send Bob the report, please")
    assert data.labels == ("WeatherTool", "MapTool", "MailTool") and data.multi_label_dropped == 0
    assert [data.served_by(i) for i in range(3)] == [("WeatherTool",), ("MapTool", "WeatherTool"), ("MailTool",)]
    # a subset keeps only the other labels that are still tools
    sub = data.subset(["MapTool", "MailTool"])
    assert sub.served_by(0) == ("MapTool",) and len(sub) == 2


def test_dropped_multi_label_requests_are_counted(tmp_path: Path):
    data = load_metatool(write(tmp_path, rows=MULTI_ROWS), multi_label="drop")
    assert data.queries == ("Will it rain in Paris tomorrow?", "Send Bob the report, please")
    assert data.multi_label_dropped == 1 and data.served_by(1) == ("MailTool",)
    with pytest.raises(ValueError, match=r"no queries \(1 multi-label requests dropped\)"):
        load_metatool(write(tmp_path / "only", rows=MULTI_ROWS[1:2] + MULTI_ROWS[3:4]), multi_label="drop")


@pytest.mark.parametrize(
    ("text", "first", "second"),
    [
        ('{"WeatherTool": "a", "weathertool": "b"}', "WeatherTool", "weathertool"),
        ('{"Weather Tool": "a", "MapTool": "m", "WeatherTool": "b"}', "Weather Tool", "WeatherTool"),
        ('{"MapTool": "a", "MapTool": "b"}', "MapTool", "MapTool"),
    ],
)
def test_tool_names_equal_up_to_case_or_spacing_are_refused_naming_both(tmp_path: Path, text, first, second):
    folder = write(tmp_path)
    (folder / "tools.json").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"tools.json: tool names '{first}' and '{second}' differ only in case or spacing"):
        load_metatool(folder)
