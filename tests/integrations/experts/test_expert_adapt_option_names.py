"""``adapt`` refuses an option the expert's tasks do not take with ``ExpertInputError`` naming it
and the options there are, and learns nothing: a ``LanguageExpert`` given ``description=`` (for
``descriptions=``) failed with a TypeError naming its ``_fit_task``, through ``ExpertSystem.adapt``
too."""

from __future__ import annotations

import pytest

from integrations.experts import ExpertInputError, ExpertSystem, LanguageExpert
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

EXAMPLES = {"yes": ["yes please", "sure"], "no": ["no thanks", "nope"]}
NAMED = r"options: \['description'\] are not options of a LanguageExpert's tasks \(they are \['descriptions'\]\)"


def test_an_unknown_task_option_is_refused_naming_it() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=64))
    with pytest.raises(ExpertInputError, match=NAMED):
        expert.adapt(EXAMPLES, task="answer", description={"yes": "agreeing"})
    assert expert.tasks == []
    expert.adapt(EXAMPLES, task="answer", descriptions={"yes": "agreeing"})


def test_through_an_expert_system_too() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=64))
    system = ExpertSystem(seed=0)
    system.add_expert("small", expert)
    with system, pytest.raises(ExpertInputError, match=NAMED):
        system.adapt(EXAMPLES, task="answer", description={"yes": "agreeing"})
    assert expert.tasks == []
