"""The structure model: per task type a distribution over the DAGs its traces had, a prior shared
across task types, predictions from the request text and sizes from the task's complexity."""

from __future__ import annotations

import random
import re
from collections import Counter

import numpy as np
import pytest

from toolrouter.errors import CorruptStateError, InvalidOutcomeError
from toolrouter.structure import StructureConfig, StructureModel, TraceStep, check_trace_id


def chain(model: StructureModel, trace_id: str, task_type: str, caps: list[str], **kwargs) -> None:
    before: tuple[str, ...] = ()
    for c in caps:
        model.observe(trace_id, task_type, TraceStep(c, c, before), **kwargs)
        before = (c,)


def names(proposal) -> list[str | None]:
    return [s.capability for s in proposal.steps]


def test_learned_structure_with_counts_uncertainty_and_a_dag() -> None:
    model = StructureModel()
    for i in range(3):
        chain(model, f"t{i}", "research", ["search", "analysis"])
    chain(model, "t3", "research", ["search"])
    proposal = model.propose("research", capabilities=["search", "analysis"])
    assert proposal.source == "learned" and (proposal.traces, proposal.task_type_traces) == (3, 4)
    assert [(s.step, s.depends_on) for s in proposal.steps] == [("search", ()), ("analysis", ("search",))]
    assert list(proposal.graph().edges) == [("search", "analysis")]
    dist = model.distribution("research")
    assert [names(p) for p in dist[:2]] == [["search", "analysis"], ["search"]]
    assert dist[0].probability > dist[1].probability > 0 and sum(p.probability for p in dist) == pytest.approx(1.0)
    summary = model.summary("research")
    assert summary["traces"] == 4 and summary["capabilities"]["search"]["traces"] == 4
    assert summary["dependencies"]["search -> analysis"]["traces"] == 3
    assert 0 < summary["dependencies"]["search -> analysis"]["sd"] < summary["capabilities"]["analysis"]["sd"] + 1


def test_a_structure_needs_its_capabilities_and_a_new_type_without_text_gets_the_default() -> None:
    model = StructureModel()
    chain(model, "t", "research", ["search", "analysis"])
    assert "analysis" not in names(model.propose("research", capabilities=["search"]))  # no tool serves it
    for task_type, caps in (("chat", ["search", "analysis"]), ("research", [])):
        proposal = model.propose(task_type, capabilities=caps) if caps else model.propose("new", capabilities=caps)
        assert proposal.source == "default" and names(proposal) == [None]


def test_the_request_text_predicts_the_structure_of_a_task_type_never_seen() -> None:
    model = StructureModel()
    travel = ["find flights from boston to paris", "book a flight to rome", "search flights for tomorrow"]
    files = ["list files in my home directory", "delete the file notes.txt", "move report.pdf to the docs folder"]
    for i, text in enumerate(travel):
        chain(model, f"a{i}", "travel", ["search_flights", "book_flight"], request=text)
    for i, text in enumerate(files):
        chain(model, f"b{i}", "files", ["ls", "mv"], request=text)
    caps = {"search_flights": "find flights", "book_flight": "book a flight", "ls": "list files", "mv": "move a file"}
    flight = model.propose("assistant", capabilities=caps, request="book me a flight to tokyo")
    move = model.propose("assistant", capabilities=caps, request="move the file todo.txt to the archive folder")
    assert (flight.source, names(flight)) == ("predicted", ["search_flights", "book_flight"])
    assert (move.source, names(move)) == ("predicted", ["ls", "mv"])
    assert flight.traces == 0 and flight.task_type_traces == 0 and 0.5 < flight.probability < 1.0


def test_complexity_sets_the_expected_size_where_nothing_else_decides() -> None:
    model = StructureModel()
    for i in range(4):
        chain(model, f"a{i}", "a", ["x"])
        chain(model, f"b{i}", "b", ["x", "y", "z"])
    caps = ["x", "y", "z"]
    sizes = {c: len(model.propose("c", capabilities=caps, request="please do it", complexity=c).steps) for c in ("simple", "expert")}
    assert sizes == {"simple": 1, "expert": 3}


