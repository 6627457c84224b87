"""`toolrouter data fetch`: download from a local HTTP server (127.0.0.1) or file:// copies, check
sha256, convert from each upstream format, read with the real loaders; mismatches, interrupted
downloads, re-fetches, the cache folder, the CLI, and benchmarks without their data. Nothing here
reaches beyond this machine."""

from __future__ import annotations

import copyreg
import csv
import functools
import hashlib
import http.server
import io
import json
import math
import pickle
import random
import re
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from meta.data.nasbench201 import load_nasbench201
from meta.data.omniglot import load_omniglot
from toolrouter.bench import run_suite
from toolrouter.cli import app
from toolrouter.data import (
    ChecksumError,
    DatasetMissingError,
    DownloadError,
    data_dir,
    fetch,
    load_metatool,
    load_routerbench,
)
from toolrouter.data import manifest
from toolrouter.data.convert import (
    UpstreamFormatError,
    copy_file,
    metatool_from_upstream,
    nasbench201_from_pickle,
    read_pandas_pickle,
    routerbench_from_routerdc,
)
from toolrouter.data.fetch import Dataset, OutputFile, Part, UpstreamFile, dataset_status

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
REV = "0123456789abcdef0123456789abcdef01234567"
runner = CliRunner()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the upstream formats, written small ---------------------------------------------------------


def omniglot_zip(top: str, alphabets: dict[str, int], drawers: int = 2, seed: int = 0) -> bytes:
    """A zip in the published layout: TOP/ALPHABET/characterNN/DRAWER.png (105x105 greyscale)."""
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for alphabet, characters in alphabets.items():
            for c in range(1, characters + 1):
                for d in range(1, drawers + 1):
                    pixels = np.where(rng.random((105, 105)) < 0.1, 0, 255).astype(np.uint8)
                    png = io.BytesIO()
                    Image.fromarray(pixels, mode="L").save(png, format="PNG")
                    archive.writestr(f"{top}/{alphabet}/character{c:02d}/{c:02d}{d:02d}_{d:02d}.png", png.getvalue())
    return buf.getvalue()


# A DataFrame pickled the way pandas 0.25 to 2.x does (the BlockManager's "0.14.1" state), spelled
# with stand-ins whose pickled names are then rewritten to pandas' own; pandas is not needed.
class _LegacyFrame:
    def __init__(self, manager: object) -> None:
        self.manager = manager

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return copyreg.__newobj__, (type(self),), {"_data": self.manager, "_typ": "dataframe", "_metadata": []}


class _LegacyManager:
    def __init__(self, state: tuple) -> None:
        self.state = state

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return copyreg.__newobj__, (type(self),), self.state


class _LegacyIndex:
    pass


class _LegacyRangeIndex:
    pass


def _new_Index(cls: type, d: dict) -> dict:  # noqa: N802 (pandas' name)
    return d


class _IndexData:
    def __init__(self, cls: type, d: dict) -> None:
        self.cls, self.d = cls, d

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return _new_Index, (self.cls, self.d), None


def legacy_pandas_pickle(columns: dict[str, np.ndarray]) -> bytes:
    """The bytes of ``pd.DataFrame(columns).to_pickle()`` as pandas 1.x writes them (blocks by dtype)."""
    names = list(columns)
    n = len(next(iter(columns.values())))
    blocks: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        blocks.setdefault(columns[name].dtype.str, []).append(i)
    block_states = []
    for positions in blocks.values():
        values = np.stack([columns[names[i]] for i in positions])
        locs = slice(positions[0], positions[-1] + 1, 1) if positions == list(range(positions[0], positions[-1] + 1)) else np.array(positions)
        block_states.append({"values": values, "mgr_locs": locs})
    axes = [
        _IndexData(_LegacyIndex, {"data": np.array(names, dtype=object), "name": None}),
        _IndexData(_LegacyRangeIndex, {"name": None, "start": 0, "stop": n, "step": 1}),
    ]
    state = (axes, [b["values"] for b in block_states], [None] * len(block_states), {"0.14.1": {"axes": axes, "blocks": block_states}})
    raw = pickle.dumps(_LegacyFrame(_LegacyManager(state)), protocol=3)
    here = _LegacyFrame.__module__.encode()
    for ours, theirs in (
        (b"_LegacyFrame", b"pandas.core.frame\nDataFrame"),
        (b"_LegacyManager", b"pandas.core.internals.managers\nBlockManager"),
        (b"_new_Index", b"pandas.core.indexes.base\n_new_Index"),
        (b"_LegacyIndex", b"pandas.core.indexes.base\nIndex"),
        (b"_LegacyRangeIndex", b"pandas.core.indexes.range\nRangeIndex"),
    ):
        raw = raw.replace(b"c" + here + b"\n" + ours + b"\n", b"c" + theirs + b"\n")
    assert here not in raw
    return raw


