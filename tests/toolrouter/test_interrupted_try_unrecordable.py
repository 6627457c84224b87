"""A try its caller cancels or interrupts, whose record the store then refuses, still ends the call
with the caller's cancellation or interrupt: the store's error took its place, so a cancelled task
ended as failed (not cancelled) and a Ctrl-C became an error its caller could catch and go on from."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from toolrouter import ToolMiddleware
from toolrouter.store.base import AttemptRecord
from toolrouter.store.sqlite import SQLiteStore


class FullDisk(SQLiteStore):
    """An SQLite store whose appends fail once ``full`` is set."""

    full = False

    def append(self, records: Sequence[AttemptRecord]) -> list[int]:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        return super().append(records)


def test_a_cancelled_call_whose_record_fails_ends_cancelled(tmp_path: Path) -> None:
    store = FullDisk(tmp_path / "router.db")
    tools = ToolMiddleware(seed=0, store=store)
    started = asyncio.Event()

    @tools.tool("slow")
    async def slow() -> str:
        started.set()
        await asyncio.sleep(10)
        return "late"

    async def cancelled_call() -> asyncio.Task:
        task = asyncio.create_task(tools.acall("slow"))
        await asyncio.wait_for(started.wait(), 5)
        store.full = True
        task.cancel()
        await asyncio.wait([task])
        return task

    assert asyncio.run(cancelled_call()).cancelled()


def test_an_interrupted_call_whose_record_fails_raises_the_interrupt(tmp_path: Path) -> None:
    store = FullDisk(tmp_path / "router.db")
    tools = ToolMiddleware(seed=0, store=store)

    def interrupted() -> str:  # Ctrl-C while the tool runs in the calling thread
        store.full = True
        raise KeyboardInterrupt

    tools.register(interrupted, "x", inline=True)
    with pytest.raises(KeyboardInterrupt):
        tools.call("x")
