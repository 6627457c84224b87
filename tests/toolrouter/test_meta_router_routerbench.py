"""RouterBench section of the meta-router benchmark: the AIQ and hull on hand-made points, the
routers on a toy problem with a known answer, and the section end to end at toy size."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolrouter.bench import _meta_router_routerbench as rb
from toolrouter.bench._aiq import aiq, upper_hull
from toolrouter.bench._args import parse_with_quick
from toolrouter.data import RouterBenchData

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"


# --- AIQ and hull ------------------------------------------------------------------------------


def test_aiq_of_a_line_is_its_mean_height():
    # straight line from (1, 0.5) to (3, 0.9): area 1.4 over a width of 2
    assert aiq([(1.0, 0.5), (3.0, 0.9)], lo=1.0, hi=3.0) == pytest.approx(0.7)


def test_hull_drops_points_below_it_and_falls_after_the_top():
    pts = [(1.0, 0.5), (2.0, 1.0), (3.0, 0.2), (1.5, 0.55), (2.0, 0.3)]
    assert upper_hull(pts).tolist() == [[1.0, 0.5], [2.0, 1.0]]
    # rises 0.5 -> 1.0 on [1, 2] (area 0.75), then flat at 1.0 on [2, 3] (area 1.0)
    assert aiq(pts, lo=1.0, hi=3.0) == pytest.approx(0.875)
    # a concave chain keeps every vertex; a point on a chord is dropped
    assert upper_hull([(0, 0), (1, 0.6), (2, 0.9), (3, 1.0)]).shape == (4, 2)
    assert upper_hull([(0, 0), (1, 0.5), (2, 1.0)]).tolist() == [[0.0, 0.0], [2.0, 1.0]]


def test_aiq_left_of_the_cheapest_point_mixes_with_not_answering_and_no_point_hurts():
    # one point at cost 2: the line from (0, 0) gives 0.5 at cost 1, so [1, 2] has area 0.75
    assert aiq([(2.0, 1.0)], lo=1.0, hi=3.0) == pytest.approx(0.875)
    # a point at or below lo counts in full
    assert aiq([(0.5, 0.6)], lo=1.0, hi=3.0) == pytest.approx(0.6)
    # a point below the line from (0, 0) changes nothing
    assert aiq([(2.0, 1.0), (1.0, 0.2)], lo=1.0, hi=3.0) == pytest.approx(0.875)


def test_aiq_rejects_bad_input():
    with pytest.raises(ValueError, match="lo, hi"):
        aiq([(1.0, 0.5)], lo=2.0, hi=1.0)
    with pytest.raises(ValueError, match="finite"):
        aiq([(1.0, float("nan"))], lo=0.0, hi=1.0)
    with pytest.raises(ValueError, match="points"):
        aiq([], lo=0.0, hi=1.0)


points = st.lists(
    st.tuples(st.floats(0.0, 10.0), st.floats(0.0, 1.0)), min_size=1, max_size=12
)


@settings(max_examples=60, deadline=None)
@given(points, points, st.floats(0.01, 100.0))
def test_aiq_properties(a, b, scale):
    lo, hi = 0.5, 8.0
    value = aiq(a, lo=lo, hi=hi)
    assert 0.0 <= value <= max(q for _, q in a) + 1e-12
    # more operating points never lower the curve
    assert aiq(a + b, lo=lo, hi=hi) >= value - 1e-12
    # the unit of cost does not matter
    scaled = [(c * scale, q) for c, q in a]
    assert aiq(scaled, lo=lo * scale, hi=hi * scale) == pytest.approx(value, abs=1e-9)


# --- routers on a toy problem ------------------------------------------------------------------


def _toy(n: int, seed: int) -> tuple[RouterBenchData, np.ndarray]:
    """Two kinds of prompt; model 0 answers only kind 0, model 1 only kind 1, model 2 both but
    costs ten times more. Features: the kind, one-hot."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(2, size=n)
    quality = np.stack([kind == 0, kind == 1, np.ones(n, bool)], axis=1).astype(float)
    cost = np.tile([1e-4, 1e-4, 1e-3], (n, 1))
    data = RouterBenchData(
        sample_ids=tuple(map(str, range(n))),
        eval_names=("toy",) * n,
        prompts=tuple(f"kind {k}" for k in kind),
        models=("a", "b", "big"),
        quality=quality,
        cost=cost,
    )
    return data, np.eye(2)[kind]


def _context(n_lambdas: int = 12) -> rb.Context:
    train, f_train = _toy(300, 0)
    test, f_test = _toy(100, 1)
    return rb.prepare_context("toy", train, test, f_train, f_test, n_lambdas=n_lambdas, normalize="none")