NB201_CELLS = (
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
)
NB201_CSV = (
    "arch,cellstr,cifar10-val,cifar10-test\n"
    f"0,{NB201_CELLS[0]},63.3640,69.5500\n"
    f"1,{NB201_CELLS[1]},82.8340,88.2200\n"
)


def nb201_columns() -> dict[str, np.ndarray]:
    """The upstream table's columns, in its order (test before val), two cells."""
    return {
        "arch": np.array([0, 1]),
        "cellstr": np.array(NB201_CELLS, dtype=object),
        "cifar10-test": np.array([69.55, 88.22]),
        "cifar10-val": np.array([63.364, 82.834]),
        "cifar100-test": np.array([40.1, 60.2]),
        "cifar100-val": np.array([39.0, 59.5]),
        "imagenet-test": np.array([20.5, 30.25]),
        "imagenet-val": np.array([19.5, 29.75]),
    }


MODELS = ("org/model-a", "model-b")


def routerdc_csv(prefix: str, rows: int) -> str:
    """RouterDC's layout: index, sample_id, prompt, eval_name, quality per model, answers, costs in
    another model order, the oracle."""
    header = ["", "sample_id", "prompt", "eval_name", *MODELS]
    header += [f"{m}|model_response" for m in MODELS] + [f"{m}|total_cost" for m in reversed(MODELS)]
    header += ["oracle_model_to_route_to"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for i in range(rows):
        writer.writerow(
            [str(100 + i), f"{prefix}.{i}", f"['Question {i}, with a comma']", prefix, "1.0", "0.0",
             "['an answer, \"quoted\"\\nover lines']", "['x']", f"2.5e-0{i + 4}", f"0.00{i + 1}", MODELS[0]]
        )
    return out.getvalue()


def routerbench_expected(prefix: str, rows: int) -> str:
    lines = ["sample_id,eval_name,prompt,quality:org/model-a,quality:model-b,cost:org/model-a,cost:model-b"]
    lines += [f"{prefix}.{i},{prefix},\"['Question {i}, with a comma']\",1.0,0.0,0.00{i + 1},2.5e-0{i + 4}" for i in range(rows)]
    return "\r\n".join(lines) + "\r\n"


METATOOL_DES = {"Dropped": "never asked for", "Zeta": "the z tool", "alpha": "the a tool \u2013 with a dash"}
METATOOL_CSV = 'Query,Tool\nfirst request,Zeta\n"second, with a comma",alpha\nnot kept,Dropped\n"""quoted""",Zeta\n'
METATOOL_TOOLS_JSON = '{\n "alpha": "the a tool \\u2013 with a dash",\n "Zeta": "the z tool"\n}'
METATOOL_QUERIES = 'query,tool\r\nfirst request,Zeta\r\n"second, with a comma",alpha\r\n"""quoted""",Zeta\r\n'

BFCL_JSON = b'{"id": "multiple_0", "question": [[{"role": "user", "content": "hi"}]], "function": []}\n'


def write_upstream(root: Path) -> dict[str, Dataset]:
    """Write every dataset's upstream files under ``root/REPOSITORY/REV/PATH``; the manifest for them.

    Digests pin the upstream bytes where the product does (copies) and, for conversions, the
    expected converted files written out by hand above.
    """

    def put(repository: str, path: str, data: bytes) -> UpstreamFile:
        file = root / repository / REV / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        return UpstreamFile(path)

    def out(path: str, data: bytes) -> OutputFile:
        return OutputFile(path, sha(data), len(data))

    zips = {
        "images_background_small1.zip": omniglot_zip("images_background_small1", {"Greek": 2, "Balinese": 2}),
        "images_background_small2.zip": omniglot_zip("images_background_small2", {"Greek": 2, "Tagalog": 2}, seed=1),
    }
    omniglot = [
        Part((replace(put("o/omniglot", f"python/{n}", z), sha256=sha(z)),), (out(f"omniglot/{n}", z),), copy_file)
        for n, z in zips.items()
    ]
    nas = [Part((put("b/mini", "table.pd", legacy_pandas_pickle(nb201_columns())),), (out("nasbench201/nb201_cifar10.csv", NB201_CSV.encode()),), nasbench201_from_pickle)]
    rb = []
    for ev, upstream_ev in (("mbpp", "mbpp"), ("winogrande", "winograde")):
        for split, rows in (("train", 3), ("test", 2)):
            up = put("s/rdc", f"datasets/routerbench_zs/{upstream_ev}_{split}.csv", routerdc_csv(ev, rows).encode())
            rb.append(Part((up,), (out(f"routerbench/{ev}_{split}.csv", routerbench_expected(ev, rows).encode()),), routerbench_from_routerdc))
    mt = [
        Part(
            (put("h/mt", "dataset/plugin_des.json", json.dumps(METATOOL_DES).encode()), put("h/mt", "dataset/data/all.csv", METATOOL_CSV.encode())),
            (out("metatool/tools.json", METATOOL_TOOLS_JSON.encode()), out("metatool/queries.csv", METATOOL_QUERIES.encode())),
            functools.partial(metatool_from_upstream, tools=("Zeta", "alpha")),
        )
    ]
    bfcl = [Part((replace(put("g/gorilla", "data/BFCL_v4_multiple.json", BFCL_JSON), sha256=sha(BFCL_JSON)),), (out("bfcl/BFCL_v4_multiple.json", BFCL_JSON),), copy_file)]
    specs = {"omniglot": ("o/omniglot", omniglot), "nasbench201": ("b/mini", nas), "routerbench": ("s/rdc", rb), "metatool": ("h/mt", mt), "bfcl": ("g/gorilla", bfcl)}
    return {name: Dataset(name, f"{name} (test copy)", repo, REV, "MIT", tuple(parts)) for name, (repo, parts) in specs.items()}


# --- a local HTTP server -------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        if self.path in self.server.truncate:  # type: ignore[attr-defined]
            body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])  # then the connection closes mid-file
            return
        super().do_GET()


