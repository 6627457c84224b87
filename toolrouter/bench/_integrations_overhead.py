"""``integrations`` section ``overhead``: what a routed tool call through each integration costs
beyond the tool's own time.

One capability served by ``--tools`` backends (no-op tools taking ``query: str``: the router
chooses among them with its default policy), and one tool call from a model, built as the SDK's
typed object (no network). Each integration is timed against the same call dispatched by hand,
the way an agent without toolrouter runs it:

- OpenAI Chat: ``integrations.openai.dispatch_chat`` and ``adispatch_chat`` on a
  ``ChatCompletion``; by hand: parse the call's JSON arguments, look the function up by name, call
  it, build the ``tool`` message.
- Anthropic: ``integrations.anthropic.dispatch`` and ``adispatch`` on a ``Message``; by hand: the
  same from the ``tool_use`` block to the user message of ``tool_result`` blocks.
- The async forms are awaited one after another inside one event loop, as an async agent runs
  them; by hand, the async agent runs the same sync tool in the loop's executor
  (``loop.run_in_executor``), as async frameworks run sync tools so as not to block their loop.
- LangChain (when ``integrations.langchain`` imports): ``RouterMiddleware.wrap_tool_call`` and
  the capability's ``StructuredTool`` from ``as_langchain_tools``, each against a plain
  ``StructuredTool`` of the function invoked with the same tool call.

Added time = median(integration) - median(by hand); the ratio is median(integration) /
median(by hand). Both with the Toolbox's default middleware (a sync tool runs in a worker thread,
so that its timeout can fire) and with ``timeout_s=None`` (the tool runs in the calling thread).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from toolrouter.attempts import ExecutorConfig, RetryPolicy
from toolrouter.bench._args import UsageError, count
from toolrouter.bench._report import NOT_AT_QUICK, console, median_time_s, print_table

if TYPE_CHECKING:  # integrations is imported when the section runs, never with toolrouter
    from integrations import Toolbox

#: The project's target for the time a routed call through an integration adds, at 50 tools.
ADDED_TARGET_S = 100e-6

CAPABILITY = "lookup"
REQUEST = "Look up the opening hours of the city library."
ARGUMENTS = {"query": "city library opening hours"}


#: What ``--quick`` sets for this section, unless the command line gives the option.
QUICK = {"tools": 5, "repeats": 10}


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """Options of this section."""
    group.add_argument("--tools", type=count, default=50, help="backends of the one capability (default 50)")


def _noop(query: str) -> str:
    return query


def _toolbox(n_tools: int, inline: bool) -> Toolbox:
    from integrations import Toolbox

    config = ExecutorConfig(timeout_s=None, retry=RetryPolicy(max_retries=0), circuit_breaker=None) if inline else None
    toolbox = Toolbox(seed=0, config=config)
    for i in range(n_tools):
        toolbox.register(_noop, CAPABILITY, description="Look something up.", tool_id=f"{CAPABILITY}{i}")
    return toolbox


Pair = tuple[Callable[[], Any], Callable[[], Any]]  # (the routed call, the same call by hand)
_FUNCTIONS = {CAPABILITY: _noop}  # what an agent without toolrouter looks its tools up in
_MESSAGES = [{"role": "user", "content": REQUEST}]


def _provider_pairs(toolbox: Toolbox, provider: str) -> dict[str, Pair | str]:
    """The sync and async dispatch of one tool call of ``provider`` ("openai" or "anthropic"),
    each with the same call dispatched by hand; a reason instead where the SDK is missing."""
    names = {"openai": ("OpenAI Chat dispatch_chat", "OpenAI Chat adispatch_chat (async)"),
             "anthropic": ("Anthropic dispatch", "Anthropic adispatch (async)")}[provider]  # fmt: skip
    try:
        response, dispatch, adispatch, by_hand = _openai_call() if provider == "openai" else _anthropic_call()
    except ImportError as exc:
        return dict.fromkeys(names, f"not installed ({exc.name})")
    async def by_hand_async() -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, by_hand)

    return {
        names[0]: ((lambda: dispatch(toolbox, response, messages=_MESSAGES)), by_hand),
        names[1]: ((lambda: adispatch(toolbox, response, messages=_MESSAGES)), by_hand_async),
    }


def _openai_call() -> tuple[Any, Callable[..., Any], Callable[..., Any], Callable[[], Any]]:
    from openai.types.chat import ChatCompletion

    from integrations.openai import adispatch_chat, dispatch_chat

    completion = ChatCompletion.model_validate({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "bench",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_1", "type": "function",
                            "function": {"name": CAPABILITY, "arguments": json.dumps(ARGUMENTS)}}]}}],
    })  # fmt: skip

    def by_hand() -> list[dict[str, Any]]:
        return [
            {"role": "tool", "tool_call_id": call.id,
             "content": str(_FUNCTIONS[call.function.name](**json.loads(call.function.arguments)))}
            for call in completion.choices[0].message.tool_calls or ()
        ]  # fmt: skip

    return completion, dispatch_chat, adispatch_chat, by_hand


def _anthropic_call() -> tuple[Any, Callable[..., Any], Callable[..., Any], Callable[[], Any]]:
    from anthropic.types import Message

    from integrations.anthropic import adispatch, dispatch

    message = Message.model_validate({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "bench", "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 1},
        "content": [{"type": "tool_use", "id": "toolu_1", "name": CAPABILITY, "input": ARGUMENTS}],
    })  # fmt: skip

    def by_hand() -> dict[str, Any]:
        blocks = [
            {"type": "tool_result", "tool_use_id": block.id, "content": str(_FUNCTIONS[block.name](**block.input))}
            for block in message.content
            if block.type == "tool_use"
        ]
        return {"role": "user", "content": blocks}

    return message, dispatch, adispatch, by_hand


def _langchain_pairs(toolbox: Toolbox) -> dict[str, Pair | str]:
    names = ("LangChain RouterMiddleware.wrap_tool_call", "LangChain StructuredTool from as_langchain_tools")
    try:
        from langchain.agents.middleware.types import ToolCallRequest
        from langchain_core.messages import HumanMessage
        from langchain_core.tools import StructuredTool

        from integrations.langchain import RouterMiddleware, as_langchain_tools
    except ImportError as exc:
        return dict.fromkeys(names, f"not available ({exc.name or exc})")
    call = {"name": CAPABILITY, "args": ARGUMENTS, "id": "call_1", "type": "tool_call"}
    plain = StructuredTool.from_function(_noop, name=CAPABILITY, description="Look something up.")
    middleware = RouterMiddleware(toolbox, expose_tools=False)
    state = {"messages": [HumanMessage(REQUEST)]}
    request = ToolCallRequest(tool_call=call, tool=plain, state=state, runtime=None)  # type: ignore[arg-type]
    routed_tool = as_langchain_tools(toolbox)[0]

    def unreached(_: Any) -> Any:
        raise AssertionError("the middleware routes a capability's call itself")

    def by_hand() -> Any:
        return plain.invoke(call)

    return {
        names[0]: ((lambda: middleware.wrap_tool_call(request, unreached)), by_hand),
        names[1]: ((lambda: routed_tool.invoke(call)), by_hand),
    }


def _timed(pair: Pair, repeats: int) -> tuple[float, float]:
    """Median seconds of the routed call and of the call by hand; a routed call that returns a
    coroutine is awaited, all of its calls inside one event loop (as an async agent runs them)."""
    routed_fn, by_hand_fn = pair
    first = routed_fn()  # the call works before it is timed
    if not asyncio.iscoroutine(first):
        return median_time_s(routed_fn, repeats=repeats, warmup=20), median_time_s(by_hand_fn, repeats=repeats, warmup=20)

    async def timed(fn: Callable[[], Any]) -> float:
        times = []
        for i in range(repeats + 20):
            started = time.perf_counter()
            await fn()
            if i >= 20:  # warm-up calls are not counted
                times.append(time.perf_counter() - started)
        return statistics.median(times)

    async def both() -> tuple[float, float]:
        await first
        return await timed(routed_fn), await timed(by_hand_fn)

    return asyncio.run(both())


def run(args: argparse.Namespace) -> list[list[Any]]:
    """Run the section and print its table; returns the target's rows (what, target, measured, met)."""
    if args.tools < 1:
        raise UsageError(f"--tools must be at least 1, got {args.tools!r}")
    n_tools, repeats = args.tools, args.repeats * 5
    rows, targets = [], []
    for inline in (False, True):
        toolbox = _toolbox(n_tools, inline)
        pairs = {**_provider_pairs(toolbox, "openai"), **_provider_pairs(toolbox, "anthropic"), **_langchain_pairs(toolbox)}
        where = "calling thread (timeout_s=None)" if inline else "worker thread (default)"
        for name, pair in pairs.items():
            if isinstance(pair, str):
                rows.append([name, where, pair, "", "", "", ""])
                continue
            routed, by_hand = _timed(pair, repeats)
            added = routed - by_hand
            met = "" if inline else NOT_AT_QUICK if args.quick else ("yes" if added < ADDED_TARGET_S else "no")
            rows.append([name, where, round(routed * 1e6, 1), round(by_hand * 1e6, 1), round(added * 1e6, 1),
                         round(routed / by_hand, 1), met])  # fmt: skip
            if not inline:
                targets.append([f"{name}: time added per routed call at {n_tools} backends", f"< {ADDED_TARGET_S * 1e6:g} us",
                                f"{added * 1e6:.1f} us", met])  # fmt: skip
    print_table(
        f"Overhead of a routed tool call: one capability with {n_tools} backends (no-op tools), one call from the "
        f"model (median microseconds over {repeats} calls; by hand: the same call dispatched without toolrouter)",
        ["integration", "tool runs in", "routed us", "by hand us", "added us", "x by hand",
         f"added < {ADDED_TARGET_S * 1e6:g} us"],
        rows,
    )  # fmt: skip
    console.print(
        "The target is judged with the Toolbox's default middleware (the tool in a worker thread, so that its "
        "timeout can fire); the calling-thread rows show the cost without that handoff. The synchronous dispatchers "
        "run the calls of one response in threads of their own (concurrent calls; async tools beside a running event "
        "loop). LangChain's by-hand path is BaseTool.invoke with its callbacks, which RouterMiddleware does not go "
        "through: it answers the call itself, so it can cost less than by hand.",
        markup=False,
    )
    return targets
