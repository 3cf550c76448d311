"""Refuse a DAG run triggered for a future logical date, with a message a quality lead can act on.

Airflow accepts such a run and then holds it at Running with every task at No Status until the date comes
(the scheduler logs "Logical date is in future" every second; the UI says nothing), and with
``max_active_runs=1`` it blocks the daily runs meanwhile. The DAGs treat the logical date as "today", so a
future one is always a mistake here: this API-server middleware (``plugins/reaccreditation_triggers.py``)
answers the trigger request with 400 and the reason instead. Everything else passes through untouched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TRIGGER = re.compile(r"/api/v2/dags/(?P<dag_id>[^/]+)/dagRuns/?$")
LOCAL = ZoneInfo("Europe/London")


def refusal(dag_id: str, body: bytes, now: datetime) -> str | None:
    """Why this trigger request is refused (its logical date is after ``now``), or None to let it through."""
    try:
        payload = json.loads(body or b"{}")
        raw = payload.get("logical_date") if isinstance(payload, dict) else None
        when = datetime.fromisoformat(str(raw).replace("Z", "+00:00")) if raw else None
    except ValueError:
        return None  # not ours to judge: Airflow answers malformed bodies itself
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when <= now:
        return None
    local = when.astimezone(LOCAL)
    return (
        f"Not started: {dag_id} was asked to run for {local:%a} {local.day} {local:%b %Y, %H:%M}, which is in the "
        "future. The reaccreditation DAGs treat the run's logical date as 'today', and Airflow would hold a "
        "future run at Running with nothing started until that date. Leave the logical date empty to run "
        "for now, or pick today or an earlier date."
    )


class RefuseFutureRuns:
    """ASGI middleware: POST /api/v2/dags/<id>/dagRuns with a future ``logical_date`` gets 400 and the reason."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = TRIGGER.search(scope.get("path", "")) if scope.get("type") == "http" else None
        if match is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        reason = refusal(match["dag_id"], body, datetime.now(UTC))
        if reason is not None:
            answer = json.dumps({"detail": reason}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
            await send({"type": "http.response.start", "status": 400, "headers": headers})
            await send({"type": "http.response.body", "body": answer})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