def _singles(ctx: rb.Context) -> tuple[float, float, float]:
    singles = np.stack([ctx.test.cost.mean(0), ctx.test.quality.mean(0)], axis=1)
    lo, hi = float(singles[:, 0].min()), float(singles[:, 0].max())
    return aiq(singles, lo=lo, hi=hi), lo, hi


def test_lambda_grid_spans_best_model_to_cheapest():
    ctx = _context()
    oracle = rb.oracle_sweep(ctx)
    # smallest lambda: quality 1 everywhere at the cheap models' cost (ties broken by cost);
    # largest: still the cheap models, which are also right here; the grid is geometric
    assert oracle[0].tolist() == pytest.approx([1e-4, 1.0])
    assert ctx.lambdas[0] == pytest.approx(0.01 / 1e-3) and ctx.lambdas[-1] == pytest.approx(100 / 1e-4)
    assert np.allclose(np.diff(np.log(ctx.lambdas)), np.log(ctx.lambdas[1] / ctx.lambdas[0]))


def test_routers_that_read_the_context_beat_the_single_model_hull():
    ctx = _context()
    bar, lo, hi = _singles(ctx)
    # single models: a and b at 0.5 each, big at 1.0 for 10x the cost: hull area below 1
    assert bar < 0.95
    for sweep in (
        rb.oracle_sweep(ctx),
        rb.knn_sweep(ctx, 5),
        rb.ridge_sweep(ctx, 1.0),
        rb.qc_sweep(ctx, "lin_ts", seed=0, passes=1, options={}),
    ):
        assert aiq(sweep, lo=lo, hi=hi) == pytest.approx(1.0, abs=0.02)
    per_lambda = rb.policy_per_lambda_sweep(_context(4), "lin_ts", seed=0, passes=1, options={})
    assert aiq(per_lambda, lo=lo, hi=hi) > bar


@pytest.mark.parametrize("design", ["qc", "per-lambda"])
def test_replay_new_learns_each_prompt_model_outcome_once(monkeypatch: pytest.MonkeyPatch, design: str):
    ctx = _context(3)
    n = len(ctx.train)
    # a feature that tells the prompts apart, so that each learnt row names its prompt
    ctx.x_train = np.hstack([ctx.x_train, 1e-3 * np.arange(n)[:, None]])
    ctx.x_test = np.hstack([ctx.x_test, np.zeros((len(ctx.test), 1))])
    learnt: list[tuple[int, int, float]] = []
    alive: list[rb.PolicyAgent] = []  # keeps each agent's id its own
    original = rb.PolicyAgent.learn

    def spy(self: rb.PolicyAgent, arm: int, reward: float, x: np.ndarray) -> None:
        alive.append(self)
        learnt.append((id(self), arm, float(x[-1])))
        original(self, arm, reward, x)

    monkeypatch.setattr(rb.PolicyAgent, "learn", spy)
    sweep = rb.qc_sweep if design == "qc" else rb.policy_per_lambda_sweep
    sweep(ctx, "lin_ts", seed=0, passes=4, options={}, once=True)
    agents = 2 if design == "qc" else len(ctx.lambdas)  # qc: a quality and a cost policy
    assert len(set(learnt)) == len(learnt) <= agents * n * ctx.n_arms
    learnt.clear()
    sweep(ctx, "lin_ts", seed=0, passes=4, options={}, once=False)
    assert len(learnt) == agents * n * 4  # every draw learnt, replays included
    assert len(set(learnt)) < len(learnt)


def test_strip_shared_lines_drops_each_group_s_shared_block():
    shots = "Shot one.\nShot two.\n"
    wino = [shots + f"Q{i}?\nA) x\nB) y" for i in range(6)]
    code = [f"Write a function {i}." for i in range(4)]
    train, other = rb.strip_shared_lines(wino + code, [shots + "Q new?", "Write more.", "Shot one.\nElse"], 0.3)
    # the block of shared lines goes, without knowing which prompts are of which dataset
    assert train[:6] == [f"Q{i}?\nA) x\nB) y" for i in range(6)] and train[6:] == code
    # a new text loses a block that enough train texts share ("Shot one." alone is shared too)
    assert other == ["Q new?", "Write more.", "Else"]
    # a block shared by too few train texts stays, and a text is never left empty
    assert rb.strip_shared_lines(wino[:2] + code * 3, [], 0.3)[0][:2] == wino[:2]
    assert rb.strip_shared_lines(["a\n", "a\n"], [])[0] == ["a\n", "a\n"]
    with pytest.raises(ValueError, match="min_share"):
        rb.strip_shared_lines(wino, [], 0.0)


