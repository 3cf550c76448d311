"""The quality team's Reaccreditation page inside the Airflow UI (an Airflow 3 plugin).

A small FastAPI app mounted by the API server at ``/reaccreditation`` and shown in the UI's navigation
as "Reaccreditation" (an external view, opened as a page of its own). Airflow does not authenticate plugin
apps, so every route depends on Airflow's own security dependency: the UI's JWT (the ``_token`` cookie
the browser sends with the page) or an ``Authorization: Bearer`` token, checked by the configured
auth manager, and the user must be allowed to read the runs of every DAG tagged 'reaccreditation' (401
without a user, 403 otherwise; ``_may_read_reaccreditation``). Every answer carries a script-free
Content-Security-Policy and frame headers (``SECURITY_HEADERS``): only Airflow's own UI may frame it
(the UI links to the page, it does not frame it).

All data gathering lives in ``reaccreditation.dashboard.page``; this file only reads DAG runs through
Airflow's models, calls it and renders. The FastAPI app is built on its first request: every Airflow
process loads plugins (scheduler, workers, DAG processor), and only the API server needs FastAPI and
the API's security modules.

No ``from __future__ import annotations`` here: FastAPI reads the route signatures at runtime, and
their types are imported inside ``build_app``.
"""

import logging
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from airflow.plugins_manager import AirflowPlugin

from reaccreditation.orchestration.lazy_app import LazyApp

log = logging.getLogger(__name__)

URL_PREFIX = "/reaccreditation"
TAG = "reaccreditation"
LOCAL = ZoneInfo("Europe/London")


def _airflow_root(request: Any) -> str:
    """Airflow's own path prefix (empty unless the UI is served under a sub-path)."""
    root = request.scope.get("root_path", "")
    return root[: -len(URL_PREFIX)] if root.endswith(URL_PREFIX) else root


def _runs(request: Any, session: Any, user: Any) -> list[dict[str, Any]] | None:
    """The last runs of every DAG tagged 'reaccreditation' this user may read; None when Airflow fails."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagModel, DagTag
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    try:
        readable = get_auth_manager().get_authorized_dag_ids(user=user, method="GET")
        names = dict(
            session.execute(
                select(DagModel.dag_id, DagModel.dag_display_name)
                .join(DagTag, DagTag.dag_id == DagModel.dag_id)
                .where(DagTag.name == TAG, DagModel.is_stale.is_(False))
            ).all()
        )
        root = _airflow_root(request)
        rows: list[dict[str, Any]] = []
        for dag_id in sorted(set(names) & set(readable)):
            dag_url = f"{root}/dags/{quote(dag_id, safe='')}"
            name = names[dag_id] or dag_id
            runs = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id).order_by(DagRun.run_after.desc()).limit(5)).all()
            rows.append({"dag_id": dag_id, "dag_name": name, "dag_url": dag_url, "run_id": None})
            for r in runs:
                rows.append(
                    {
                        "dag_id": dag_id,
                        "dag_name": name,
                        "dag_url": dag_url,
                        "run_id": r.run_id,
                        "state": str(r.state or ""),
                        "run_type": str(getattr(r.run_type, "value", r.run_type) or ""),
                        "run_after": r.run_after.isoformat() if r.run_after else None,
                        "date": _local(r.logical_date or r.run_after),
                        "end": _local(r.end_date),
                        "url": f"{dag_url}/runs/{quote(r.run_id, safe='')}",
                    }
                )
        return rows
    except Exception:
        log.exception("reaccreditation dashboard: could not read DAG runs")
        return None


def _waiting(request: Any, session: Any, user: Any) -> dict[str, Any] | None:
    """What waits on people in Airflow: open sign-offs (with their answer pages) and paused DAGs."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.models.dag import DagModel, DagTag
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from sqlalchemy import select

    from reaccreditation.approvals.decisions import APPROVE, REJECT

    try:
        readable = set(get_auth_manager().get_authorized_dag_ids(user=user, method="GET"))
        tagged = select(DagTag.dag_id).where(DagTag.name == TAG)
        root = _airflow_root(request)
        pending = []
        rows = session.execute(
            select(HITLDetail, TaskInstance)
            .join(TaskInstance, TaskInstance.id == HITLDetail.ti_id)
            .where(HITLDetail.responded_at.is_(None), TaskInstance.dag_id.in_(tagged))
            .order_by(HITLDetail.created_at)
        ).all()
        for detail, ti in rows:
            if ti.dag_id not in readable or str(getattr(ti.state, "value", ti.state)) not in ("deferred", "awaiting_input"):
                continue
            parts = (quote(x, safe="") for x in (ti.dag_id, ti.run_id, ti.task_id))
            link = "{}/dags/{}/runs/{}/tasks/{}/required_actions".format(root, *parts)
            if sorted(detail.options or []) == sorted([APPROVE, REJECT]):
                link += "?_options=" + quote(f'["{APPROVE}"]')
            pending.append(
                {
                    "subject": detail.subject,
                    "dag_id": ti.dag_id,
                    "since": detail.created_at,
                    "assigned": [u.get("name") or u.get("id") for u in (detail.assignees or [])],
                    "url": link,
                }
            )
        paused = session.scalars(
            select(DagModel.dag_id).where(DagModel.dag_id.in_(tagged), DagModel.is_paused.is_(True), DagModel.is_stale.is_(False))
        ).all()
        return {
            "pending": pending,
            "paused": [{"dag_id": d, "url": f"{root}/dags/{quote(d, safe='')}"} for d in sorted(paused) if d in readable],
        }
    except Exception:
        log.exception("reaccreditation dashboard: could not read open sign-offs")
        return None


