"""Coroutines the demo's actors (warehouse, receiving dock, returns desk) run in the background."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class BackgroundTasks:
    """Keeps each task until it is done. `wait_all` returns once none is left (tasks may start more
    tasks meanwhile); `cancel_all` cancels what runs and waits for it to end."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def wait_all(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