def test_thompson_sampling_explores_structures_and_map_does_not() -> None:
    def model(sampling: str) -> StructureModel:
        m = StructureModel(config={"sampling": sampling})
        for i in range(3):
            chain(m, f"t{i}", "r", ["s", "a"])
        for i in range(2):
            chain(m, f"u{i}", "r", ["s"])
        return m

    rng = np.random.default_rng(0)
    drawn = Counter(tuple(names(model("thompson").propose("r", capabilities=["s", "a"], rng=rng))) for _ in range(100))
    assert drawn[("s", "a")] > 10 and drawn[("s",)] > 10
    proposal = model("thompson").propose("r", capabilities=["s", "a"], rng=np.random.default_rng(1))
    assert proposal.sampled
    mapped = {tuple(names(model("map").propose("r", capabilities=["s", "a"], rng=rng))) for _ in range(20)}
    assert mapped == {("s", "a")}


def test_a_trace_spread_over_attempts_and_a_dag_with_parallel_steps() -> None:
    model = StructureModel()
    for t in ("t", "u"):
        model.observe(t, "etl", TraceStep("extract", "db", ()))
        model.observe(t, "etl", TraceStep("extract", "db", ()))  # a retry of the same step: not counted again
        model.observe(t, "etl", TraceStep("clean", "python", ("extract",)))
        model.observe(t, "etl", TraceStep("stats", "python", ("extract",)))
        model.observe(t, "etl", TraceStep("report", "llm", ("clean", "stats")))
    assert model.traces("etl") == 2
    proposal = model.propose("etl", capabilities=["db", "python", "llm"])
    graph = proposal.graph()
    assert set(graph.edges) == {("extract", "clean"), ("extract", "stats"), ("clean", "report"), ("stats", "report")}


def test_independent_steps_make_one_structure_whichever_finished_first() -> None:
    model = StructureModel()
    for t, first, second in (("t", "weather", "order"), ("u", "order", "weather")):
        model.observe(t, "shop", TraceStep(first, first, ()))
        model.observe(t, "shop", TraceStep(second, second, ()))
        model.observe(t, "shop", TraceStep("pay", "pay", ("weather", "order")))
    (proposal,) = model.distribution("shop", top=1)
    assert proposal.traces == 2 and [s.step for s in proposal.steps] == ["order", "weather", "pay"]
    assert proposal.steps[2].depends_on == ("order", "weather")


def test_check_trace_refuses_a_cycle_a_missing_parent_and_a_changed_step() -> None:
    model = StructureModel()
    where = lambda i: f"execution_results[{i}]"  # noqa: E731
    with pytest.raises(InvalidOutcomeError, match=r"execution_results\[0\].depends_on: step 'a' consumes 'ghost'"):
        model.check_trace("t", [("a", "x", ["ghost"])], where)
    with pytest.raises(InvalidOutcomeError, match="cycle"):
        model.check_trace("t", [("a", "x", ["b"]), ("b", "y", ["a"])], where)
    with pytest.raises(InvalidOutcomeError, match=r"\[1\].depends_on: step 'a' consumes 'b', which runs after it"):
        model.check_trace("t", [("c", "z", []), ("a", "x", ["b"]), ("b", "y", [])], where)
    model.observe("t", "r", TraceStep("a", "x", ()))
    with pytest.raises(InvalidOutcomeError, match=r"\[0\].capability: step 'a' served 'x' earlier in this trace, got 'y'"):
        model.check_trace("t", [("a", "y", None)], where)
    assert [s.depends_on for s in model.check_trace("t", [("b", "y", None)], where)] == [("a",)]
    assert model.traces() == 1 and model.open_steps("t") == (TraceStep("a", "x", ()),)  # checking changes nothing


