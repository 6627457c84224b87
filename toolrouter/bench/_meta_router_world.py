"""A synthetic world of text requests and described tools, with known expected utilities.

Each tool has a skill in [0, 1] per topic and a cost; its description names the topics it is good
at, in words. Each task family mixes a few topics; its requests are sentences made of those topics'
words. The expected utility of a tool on a request is ``sum_topic weight(request, topic) *
skill(tool, topic) - cost + bias(family, tool)`` (the bias: what a family's own quirks add), and an
outcome adds Gaussian noise. So what a router can learn in one family (which words call for which
described skills) transfers to new families and to new tools, which is what meta-learned priors
should exploit; regret is measured against the per-request best tool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from toolrouter.models import ToolProfile, ToolType

TOPICS = {
    "code": ["python", "function", "bug", "compile", "script", "refactor"],
    "math": ["integral", "equation", "probability", "algebra", "proof", "matrix"],
    "search": ["latest", "news", "website", "find", "lookup", "sources"],
    "translate": ["french", "german", "spanish", "translate", "language", "japanese"],
    "summarize": ["summary", "summarize", "shorten", "report", "abstract", "digest"],
    "data": ["table", "csv", "sql", "chart", "dataset", "columns"],
}
FILLER = ["please", "can", "you", "help", "me", "with", "this", "the", "a", "quickly", "for", "my"]


@dataclass
class World:
    """Tools, families and the ground truth; ``request(family, rng)`` draws one request."""

    tools: list[ToolProfile]
    skills: np.ndarray  # (n_tools, n_topics)
    costs: np.ndarray  # (n_tools,)
    families: list[np.ndarray]  # topic mixture per family, (n_topics,)
    biases: np.ndarray  # (n_families, n_tools)
    noise: float

    def request(self, family: int, rng: np.random.Generator) -> tuple[str, np.ndarray]:
        """(text, per-tool expected utility) of a fresh request of ``family``."""
        topics = list(TOPICS)
        mix = self.families[family]
        weights = rng.dirichlet(mix * 4 + 0.05)
        words = []
        for t, w in zip(topics, weights):
            words += list(rng.choice(TOPICS[t], size=int(round(6 * w))))
        words += list(rng.choice(FILLER, size=3))
        rng.shuffle(words)
        utility = self.skills @ weights - self.costs + self.biases[family]
        return " ".join(words), utility

    def outcome(self, expected: float, rng: np.random.Generator) -> float:
        return float(expected + rng.normal(0.0, self.noise))


def make_world(n_tools: int = 12, n_families: int = 30, noise: float = 0.1, seed: int = 0) -> World:
    """A world with ``n_tools`` described tools and ``n_families`` task families."""
    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    skills = rng.beta(0.6, 0.9, size=(n_tools, len(topics)))
    costs = rng.uniform(0.0, 0.3, size=n_tools)
    tools = []
    for k in range(n_tools):
        strong = [topics[j] for j in np.argsort(-skills[k]) if skills[k, j] > 0.5]
        weak = [topics[j] for j in range(len(topics)) if skills[k, j] < 0.15]
        desc = f"A tool that handles {' and '.join(strong) or 'general'} requests"
        if strong:
            desc += " such as " + ", ".join(TOPICS[strong[0]][:3])
        if weak:
            desc += f"; poor at {' and '.join(weak)}"
        desc += "; cheap" if costs[k] < 0.1 else "; expensive" if costs[k] > 0.2 else ""
        tools.append(ToolProfile(tool_id=f"tool_{k}", tool_type=ToolType.OTHER, capabilities=("answer",), description=desc))
    families = [rng.dirichlet(np.full(len(topics), 0.5)) for _ in range(n_families)]
    biases = rng.normal(0.0, 0.05, size=(n_families, n_tools))
    return World(tools, skills, costs, families, biases, noise)