class Server:
    def __init__(self, root: Path) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
        self.httpd.requests = []  # type: ignore[attr-defined]
        self.httpd.truncate = set()  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests  # type: ignore[attr-defined]

    def truncate(self, path: str) -> None:
        self.httpd.truncate.add(path)  # type: ignore[attr-defined]


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, dict[str, Dataset]]:
    root = tmp_path / "upstream"
    return root, write_upstream(root)


@pytest.fixture
def server(upstream: tuple[Path, dict[str, Dataset]]) -> Iterator[Server]:
    srv = Server(upstream[0])
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def leftovers(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.name.startswith(".fetch-")) if cache.exists() else []


# --- fetching ------------------------------------------------------------------------------------


def test_fetch_over_http_converts_and_the_loaders_read_it(upstream, server: Server, tmp_path: Path) -> None:
    _, datasets = upstream
    cache = tmp_path / "cache"
    report = fetch(dest=cache, base_url=server.url, datasets=datasets)
    assert {r.status for r in report} == {"fetched"}
    assert len(server.requests) == sum(len(p.upstream) for d in datasets.values() for p in d.parts)
    assert all(dataset_status(d, cache) == "present" for d in datasets.values())
    assert not leftovers(cache)

    omniglot = load_omniglot(sorted((cache / "omniglot").glob("*.zip")), rotations=(0,))
    assert omniglot.alphabets == ["Balinese", "Greek", "Tagalog"] and omniglot.n_classes == 6

    table = load_nasbench201(cache / "nasbench201" / "nb201_cifar10.csv")
    assert len(table) == 2
    assert table.query(table.cells[1]) == (82.834, 88.22)

    rb = load_routerbench(cache / "routerbench", evals=["winogrande"], splits=["train"])
    assert rb.models == MODELS and len(rb) == 3
    assert rb.prompts[0] == "Question 0, with a comma"
    np.testing.assert_array_equal(rb.quality[:, 0], [1.0, 1.0, 1.0])
    # the upstream lists costs in the other model order: each cost lands on its own model
    np.testing.assert_allclose(rb.cost[:, 0], [0.001, 0.002, 0.003])
    np.testing.assert_allclose(rb.cost[:, 1], [2.5e-4, 2.5e-5, 2.5e-6])

    mt = load_metatool(cache / "metatool")
    assert mt.tool_names == ["alpha", "Zeta"]
    assert mt.queries == ("first request", "second, with a comma", '"quoted"')
    assert mt.labels == ("Zeta", "alpha", "Zeta")

    assert (cache / "bfcl" / "BFCL_v4_multiple.json").read_bytes() == BFCL_JSON


