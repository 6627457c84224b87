"""Bandit policies, one module per family, behind the interface in ``base``."""

from toolrouter.policies.base import ArmPrior, Policy, PolicyState

__all__ = ["ArmPrior", "Policy", "PolicyState"]
