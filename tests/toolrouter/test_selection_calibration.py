"""Tools with many and few examples on one scale (no starvation of new tools), the confidence and
the abstain threshold, and the calibration itself."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from toolrouter.bench._meta_router_metatool import _auroc
from toolrouter.calibration import CalibrationEpisodes, CountCalibration, count_buckets
from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

# test_selection's keyword tools: a tool's requests are its keyword among filler words that every
# tool's requests share, so an old tool's prototype (the mean of 80 requests) is close to every
# request: the setting in which raw scores send new tools' requests to the old tools.
from test_selection import KEYWORDS, requests  # noqa: E402


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    tools = sorted(KEYWORDS)
    examples = {t: requests(t, 80, rng) for t in tools}
    descriptions = {t: requests(t, 1, rng)[0] for t in tools}
    tests = {t: requests(t, 20, rng) for t in tools}
    return tools[:12], tools[12:], examples, descriptions, tests


def config(**kw) -> SelectorConfig:
    return SelectorConfig(**{"hidden": 64, "eval_every": 10, "patience": 4, "lr": 3e-3, "calibration_episodes": 20, **kw})


@pytest.fixture(scope="module")
def fitted(world, one_torch_thread):
    """(calibrated, uncalibrated) selectors trained on the old tools, which stay registered."""
    old, _, examples, descriptions, _ = world
    out = []
    for calibrate in (True, False):
        sel = FewShotToolSelector(HashingFeaturizer(dim=256), config(calibrate=calibrate), seed=0)
        sel.fit({t: examples[t] for t in old}, {t: descriptions[t] for t in old}, episodes=100, n_way=8,
                k_shot=(0, 1, 3), seed=0)
        out.append(sel)
    return out


def with_new_tools(sel: FewShotToolSelector, world, k: int) -> FewShotToolSelector:
    _, new, examples, descriptions, _ = world
    for t in new:
        if t in sel:
            sel.remove_tool(t)
        sel.add_tool(t, descriptions[t], examples[t][:k])
    return sel


def accuracy(sel: FewShotToolSelector, tests: dict[str, list[str]], tools: list[str]) -> float:
    return float(np.mean([sel.select(q) == t for t in tools for q in tests[t]]))


def baseline_accuracy(world, k: int) -> float:
    """Cosine to the mean of the description's and the examples' features, every tool registered."""
    old, new, examples, descriptions, tests = world
    f = HashingFeaturizer(dim=256)
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    tools = old + new
    protos = unit(np.stack([unit(f.transform([descriptions[t]] + (examples[t] if t in old else examples[t][:k]))).mean(0)
                            for t in tools]))
    queries = [q for t in new for q in tests[t]]
    labels = np.array([tools.index(t) for t in new for _ in tests[t]])
    return float(np.mean((unit(f.transform(queries)) @ protos.T).argmax(1) == labels))


@pytest.mark.parametrize("k", [0, 1])
def test_new_tools_beside_old_ones_are_not_starved(world, fitted, k):
    old, new, _, _, tests = world
    calibrated, uncalibrated = (with_new_tools(sel, world, k) for sel in fitted)
    served = accuracy(calibrated, tests, new)
    # raw scores send the new tools' requests to the old tools, whose prototypes are close to
    # everything: most of them with a description alone, fewer with one example
    assert accuracy(uncalibrated, tests, new) < served - (0.3 if k == 0 else 0.0)
    assert served >= baseline_accuracy(world, k) and served > 0.75
    # and the old tools keep nearly all of their requests (the uncalibrated selector keeps every one)
    assert accuracy(calibrated, tests, old) >= 0.95


@pytest.mark.parametrize("k", [0, 1])
def test_the_confidence_of_new_tools_requests_is_how_often_they_are_right(world, fitted, k):
    """The calibration is fitted on the scores routing computes, of the refined prototypes: fitted
    on those of the plain ones, it gave the new tools' requests a mean confidence of 0.03 (0.18 with
    one example each) where over 80% of them went to the right tool."""
    _, new, _, _, tests = world
    sel = with_new_tools(fitted[0], world, k)
    queries = [q for t in new for q in tests[t]]
    rows = sel.confidences(queries)
    right = np.mean([sel.tool_ids[i] == t for i, t in zip(rows.argmax(axis=1), [t for t in new for _ in tests[t]])])
    assert abs(rows.max(axis=1).mean() - right) < 0.3


def test_the_calibration_ranks_by_example_count_and_round_trips(world, fitted, tmp_path: Path):
    sel = with_new_tools(fitted[0], world, 1)
    assert sel.calibration.fitted and not fitted[1].calibration.fitted
    queries = [q for qs in world[4].values() for q in qs[:2]]
    loaded = FewShotToolSelector.load(sel.save(tmp_path / "s"))
    assert loaded.calibration.fitted
    np.testing.assert_allclose(loaded.confidences(queries), sel.confidences(queries), atol=1e-6)
    np.testing.assert_allclose(loaded.scores(queries), sel.scores(queries), atol=1e-6)
    # a selector saved without a calibration loads without one
    plain = FewShotToolSelector.from_bytes(fitted[1].to_bytes())
    assert not plain.calibration.fitted


def test_confidence_separates_registered_tools_requests_from_the_rest_and_abstains(world, fitted):
    old, new, _, _, tests = world
    sel = fitted[0]
    for t in new:
        if t in sel:
            sel.remove_tool(t)
    registered = sel.confidences([q for t in old for q in tests[t]]).max(axis=1)
    unregistered = sel.confidences([q for t in new for q in tests[t]]).max(axis=1)
    assert _auroc(registered, unregistered) > 0.85
    rows = sel.confidences(["?!", tests[old[0]][0]])
    assert np.all(rows.sum(axis=1) <= 1.0 + 1e-6) and rows[0].sum() < 0.5  # "?!": mostly "no registered tool fits"
    gibberish, good = rows.max(axis=1)
    assert gibberish < good
    threshold = (gibberish + good) / 2
    choice = sel.choose("?!", min_confidence=threshold)
    assert choice.tool_id is None and choice.best in sel.tool_ids and choice.confidence == pytest.approx(gibberish, rel=1e-5)
    assert sel.choose(tests[old[0]][0], min_confidence=threshold).tool_id == old[0]
    assert sel.choose("?!").tool_id == choice.best  # min_confidence 0 (the default): never abstains
    abstaining = FewShotToolSelector.from_bytes(sel.to_bytes())
    object.__setattr__(abstaining, "config", abstaining.config.model_copy(update={"min_confidence": float(threshold)}))
    assert abstaining.select("?!") is None and abstaining.select(tests[old[0]][0]) == old[0]


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.5", True])
def test_a_bad_threshold_names_the_field(bad):
    sel = FewShotToolSelector(HashingFeaturizer(dim=16))
    sel.add_tool("a", "alpha")
    with pytest.raises(ValueError, match="min_confidence"):
        sel.choose("alpha", min_confidence=bad)
    with pytest.raises(ValueError, match="min_confidence"):
        SelectorConfig(min_confidence=1.5)


def test_an_untrained_selector_has_no_none_option():
    sel = FewShotToolSelector(HashingFeaturizer(dim=32))
    sel.add_tool("weather", "weather forecast for a city")
    sel.add_tool("mail", "send an email to a person")
    rows = sel.confidences(["weather in Rome", "?!"])
    np.testing.assert_allclose(rows.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(sel.scores(["weather in Rome"]), sel._score(
        sel.embed_queries(["weather in Rome"]), sel._head(), sel._example_z, sel.match_weight).numpy(), rtol=1e-6)


def test_count_calibration_learns_to_lift_tools_with_few_examples():
    """Tools with one example score their own requests 0.5 and others' 0.3; tools with many score
    their own 0.8 and others' 0.6: raw scores favour the many, the calibration must not."""
    rng = np.random.default_rng(0)
    rows, counts, labels = [], [], []
    for _ in range(200):
        n = np.array([1, 1, 100, 100])
        own = rng.integers(4)
        s = np.where(n == 1, 0.3, 0.6) + rng.normal(0, 0.03, 4)
        s[own] += 0.2
        rows.append(s)
        counts.append(n)
        labels.append(own)
    episodes = CalibrationEpisodes(torch.tensor(np.array(rows), dtype=torch.float32), torch.tensor(np.array(counts)),
                                   torch.ones(200, 4, dtype=torch.bool), torch.tensor(labels), torch.ones(200))
    cal = CountCalibration(10.0)
    raw_hits = (episodes.scores.argmax(1) == episodes.labels).float().mean()
    cal.fit(episodes)
    calibrated = cal.calibrated(episodes.scores, episodes.counts[0])
    hits = (calibrated.argmax(1) == episodes.labels).float().mean()
    assert raw_hits < 0.6 and hits > 0.95
    # buckets no episode had take their nearest neighbour's values
    assert count_buckets(torch.tensor([1, 100, 30, 500])).tolist() == [1, 7, 6, 8]
    assert cal.offset[6] == cal.offset[7] and cal.offset[8] == cal.offset[7] and cal.offset[0] == cal.offset[1]


def test_a_diverging_calibration_fit_leaves_it_as_it_was():
    cal = CountCalibration(10.0)
    before = {k: v.clone() for k, v in cal.state_dict().items()}
    episodes = CalibrationEpisodes(torch.tensor([[0.5, 0.0]]), torch.tensor([[1, 1]]), torch.ones(1, 2, dtype=torch.bool),
                                   torch.tensor([0]), torch.ones(1))
    with pytest.raises(FloatingPointError, match="calibration"):  # a step so large that the logits overflow
        cal.fit(episodes, steps=3, lr=1e30)
    assert not cal.fitted and all(torch.equal(v, cal.state_dict()[k]) for k, v in before.items())
