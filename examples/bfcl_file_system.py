"""BFCL's file system as routed tools: the router plans a request's call sequence, the executor runs it.

The Berkeley Function Calling Leaderboard's multi-turn conversations (``multi_turn_base``) give, for
each user turn, the function calls that serve it over a real API. Its file system API
(``GorillaFileSystem``, a Python class of the ``bfcl-eval`` package: ``pip install --no-deps
bfcl-eval``) is registered here as tools, one per function. The router learns the structure of
``file_system`` tasks from the turns of some conversations (what ran, in order, for which request),
then, for each turn of conversations it never saw, plans the call sequence from the request text
alone (``TaskProfile`` without steps: ``plan.structure`` says where the plan came from). The executor
runs the plan on the conversation's file system with the dataset's arguments (choosing arguments is
a language model's job; which functions run in which order is the router's), and the file system's
final state is compared with the state the dataset's own calls produce.

Run from the repository root (offline; the data is read where it lies):

    python examples/bfcl_file_system.py [--data ../shared/data/bfcl] [--held-out 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.data import load_bfcl
from toolrouter.data.bfcl import BfclData, Conversation, FunctionCall
from toolrouter.executor import ExecutorConfig, RetryPolicy, StepRequest

try:
    from bfcl_eval.eval_checker.multi_turn_eval.func_source_code.gorilla_file_system import GorillaFileSystem
except ImportError:  # pragma: no cover - said to the user
    sys.exit("this example needs the bfcl-eval package: pip install --no-deps bfcl-eval")

API = "GorillaFileSystem"
TASK_TYPE = "file_system"
DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "bfcl"


def file_system_conversations(data: BfclData) -> list[Conversation]:
    """The ``multi_turn_base`` conversations that use the file system."""
    return [c for c in data.multi_turn if API in c.api_sets]


def file_system_tools(data: BfclData) -> list[ToolProfile]:
    """One tool per file system function: its capability is the function's name, its description
    the function's document."""
    return [
        ToolProfile(tool_id=f"fs.{d.name}", capabilities=[d.name], description=d.description.split("Tool description: ")[-1])
        for d in data.api_functions[API]
    ]


def step_names(names: list[str]) -> list[str]:
    """A step per call, named after its function (``cd``, then ``cd_2`` for the second ``cd``)."""
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def learn_turn(router: ToolMetaLearner, task: TaskProfile, calls: tuple[FunctionCall, ...]) -> None:
    """What ran for a turn, as a trace: one step per call, each consuming the one before."""
    router.learn_from_execution(task, [
        ExecutionResult(tool_id=f"fs.{c.name}", step=step, success=True)
        for c, step in zip(calls, step_names([c.name for c in calls]))
    ])


def file_system(initial: dict[str, Any]) -> GorillaFileSystem:
    fs = GorillaFileSystem()
    fs._load_scenario(copy.deepcopy(initial.get(API, {})))
    return fs


def run_calls(fs: GorillaFileSystem, calls: tuple[FunctionCall, ...]) -> None:
    for c in calls:
        getattr(fs, c.name)(*c.args, **c.kwargs)