def test_state_round_trips_and_a_corrupt_state_changes_nothing() -> None:
    model = StructureModel()
    chain(model, "a", "research", ["search", "analysis"], request="papers on bandits", complexity="complex")
    chain(model, "b", "chat", ["llm"], request="hello there")
    model.observe("open", "research", TraceStep("search", "search", ()), request="more papers")
    config, arrays = model.state()
    copy = StructureModel()
    copy.load_state(config, arrays)
    caps = {"search": "", "analysis": "", "llm": ""}
    for task_type, text in (("research", None), ("other", "find papers on bandits")):
        a, b = (m.propose(task_type, capabilities=caps, request=text, complexity="complex") for m in (model, copy))
        assert (a.steps, a.source, a.probability) == (b.steps, b.source, pytest.approx(b.probability))
    copy.observe("open", "research", TraceStep("analysis", "analysis", ("search",)))  # the open trace goes on
    assert copy.distribution("research")[0].traces == 2
    bad = dict(config, counts={"research": [[7, 1]]})
    before = copy.state()[0]
    with pytest.raises(CorruptStateError, match=r"state.counts\['research'\]"):
        copy.load_state(bad, arrays)
    assert copy.state()[0] == before


def test_options_and_trace_ids_are_checked() -> None:
    with pytest.raises(ValueError, match="concentration"):
        StructureModel(config={"concentration": 0})
    with pytest.raises(ValueError, match="sampling"):
        StructureConfig(sampling="greedy")  # type: ignore[arg-type]
    for bad in ("", "call:1", "x" * 201, 3):
        with pytest.raises(ValueError, match="trace_id"):
            check_trace_id(bad)
    assert check_trace_id("turn-1") == "turn-1"


def test_arguments_of_the_wrong_kind_are_refused_naming_them_and_change_nothing() -> None:
    # a string of parents was read as its letters (each dropped: the dependency was lost), a None
    # task type was counted and then refused by the saved state, a string of capabilities was
    # read as its letters (the default proposed), and top=-1 cut the least probable off
    model = StructureModel()
    chain(model, "t", "research", ["search", "analysis"])
    caps = {"search": "", "analysis": ""}
    for call, error, message in [
        (lambda: TraceStep("b", "analysis", "search"), TypeError, r"depends_on: expected a tuple of step names, got 'search'"),
        (lambda: TraceStep("", "analysis"), TypeError, r"step: expected a non-empty string, got ''"),
        (lambda: TraceStep("b", 5), TypeError, r"capability: expected a string or None, got 5"),
        (lambda: model.observe("u", None, TraceStep("a", "search")), TypeError, r"task_type: expected a non-empty string, got None"),
        (lambda: model.observe(5, "research", TraceStep("a", "search")), TypeError, r"trace_id: expected a non-empty string, got 5"),
        (lambda: model.observe("u", "research", "search"), TypeError, r"step: expected a TraceStep, got 'search'"),
        (lambda: model.observe("u", "research", TraceStep("a", "search"), request=5), TypeError, r"request: expected a string or None, got 5"),
        (lambda: model.observe("u", "research", TraceStep("a", "search"), succeeded="no"), TypeError, r"succeeded: expected True or False, got 'no'"),
        (lambda: model.propose("research", capabilities="search"), TypeError, r"capabilities: expected a mapping or a list of capability names, got 'search'"),
        (lambda: model.propose("research", capabilities=None), TypeError, r"capabilities: expected a mapping or a list"),
        (lambda: model.propose("research", capabilities=[5]), TypeError, r"capabilities: expected a non-empty string, got 5"),
        (lambda: model.propose(5, capabilities=caps), TypeError, r"task_type: expected a non-empty string, got 5"),
        (lambda: model.propose("research", capabilities=caps, request=b"x"), TypeError, r"request: expected a string or None, got b'x'"),
        (lambda: model.scores("research", capabilities=caps, rng=5), TypeError, r"rng: expected a numpy Generator or None, got 5"),
        (lambda: model.distribution("research", top=-1), ValueError, r"top: expected an integer >= 0, got -1"),
    ]:
        with pytest.raises(error, match=message):
            call()
    assert model.task_types == ["research"] and model.traces() == 1 and model.open_steps("u") == ()
    assert TraceStep("b", "analysis", ["search"]).depends_on == ("search",)
    assert names(model.propose("research", capabilities=iter(caps))) == ["search", "analysis"]
    StructureModel().load_state(*model.state())


