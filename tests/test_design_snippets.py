"""The design document's code snippets run as written, only their import lines changed.

Each snippet of ``seed/meta_learning_framework.md`` is copied here verbatim and run; ``src.meta_learning``
becomes ``meta``, ``toolrouter`` or ``adapters_lib``. Names a snippet leaves to its reader (``model``,
``dataloader``, ``your_objective``, ...) are defined before it. Snippets that another test already
runs verbatim are listed in ``ELSEWHERE`` rather than run twice; the demo snippet runs the whole tour,
minutes long, so its test runs it at a tiny size (``NOT_YET``); ``src.experts`` becomes ``integrations.experts``. When the document is at hand,
``test_every_snippet_is_copied_verbatim_or_accounted_for`` checks all of this against it.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import Any

import optuna
import pytest
import torch
from torch import nn

optuna.logging.set_verbosity(optuna.logging.WARNING)

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "../shared/seed/meta_learning_framework.md"


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # small models on shared cores

# Installation & Setup
SETUP = """
# Import the framework
from meta import MAML, PrototypicalNetwork, ContinualLearner, AdaptiveOptimizer
from toolrouter import ToolMetaLearner
from adapters_lib import AdapterModel
"""


# 1. Model-Agnostic Meta-Learning (MAML)
MAML_SECTION = """
from meta import MAMLFirstOrder, create_meta_batch

# Initialize MAML
model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
maml = MAMLFirstOrder(
    model=model,
    lr_inner=0.01,
    lr_meta=0.001,
    num_inner_steps=5
)

# Meta-training
tasks = [generate_task() for _ in range(4)]
meta_batch = create_meta_batch(tasks, batch_size=4)
metrics = maml.meta_train_step(meta_batch)

# Quick adaptation to new task
adapted_weights = maml.adapt_to_task(support_x, support_y)
predictions = maml._forward_with_weights(query_x, adapted_weights)
"""


# 2. Few-Shot Learning
FEW_SHOT = """
from meta import FewShotLearner, PrototypicalNetwork

# Create encoder network
encoder = nn.Sequential(
    nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64*5*5, 128)
)

# Initialize few-shot learner
learner = FewShotLearner(
    algorithm='prototypical',
    encoder=encoder
)

# Train on episodes
metrics = learner.train_episode(
    support_x, support_y, query_x, query_y
)
predictions = learner.predict(support_x, support_y, query_x)
"""


# 4. Adaptive Optimization
ADAPTIVE_OPTIMIZATION = """
from meta import AdaptiveOptimizer, BayesianOptimizer

# Initialize adaptive optimizer
optimizer = AdaptiveOptimizer(
    model=model,
    base_optimizer='adam',
    use_meta_learning=True,
    meta_learning_rate=0.001
)

# Training with automatic adaptation
for epoch in range(num_epochs):
    for batch in dataloader:
        optimizer.zero_grad()
        loss = compute_loss(model, batch)
        optimizer.step(loss.item())

# Get optimization statistics
stats = optimizer.get_optimization_stats()
"""


# 5. Neural Architecture Search
NAS_SECTION = """
from meta import NeuralArchitectureSearch, create_nas_search_space

# Create search space
search_space = create_nas_search_space(
    input_shape=(3, 32, 32),
    num_classes=10,
    max_layers=20
)

# Initialize NAS
nas = NeuralArchitectureSearch(
    search_space_config=search_space,
    algorithm='bayesian',  # 'random', 'bayesian', 'darts', 'evolutionary'
    population_size=50
)

# Run architecture search
best_arch, best_performance = nas.search_architecture(
    evaluation_function=your_eval_function,
    num_evaluations=100
)
"""


# Bayesian Hyperparameter Optimization
BAYESIAN_HPO = """
from meta.optimizer import BayesianOptimizer

# Define parameter space
parameter_space = {
    'learning_rate': (1e-5, 1e-2),
    'batch_size': (16, 128),
    'weight_decay': (1e-6, 1e-3)
}

# Create optimizer
optimizer = BayesianOptimizer(
    parameter_space=parameter_space,
    acquisition_function='ei'
)