def same_state(a: GorillaFileSystem, b: GorillaFileSystem) -> bool:
    """The same tree of directories and files, and the same working directory."""

    def path(fs: GorillaFileSystem) -> list[str]:
        node, names = fs._current_dir, []
        while node is not None:
            names.append(node.name)
            node = node.parent
        return names

    return a == b and path(a) == path(b)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("BFCL_DATA", DEFAULT_DATA)),
                        help="a BFCL v4 folder as the bfcl-eval package ships it (default: $BFCL_DATA, else ../shared/data/bfcl)")
    parser.add_argument("--held-out", type=int, default=4, help="file-system-only conversations to plan (the last ones)")
    parser.add_argument("--seed", type=int, default=0, help="the router's seed")
    args = parser.parse_args(argv)
    if not 0 <= args.seed < 2**128:  # the router's bound, said before the data is read
        parser.error(f"--seed: expected 0 to 2**128 - 1, got {args.seed}")

    try:
        bfcl = load_bfcl(args.data, ["multi_turn_base"])  # checked: a damaged copy is named by file and line
    except FileNotFoundError as exc:  # no copy there: one line naming the option, not a traceback
        parser.error(f"--data: {str(exc).removeprefix('path: ')}")
    data = file_system_conversations(bfcl)
    only_fs = [c for c in data if c.api_sets == (API,)]
    if not 1 <= args.held_out <= len(only_fs):  # a slice from -0 held every one out, from -3 all but three
        parser.error(f"--held-out: expected 1 to {len(only_fs)} (the file-system-only conversations), got {args.held_out}")
    held_out = only_fs[-args.held_out :]
    known = {c.id for c in held_out}
    tools = file_system_tools(bfcl)
    functions = {t.capabilities[0] for t in tools}

    router = ToolMetaLearner(tools, seed=args.seed)
    learned = 0
    for conversation in data:  # learn from the other conversations' file system turns
        if conversation.id in known:
            continue
        for i, (request, calls) in enumerate((t.request, t.calls) for t in conversation.turns):
            if calls and all(c.name in functions for c in calls):
                learn_turn(router, TaskProfile(task_id=f"{conversation.id}/{i}", task_type=TASK_TYPE, context=request), calls)
                learned += 1
    print(f"learned from {learned} turns of {len(data) - len(held_out)} conversations; planning {len(held_out)} others")

    config = ExecutorConfig(retry=RetryPolicy(max_retries=0))
    tally: Counter[str] = Counter()
    for conversation in held_out:
        env, reference = file_system(conversation.initial_config), file_system(conversation.initial_config)
        for i, (request, calls) in enumerate((t.request, t.calls) for t in conversation.turns):
            task = TaskProfile(task_id=f"{conversation.id}/{i}", task_type=TASK_TYPE, context=request)
            plan = router.optimize_task_execution(task)
            order = plan.topological_order()
            planned = [plan.step(s).capability for s in order]
            # the dataset's arguments: those of the k-th call of the same function in this turn
            given: dict[str, list[FunctionCall]] = {}
            for c in calls:
                given.setdefault(c.name, []).append(c)
            arguments = {s: given[f].pop(0) for s, f in zip(order, planned) if given.get(f)}

            def call(request: StepRequest, env: GorillaFileSystem = env, arguments: dict[str, FunctionCall] = arguments) -> Any:
                c = arguments.get(request.step_id)
                if c is None:
                    raise ValueError(f"the dataset has no arguments for {request.capability!r} in this turn")
                out = getattr(env, c.name)(*c.args, **c.kwargs)
                if isinstance(out, dict) and "error" in out:
                    raise RuntimeError(out["error"])
                return out

            run = router.execute(task, plan=plan, tools={t.tool_id: call for t in tools}, config=config)
            run_calls(reference, calls)
            wanted = [c.name for c in calls]
            exact, state = planned == wanted, same_state(env, reference)
            tally.update(turns=1, exact=exact, same_state=state)
            print(
                f"{task.task_id}: {request[:70]!r}\n"
                f"  planned ({plan.structure.source}, p={plan.structure.probability:.2f}): {' -> '.join(map(str, planned))}\n"
                f"  dataset: {' -> '.join(wanted)}\n"
                f"  run {run.status.value}; final state {'matches' if state else 'differs from'} the dataset's"
            )
            if not state:  # go on from the dataset's state, so that each turn is judged on its own
                env = copy.deepcopy(reference)
    print(
        f"{tally['exact']}/{tally['turns']} turns planned exactly as the dataset; "
        f"{tally['same_state']}/{tally['turns']} ended in the dataset's state"
    )
    return dict(tally)


if __name__ == "__main__":
    main()
