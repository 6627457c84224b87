"""RouterBench loader: parsing, shapes, validation errors (on small files written here), and a
slice of the real data when the shared folder is present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from toolrouter.data import load_routerbench

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "routerbench"
HEADER = "sample_id,eval_name,prompt,quality:m1,quality:m2,cost:m1,cost:m2\n"


def write(folder: Path, name: str, rows: list[str], header: str = HEADER) -> None:
    (folder / name).write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path, "mbpp_test.csv", ['a1,mbpp,"[\'Add two numbers.\']",1.0,0.0,0.001,0.0001'])
    write(
        tmp_path,
        "winogrande_test.csv",
        ['b1,winogrande,"[\'Pick A or B.\\n\', \'Second turn\']",0.0,1.0,0.002,0.0002', "b2,winogrande,plain text,1,1,0,0"],
    )
    return tmp_path


def test_loads_and_parses_prompts(folder: Path):
    data = load_routerbench(folder, evals=["mbpp", "winogrande"], splits=["test"])
    assert len(data) == 3 and data.models == ("m1", "m2")
    assert data.prompts[0] == "Add two numbers."
    assert data.prompts[1] == "Pick A or B.\n\nSecond turn"
    assert data.prompts[2] == "plain text"
    np.testing.assert_array_equal(data.quality, [[1, 0], [0, 1], [1, 1]])
    np.testing.assert_allclose(data.utility(100.0)[0], [0.9, -0.01])
    sub = data.take([2, 0])
    assert sub.sample_ids == ("b2", "a1") and sub.cost.shape == (2, 2)
    assert len(load_routerbench(folder, evals=["winogrande"], splits=["test"], limit=1)) == 1


def test_errors_name_the_problem(folder: Path, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_routerbench(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="mbpp_train"):
        load_routerbench(folder, evals=["mbpp"], splits=["train"])
    with pytest.raises(ValueError, match="evals.*gsm8k"):
        load_routerbench(folder, evals=["gsm8k"])
    with pytest.raises(ValueError, match="splits"):
        load_routerbench(folder, splits="test")
    write(tmp_path, "mbpp_train.csv", ["x,mbpp,p,1.5,0,0,0"])
    with pytest.raises(ValueError, match=r"mbpp_train.csv: row 2: quality"):
        load_routerbench(folder, evals=["mbpp"], splits=["train"])
    write(tmp_path, "mbpp_train.csv", ["x,mbpp,p,1,0,nan,0"])
    with pytest.raises(ValueError, match="row 2: cost"):
        load_routerbench(folder, evals=["mbpp"], splits=["train"])
    write(tmp_path, "mbpp_train.csv", ["x,mbpp,p,1,0,0"], header="sample_id,eval_name,prompt,quality:m1,quality:m3,cost:m1\n")
    with pytest.raises(ValueError, match="same models"):
        load_routerbench(folder, evals=["mbpp"], splits=["train"])
    data = load_routerbench(folder, evals=["mbpp"], splits=["test"])
    with pytest.raises(ValueError, match="cost_weight"):
        data.utility(float("nan"))


def test_a_model_named_twice_and_a_limit_that_is_not_a_count_are_refused(folder: Path, tmp_path: Path):
    header = "sample_id,eval_name,prompt,quality:m1,quality:m1,cost:m1,cost:m1\n"
    write(tmp_path, "mbpp_train.csv", ["x,mbpp,p,1,0,0.1,0.2"], header=header)
    with pytest.raises(ValueError, match=r"mbpp_train.csv: model\(s\) \['m1'\] have more than one quality: column"):
        load_routerbench(folder, evals=["mbpp"], splits=["train"])
    for limit in ("5", 2.5, True):
        with pytest.raises(ValueError, match=f"limit: expected an integer >= 1, got {limit!r}"):
            load_routerbench(folder, evals=["mbpp"], splits=["test"], limit=limit)  # type: ignore[arg-type]
    assert len(load_routerbench(folder, evals=["mbpp"], splits=["test"], limit=np.int64(1))) == 1


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared RouterBench copy is not on this machine")
def test_real_slice():
    data = load_routerbench(SHARED, limit=20)
    assert len(data) == 80 and len(data.models) == 11
    assert "gpt-4-1106-preview" in data.models
    assert set(data.eval_names) == {"mbpp", "winogrande"}
    assert all(p and not p.startswith("[") for p in data.prompts)
    assert data.quality.shape == data.cost.shape == (80, 11)
    assert ((data.quality == 0) | (data.quality == 1)).all() and (data.cost >= 0).all()


def test_columns_are_paired_by_model_name_whatever_their_order(folder: Path, tmp_path: Path) -> None:
    # the same table with its cost: columns, and in another file its quality: columns, in another
    # order: refused as naming other models, where the models are the same
    write(tmp_path, "mbpp_test.csv", ["a1,mbpp,p,1.0,0.0,0.0001,0.001"], header="sample_id,eval_name,prompt,quality:m1,quality:m2,cost:m2,cost:m1\n")
    write(tmp_path, "mbpp_train.csv", ["a2,mbpp,p,0.0,1.0,0.002,0.0002"], header="sample_id,eval_name,prompt,quality:m2,quality:m1,cost:m1,cost:m2\n")
    data = load_routerbench(folder, evals=["mbpp"], splits=["test", "train"])
    assert data.models == ("m1", "m2")
    np.testing.assert_array_equal(data.quality, [[1, 0], [1, 0]])
    np.testing.assert_allclose(data.cost, [[0.001, 0.0001], [0.002, 0.0002]])
    write(tmp_path, "mbpp_train.csv", ["x,mbpp,p,1,0,0"], header="sample_id,eval_name,prompt,quality:m1,quality:m3,cost:m1\n")
    with pytest.raises(ValueError, match=r"must name the same models; quality: only \['m3'\], cost: only \[\]"):
        load_routerbench(folder, evals=["mbpp"], splits=["train"])