def test_a_task_types_history_decides_for_new_wording_and_gives_way_to_text_it_has_learned() -> None:
    def model_with(config: dict) -> StructureModel:
        model = StructureModel(config=config)
        for i in range(6):  # the type's own history: one step
            chain(model, f"t{i}", "ops", ["ls"], request=f"show me folder {i}")
        for i in range(6):  # other types: this wording takes two steps
            chain(model, f"u{i}", f"other{i % 2}", ["cd", "mv"], request="archive the quarterly report")
        return model

    caps = ["ls", "cd", "mv"]
    model = model_with({})
    # wording the text model has learned: its prediction wins over the type's usual structure
    assert names(model.propose("ops", capabilities=caps, request="archive the quarterly report")) == ["cd", "mv"]
    # wording it has never seen: the type's history decides
    assert names(model.propose("ops", capabilities=caps, request="zq xw vk")) == ["ls"]
    assert model._novelty(model._vector("zq xw vk")) > 0.5 > 0.05 > model._novelty(model._vector("archive the quarterly report"))
    # the type's term: all of it for the new wording, almost none for the learned one
    ignored = model_with({"type_weight": 0.0})
    assert names(ignored.propose("ops", capabilities=caps, request="zq xw vk")) != ["ls"]

    def type_term(request: str, config: dict) -> np.ndarray:
        with_type = model_with(config).scores("ops", capabilities=caps, request=request)[1]
        return with_type - model_with({**config, "type_weight": 0.0}).scores("ops", capabilities=caps, request=request)[1]

    new, learned = (np.ptp(type_term(r, {})) / np.ptp(type_term(r, {"prior_fade": 0.0}))
                    for r in ("zq xw vk", "archive the quarterly report"))
    assert new > 0.5 and learned < 1e-3


def test_the_text_models_precision_holds_every_traces_features_whenever_it_is_read() -> None:
    model = StructureModel()
    requests = [f"request number {i} about topic {i % 7}" for i in range(40)]  # more than one batch
    for i, text in enumerate(requests):
        chain(model, f"t{i}", "ops", ["ls"], request=text)
        if i in (5, 39):  # a proposal in between, and at the end
            model.propose("ops", capabilities=["ls", "cd"], request="something else")
    F = np.stack([model._vector(t) for t in requests])
    expected = model.config.ridge * np.eye(F.shape[1]) + F.T @ F
    _, arrays = model.state()
    assert np.allclose(arrays["A"], expected)
    assert np.allclose(model._precision_inverse(), np.linalg.inv(expected), atol=1e-8)


def test_the_requests_a_capability_served_join_its_description_in_the_description_term() -> None:
    only_descriptions = {"structure_weight": 0.0, "capability_weight": 0.0, "type_weight": 0.0, "size_weight": 0.0}

    def model_with(prototype_weight: float) -> StructureModel:
        model = StructureModel(config={**only_descriptions, "prototype_weight": prototype_weight})
        for i, text in enumerate(["rename the notes file to draft", "rename report to final", "give the file a new name"]):
            chain(model, f"a{i}", "files", ["alpha"], request=text)
        for i, text in enumerate(["delete the old logs", "remove the temporary file", "delete backup copies"]):
            chain(model, f"b{i}", "files", ["beta"], request=text)
        return model

    def margin(model: StructureModel, request: str, expected: str) -> float:
        keys, score, _ = model.scores("new type", capabilities=["alpha", "beta"], request=request)
        by = {k[0][0]: v for k, v in zip(keys, score)}
        return by[expected] - by["beta" if expected == "alpha" else "alpha"]

    # neither capability has a description (only its name): the requests it served say what it does
    asked = {"rename the draft to notes": "alpha", "delete the old notes": "beta"}
    model, plain = model_with(1.0), model_with(0.0)
    for request, expected in asked.items():
        for caps in (["alpha", "beta"], ["beta", "alpha"]):
            assert names(model.propose("new type", capabilities=caps, request=request)) == [expected]
        assert margin(model, request, expected) > max(margin(plain, request, expected), 0.0) + 0.5
    # a description still counts beside the requests: a capability no trace used is found by it
    described = {"alpha": "", "beta": "", "gamma": "print the weather forecast for a city"}
    assert names(model.propose("new type", capabilities=described, request="weather forecast for paris")) == ["gamma"]
    with pytest.raises(ValueError, match="prototype_weight"):
        StructureConfig(prototype_weight=-1.0)


