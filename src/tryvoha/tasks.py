"""
Stopping background tasks for good.

On Python 3.11, `asyncio.wait_for` (used inside aiomqtt, nats-py and others) can lose a
cancellation that arrives just as the operation it waits for completes: the task carries
on, and whoever awaits its end waits forever, a shutdown or a handover of leadership
included. So a task is asked to stop again until it has.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


async def stop_task(task: asyncio.Task[Any], *, ask_every: float = 1.0) -> None:
    """
    Cancel *task* and return once it has ended. The cancellation is repeated every
    *ask_every* seconds while the task runs on, so allow that long for its own clean-up.
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=ask_every)
    if not task.cancelled() and (error := task.exception()) is not None:
        # Stopping goes on, and what the task failed at is not lost either.
        log.error("task %s had failed", task.get_name(), exc_info=error)


async def stop_tasks(tasks: Iterable[asyncio.Task[Any]], *, ask_every: float = 1.0) -> None:
    """`stop_task` for each of *tasks*, all cancelled at once."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    for task in pending:
        await stop_task(task, ask_every=ask_every)