def test_fetch_from_file_urls_and_refetch_downloads_nothing(upstream, server: Server, tmp_path: Path) -> None:
    root, datasets = upstream
    cache = tmp_path / "cache"
    first = fetch(["routerbench", "metatool"], cache, base_url=root.as_uri(), datasets=datasets)
    assert [r.status for r in first] == ["fetched"] * 6
    # present with the right digests: nothing is downloaded, from either source
    again = fetch(["routerbench", "metatool"], cache, base_url=server.url, datasets=datasets)
    assert [r.status for r in again] == ["present"] * 6 and server.requests == []
    # one file changed on disk: only its part is fetched again
    (cache / "routerbench" / "mbpp_test.csv").write_text("edited\n")
    third = fetch(["routerbench"], cache, base_url=server.url, datasets=datasets)
    assert [r.status for r in third] == ["present", "fetched", "present", "present"]
    assert server.requests == [f"/s/rdc/{REV}/datasets/routerbench_zs/mbpp_test.csv"]
    assert load_routerbench(cache / "routerbench", evals=["mbpp"], splits=["test"]).sample_ids == ("mbpp.0", "mbpp.1")


def test_a_download_with_another_digest_is_refused_and_leaves_nothing(upstream, server: Server, tmp_path: Path) -> None:
    root, datasets = upstream
    served = root / "o/omniglot" / REV / "python/images_background_small2.zip"
    expected = sha(served.read_bytes())
    served.write_bytes(served.read_bytes() + b"tampered")
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError) as caught:
        fetch(["omniglot"], cache, base_url=server.url, datasets=datasets)
    message = str(caught.value)
    assert f"{server.url}/o/omniglot/{REV}/python/images_background_small2.zip" in message
    assert expected in message and sha(served.read_bytes()) in message
    assert not (cache / "omniglot" / "images_background_small2.zip").exists()
    assert (cache / "omniglot" / "images_background_small1.zip").is_file()  # the part before the error stays
    assert not leftovers(cache)


def test_a_conversion_with_another_digest_is_refused(upstream, server: Server, tmp_path: Path) -> None:
    _, datasets = upstream
    part = datasets["nasbench201"].parts[0]
    wrong = replace(part, outputs=(replace(part.outputs[0], sha256="0" * 64),))
    datasets = {"nasbench201": replace(datasets["nasbench201"], parts=(wrong,))}
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError, match=rf"nasbench201/nb201_cifar10.csv \(converted from {server.url}/b/mini/{REV}/table.pd\): sha256 mismatch: expected 0{{64}}, got {sha(NB201_CSV.encode())}"):
        fetch(None, cache, base_url=server.url, datasets=datasets)
    assert not (cache / "nasbench201").exists() and not leftovers(cache)


def test_an_interrupted_download_leaves_nothing(upstream, server: Server, tmp_path: Path) -> None:
    _, datasets = upstream
    path = f"/s/rdc/{REV}/datasets/routerbench_zs/winograde_train.csv"
    server.truncate(path)
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError, match=rf"{server.url}{path}: connection closed after \d+ of \d+ bytes"):
        fetch(["routerbench"], cache, base_url=server.url, datasets=datasets)
    assert not (cache / "routerbench" / "winogrande_train.csv").exists()
    assert not leftovers(cache)
    assert sorted(p.name for p in (cache / "routerbench").iterdir()) == ["mbpp_test.csv", "mbpp_train.csv"]