# Run optimization
best_params, best_score = optimizer.optimize(
    objective_function=your_objective,
    n_iterations=50
)
"""


# Custom NAS Evaluation
CUSTOM_NAS_EVALUATION = '''
def custom_architecture_evaluation(architecture):
    """Custom architecture evaluation function."""
    # Build model from architecture
    model = build_model_from_architecture(architecture)

    # Train and evaluate
    train_model(model, training_data)
    accuracy = evaluate_model(model, validation_data)

    return accuracy

# Use with NAS
nas = NeuralArchitectureSearch(search_space, 'bayesian')
best_arch, best_perf = nas.search_architecture(
    custom_architecture_evaluation,
    num_evaluations=100
)
'''


# Adding Custom Algorithms
CUSTOM_ALGORITHM = """
from meta import BaseMetaLearner

class CustomMetaLearner(BaseMetaLearner):
    def __init__(self, model, **kwargs):
        super().__init__(model, **kwargs)

    def meta_train_step(self, tasks):
        # Implement custom meta-learning algorithm
        pass

    def adapt_to_task(self, support_data):
        # Implement custom adaptation mechanism
        pass
"""


# Benchmarking
BENCHMARKING = """
from meta import benchmark_nas_algorithms
from toolrouter import create_tool_optimization_benchmark

# Benchmark NAS algorithms
nas_results = benchmark_nas_algorithms(search_space, eval_function, 50)

# Benchmark tool optimization
tool_results = create_tool_optimization_benchmark(tools, tasks, 100)
"""


# Integration with Expert System
EXPERT_SYSTEM = """
# Example integration
from meta import MAML
from toolrouter import ToolMetaLearner
from integrations.experts import LanguageExpert, VisionExpert

# Create meta-learning enhanced experts
language_expert = LanguageExpert()
vision_expert = VisionExpert()

# Add MAML for rapid adaptation
maml = MAML(language_expert.model)
language_expert.add_meta_learning(maml)

# Add tool optimization
tool_learner = ToolMetaLearner(tool_profiles)
language_expert.add_tool_optimization(tool_learner)

