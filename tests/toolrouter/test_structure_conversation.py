"""The conversation term weighs each earlier capability by how surely the conversation ran it, and a
proposal says how likely its task is to run each capability, so that a conversation whose earlier
runs are not known yet is described by what was predicted for them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from toolrouter.structure import StructureConfig, StructureModel, TraceStep

CAPABILITIES = {"login": "log the user in", "post": "post a message", "read": "read the messages"}


def trained(**config) -> StructureModel:
    model = StructureModel(config=StructureConfig(**config))
    for i, caps in enumerate([["login", "post"]] * 3 + [["post"]] * 2 + [["read", "read"]]):
        before: tuple[str, ...] = ()
        for j, c in enumerate(caps):  # steps named apart: a structure may run a capability twice
            model.observe(f"t{i}", "social", TraceStep(f"{c}{j}", c, before), request="post my news")
            before = (f"{c}{j}",)
    for _ in range(3):
        model.observe_conversation(["login"], ["login", "post"])
    for _ in range(9):
        model.observe_conversation(["login", "read"], ["post"])
    return model


def by_structure(model: StructureModel, **kwargs) -> dict[tuple, float]:
    keys, _, mean = model.scores("social", capabilities=CAPABILITIES, request="post my news", **kwargs)
    return {tuple(c for c, _ in k): float(m) for k, m in zip(keys, mean)}


def test_each_step_gives_way_by_how_surely_the_conversation_ran_its_capability() -> None:
    model = trained()
    again = math.log((3 + 1) / (3 + 18 + 1))  # 3 of the 21 capabilities run before were run again
    alone = by_structure(model)
    for earlier, weight in ((["login"], 1.0), ({"login": 1.0}, 1.0), ({"login": 0.25}, 0.25), ({"login": 0.0}, 0.0)):
        shifted = by_structure(model, earlier=earlier)
        assert shifted[("login", "post")] - alone[("login", "post")] == pytest.approx(0.4 * again * weight)
        assert shifted[("post",)] == pytest.approx(alone[("post",)])
    # per step: a structure that runs it twice repeats it twice
    twice = by_structure(model, earlier={"read": 0.5})
    assert twice[("read", "read")] - alone[("read", "read")] == pytest.approx(0.4 * again * 2 * 0.5)


def test_a_probability_outside_0_1_or_not_a_number_is_refused_naming_its_capability() -> None:
    model = trained()
    before = model.propose("social", capabilities=CAPABILITIES, request="post my news")
    for bad, error in (({"login": 1.5}, ValueError), ({"login": -0.1}, ValueError), ({"login": float("nan")}, ValueError),
                       ({"login": True}, TypeError), ({"login": "0.5"}, TypeError), ({"": 0.5}, TypeError)):
        with pytest.raises(error, match=r"earlier"):
            model.propose("social", capabilities=CAPABILITIES, request="post my news", earlier=bad)
    assert model.propose("social", capabilities=CAPABILITIES, request="post my news") == before


def test_a_proposal_says_how_likely_its_task_runs_each_capability_and_what_the_conversation_then_ran() -> None:
    model = trained()
    proposal = model.propose("social", capabilities=CAPABILITIES, request="post my news")
    dist = model.distribution("social", capabilities=CAPABILITIES, request="post my news", top=None)
    expected = {c: sum(p.probability for p in dist if c in {s.capability for s in p.steps}) for c in CAPABILITIES}
    assert set(proposal.capabilities) == set(CAPABILITIES)
    for c, m in proposal.capabilities.items():
        assert m == pytest.approx(expected[c], abs=1e-9) and 0.0 < m <= 1.0
    assert proposal.capabilities["post"] > proposal.capabilities["read"]
    ran = proposal.ran_after({"login": 0.5, "search": 1.0})
    assert ran["search"] == 1.0  # offered or not, what ran stays
    assert ran["login"] == pytest.approx(1 - 0.5 * (1 - proposal.capabilities["login"]))
    assert ran["post"] == pytest.approx(proposal.capabilities["post"])
    assert proposal.ran_after(["post"])["post"] == 1.0
    # the default alone (nothing learned, no request) runs no capability of its own
    assert StructureModel().propose("social", capabilities=CAPABILITIES).capabilities == {}


def test_conversation_weight_0_leaves_the_scores_as_they_are() -> None:
    model = trained(conversation_weight=0.0)
    alone = by_structure(model)
    assert by_structure(model, earlier={"login": 1.0, "read": 0.3}) == alone
    assert np.isfinite(list(alone.values())).all()


def test_the_bench_reads_its_own_earlier_predictions_by_how_sure_they_were() -> None:
    from toolrouter.bench._planning_bfcl import ModelPredictor
    from toolrouter.features import HashingFeaturizer

    predictor = ModelPredictor(HashingFeaturizer(dim=64), StructureConfig())
    offered = {"login": "log the user in", "post": "post a message"}
    for i in range(3):
        predictor.learn(f"c{i}/0", "social", "post my news", ("login", "post"))
        predictor.learn(f"c{i}/1", "social", "post more news", ("post",), earlier=("login", "post"))
    given = []
    propose = predictor.model.propose
    predictor.model.propose = lambda *a, **kw: given.append(kw["earlier"]) or propose(*a, **kw)
    first = predictor.predict("social", "post my news", offered)
    predictor.predict("social", "post more news", offered, earlier=first)
    predictor.predict("social", "post again", offered, earlier=("login",))  # not what it said: for sure
    assert given[0] == () and given[2] == ("login",)
    assert isinstance(given[1], dict) and set(first) <= set(given[1]) and all(0.0 < p <= 1.0 for p in given[1].values())