def test_unreachable_files_and_bad_requests_are_named(upstream, server: Server, tmp_path: Path) -> None:
    _, datasets = upstream
    moved = {"bfcl": replace(datasets["bfcl"], repository="g/elsewhere")}
    with pytest.raises(DownloadError, match=rf"{server.url}/g/elsewhere/{REV}/data/BFCL_v4_multiple.json: HTTP 404"):
        fetch(None, tmp_path / "cache", base_url=server.url, datasets=moved)
    with pytest.raises(ValueError, match=r"names: unknown dataset\(s\) \['nope'\]; choose from"):
        fetch(["omniglot", "nope"], tmp_path / "cache", datasets=datasets)
    with pytest.raises(TypeError, match="names"):
        fetch("omniglot", tmp_path / "cache", datasets=datasets)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout_s"):
        fetch(None, tmp_path / "cache", timeout_s=0, datasets=datasets)
    assert server.requests == [f"/g/elsewhere/{REV}/data/BFCL_v4_multiple.json"] and not (tmp_path / "cache" / "omniglot").exists()


def test_a_dataset_without_a_pinned_revision_is_skipped_unless_named(upstream, server: Server, tmp_path: Path) -> None:
    _, datasets = upstream
    unpinned = {"bfcl": replace(datasets["bfcl"], revision=None, note="the commit is not known yet"), "metatool": datasets["metatool"]}
    report = fetch(None, tmp_path / "cache", base_url=server.url, datasets=unpinned)
    assert [(r.dataset, r.status) for r in report] == [("bfcl", "skipped"), ("metatool", "fetched"), ("metatool", "fetched")]
    with pytest.raises(ValueError, match=r"cannot fetch \['bfcl'\]: bfcl: the commit is not known yet"):
        fetch(["bfcl"], tmp_path / "cache", base_url=server.url, datasets=unpinned)


def test_the_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TOOLROUTER_DATA", str(tmp_path / "env"))
    assert data_dir() == tmp_path / "env"
    assert data_dir(tmp_path / "given") == tmp_path / "given"  # --dir wins over the variable
    monkeypatch.delenv("TOOLROUTER_DATA")
    monkeypatch.setitem(sys.modules, "platformdirs", None)  # not installed: the XDG rule
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "toolrouter" / "data"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_dir() == tmp_path / "home" / ".cache" / "toolrouter" / "data"


# --- converters ----------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["model-b", "model-b|total_cost", "prompt"])
def test_routerdc_with_a_repeated_column_is_refused_naming_it(tmp_path: Path, column: str) -> None:
    # the converter kept the last column of the name: another column's numbers under the model
    header, *rows = list(csv.reader(io.StringIO(routerdc_csv("mbpp", 2))))
    at = header.index(column)
    source = tmp_path / "mbpp_test.csv"
    with source.open("w", newline="") as fh:
        csv.writer(fh).writerows([header + [column], *(row + [row[at - 1]] for row in rows)])
    with pytest.raises(UpstreamFormatError, match=re.escape(f"mbpp_test.csv: the header names the column(s) {[column]} more than once")):
        routerbench_from_routerdc([source], [tmp_path / "out.csv"])
    assert not (tmp_path / "out.csv").exists()


def test_converters_name_the_malformed_upstream_file(tmp_path: Path) -> None:
    bad = tmp_path / "mbpp_test.csv"
    bad.write_text("sample_id,prompt,eval_name,m\nx,p,mbpp,1\n")
    with pytest.raises(UpstreamFormatError, match="mbpp_test.csv: expected the columns"):
        routerbench_from_routerdc([bad], [tmp_path / "out.csv"])
    des = tmp_path / "des.json"
    des.write_text(json.dumps({"A": "a"}))
    queries = tmp_path / "all.csv"
    queries.write_text("Query,Tool\nq,A\n")
    with pytest.raises(UpstreamFormatError, match=r"des.json: no description for the tools \['B'\]"):
        metatool_from_upstream([des, queries], [tmp_path / "t.json", tmp_path / "q.csv"], tools=("A", "B"))
    not_a_frame = tmp_path / "x.pd"
    not_a_frame.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(UpstreamFormatError, match="x.pd: not a pickled pandas DataFrame"):
        nasbench201_from_pickle([not_a_frame], [tmp_path / "nb.csv"])
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "nb.csv").exists()