def test_hull_tolerance_does_not_count_single_model_choices_as_above():
    ctx = _context()
    bar, lo, hi = _singles(ctx)
    # per lambda, all prompts to one model: every point is a single model's point, so the AIQ is the
    # bar up to rounding (the means are summed in another order), and it must not count as above
    hull_only = np.array([rb.evaluate(ctx.test, np.full(len(ctx.test), m)) for m in (0, 1, 2, 0)])
    value = aiq(hull_only, lo=lo, hi=hi)
    assert value == pytest.approx(bar, abs=1e-12)
    assert not rb.above_hull(value, bar) and not rb.above_hull(bar + 2e-16, bar)
    assert rb.above_hull(np.array([bar + 1e-4, bar]), bar).tolist() == [True, False]
    assert rb.above_hull(aiq(rb.oracle_sweep(ctx), lo=lo, hi=hi), bar)


def test_options_are_chosen_on_folds_of_train_only():
    train, f_train = _toy(60, 0)
    split = rb.Split("toy", train, None, f_train, None, "one-hot")
    folds = rb.fold_splits(split, 3)
    held = [i for _, h, _, _ in folds for i in h.sample_ids]
    assert sorted(held, key=int) == list(train.sample_ids)  # the held-out parts partition train
    for kept, out, _, _ in folds:
        assert not set(kept.sample_ids) & set(out.sample_ids)
    # kNN on the toy problem: one neighbour is right, all 40 train prompts of a fold mix both kinds
    knn = rb.Method("kNN", ("pca", "knn"), False, lambda ctx, seed, o: rb.knn_sweep(ctx, int(o["knn"])))
    contexts = rb._Contexts(split, 3, 6, "none")
    base = {"pca": 2.0, "scale": 1.0, "knn": 40.0, "ridge": 1.0}
    chosen = rb.choose_options([knn], contexts, {"knn": [40.0, 1.0], "pca": [2.0]}, base, [0])
    options, gaps = chosen["kNN"]
    assert options == {**base, "knn": 1.0} and gaps.shape == (3,) and (gaps > 0).all()


def test_per_dataset_points_route_each_dataset_to_its_own_model():
    data, _ = _toy(40, 0)
    # two datasets: the toy's kinds; "a" answers kind 0 only, "b" kind 1 only
    kinds = tuple("k0" if p == "kind 0" else "k1" for p in data.prompts)
    mixed = RouterBenchData(data.sample_ids, kinds, data.prompts, data.models, data.quality, data.cost)
    points = rb.per_dataset_points(mixed)
    assert points.shape == (9, 2)
    # "a" on k0 and "b" on k1: every prompt right at the cheap models' cost, which no single model does
    assert np.isclose(points, [1e-4, 1.0], rtol=1e-9, atol=0).all(axis=1).any()
    singles = np.stack([mixed.cost.mean(0), mixed.quality.mean(0)], axis=1)
    assert not any(q == 1.0 and c < 5e-4 for c, q in singles)
    assert np.allclose(rb.per_dataset_points(data), singles)  # one dataset: the single models


def test_grid_is_parsed_and_checked():
    assert rb.parse_grid("pca=16,32;scale=0.1") == {"pca": [16.0, 32.0], "scale": [0.1]}
    for bad, what in (("depth=3", "depth"), ("pca=16 pca=32", "pca"), ("knn=a", "knn"), ("ridge=-1", "ridge")):
        with pytest.raises(ValueError, match=f"--rb-grid: .*{what}"):
            rb.parse_grid(bad)


# --- the section end to end --------------------------------------------------------------------


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default=str(SHARED))
    rb.add_arguments(parser.add_argument_group("routerbench"))
    return parse_with_quick(parser, list(argv), rb.QUICK)  # as the suite gives the section its options


@pytest.mark.skipif(not (SHARED / "routerbench").is_dir(), reason="RouterBench data not present")
def test_quick_section_prints_aiq_tables(capsys: pytest.CaptureFixture[str]):
    rb.run(_args("--quick", "--rb-hash-dim", "32", "--rb-limit", "40", "--rb-no-vw"))
    out = capsys.readouterr().out
    assert "features hashing" in out  # --quick must not load the sentence encoder
    for ev in ("mbpp", "winogrande"):
        assert f"RouterBench {ev}: AIQ on test" in out
    assert "| single-model hull (the bar) |" in out and "| oracle |" in out
    assert "lin_ts qc (bandit)" in out and "kNN (full information)" in out
    assert "RouterBench: options chosen on winogrande train, 2-fold cross-validation" in out  # the default protocol
    assert "RouterBench mixed: AIQ on test" in out and "share of the oracle's headroom" in out
    assert "| best model per dataset (told the dataset) |" in out  # on the mixed stream only
    assert out.count("best model per dataset") == 2  # the terminal table and its Markdown copy


