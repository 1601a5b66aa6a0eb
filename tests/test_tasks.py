"""Stopping a background task for good, even one that loses a cancellation."""

from __future__ import annotations

import asyncio
import logging

import pytest

from tryvoha.tasks import stop_task, stop_tasks


async def swallows_first_cancel(swallowed: list[int]) -> None:
    """What a lost cancellation in Python 3.11's `wait_for` looks like to the task's owner."""
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        swallowed.append(1)
    await asyncio.sleep(3600)


def test_a_task_that_loses_a_cancellation_is_asked_again() -> None:
    async def scenario() -> tuple[bool, list[int]]:
        swallowed: list[int] = []
        task = asyncio.create_task(swallows_first_cancel(swallowed))
        await asyncio.sleep(0)
        await asyncio.wait_for(stop_task(task, ask_every=0.05), 5)
        return task.cancelled(), swallowed

    assert asyncio.run(scenario()) == (True, [1])


def test_a_failure_while_stopping_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def fails_on_cancel() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup broke") from None

    async def scenario() -> None:
        task = asyncio.create_task(fails_on_cancel(), name="cleaner")
        await asyncio.sleep(0)
        await stop_task(task)

    with caplog.at_level(logging.ERROR, logger="tryvoha.tasks"):
        asyncio.run(scenario())
    assert caplog.messages == ["task cleaner had failed"]


def test_stop_tasks_stops_them_all_and_a_finished_one_is_fine() -> None:
    async def scenario() -> list[bool]:
        swallowed: list[int] = []
        finished = asyncio.create_task(asyncio.sleep(0))
        stubborn = asyncio.create_task(swallows_first_cancel(swallowed))
        plain = asyncio.create_task(asyncio.sleep(3600))
        await asyncio.sleep(0.01)
        await asyncio.wait_for(stop_tasks([finished, stubborn, plain], ask_every=0.05), 5)
        return [finished.cancelled(), stubborn.cancelled(), plain.cancelled()]

    assert asyncio.run(scenario()) == [False, True, True]