class _Payload:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return eval, ("__import__('pathlib').Path(%r).write_text('ran')" % str(_Payload.marker),)


def test_the_pickle_reader_runs_no_code(tmp_path: Path) -> None:
    _Payload.marker = tmp_path / "ran.txt"  # type: ignore[attr-defined]
    evil = tmp_path / "evil.pd"
    evil.write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(UpstreamFormatError, match="evil.pd: refuses to load builtins.eval"):
        read_pandas_pickle(evil)
    assert not (tmp_path / "ran.txt").exists()


def test_the_pickle_reader_reads_current_pandas(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(nb201_columns())
    frame["cellstr"] = frame["cellstr"].astype(str)  # pandas 3 stores it as its string dtype
    for protocol in (4, 5):
        path = tmp_path / f"p{protocol}.pd"
        frame.to_pickle(path, protocol=protocol)
        columns = read_pandas_pickle(path)
        assert list(columns) == list(frame.columns) or set(columns) == set(frame.columns)
        assert list(columns["cellstr"]) == list(NB201_CELLS)
        np.testing.assert_array_equal(columns["cifar10-val"], [63.364, 82.834])
        nasbench201_from_pickle([path], [tmp_path / "nb.csv"])
        assert (tmp_path / "nb.csv").read_text() == NB201_CSV


# --- the real manifest against the shared copy the published numbers were measured on -----------


def test_the_manifest_is_pinned() -> None:
    for d in manifest.DATASETS.values():
        assert d.revision is None and d.note or len(d.revision or "") == 40
        assert d.outputs and all(len(o.sha256) == 64 and o.path.startswith(f"{d.name}/") for o in d.outputs)
        for part in d.parts:
            if part.convert is copy_file:  # a copy: the upstream bytes are the output's
                assert [u.sha256 for u in part.upstream] == [o.sha256 for o in part.outputs]
    paths = [o.path for d in manifest.DATASETS.values() for o in d.outputs]
    assert len(paths) == len(set(paths))


needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="the shared data folder is not on this machine")


@needs_shared
def test_the_pinned_digests_are_those_of_the_shared_copy() -> None:
    for d in manifest.DATASETS.values():
        assert dataset_status(d, SHARED) == "present", d.name