def test_the_description_term_reads_the_request_without_its_quoted_values() -> None:
    # what a tweet says is a value the task passes on, not what it asks to do
    capabilities = {"post_tweet": "post a message on twitter",
                    "check_tire_pressure": "check the pressure of each tire of the car"}

    def proposed(request: str, **config) -> list[str | None]:
        return names(StructureModel(config=config).propose("travel", capabilities=capabilities, request=request))

    tweet = "Post a tweet that says 'tire pressure checked, the tires are fine'"
    assert proposed(tweet) == ["post_tweet"]
    assert proposed(tweet, drop_quoted=False) == ["check_tire_pressure"]  # the whole request
    # an apostrophe opens no quoted span, and a request that is all quoted is read whole
    for request in ("I'm sure the car's tire pressure is low: check it", "'check the tire pressure'"):
        assert proposed(request, drop_quoted=True) == ["check_tire_pressure"]
    with pytest.raises(ValueError, match="drop_quoted"):
        StructureConfig(drop_quoted="yes")


def test_quoted_spans_are_those_of_the_regular_expression_read_in_one_pass() -> None:
    # the expression's own matches, without its scan of the rest of the line from every quote
    # that closes nothing (quadratic: half a minute for 48,000 characters of " 'a")
    from toolrouter.structure import _unquoted

    quoted = re.compile(r"""(?<!\w)['"\u2018\u201c].+?['"\u2019\u201d](?!\w)""")
    rng = random.Random(0)
    marks = ["a", "_", "1", "é", " ", ".", "\n", "'", '"', "\u2018", "\u2019", "\u201c", "\u201d"]
    for _ in range(3000):
        text = "".join(rng.choices(marks, k=rng.randint(0, 12)))
        assert _unquoted(text) == quoted.sub(" ", text), text
    assert _unquoted("Post 'I'm done' and \u201cok\u201d, then \u2018x") == "Post   and  , then \u2018x"


def test_a_trace_recorded_step_by_step_is_counted_once_when_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolrouter.structure as structure

    calls = Counter[int]()
    canonical = structure._canonical

    def counted(steps):  # type: ignore[no-untyped-def]
        calls[len(steps)] += 1
        return canonical(steps)

    monkeypatch.setattr(structure, "_canonical", counted)
    model = StructureModel()
    caps = [f"c{i % 7}" for i in range(60)]
    chain(model, "long", "batch", [f"{c}" for c in caps[:7]])  # 7 steps, one trace
    assert not calls  # nothing read yet: nothing counted
    assert model.traces("batch") == 1 and calls == Counter({7: 1})
    model.observe("long", "batch", TraceStep("extra", "c0", ("c6",)))
    chain(model, "other", "batch", ["c1", "c2"])
    proposal = model.propose("batch", capabilities=[f"c{i}" for i in range(7)])
    assert calls == Counter({7: 1, 8: 1, 2: 1}) and proposal.task_type_traces == 2
    assert {len(p.steps) for p in model.distribution("batch")} >= {8, 2}
    # the same counts as a model read after every step
    eager = StructureModel()
    for trace_id, steps in (("long", list(model.open_steps("long"))), ("other", list(model.open_steps("other")))):
        for step in steps:
            eager.observe(trace_id, "batch", step)
            eager.traces()
    assert eager.summary("batch") == model.summary("batch") and eager.state()[0] == model.state()[0]