# Use enhanced experts
result = language_expert.process_task(user_input)
"""


# Lines that differ from the document, per heading: none. (Section 4 passes ``loss.item()``, a float,
# which carries no gradients: it runs as written where the reader's ``compute_loss`` runs the backward
# pass, and otherwise step says to pass the loss tensor itself.)
DIFFERENCES: dict[str, dict[str, str]] = {}

HERE = {
    "Installation & Setup": SETUP,
    "1. Model-Agnostic Meta-Learning (MAML)": MAML_SECTION,
    "2. Few-Shot Learning": FEW_SHOT,
    "4. Adaptive Optimization": ADAPTIVE_OPTIMIZATION,
    "5. Neural Architecture Search": NAS_SECTION,
    "Bayesian Hyperparameter Optimization": BAYESIAN_HPO,
    "Custom NAS Evaluation": CUSTOM_NAS_EVALUATION,
    "Adding Custom Algorithms": CUSTOM_ALGORITHM,
    "Benchmarking": BENCHMARKING,
    "Integration with Expert System": EXPERT_SYSTEM,
}
# Run verbatim, imports aside, by these tests.
ELSEWHERE = {
    "3. Continual Learning": "tests/meta/test_continual_learner.py",
    "6. Tool Usage Optimization": "tests/toolrouter/test_seed_snippet.py",
    "7. Meta-Learning Adapters": "tests/adapters_lib/test_adapters_seed_snippets.py",
    "Multi-Modal Adaptation": "tests/adapters_lib/test_adapters_seed_snippets.py",
    "Custom Adapter Architectures": "tests/adapters_lib/test_custom_adapter.py",
}
# The demo's snippet runs the whole tour at its default size (minutes): tests/integrations/experts/test_tour.py
# runs run_meta_learning_demo at a tiny size instead.
NOT_YET = {"Quick Start Demo"}


def run(heading: str, *, without: tuple[str, ...] = (), **names: Any) -> dict[str, Any]:
    """Run the copy of the snippet under ``heading`` with ``names`` (and ``nn``) defined before it;
    ``without``: pieces of text left out."""
    namespace: dict[str, Any] = {"nn": nn, **names}
    code = HERE[heading]
    for piece in without:
        code = code.replace(piece, "")
    exec(compile(code, f"<design document: {heading}>", "exec"), namespace)
    return namespace


def test_installation_imports_the_framework() -> None:
    import adapters_lib
    import meta
    import toolrouter

    ns = run("Installation & Setup")
    for name in ("MAML", "PrototypicalNetwork", "ContinualLearner", "AdaptiveOptimizer"):
        assert ns[name] is getattr(meta, name)
    assert ns["ToolMetaLearner"] is toolrouter.ToolMetaLearner and ns["AdapterModel"] is adapters_lib.AdapterModel


def test_maml_section() -> None:
    torch.manual_seed(0)

    def generate_task() -> tuple[torch.Tensor, ...]:
        return torch.randn(5, 10), torch.randn(5, 1), torch.randn(5, 10), torch.randn(5, 1)

    support_x, support_y, query_x, _ = generate_task()
    ns = run(
        "1. Model-Agnostic Meta-Learning (MAML)",
        generate_task=generate_task, support_x=support_x, support_y=support_y, query_x=query_x,
    )
    assert ns["predictions"].shape == (5, 1) and math.isfinite(ns["metrics"]["meta_loss"])
    assert set(ns["adapted_weights"]) == {name for name, _ in ns["model"].named_parameters()}


def test_few_shot_section() -> None:
    torch.manual_seed(0)
    support_x, support_y = torch.randn(5, 1, 28, 28), torch.arange(5)
    query_x, query_y = torch.randn(10, 1, 28, 28), torch.arange(5).repeat(2)
    ns = run("2. Few-Shot Learning", support_x=support_x, support_y=support_y, query_x=query_x, query_y=query_y)
    assert math.isfinite(ns["metrics"]["loss"]) and 0.0 <= ns["metrics"]["accuracy"] <= 1.0
    assert ns["predictions"].shape == (10,) and set(ns["predictions"].tolist()) <= set(range(5))


def _regression(*, backward: bool) -> dict[str, Any]:
    """The names section 4 leaves to its reader: a model, batches and a loss that runs its backward
    pass or not."""
    torch.manual_seed(0)
    w = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    batches = [torch.randn(16, 4) for _ in range(4)]

    def compute_loss(model: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.mse_loss(model(batch), batch @ w)
        if backward and torch.is_grad_enabled():
            loss.backward()
        return loss

    return {"model": nn.Linear(4, 1), "dataloader": batches, "num_epochs": 5, "compute_loss": compute_loss}


def test_adaptive_optimization_section() -> None:
    names = _regression(backward=True)
    with torch.no_grad():
        first_loss = names["compute_loss"](names["model"], names["dataloader"][0]).item()
    ns = run("4. Adaptive Optimization", **names)
    stats = ns["stats"]
    assert stats["step"] == 20 and stats["use_meta_learning"]
    assert stats["last_loss"] < first_loss
    assert stats["learning_rates"] != stats["initial_learning_rates"]  # the rate was learned


def test_adaptive_optimization_with_a_loss_that_never_backpropagates_names_the_fix_and_changes_nothing() -> None:
    names = _regression(backward=False)
    before = [p.detach().clone() for p in names["model"].parameters()]
    with pytest.raises(ValueError, match=r"call loss.backward\(\) before step\(\), or pass the loss tensor itself"):
        run("4. Adaptive Optimization", **names)
    assert all(torch.equal(p, q) for p, q in zip(names["model"].parameters(), before))


def _conv_count(architecture: dict) -> float:
    layers = architecture["layers"]
    return sum(layer["op"].startswith("conv") for layer in layers) - 0.1 * len(layers)


def test_nas_section() -> None:
    ns = run("5. Neural Architecture Search", your_eval_function=_conv_count)
    nas, best = ns["nas"], ns["best_performance"]
    assert len(nas.history) == 100 and best == max(score for _, score in nas.history)
    assert best == _conv_count(ns["best_arch"]) and best > 3.0  # random architectures average about 0.6
    from meta import build_model_from_architecture

    assert build_model_from_architecture(ns["best_arch"])(torch.zeros(2, 3, 32, 32)).shape == (2, 10)


@pytest.mark.slow  # fifty trials of Optuna's Gaussian-process sampler, as the snippet asks: seconds
def test_bayesian_hyperparameter_optimization() -> None:
    def your_objective(params: dict) -> float:
        return -((math.log10(params["learning_rate"]) + 3.5) ** 2) - (params["batch_size"] - 64) ** 2 / 1e3

    ns = run("Bayesian Hyperparameter Optimization", your_objective=your_objective)
    optimizer, best = ns["optimizer"], ns["best_params"]
    assert isinstance(optimizer.study.sampler, optuna.samplers.GPSampler) and len(optimizer.history) == 50
    assert ns["best_score"] == max(score for _, score in optimizer.history)
    assert 1e-5 <= best["learning_rate"] <= 1e-2 and isinstance(best["batch_size"], int)
    assert ns["best_score"] > -0.5  # near the optimum (1e-3.5, 64), which scores 0


def test_custom_nas_evaluation() -> None:
    from meta import NeuralArchitectureSearch, build_model_from_architecture, create_nas_search_space

    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 1, 8, 8, generator=g)
    y = (x[:, 0, :4].mean((1, 2)) > x[:, 0, 4:].mean((1, 2))).long()  # is the top half the brighter?

    def train_model(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor]) -> None:
        torch.manual_seed(0)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
        for _ in range(5):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(data[0]), data[1]).backward()
            optimizer.step()

    def evaluate_model(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor]) -> float:
        model.eval()
        with torch.no_grad():
            return float((model(data[0]).argmax(1) == data[1]).float().mean())

    ns = run(
        "Custom NAS Evaluation",
        NeuralArchitectureSearch=NeuralArchitectureSearch,
        build_model_from_architecture=build_model_from_architecture,
        search_space=create_nas_search_space((1, 8, 8), num_classes=2, max_layers=2, widths=(4, 8)),
        training_data=(x[:64], y[:64]),
        validation_data=(x[64:], y[64:]),
        train_model=train_model,
        evaluate_model=evaluate_model,
    )
    nas = ns["nas"]
    assert len(nas.history) == 100 and ns["best_perf"] == max(score for _, score in nas.history)
    assert ns["best_arch"]["type"] == "layers" and ns["best_perf"] > 0.7


def test_custom_meta_learner() -> None:
    from meta import BaseMetaLearner

    ns = run("Adding Custom Algorithms")
    learner = ns["CustomMetaLearner"](nn.Linear(3, 1))
    assert isinstance(learner, BaseMetaLearner)
    assert learner.meta_train_step([]) is None and learner.adapt_to_task(None) is None


def test_benchmarking() -> None:
    from meta import create_nas_search_space
    from toolrouter import TaskProfile, ToolProfile, ToolType

    tools = {
        "search_tool": ToolProfile(tool_id="search_tool", tool_type=ToolType.SEARCH, cost_per_use=1.0, reliability=0.9),
        "analysis_tool": ToolProfile(tool_id="analysis_tool", tool_type=ToolType.ANALYSIS, cost_per_use=2.0, reliability=0.85),
    }
    ns = run(
        "Benchmarking",
        search_space=create_nas_search_space((16,), num_classes=3, max_layers=4),
        eval_function=lambda architecture: -abs(len(architecture["layers"]) - 3),
        tools=tools,
        tasks=[TaskProfile(task_id="research_task", task_type="research")],
    )
    assert set(ns["nas_results"]) == {"random", "bayesian", "evolutionary"}
    for result in ns["nas_results"].values():
        assert len(result["curve"]) == 50 and result["best_performance"] == 0  # three layers found
    assert ns["tool_results"].n_tasks == 100 and ns["tool_results"].best in ns["tool_results"].policies


def test_expert_system_section() -> None:
    import importlib.util

    from integrations.experts import ExpertResult, LanguageExpert
    from meta import MAML
    from toolrouter import ToolProfile, ToolType

    tool_profiles = [
        ToolProfile(tool_id="web_search", tool_type=ToolType.SEARCH, description="search the web for pages and news"),
        ToolProfile(tool_id="python", capabilities=["code"], description="run Python code"),
    ]
    # the VisionExpert lines run once integrations.experts.vision is there
    vision = importlib.util.find_spec("integrations.experts.vision") is not None
    ns = run("Integration with Expert System", without=() if vision else (", VisionExpert", "vision_expert = VisionExpert()"),
             tool_profiles=tool_profiles, user_input="find the latest news about the Mars rover")
    expert, result = ns["language_expert"], ns["result"]
    assert isinstance(expert, LanguageExpert) and isinstance(ns["maml"], MAML) and expert.meta_learner is ns["maml"]
    assert isinstance(result, ExpertResult) and result.label == "search"
    assert result.plan is not None and result.plan.tool_for("search") == "web_search"
    assert expert.tool_learner is ns["tool_learner"]


# ----------------------------------------------------------------------- the copies against the document


def _document_blocks() -> dict[str, list[str]]:
    """Each Python block of the design document under its heading (leading emoji dropped)."""
    blocks: dict[str, list[str]] = {}
    heading, block = "", None
    for line in DESIGN.read_text(encoding="utf-8").splitlines():
        if block is not None:
            if line.strip() == "```":
                blocks[heading], block = block, None
            else:
                block.append(line)
        elif line.strip() == "```python":
            block = []
        elif line.startswith("#"):
            heading = re.sub(r"^[^\w]+", "", line.lstrip("#").strip())
    return blocks


def _split_imports(lines: list[str]) -> tuple[set[tuple[str, str]], list[str]]:
    """(module, name) of every ``from ... import`` and the other lines, trailing blanks and spaces dropped."""
    imports: set[tuple[str, str]] = set()
    skip: set[int] = set()
    for node in ast.parse("\n".join(lines)).body:
        if isinstance(node, ast.ImportFrom):
            imports |= {(node.module or "", alias.name) for alias in node.names}
            skip |= set(range(node.lineno - 1, node.end_lineno or node.lineno))
    rest = [line.rstrip() for i, line in enumerate(lines) if i not in skip]
    while rest and not rest[0]:
        rest.pop(0)
    while rest and not rest[-1]:
        rest.pop()
    return imports, rest


@pytest.mark.skipif(not DESIGN.is_file(), reason="the design document is not beside this checkout")
def test_every_snippet_is_copied_verbatim_or_accounted_for() -> None:
    blocks = _document_blocks()
    assert set(blocks) == set(HERE) | set(ELSEWHERE) | NOT_YET
    ours = {"meta", "toolrouter", "adapters_lib", "integrations"}
    for heading, copy in HERE.items():
        theirs, expected = _split_imports(blocks[heading])
        mine, actual = _split_imports(copy.splitlines())
        for original, changed in DIFFERENCES.get(heading, {}).items():
            expected = [line.replace(original, changed) for line in expected]
            actual = [re.sub(re.escape(changed) + r"  #.*", changed, line) for line in actual]
        assert actual == expected, heading
        # only the module changes: the same names, from src.meta_learning in the document, ours here
        assert {name for _, name in mine} == {name for _, name in theirs}, heading
        assert all(module.startswith(("src.meta_learning", "src.experts")) for module, _ in theirs), heading
        assert all(module.split(".")[0] in ours for module, _ in mine), heading
    for heading, path in ELSEWHERE.items():
        # the block, imports aside, stands line for line (indentation aside) in the other test file
        wanted = [line.strip() for line in _split_imports(blocks[heading])[1] if line.strip()]
        lines = [line.strip() for line in (ROOT / path).read_text(encoding="utf-8").splitlines() if line.strip()]
        starts = [i for i in range(len(lines)) if lines[i : i + len(wanted)] == wanted]
        assert starts, f"{heading}: not found verbatim in {path}"
