"""MetaTool loader (on small copies written here, and the shared folder when present), the tool
split, and the benchmark section at toy size."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
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


def test_subset_of_one_name_given_as_a_string_is_that_tool(tmp_path: Path):
    # it was read as the tools "M", "a", "i", "l", ... and refused, naming letters
    sub = load_metatool(write(tmp_path)).subset("MailTool")
    assert list(sub.tools) == ["MailTool"] and sub.queries == ("Send Bob the report, please",)


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


@pytest.mark.parametrize(
    ("file", "content", "match"),
    [
        ("tools.json", b'{"A": "caf\xe9"}', r"tools.json: not UTF-8 text \(byte 0xe9"),
        ("queries.csv", b"query,tool\ncaf\xe9,A\n", r"queries.csv: not UTF-8 text \(byte 0xe9"),
        ("queries.csv", b"query,tool\nhello, world,A\n", r"queries.csv: row 2: 3 cells, the header names 2 \(quote a query"),
        ("queries.csv", b'query,tool\n"' + b"x" * 200_000 + b'",A\n', r"queries.csv: not a readable CSV file \(field larger"),
    ],
)
def test_unreadable_files_name_the_file(tmp_path: Path, file: str, content: bytes, match: str):
    folder = write(tmp_path, tools={"A": "desc"}, rows=[("q", "A")])
    (folder / file).write_bytes(content)
    with pytest.raises(ValueError, match=match):
        load_metatool(folder)


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
    vars(args).update(section.QUICK)  # --quick's toy sizes, as the suite gives them
    args.quick, args.seeds, args.data, args.threads = True, 1, str(SHARED), 1
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        section.run(args)
    finally:
        torch.set_num_threads(previous)
    out = capsys.readouterr().out
    assert "options tried on the tuning group (10 tools, group seed 0; 5 new, the rest old" in out
    assert "| refine_steps=0, known_tool_weight=1 |" in out and out.count("| chosen |") == 1
    for title in ("new tools only", "old tools kept: the new tools' requests", "before and after the new tools are added", "no tool fits"):
        assert title in out
    for k in ("0", "1", "5", "20"):
        for method in ("mean embedding", "selector, uncalibrated", "selector"):
            assert f"| {k} | {method} |" in out
    # the per-seed dump holds every (method, scenario, K) of the tables, with the seed, for pooling runs
    dump = json.loads((tmp_path / "mt.json").read_text())
    runs = [r for r in dump["runs"] if "scenario" in r]
    assert {(r["method"], r["k"], r["scenario"]) for r in runs} == {
        (m, k, sc) for m in ("mean embedding", "selector, uncalibrated", "selector") for k in (0, 1, 5, 20)
        for sc in ("new_only", "old_kept_new", "old_kept_old")}
    assert {r["seed"] for r in runs} == {0} and all(0.0 <= r["top1_micro"] <= 1.0 for r in runs)
    assert all(0.0 <= r["auroc"] <= 1.0 for r in dump["runs"] if "auroc" in r)
    assert set(dump["chosen"]) == {"refine_steps", "known_tool_weight"} and 0.0 <= dump["threshold"] <= 1.0


def test_the_benchmark_auroc_counts_ties_as_half():
    from toolrouter.bench._meta_router_metatool import _auroc

    assert _auroc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert _auroc(np.array([0.1]), np.array([0.9])) == 0.0
    assert _auroc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5