@needs_shared
def test_the_converters_rebuild_the_shared_copy_from_the_upstream_formats(tmp_path: Path) -> None:
    """Each shared file turned back into its upstream format (answers, reordered costs, other tools,
    a pickled table), then converted: byte for byte the pinned file."""
    rb_parts = {p.outputs[0].path: p for p in manifest.DATASETS["routerbench"].parts}
    for target, part in rb_parts.items():
        rows = list(csv.reader((SHARED / target).open(newline="", encoding="utf-8")))
        models = [c.split(":", 1)[1] for c in rows[0] if c.startswith("quality:")]
        order = random.Random(0).sample(models, len(models))
        k = len(models)
        with (tmp_path / "up.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["", "sample_id", "prompt", "eval_name", *models, *(f"{m}|model_response" for m in models), *(f"{m}|total_cost" for m in order), "oracle_model_to_route_to"])
            for i, r in enumerate(rows[1:]):
                cost = dict(zip(models, r[3 + k :]))
                writer.writerow([i, r[0], r[2], r[1], *r[3 : 3 + k], *(["['an, answer']"] * k), *(cost[m] for m in order), models[0]])
        part.convert([tmp_path / "up.csv"], [tmp_path / "out.csv"])
        assert sha((tmp_path / "out.csv").read_bytes()) == part.outputs[0].sha256, target

    tools = json.loads((SHARED / "metatool" / "tools.json").read_text(encoding="utf-8"))
    (tmp_path / "des.json").write_text(json.dumps({"Other": "not used", **dict(reversed(tools.items()))}, indent=2))
    rows = list(csv.reader((SHARED / "metatool" / "queries.csv").open(newline="", encoding="utf-8")))[1:]
    with (tmp_path / "all.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["Query", "Tool"])
        for i, row in enumerate(rows):
            writer.writerows([row, [f"request {i}", "Other"]] if i % 5 == 0 else [row])
    (part,) = manifest.DATASETS["metatool"].parts
    part.convert([tmp_path / "des.json", tmp_path / "all.csv"], [tmp_path / "tools.json", tmp_path / "queries.csv"])
    assert [sha((tmp_path / n).read_bytes()) for n in ("tools.json", "queries.csv")] == [o.sha256 for o in part.outputs]

    rows = list(csv.DictReader((SHARED / "nasbench201" / "nb201_cifar10.csv").open(newline="")))
    columns = {
        "arch": np.array([int(r["arch"]) for r in rows]),
        "cellstr": np.array([r["cellstr"] for r in rows], dtype=object),
        "cifar10-test": np.array([float(r["cifar10-test"]) for r in rows]),
        "cifar10-val": np.array([float(r["cifar10-val"]) for r in rows]),
    }
    (tmp_path / "table.pd").write_bytes(legacy_pandas_pickle(columns))
    (part,) = manifest.DATASETS["nasbench201"].parts
    part.convert([tmp_path / "table.pd"], [tmp_path / "nb.csv"])
    assert sha((tmp_path / "nb.csv").read_bytes()) == part.outputs[0].sha256


# --- the command line ----------------------------------------------------------------------------


def test_cli_data_list_and_fetch(upstream, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, datasets = upstream
    monkeypatch.setattr(manifest, "DATASETS", datasets)
    cache = tmp_path / "cache"
    monkeypatch.setenv("TOOLROUTER_DATA", str(cache))
    listed = runner.invoke(app, ["data", "list"])
    assert listed.exit_code == 0, listed.output
    for name in ("omniglot", "nasbench201", "routerbench", "metatool", "bfcl", "s/rdc@0123456789", "converted files", "upstream bytes"):
        assert name in listed.output
    assert listed.output.count("missing") == 5

    fetched = runner.invoke(app, ["data", "fetch", "routerbench", "metatool", "--base-url", server.url])
    assert fetched.exit_code == 0, fetched.output
    assert fetched.output.count("fetched") == 6 and str(cache / "metatool" / "queries.csv") in fetched.output
    again = runner.invoke(app, ["data", "fetch", "metatool", "--base-url", server.url])
    assert again.output.count("present") == 2
    other = tmp_path / "other"
    assert runner.invoke(app, ["data", "fetch", "bfcl", "--dir", str(other), "--base-url", server.url]).exit_code == 0
    assert (other / "bfcl" / "BFCL_v4_multiple.json").is_file() and not (cache / "bfcl").exists()

    listed = runner.invoke(app, ["data", "list"])
    rows = [line for line in listed.output.splitlines() if line.startswith("│")]
    assert [r.split("│")[-2].strip() for r in rows] == ["missing", "missing", "present", "present", "missing"]


def test_cli_data_fetch_errors_are_one_line(upstream, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, datasets = upstream
    monkeypatch.setattr(manifest, "DATASETS", datasets)
    (root / "g/gorilla" / REV / "data/BFCL_v4_multiple.json").write_bytes(b"{}\n")
    result = runner.invoke(app, ["data", "fetch", "bfcl", "--dir", str(tmp_path / "c"), "--base-url", server.url])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("toolrouter data fetch: ") and "sha256 mismatch" in lines[0]
    result = runner.invoke(app, ["data", "fetch", "nope", "--dir", str(tmp_path / "c")])
    assert result.exit_code == 2 and "nope" in result.output


def test_cli_data_fetch_of_a_malformed_upstream_file_is_one_line_naming_it(
    upstream, server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, datasets = upstream
    monkeypatch.setattr(manifest, "DATASETS", datasets)
    upstream_csv = next(root.rglob("datasets/routerbench_zs/*.csv"))
    for content, problem in ((b"sample_id,prompt\nx,p\n", "expected the columns"), (b"sample_id,caf\xe9\n", "not UTF-8 text")):
        upstream_csv.write_bytes(content)
        result = runner.invoke(app, ["data", "fetch", "routerbench", "--dir", str(tmp_path / "c"), "--base-url", server.url])
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"toolrouter data fetch: {upstream_csv.name}: {problem}")


def test_cli_data_fetch_into_a_file_is_one_line_naming_it(tmp_path: Path) -> None:
    a_file = tmp_path / "data"
    a_file.write_text("not a folder")
    # a usage error naming --dir, as data list's: it said "dest: ...", fetch()'s argument, and exited 1
    result = runner.invoke(app, ["data", "fetch", "routerbench", "--dir", str(a_file)], env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "Invalid value for --dir: the data folder" in result.output, result.output
    assert str(a_file) in result.output and "dest" not in result.output
    result = runner.invoke(app, ["data", "fetch", "routerbench", "--dir", str(a_file / "sub")])
    assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1 and str(a_file / "sub") in result.stderr
    assert a_file.read_text() == "not a folder"


# --- benchmarks without their data ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "dataset", "missing"),
    [
        (["nas", "--quick"], "nasbench201", "nasbench201/nb201_cifar10.csv"),
        (["meta", "--quick", "--sections", "omniglot"], "omniglot", "omniglot/images_background_small1.zip"),
        (["meta-router", "--quick", "--sections", "metatool", "--seeds", "1"], "metatool", "metatool"),
        (["meta-router", "--quick", "--sections", "routerbench", "--seeds", "1", "--rb-no-vw"], "routerbench", "routerbench"),
    ],
)
def test_a_benchmark_without_its_data_says_how_to_get_it(argv, dataset, missing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLROUTER_DATA", str(tmp_path / "empty"))
    with pytest.raises(DatasetMissingError) as caught:
        run_suite(argv[0], argv[1:])
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError) and "\n" not in message
    assert str(tmp_path / "empty" / missing) in message
    assert message.endswith(f"; get it with: toolrouter data fetch {dataset}")
    result = runner.invoke(app, ["bench", *argv])  # the command prints it as one line
    assert result.exit_code == 2 and result.stderr.strip() == f"toolrouter bench {argv[0]}: {message}"


NOWHERE = "file:///nonexistent-mirror"  # no network: a file URL that does not exist


@pytest.mark.parametrize("timeout_s", [math.inf, math.nan, -1.0])
def test_a_timeout_that_is_not_a_finite_positive_number_is_refused(tmp_path: Path, timeout_s: float) -> None:
    # an infinite timeout passed the check and failed in the socket (OverflowError) once a download began
    with pytest.raises(ValueError, match=r"^timeout_s: expected a finite number in \(0, "):
        fetch(["omniglot"], tmp_path / "cache", timeout_s=timeout_s, base_url=NOWHERE)
    assert not (tmp_path / "cache").exists()
    result = CliRunner().invoke(
        app, ["data", "fetch", "omniglot", "--dir", str(tmp_path / "cache"), "--timeout", "inf", "--base-url", NOWHERE]
    )
    assert result.exit_code == 2 and "--timeout" in result.output and "expected a finite number in (0," in result.output


def test_data_list_refuses_a_data_folder_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # every dataset read "missing", as if nothing had been fetched
    monkeypatch.chdir(tmp_path)  # a short path: the error box does not wrap it
    Path("data").write_text("not a folder")
    result = CliRunner().invoke(app, ["data", "list", "--dir", "data"])
    assert result.exit_code == 2 and "--dir" in result.output and "is a file" in result.output, result.output


def test_data_list_names_a_data_folder_from_the_environment_by_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # it said "Invalid value for --dir", an option the command line did not have
    monkeypatch.chdir(tmp_path)
    Path("data").write_text("not a folder")
    monkeypatch.setenv("TOOLROUTER_DATA", "data")
    result = CliRunner().invoke(app, ["data", "list"])
    assert result.exit_code == 2 and "Invalid value for $TOOLROUTER_DATA: the data folder 'data' is a file" in result.output
    assert "--dir" not in result.output, result.output
