"""An ASGI app built on its first request: every Airflow process loads plugins, only the API server serves
them, so a plugin's FastAPI app (and its imports) is paid for only where it answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class LazyApp:
    """Calls ``factory`` once, on the first request, and hands every request to the app it returns."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        self._factory = factory
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            self._app = self._factory()
        await self._app(scope, receive, send)