def test_the_structure_key_ignores_which_of_independent_steps_is_listed_first() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(1, 10))
        steps = [
            TraceStep(f"s{i}", str(rng.choice(["a", "b", "c"])), tuple(f"s{j}" for j in range(i) if rng.random() < 0.3))
            for i in range(n)
        ]
        keys = set()
        for _ in range(3):  # three orders the steps could have run in (parents first)
            model, done = StructureModel(), set()
            while len(done) < n:
                ready = [s for s in steps if s.step not in done and set(s.depends_on) <= done]
                step = ready[int(rng.integers(len(ready)))]
                model.observe("t", "x", step)
                done.add(step.step)
            (only,) = model.state()[0]["structures"]  # the one structure the trace has
            keys.add(repr((only["capabilities"], only["parents"])))  # names may differ between equal steps
        assert len(keys) == 1


def test_a_read_on_one_thread_and_a_trace_recorded_on_another_take_turns() -> None:
    # router.structures is read by users (distribution, summary) while the router's threads record
    # traces: a read that iterated the counts while a trace was counted raised "dictionary changed
    # size during iteration". A trace recorded during a read now waits for the read to end.
    import threading

    from toolrouter.features import HashingFeaturizer

    armed: list[bool] = []
    waited: list[bool] = []

    def featurizer(text: str) -> np.ndarray:
        if armed and not waited:  # the first text featurised within the proposal below
            writer.start()
            writer.join(0.2)
            waited.append(writer.is_alive())
        return HashingFeaturizer(dim=16)(text)

    model = StructureModel(featurizer)
    writer = threading.Thread(target=chain, args=(model, "t1", "research", ["search"]))
    chain(model, "t0", "research", ["search", "analysis"], request="find papers")
    armed.append(True)
    model.propose("research", capabilities={"search": "web pages", "analysis": "tables"}, request="find tables")
    writer.join()
    assert waited == [True] and model.traces("research") == 2


def test_a_capability_the_conversation_already_ran_gives_way_as_conversations_seldom_run_it_again() -> None:
    capabilities = {"login": "log the user in", "post": "post a message", "read": "read the messages"}

    def trained(weight: float = 0.4) -> StructureModel:
        model = StructureModel(config=StructureConfig(conversation_weight=weight))
        for i in range(5):  # a post logs in first, unless the conversation already did
            chain(model, f"call:a{i}", "social", ["login", "post"], request="post my news")
        for i in range(3):
            chain(model, f"call:b{i}", "social", ["post"], request="post my news")
        for i in range(3):
            model.observe_conversation(["login"], ["post"])
        for i in range(20):  # conversations that had logged in read their messages without logging in again
            model.observe_conversation(["login"], ["read"])
        return model

    def proposed(model: StructureModel, **kwargs) -> list[str | None]:
        return names(model.propose("social", capabilities=capabilities, request="post my news", **kwargs))

    model = trained()
    assert proposed(model) == ["login", "post"]
    assert proposed(model, earlier=["login"]) == ["post"]
    assert proposed(model, earlier=["read"]) == ["login", "post"]  # only what the conversation ran counts
    assert proposed(trained(0.0), earlier=["login"]) == ["login", "post"]
    # nothing learned of conversations: nothing to weigh
    fresh = StructureModel(config=StructureConfig(conversation_weight=0.4))
    chain(fresh, "call:a", "social", ["login", "post"], request="post my news")
    assert proposed(fresh, earlier=["login"]) == ["login", "post"]
    # the counts are saved; a state saved before them loads without any
    config, arrays = model.state()
    loaded = StructureModel(config=model.config)
    loaded.load_state(config, arrays)
    assert proposed(loaded, earlier=["login"]) == ["post"]
    loaded.load_state({k: v for k, v in config.items() if k != "conversation"}, arrays)
    assert proposed(loaded, earlier=["login"]) == ["login", "post"]
    with pytest.raises(CorruptStateError, match="conversation"):
        loaded.load_state({**config, "conversation": [5, 2]}, arrays)
    with pytest.raises(TypeError, match="earlier"):
        model.propose("social", capabilities=capabilities, earlier="login")
    with pytest.raises(ValueError, match="conversation_weight"):
        StructureConfig(conversation_weight=-1.0)
