"""run_meta_learning_demo documents every argument in its Arguments block."""

import inspect
import re

from integrations.experts import run_meta_learning_demo


def test_every_argument_is_in_the_arguments_block() -> None:
    doc = inspect.getdoc(run_meta_learning_demo) or ""
    block = doc.split("Arguments:\n", 1)[1].split("\n\n", 1)[0]
    documented = re.findall(r"^    (\w+):", block, flags=re.MULTILINE)
    assert documented == list(inspect.signature(run_meta_learning_demo).parameters)