# Our pages: no script at all, inline styles, images from here; framed only by Airflow's own UI.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _secure(headers: Any) -> None:
    """Every answer of the plugin gets the headers (a route's own, stricter policy stays)."""
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)


def _may_read_reaccreditation(user: Any, session: Any) -> bool:
    """The plugin's own resources: the user must be allowed to read the runs of every DAG tagged
    'reaccreditation' (all DAGs when none is deployed yet). Never a DAG id the caller names: Airflow's
    ``requires_access_dag`` reads ``dag_id`` from the query string, so ``?dag_id=<any DAG the user may
    read>`` would have opened the page to someone who may read none of ours."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.models.dag import DagModel, DagTag
    from sqlalchemy import select

    dag_ids = sorted(
        set(session.scalars(select(DagModel.dag_id).join(DagTag, DagTag.dag_id == DagModel.dag_id).where(DagTag.name == TAG)))
    )
    teams = DagModel.get_dag_id_to_team_name_mapping(dag_ids, session=session)
    details = [DagDetails(id=d, team_name=teams.get(d)) for d in dag_ids] or [DagDetails()]
    requests = [{"method": "GET", "access_entity": DagAccessEntity.RUN, "details": d} for d in details]
    return get_auth_manager().batch_is_authorized_dag(requests, user=user)  # type: ignore[arg-type]


def _csrf_key() -> bytes:
    """The review forms' CSRF key: the API's JWT secret (shared by every API worker), else one per process."""
    from airflow.configuration import conf

    secret = conf.get("api_auth", "jwt_secret", fallback="") or ""
    return secret.encode() if secret else _PROCESS_KEY


_PROCESS_KEY = secrets.token_bytes(32)


def _review_setup() -> tuple[Any, Any]:
    """The organisation config and the project database for the review routes (the caller disposes of the engine)."""
    from fastapi import HTTPException

    from reaccreditation.db import make_engine
    from reaccreditation.orchestration import connections, context

    try:
        org = context.organisation(datetime.now(LOCAL).date())
    except Exception as exc:  # a broken config is the quality team's to fix: say what is wrong
        raise HTTPException(status_code=503, detail=f"The organisation config cannot be read: {exc}") from None
    return org, make_engine(connections.database_url())


def _review_queue(user: Any, department: str | None) -> dict[str, Any]:
    """What the queue page and ``GET /api/review`` show: items, progress, who may review, this user's token."""
    from reaccreditation.review import page

    org, engine = _review_setup()
    try:
        return page.gather(org, engine, user.get_id(), _csrf_key(), department or None)
    finally:
        engine.dispose()


