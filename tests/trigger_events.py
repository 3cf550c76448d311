"""Drive an Airflow trigger's ``run()`` the way the triggerer does, collecting what it fires."""

from __future__ import annotations

import asyncio
from typing import Any


class Events:
    """``async with Events(trigger) as events``: the trigger runs in a task; ``await events.next(s)`` waits for one.

    A timeout must not cancel the trigger's generator mid-wait (that would end it), so a task pumps its
    events into a queue and the test waits on the queue.
    """

    def __init__(self, trigger: Any) -> None:
        self.trigger = trigger
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    async def _pump(self) -> None:
        async for event in self.trigger.run():
            await self.queue.put(event.payload)

    async def __aenter__(self) -> Events:
        self.task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def next(self, within: float) -> Any:
        """The next event's payload, or None when none came within ``within`` seconds."""
        if self.task.done():
            self.task.result()  # the trigger ended: show why
            raise AssertionError("the trigger stopped watching")
        try:
            return await asyncio.wait_for(self.queue.get(), within)
        except TimeoutError:
            return None