@pytest.mark.skipif(not (SHARED / "routerbench").is_dir(), reason="RouterBench data not present")
def test_mixed_stream_holds_every_dataset_and_options_chosen_without_their_test_split(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    # mbpp without its test file: choosing options on mbpp must not need it
    (tmp_path / "routerbench").mkdir()
    for name in ("mbpp_train.csv", "winogrande_train.csv", "winogrande_test.csv"):
        (tmp_path / "routerbench" / name).symlink_to(SHARED / "routerbench" / name)
    argv = ("--quick", "--rb-hash-dim", "32", "--rb-limit", "30", "--rb-no-vw", "--rb-policies", "lin_ts")
    rb.run(_args(*argv, "--data", str(tmp_path), "--rb-tune-on", "mbpp", "--rb-evals", "winogrande"))
    out = capsys.readouterr().out
    assert "options chosen on mbpp train" in out and "RouterBench winogrande: AIQ on test" in out
    assert "RouterBench mbpp: AIQ on test" not in out
    from toolrouter.features import make_featurizer

    featurizer = make_featurizer("hashing", dim=32)
    mixed = rb.load_split(SHARED / "routerbench", "mixed", featurizer, text="strip-prefix", limit=30, skip=False, with_test=True)
    assert mixed.train.eval_names == ("mbpp",) * 30 + ("winogrande",) * 30
    # the router sees the prompt's features only: nothing says which dataset it is from
    assert mixed.f_train.shape == (60, 32) and mixed.test is not None and len(mixed.test) == 60


def test_validation_folds_hold_out_every_prompt_once():
    [(kept, held)] = rb.validation_folds(20)  # one fixed 30% hold-out
    assert len(held) == 6 and not set(kept) & set(held) and sorted([*kept, *held]) == list(range(20))
    assert [h.tolist() for _, h in rb.validation_folds(20)] == [held.tolist()]  # fixed seed: same split
    folds = rb.validation_folds(20, 4)
    assert len(folds) == 4
    assert sorted(i for _, h in folds for i in h) == list(range(20))  # a partition
    for kept, held in folds:
        assert len(held) == 5 and sorted([*kept, *held]) == list(range(20))
    for bad in (0, 21, 2.5):
        with pytest.raises(ValueError, match="--rb-folds"):
            rb.validation_folds(20, bad)


@pytest.mark.skipif(not (SHARED / "routerbench").is_dir(), reason="RouterBench data not present")
def test_cross_validation_prints_one_summary_per_dataset(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    # only the train files: validation must not read the test split
    (tmp_path / "routerbench").mkdir()
    for train_file in (SHARED / "routerbench").glob("*_train.csv"):
        (tmp_path / "routerbench" / train_file.name).symlink_to(train_file)
    argv = ("--quick", "--rb-hash-dim", "32", "--rb-limit", "40", "--rb-validate", "--rb-folds", "3")
    rb.run(_args(*argv, "--data", str(tmp_path), "--rb-no-vw", "--rb-policies", "lin_ts", "--rb-designs", "qc"))
    out = capsys.readouterr().out
    for ev in ("mbpp", "winogrande"):
        assert f"RouterBench {ev}: 3-fold cross-validation of the train split (40 prompts)" in out
        assert f"RouterBench {ev}: AIQ on held-out folds of train" in out
    assert "AIQ on test" not in out  # nothing is scored on the test split
    assert "| oracle |" in out and "| lin_ts qc (bandit) |" in out


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="--rb-designs"):
        rb.run(_args("--quick", "--rb-designs", "nope"))
    with pytest.raises(ValueError, match="--rb-policies"):
        rb.run(_args("--quick", "--rb-policies", "gaussian_ts"))
    with pytest.raises(ValueError, match="--rb-passes"):
        rb.run(_args("--quick", "--rb-passes", "0"))
    with pytest.raises(ValueError, match="--rb-folds 5 .* needs --rb-validate"):
        rb.run(_args("--quick", "--rb-folds", "5"))
    with pytest.raises(ValueError, match="--rb-evals"):
        rb.run(_args("--quick", "--rb-evals", "gsm8k"))
    with pytest.raises(ValueError, match="--rb-tune-on"):
        rb.run(_args("--quick", "--rb-tune-on", "gsm8k"))


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("mbpp,winogrande,mbpp", r"--rb-tune-on: \['mbpp'\] given more than once"),  # cross-validated twice
        ("none,none", r"--rb-tune-on: \['none'\] given more than once"),
        ("none,mbpp", r"--rb-tune-on: 'none' tunes on no dataset"),
        (" , ", r"--rb-tune-on: none given"),
    ],
)
def test_tune_on_is_refused_as_the_other_lists_are(given: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rb.run(_args("--quick", "--rb-tune-on", given))
