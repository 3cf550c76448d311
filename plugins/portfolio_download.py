"""The assessor's portfolio download (an Airflow 3 plugin): a signed, expiring link, no Airflow account.

A small FastAPI app mounted by the API server at ``/portfolio``. ``GET /portfolio/download?token=...``
serves the zip of the portfolio version the token names, as long as the token's HMAC (under the signing
key variable ``reaccreditation_signing_key``) matches, its expiry has not passed and the quality team has
not withdrawn it (``portfolio_revocation``, read on every request: 410 and whom to ask); every request,
served or refused, is logged in the project database (``portfolio_download``). The checking lives in
``reaccreditation.portfolio.download``; this file only wires it to HTTP. Unlike the Reaccreditation page
this app deliberately has no Airflow login: the assessor has no account, the token is the permission.

The app is built on its first request (every Airflow process loads plugins; only the API server serves it).
"""

import logging
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from reaccreditation.orchestration.lazy_app import LazyApp

log = logging.getLogger(__name__)

URL_PREFIX = "/portfolio"

# Every answer is a file or a line of text: nothing may run, be framed or be cached (the token is in the URL).
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def signing_key() -> bytes:
    """The signing key as the tasks read it (environment or secrets backend), else from the metadata
    database: the Task SDK's ``Variable.get`` does not read the database outside a task, the API server may."""
    from reaccreditation.orchestration import connections

    return connections.server_signing_key()


def build_app():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from fastapi import FastAPI, Query, Request
    from fastapi.responses import FileResponse, PlainTextResponse

    from reaccreditation.db import make_engine
    from reaccreditation.orchestration import connections
    from reaccreditation.portfolio.download import ASK, answer

    app = FastAPI(title="Portfolio download", docs_url=None, redoc_url=None, openapi_url=None)
    state: dict[str, Any] = {}

    def engine():  # type: ignore[no-untyped-def]
        if "engine" not in state:
            state["engine"] = make_engine(connections.database_url())
        return state["engine"]

    @app.get("/download")
    def download(request: Request, token: str = Query(default="", max_length=2000)) -> Any:
        try:
            key, db = signing_key(), engine()
        except Exception:
            log.exception("portfolio download: no signing key or project database")
            return PlainTextResponse(f"The download is not available just now. {ASK}", status_code=503, headers=HEADERS)
        client = request.client.host if request.client else None
        found = answer(db, key, token, datetime.now(UTC), client=client, user_agent=request.headers.get("user-agent"))
        if found.path is None:
            return PlainTextResponse(found.message, status_code=found.status, headers=HEADERS)
        return FileResponse(
            found.path,
            media_type="application/zip",
            filename=found.filename,
            headers=HEADERS,
        )

    return app


app = LazyApp(build_app)


class PortfolioDownloadPlugin(AirflowPlugin):
    name = "portfolio_download"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Portfolio download"}]
