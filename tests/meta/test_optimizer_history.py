"""AdaptiveOptimizer keeps a bounded record of its rates: a long run does not grow its memory or its
state_dict, and the initial rates stay known, those of groups added later included."""

from __future__ import annotations

import torch

from meta.optimizer import AdaptiveOptimizer


def test_the_rate_history_is_bounded_and_the_initial_rates_stay_known() -> None:
    x = torch.nn.Parameter(torch.full((3,), 2.0))
    later = torch.nn.Parameter(torch.zeros(2))
    opt = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.01, meta_learning_rate=0.1, window=3)
    for step in range(300):
        if step == 100:
            opt.add_param_group({"params": [later], "lr": 0.02})
        opt.zero_grad()
        opt.step((x**2).sum() + (later - 1.0).pow(2).sum())
    # one row of rates per step was kept, for ever, and copied into every state_dict
    assert len(opt.lr_history) == 30 == len(opt.state_dict()["lr_history"])
    stats = opt.get_optimization_stats()
    assert stats["step"] == 300 and stats["initial_learning_rates"] == [0.01, 0.02]
    assert list(opt.lr_history)[-1] == stats["learning_rates"]
    resumed = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.01, window=3)
    resumed.add_param_group({"params": [later], "lr": 0.02})
    resumed.load_state_dict(opt.state_dict())
    assert resumed.get_optimization_stats() == stats