def _review_change(user: Any, evidence_id: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """One POSTed change: 403 unless a reviewer with this user's CSRF token; then the store's answer."""
    from reaccreditation.review import csrf, store
    from reaccreditation.review.reviewers import reviewer_name

    if not csrf.valid(_csrf_key(), user.get_id(), data.get("csrf_token")):
        return 403, {"detail": "This form has expired or did not come from the review page: reload the page and try again."}
    org, engine = _review_setup()
    try:
        name = reviewer_name(org, user.get_id())
        if name is None:
            who = "quality_team.members[].airflow_user"
            return 403, {"detail": f"Only the quality team's reviewers ({who} in the config) can change a review state."}
        try:
            version = int(str(data.get("version", "")).strip())
        except ValueError:
            return 422, {"detail": "The change must say which version of the item you saw ('version', a whole number)."}
        try:
            change = store.record(
                engine,
                evidence_id,
                seen_state=str(data.get("from_state") or ""),
                seen_version=version,
                to_state=str(data.get("to_state") or ""),
                comment=data.get("comment") or None,
                reviewer=user.get_id(),
                reviewer_name=name,
            )
        except store.Conflict as exc:
            return 409, {"detail": str(exc), "current": exc.current}
        except store.ReviewError as exc:
            return exc.status, {"detail": str(exc)}
        return (200 if change.repeated else 201), change.as_json()
    finally:
        engine.dispose()


def _review_round(user: Any, data: dict[str, Any]) -> tuple[int, str]:
    """'Send review round now': a reviewer with this user's token (and leave to trigger the DAG) starts a run."""
    from airflow.api.common.trigger_dag import trigger_dag
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
    from airflow.models.dag import DagModel
    from airflow.utils.types import DagRunTriggeredByType

    from reaccreditation.review import csrf
    from reaccreditation.review.reviewers import reviewer_name
    from reaccreditation.review.round import DAG_ID

    if not csrf.valid(_csrf_key(), user.get_id(), data.get("csrf_token")):
        return 403, "This form has expired or did not come from the review page: reload the page and try again."
    org, engine = _review_setup()
    engine.dispose()
    details = DagDetails(id=DAG_ID)
    may_trigger = get_auth_manager().is_authorized_dag(
        method="POST", access_entity=DagAccessEntity.RUN, details=details, user=user
    )
    if reviewer_name(org, user.get_id()) is None or not may_trigger:
        return 403, "Only the quality team's reviewers who may run the review round DAG can send a review round."
    try:
        run = trigger_dag(DAG_ID, triggered_by=DagRunTriggeredByType.UI, triggering_user_name=user.get_name())
    except Exception as exc:  # not deployed (DagNotFound), or the database refused: say so, in words
        log.exception("reaccreditation review: could not trigger %s", DAG_ID)
        return 503, f"The review round could not be started ({type(exc).__name__}: {exc}). Try again, or ask the Airflow admin."
    model = DagModel.get_current(DAG_ID)
    paused = " The DAG is paused, so it waits until someone unpauses it." if model is not None and model.is_paused else ""
    return 201, f"Review round started (run {run.run_id if run else '?'}): each department with news gets one email.{paused}"


def _local(when: datetime | None) -> str | None:
    return when.astimezone(LOCAL).strftime("%d %b %Y %H:%M") if when else None


def _gather(
    request: Any, session: Any, user: Any, readiness: str | None, criterion: str | None, text: str | None
) -> dict[str, Any]:
    from reaccreditation.dashboard import page as dashboard
    from reaccreditation.db import make_engine
    from reaccreditation.orchestration import connections, context
    from reaccreditation.settings import data_paths

    today = datetime.now(LOCAL).date()
    try:
        org = context.organisation(today)
    except Exception as exc:  # a broken config is the quality team's to fix: say so on the page
        return {"config_error": str(exc), "today": today}
    try:
        engine = make_engine(connections.database_url())
    except Exception:
        log.exception("reaccreditation dashboard: project database unavailable")
        engine = None
    try:
        return dashboard.gather(
            engine,
            org,
            today,
            data_paths().output,
            _runs(request, session, user),
            waiting=_waiting(request, session, user),
            readiness=readiness or None,
            criterion=criterion or None,
            text=text or None,
        )
    finally:
        if engine is not None:
            engine.dispose()


def build_app():  # type: ignore[no-untyped-def]
    """The FastAPI app; every route depends on Airflow's auth (a user who may read DAG runs)."""
    from airflow.api_fastapi.common.db.common import SessionDep
    from airflow.api_fastapi.core_api.security import GetUserDep
    from fastapi import Depends, FastAPI, HTTPException, Query, Request
    from fastapi.responses import HTMLResponse, JSONResponse

    def authorised(user: GetUserDep, session: SessionDep) -> None:
        if not _may_read_reaccreditation(user, session):
            raise HTTPException(status_code=403, detail="Forbidden")

    app = FastAPI(
        title="Reaccreditation dashboard",
        description="The quality team's view of the reaccreditation season.",
        dependencies=[Depends(authorised)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Any:
        response = await call_next(request)
        _secure(response.headers)
        return response

    readiness_query = Query(default="", max_length=20)
    criterion_query = Query(default="", max_length=10)
    text_query = Query(default="", max_length=100, alias="q")

    @app.get("/", response_class=HTMLResponse)
    def page(
        request: Request,
        session: SessionDep,
        user: GetUserDep,
        readiness: str = readiness_query,
        criterion: str = criterion_query,
        q: str = text_query,
    ) -> HTMLResponse:
        from reaccreditation.render import render

        data = _gather(request, session, user, readiness, criterion, q)
        if "config_error" in data:
            return HTMLResponse(render("dashboard_error.html", message=data["config_error"]))
        return HTMLResponse(render("dashboard.html", d=data))

    @app.get("/api/dashboard")
    def api(
        request: Request,
        session: SessionDep,
        user: GetUserDep,
        readiness: str = readiness_query,
        criterion: str = criterion_query,
        q: str = text_query,
    ) -> JSONResponse:
        from reaccreditation.dashboard.page import as_json

        return JSONResponse(as_json(_gather(request, session, user, readiness, criterion, q)))

    @app.get("/files/{relative:path}")
    def generated_file(relative: str) -> Any:
        """A file the stages wrote (a pack preview, a workbook, a day picture, the portfolio and its documents)."""
        from fastapi.responses import FileResponse

        from reaccreditation.dashboard.files import headers, media_type, output_file
        from reaccreditation.settings import data_paths

        path = output_file(data_paths().output, relative)
        if path is None:
            raise HTTPException(status_code=404, detail="No such generated file (only files under the output folder are served).")
        return FileResponse(path, media_type=media_type(path), headers=headers(path))

    @app.get("/review", response_class=HTMLResponse)
    def review_page(
        request: Request,
        user: GetUserDep,
        department: str = Query(default="", max_length=100),
        done: str = Query(default="", max_length=500),
        problem: str = Query(default="", max_length=500),
    ) -> HTMLResponse:
        """The review queue: one plain form per item (no script), posting to ``/api/review/<id>``."""
        from reaccreditation.render import render

        q = _review_queue(user, department)
        prefix = f"{_airflow_root(request)}{URL_PREFIX}"
        q |= {"done": done, "problem": problem, "home": f"{prefix}/", "self": f"{prefix}/review", "post": f"{prefix}/api/review"}
        q["round_post"] = f"{prefix}/api/review-round"
        return HTMLResponse(render("review_queue.html", q=q))

    @app.get("/review/{evidence_id}/document")
    def review_document(evidence_id: int, name: str = Query(default="", max_length=300)) -> Any:
        """A kept document the item names, for the reviewer to read (``review.documents``: 404 for anything else)."""
        from fastapi.responses import FileResponse

        from reaccreditation.dashboard.files import document_headers
        from reaccreditation.review import documents
        from reaccreditation.settings import data_paths

        _org, engine = _review_setup()
        try:
            found = documents.find(engine, data_paths(), evidence_id, name)
        finally:
            engine.dispose()
        if found is None:
            raise HTTPException(status_code=404, detail="No such document for this evidence item.")
        media, headers = document_headers(found.filename)
        return FileResponse(found.path, media_type=media, headers=headers)

    @app.get("/api/review")
    def review_queue(user: GetUserDep, department: str = Query(default="", max_length=100)) -> JSONResponse:
        """The review queue as JSON: every current evidence item with its state and version, and a CSRF token."""
        return JSONResponse(_review_queue(user, department))

    @app.get("/api/review/{evidence_id}")
    def review_history(evidence_id: int) -> JSONResponse:
        """One item's audit trail: every change, oldest first."""
        from reaccreditation.review import store

        _org, engine = _review_setup()
        try:
            return JSONResponse({"evidence_id": evidence_id, "changes": store.history(engine, evidence_id)})
        finally:
            engine.dispose()

    @app.post("/api/review/{evidence_id}")
    async def review_change(evidence_id: int, request: Request, user: GetUserDep) -> Any:
        """Change an item's state: JSON (token in ``X-CSRF-Token`` or the body) or the queue page's plain form
        (answered with a redirect back to the page, which says what happened)."""
        from fastapi.responses import RedirectResponse
        from starlette.concurrency import run_in_threadpool

        form = not request.headers.get("content-type", "").startswith("application/json")
        try:
            data = dict(await request.form()) if form else dict(await request.json())
        except Exception:
            raise HTTPException(status_code=400, detail="Send the change as a form or a JSON object.") from None
        data.setdefault("csrf_token", request.headers.get("x-csrf-token"))
        status, body = await run_in_threadpool(_review_change, user, evidence_id, data)
        if form and status != 403:
            back = {"department": str(data.get("department") or ""), "item": str(evidence_id)}
            back["done" if status < 300 else "problem"] = "Saved." if status < 300 else str(body["detail"])
            target = f"{_airflow_root(request)}{URL_PREFIX}/review?" + urlencode(back)
            return RedirectResponse(target + f"#item-{evidence_id}", status_code=303)
        return JSONResponse(body, status_code=status)

    @app.post("/api/review-round")
    async def review_round(request: Request, user: GetUserDep) -> Any:
        """Trigger the review round DAG now: the queue page's form (303 back, with a status line) or JSON."""
        from fastapi.responses import RedirectResponse
        from starlette.concurrency import run_in_threadpool

        form = not request.headers.get("content-type", "").startswith("application/json")
        try:
            data = dict(await request.form()) if form else dict(await request.json())
        except Exception:
            raise HTTPException(status_code=400, detail="Send the request as a form or a JSON object.") from None
        data.setdefault("csrf_token", request.headers.get("x-csrf-token"))
        status, message = await run_in_threadpool(_review_round, user, data)
        if form and status != 403:
            back = {"department": str(data.get("department") or ""), "done" if status < 300 else "problem": message}
            return RedirectResponse(f"{_airflow_root(request)}{URL_PREFIX}/review?" + urlencode(back), status_code=303)
        return JSONResponse({"detail": message}, status_code=status)

    @app.exception_handler(HTTPException)
    async def denied(request: Request, exc: HTTPException) -> Any:
        """The page explains a missing login in words; the API answers JSON. Status codes stay."""
        if exc.status_code in (401, 403) and request.url.path.rstrip("/").endswith(URL_PREFIX):
            from reaccreditation.render import render

            body = render("dashboard_denied.html", status=exc.status_code, login=f"{_airflow_root(request)}/")
            return HTMLResponse(body, status_code=exc.status_code)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    return app


app = LazyApp(build_app)


class ReaccreditationPlugin(AirflowPlugin):
    name = "reaccreditation"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "Reaccreditation dashboard"}]
    # No url_route: the UI would frame the page in an iframe sandboxed without allow-top-navigation, where
    # every link into Airflow (a sign-off's answer page, a run) does nothing. Without one the UI links to the
    # page (a new tab), where its links work; under Browse, because Airflow 3.3 renders a top-level external
    # entry as a <button href> that does nothing when clicked. The href is relative to the UI's <base href>,
    # so a sub-path deployment still finds it.
    external_views = [
        {
            "name": "Reaccreditation",
            "href": "reaccreditation/",
            "destination": "nav",
            "category": "browse",
        }
    ]
