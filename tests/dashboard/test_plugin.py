"""The Reaccreditation page in a real Airflow API server: auth, API, and the page in headless Chromium.

One server for the module: its own AIRFLOW_HOME (SQLite), a free port, the test DAGs of
tests/dashboard/dags (one real run of a reaccreditation DAG), a season in progress in the project DB.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pendulum
import pytest
from markupsafe import escape

from ..conftest import sqlite_conn
from . import season as s
from .browser import Browser, chromium_binary, open_from_nav
from .conftest import run_test_dag
from .scoped_auth import OUTSIDER, THEIR_DAG

# The hostile test season's page, for a person to look at (docs/dashboard.png comes from test_readme_path.py).
SCREENSHOT = Path(tempfile.gettempdir()) / "reaccreditation-dashboard.png"
USER, PASSWORD = "officer", "officer-password-1"
OUTSIDER_PASSWORD = "outsider-password-1"
# The demo quality team's reviewers (quality_team.members[].airflow_user); officer is a viewer who is not one.
MARKUP = '<b onmouseover="alert(1)">Policy</b> is out of date & unsigned'
REVIEWERS = {"priya.raman": "priya-password-1", "tom.hollis": "tom-password-1"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from reaccreditation.db import make_engine, upgrade
    from reaccreditation.demo import generate
    from reaccreditation.organisation.config import load_organisation

    from ..conftest import FIRST_DAY

    tmp = tmp_path_factory.mktemp("dashboard-server")
    paths = generate(tmp / "demo", FIRST_DAY)
    s.rename_department(paths["config"])
    org = load_organisation(paths["config"], date.today())
    db = tmp / "reaccreditation.db"
    upgrade(f"sqlite:///{db}")
    engine = make_engine(f"sqlite:///{db}")
    shift = date.today() - s.today()  # the page is served on the real today: a season that has happened
    s.fill_database(engine, [d.id for d in org.departments], shift)
    s.fill_history(engine, org, shift)
    engine.dispose()
    s.write_outputs(tmp / "data" / "output", org, shift)

    port = _free_port()
    passwords = tmp / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD, OUTSIDER: OUTSIDER_PASSWORD} | REVIEWERS))
    # The session's test Airflow (temporary AIRFLOW_HOME, SQLite, already migrated) on a free port.
    env = os.environ | {
        # priya.raman may also trigger DAG runs ("Send review round now"); tom.hollis only reads them.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(f"{u}:viewer" for u in [USER, OUTSIDER, "tom.hollis"])
        + ",priya.raman:user",
        "AIRFLOW__CORE__AUTH_MANAGER": "tests.dashboard.scoped_auth.ScopedAuthManager",  # outsider: one DAG
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": "dashboard-test-secret-" + "x" * 48,
        "AIRFLOW__CORE__LAZY_LOAD_PLUGINS": "False",
        "AIRFLOW_CONN_REACCREDITATION_DB": sqlite_conn(db),
        "REACCREDITATION_CONFIG": str(paths["config"]),
        "REACCREDITATION_DATA": str(tmp / "data"),
    }
    started = time.monotonic()
    log = (tmp / "api-server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow", "api-server", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # A real, successful run of a reaccreditation DAG, made while the server starts.
        run = run_test_dag("dashboard_check_ok", pendulum.now("UTC").subtract(minutes=1))
        assert run.state == "success"
        ran = time.monotonic()
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, (tmp / "api-server.log").read_text()[-3000:]
            try:
                if httpx.get(f"{base}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "api-server did not become healthy"
            time.sleep(0.5)
        print(f"server fixture: dag run {ran - started:.0f}s, healthy after {time.monotonic() - started:.0f}s", file=sys.stderr)
        yield {"base": base, "org": org, "log": tmp / "api-server.log", "run_id": run.run_id, "db": db, "tmp": tmp}
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def token(server: dict[str, Any]) -> str:
    r = httpx.post(f"{server['base']}/auth/token", json={"username": USER, "password": PASSWORD}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


def test_page_and_api_refuse_anonymous_and_forged_callers(server):
    base = server["base"]
    page = httpx.get(f"{base}/reaccreditation/", timeout=30)
    assert page.status_code == 401 and "not signed in to Airflow" in page.text
    assert s.HOSTILE not in page.text and "Departments" not in page.text
    api = httpx.get(f"{base}/reaccreditation/api/dashboard", timeout=30)
    assert api.status_code == 401 and api.json() == {"detail": "Not authenticated"}
    forged = httpx.get(f"{base}/reaccreditation/api/dashboard", headers={"Authorization": "Bearer not.a.token"}, timeout=30)
    assert forged.status_code == 403
    cookie = httpx.get(f"{base}/reaccreditation/", cookies={"_token": "forged"}, timeout=30)
    assert cookie.status_code == 403 and "Departments" not in cookie.text


def test_api_with_a_real_token(server, token):
    r = httpx.get(f"{server['base']}/reaccreditation/api/dashboard", headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["assessment"]["days_to_go"] == (date(2027, 3, 15) - date.today()).days
    rows = {d["id"]: d for d in data["departments"]["rows"]}
    assert rows[s.HOSTILE_ID]["name"] == s.HOSTILE and len(rows[s.HOSTILE_ID]["reminders"]) == 2
    assert rows[s.RETURNED_ID]["last_submission"]["status"] == "accepted" and rows[s.RETURNED_ID]["accepted_rows"] == 3
    assert data["gaps"]["status"] == "ok" and data["gaps"]["counts"]["elements"] == 57
    assert [p["ready"] for p in data["history"]["points"]] == [2, 5, 7]
    assert data["timetable"]["status"] == "ok"
    dags = {d["dag_id"]: d for d in data["runs"]["dags"]}
    assert "dashboard_check_ok" in dags  # the DAGs tagged 'reaccreditation' (others may have run in this session)
    assert dags["dashboard_check_ok"]["url"] == "/dags/dashboard_check_ok"
    run = next(r for r in dags["dashboard_check_ok"]["runs"] if r["run_id"] == server["run_id"])
    assert run["state"] == "success" and run["url"] == "/dags/dashboard_check_ok/runs/" + quote(server["run_id"], safe="")

    filtered = httpx.get(
        f"{server['base']}/reaccreditation/api/dashboard",
        params={"readiness": "at risk", "criterion": "2"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    ).json()
    shown = [e for c in filtered["gaps"]["criteria"] for e in c["elements"]]
    assert shown and {e["readiness"] for e in shown} == {"at risk"} and all(e["id"].startswith("2.") for e in shown)


def test_portfolio_download_works_without_an_airflow_account_and_is_logged(server):
    """plugins/portfolio_download.py in the real API server: the signed link is the only permission."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert

    from reaccreditation.db import make_engine
    from reaccreditation.db.schema import portfolio_version
    from reaccreditation.portfolio import store
    from reaccreditation.portfolio import token as tokens

    from ..conftest import DEMO_SIGNING_KEY

    bundle = server["tmp"] / "portfolio-2027-v1.zip"
    bundle.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip
    engine = make_engine(f"sqlite:///{server['db']}")
    with engine.begin() as conn:
        conn.execute(
            insert(portfolio_version).values(
                assessment_year=2027, version=1, fingerprint="f" * 64, manifest_sha256="m" * 64, zip_path=str(bundle),
                zip_sha256="z" * 64, size=22, summary={}, gaps=[], created_at=datetime.now(UTC),
            )
        )  # fmt: skip
    grant = tokens.Grant(2027, 1, "assessor@example.com", int((datetime.now(UTC) + timedelta(days=1)).timestamp()))
    good = tokens.issue(DEMO_SIGNING_KEY.encode(), grant)
    url = f"{server['base']}/portfolio/download"
    r = httpx.get(url, params={"token": good}, timeout=30)
    assert r.status_code == 200 and r.content == bundle.read_bytes(), r.text
    assert r.headers["content-type"] == "application/zip" and "portfolio-2027-v1.zip" in r.headers["content-disposition"]
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"
    r = httpx.get(url, params={"token": good[:-3] + "abc"}, timeout=30)
    assert r.status_code == 403 and "does not work" in r.text
    assert r.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["referrer-policy"] == "no-referrer"
    assert [d["outcome"] for d in store.downloads(engine, 2027)] == ["served"]
    assert [d["outcome"] for d in store.downloads(engine)] == ["served", "refused"]
    # Withdrawn by the quality team (a row the server has never seen): the same link now gets 410, in words.
    from reaccreditation.db.schema import portfolio_revocation

    with engine.begin() as conn:
        conn.execute(
            insert(portfolio_revocation).values(
                assessment_year=2027, recipient="assessor@example.com", reason="leaked", revoked_by="Priya Raman",
                contact="quality@kestrelvale.example.org", revoked_at=datetime.now(UTC),
            )
        )  # fmt: skip
    r = httpx.get(url, params={"token": good}, timeout=30)
    assert r.status_code == 410 and "withdrawn on" in r.text and "Ask quality@kestrelvale.example.org" in r.text, r.text
    assert r.headers["cache-control"] == "no-store" and "leaked" not in r.text
    assert [d["outcome"] for d in store.downloads(engine, 2027)] == ["served", "revoked"]
    engine.dispose()


def test_plugin_is_registered_with_a_nav_entry(server, token):
    r = httpx.get(f"{server['base']}/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    [plugin] = [p for p in r.json()["plugins"] if p["name"] == "reaccreditation"]
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/reaccreditation"
    [view] = plugin["external_views"]
    assert {
        "name": "Reaccreditation",
        "href": "reaccreditation/",
        "destination": "nav",
        "category": "browse",
    }.items() <= view.items()
    assert view.get("url_route") is None  # framed, the page's links into Airflow would do nothing (sandboxed iframe)


@pytest.mark.skipif(chromium_binary() is None and not os.environ.get("CI"), reason="Chromium missing: scripts/install-browser")
def test_quality_officer_logs_in_and_reads_the_page_in_chromium(server):
    base = server["base"]
    browser = Browser(width=1400, height=1000)
    try:
        # Log in through Airflow's own login form, as a person would.
        browser.open(f"{base}/auth/login")
        browser.type_into("input[name=username]", USER)
        browser.type_into("input[name=password]", PASSWORD)
        browser.evaluate("document.querySelector('button[type=submit]').click()")
        browser.wait_for("!location.pathname.includes('/auth/login')")
        # "Browse > Reaccreditation" in the left-hand bar: a link that opens the page in a tab of its own.
        page = open_from_nav(browser)
        browser.open(page)
        assert browser.evaluate("location.pathname") == "/reaccreditation/"
        text = browser.wait_for("document.body.innerText.includes('Readiness over time') && document.body.innerText")
        assert s.HOSTILE in text  # shown as text...
        assert browser.evaluate("document.querySelectorAll('script').length") == 0  # ...never run
        assert "days until the assessment" in text and "Kestrel Vale Borough Council" in text
        assert browser.evaluate("document.querySelectorAll('svg polyline').length") == 3
        link = "/dags/dashboard_check_ok/runs/" + quote(server["run_id"], safe="")
        assert browser.evaluate(f"document.querySelector('a[href=\"{link}\"]').target") == "_top"
        browser.screenshot(SCREENSHOT)

        browser.open(f"{base}/reaccreditation/?readiness=gap&q=Customer")
        text = browser.wait_for("document.querySelector('#shown') && document.body.innerText")
        assert "Showing" in text and "at risk" not in browser.evaluate(
            "Array.from(document.querySelectorAll('.badge')).map(b => b.innerText).join('|')"
        ).split("|")
    finally:
        browser.close()
    assert SCREENSHOT.stat().st_size > 20_000


def _token_for(server, user: str, password: str) -> str:  # type: ignore[no-untyped-def]
    r = httpx.post(f"{server['base']}/auth/token", json={"username": user, "password": password}, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()["access_token"]


def test_every_answer_carries_the_policy_and_frame_headers(server, token):
    auth = {"Authorization": f"Bearer {token}"}
    answers = [
        httpx.get(f"{server['base']}/reaccreditation/", headers=auth, timeout=60),
        httpx.get(f"{server['base']}/reaccreditation/api/dashboard", headers=auth, timeout=60),
        httpx.get(f"{server['base']}/reaccreditation/", timeout=30),  # the 401 page too
        httpx.get(f"{server['base']}/reaccreditation/files/nothing.html", headers=auth, timeout=30),
    ]
    assert [a.status_code for a in answers] == [200, 200, 401, 404]
    for a in answers:
        policy = a.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy and "script-src" not in policy
        assert a.headers["x-frame-options"] == "SAMEORIGIN" and a.headers["x-content-type-options"] == "nosniff"


def test_a_caller_named_dag_id_opens_nothing(server):
    """outsider may read one DAG that is not ours: naming it in ?dag_id= used to pass Airflow's check."""
    auth = {"Authorization": f"Bearer {_token_for(server, OUTSIDER, OUTSIDER_PASSWORD)}"}
    for path in ("/reaccreditation/", "/reaccreditation/api/dashboard"):
        for params in ({}, {"dag_id": THEIR_DAG}):
            r = httpx.get(f"{server['base']}{path}", params=params, headers=auth, timeout=30)
            assert r.status_code == 403, (path, params, r.status_code)
            assert s.HOSTILE not in r.text and "Departments" not in r.text


def _reviewing(server, user: str) -> tuple[dict[str, str], dict[str, Any]]:  # type: ignore[no-untyped-def]
    """A user's bearer header and the review queue as they see it (with their CSRF token)."""
    auth = {"Authorization": f"Bearer {_token_for(server, user, REVIEWERS.get(user, PASSWORD))}"}
    r = httpx.get(f"{server['base']}/reaccreditation/api/review", params={"department": s.RETURNED_ID}, headers=auth, timeout=60)
    assert r.status_code == 200, r.text
    return auth, r.json()


def test_reviewers_accept_and_send_back_items_through_the_api(server):
    """The review API in the live server: reviewers only, CSRF, stale versions, double-clicks, the audit trail."""
    base = server["base"]
    priya, queue = _reviewing(server, "priya.raman")
    assert queue["may_review"] and set(queue["reviewers"]) == set(REVIEWERS)
    items = {i["element_id"]: i for i in queue["items"]}
    assert sorted(items) == ["1.1.1", "1.1.2", "1.1.3"] and {i["state"] for i in items.values()} == {"unreviewed"}
    first, second = items["1.1.1"]["evidence_id"], items["1.1.2"]["evidence_id"]
    url = f"{base}/reaccreditation/api/review"
    accept = {"from_state": "unreviewed", "version": 0, "to_state": "accepted"}
    csrf = {"X-CSRF-Token": queue["csrf_token"]}

    # No CSRF token, or another user's: refused, nothing stored.
    assert httpx.post(f"{url}/{first}", json=accept, headers=priya, timeout=30).status_code == 403
    tom, tom_queue = _reviewing(server, "tom.hollis")
    forged = httpx.post(f"{url}/{first}", json=accept, headers=priya | {"X-CSRF-Token": tom_queue["csrf_token"]}, timeout=30)
    assert forged.status_code == 403 and "reload the page" in forged.json()["detail"]
    # A signed-in viewer who is not a reviewer, with their own valid token: 403.
    officer, officer_queue = _reviewing(server, USER)
    assert not officer_queue["may_review"]
    r = httpx.post(f"{url}/{first}", json=accept, headers=officer | {"X-CSRF-Token": officer_queue["csrf_token"]}, timeout=30)
    assert r.status_code == 403 and "reviewers" in r.json()["detail"]
    # Nobody signed in: 401.
    assert httpx.post(f"{url}/{first}", json=accept, headers=csrf, timeout=30).status_code == 401

    # Priya accepts; her double-click is the same change, not a second one.
    r = httpx.post(f"{url}/{first}", json=accept, headers=priya | csrf, timeout=30)
    assert r.status_code == 201 and r.json()["version"] == 1, r.text
    again = httpx.post(f"{url}/{first}", json=accept, headers=priya | csrf, timeout=30)
    assert again.status_code == 200 and again.json()["repeated"] is True
    # Tom saw version 0 too: his "needs work" is a conflict naming Priya's change.
    tom_csrf = {"X-CSRF-Token": tom_queue["csrf_token"]}
    back = {"from_state": "unreviewed", "version": 0, "to_state": "needs_work", "comment": "Too old"}
    stale = httpx.post(f"{url}/{first}", json=back, headers=tom | tom_csrf, timeout=30)
    assert stale.status_code == 409 and stale.json()["current"]["state"] == "accepted", stale.text
    assert "Priya Raman" in stale.json()["detail"]
    # He reloads (version 1) and sends it back with a reason typed with markup; a reason is required.
    back |= {"from_state": "accepted", "version": 1, "comment": MARKUP}
    assert httpx.post(f"{url}/{first}", json=back | {"comment": " "}, headers=tom | tom_csrf, timeout=30).status_code == 422
    r = httpx.post(f"{url}/{first}", json=back, headers=tom | tom_csrf, timeout=30)
    assert r.status_code == 201 and r.json()["version"] == 2, r.text
    # Priya marks the second item not relevant (a plain form post, as the page sends it).
    form = {"from_state": "unreviewed", "version": "0", "to_state": "not_relevant", "csrf_token": queue["csrf_token"]}
    cookie = {"_token": priya["Authorization"].removeprefix("Bearer ")}  # the browser's sign-in, as the page's form sends it
    forged_form = {k: v for k, v in form.items() if k != "csrf_token"}  # another site's form riding on the cookie
    assert httpx.post(f"{url}/{second}", data=forged_form, cookies=cookie, timeout=30).status_code == 403
    r = httpx.post(f"{url}/{second}", data=form | {"department": s.RETURNED_ID}, cookies=cookie, timeout=30)
    assert (
        r.status_code == 303
        and "done=Saved" in r.headers["location"]
        and r.headers["location"].startswith("/reaccreditation/review?")
    )

    trail = httpx.get(f"{url}/{first}", headers=officer, timeout=30).json()["changes"]
    assert [(c["version"], c["from_state"], c["to_state"], c["reviewer"], c["comment"]) for c in trail] == [
        (1, "unreviewed", "accepted", "priya.raman", None),
        (2, "accepted", "needs_work", "tom.hollis", MARKUP),
    ]
    assert all(c["reviewer_name"] and c["reviewed_at"] for c in trail)
    _, after = _reviewing(server, USER)
    states = {i["element_id"]: (i["state"], i["version"]) for i in after["items"]}
    assert states == {"1.1.1": ("needs_work", 2), "1.1.2": ("not_relevant", 1), "1.1.3": ("unreviewed", 0)}
    [returned] = [d for d in after["departments"] if d["id"] == s.RETURNED_ID]
    assert returned["counts"] == {"unreviewed": 1, "accepted": 0, "needs_work": 1, "not_relevant": 1}

    # The queue page: the comment shown as text, one plain form per item, no script, the plugin's policy.
    page = httpx.get(f"{base}/reaccreditation/review", params={"department": s.RETURNED_ID}, headers=priya, timeout=60)
    assert page.status_code == 200 and "<script" not in page.text
    assert str(escape(MARKUP)) in page.text and MARKUP not in page.text
    assert page.text.count('<form method="post"') == 4 and page.text.count(queue["csrf_token"]) == 4  # 3 items, the round
    assert (
        "script-src" not in page.headers["content-security-policy"]
        and "form-action 'self'" in page.headers["content-security-policy"]
    )
    assert "Send review round now" in page.text

    # "Send review round now": a reviewer who may trigger DAG runs starts the review round DAG (303, status line).
    round_url = f"{base}/reaccreditation/api/review-round"
    assert httpx.post(round_url, data={}, cookies=cookie, timeout=30).status_code == 403  # no token: a forged form
    tom_form = {"csrf_token": tom_queue["csrf_token"]}
    refused = httpx.post(round_url, json=tom_form, headers=tom, timeout=30)  # a reviewer who may only read runs
    assert refused.status_code == 403 and "may run the review round" in refused.json()["detail"]
    officer_form = {"csrf_token": officer_queue["csrf_token"]}
    assert httpx.post(round_url, json=officer_form, headers=officer, timeout=30).status_code == 403  # not a reviewer
    _serialize("evidence_review_round")
    r = httpx.post(round_url, data={"csrf_token": queue["csrf_token"], "department": s.RETURNED_ID}, cookies=cookie, timeout=30)
    assert r.status_code == 303 and r.headers["location"].startswith("/reaccreditation/review?"), r.text
    status = httpx.get(f"{base}{r.headers['location']}", headers=priya, timeout=60).text
    started = re.search(r"Review round started \(run (manual__[^)\s]+)", str(unescape(status)))
    assert started, status[-2000:]
    # Other tests in the session may have run this DAG with dag.test(); this run is Priya's, started by hand.
    assert _runs_of("evidence_review_round").get(started.group(1)) == ("manual", "priya.raman")

    viewer = httpx.get(f"{base}/reaccreditation/review", headers=officer, timeout=60)
    assert (
        viewer.status_code == 200
        and '<form method="post"' not in viewer.text
        and "only the quality team's reviewers" in viewer.text
    )


def _serialize(dag_id: str) -> None:
    """Put one of our DAGs in the test Airflow's database, as the DAG processor would (the server triggers it)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    from ..conftest import ROOT

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=str(ROOT / "dags" / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    sync_bag_to_db(bag, "dags-folder", None)


def _runs_of(dag_id: str) -> dict[str, tuple[str, str | None]]:
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        runs = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id)).all()
        return {r.run_id: (str(getattr(r.run_type, "value", r.run_type)), r.triggering_user_name) for r in runs}


KEYS = {"Tab": ("Tab", 9, ""), " ": ("Space", 32, " "), "Enter": ("Enter", 13, "\r")}


def _press(browser: Browser, key: str) -> None:
    code, vk, text = KEYS[key]
    common = {"key": key, "code": code, "windowsVirtualKeyCode": vk}
    browser.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": text} | common)
    browser.send("Input.dispatchKeyEvent", {"type": "keyUp"} | common)


@pytest.mark.skipif(chromium_binary() is None and not os.environ.get("CI"), reason="Chromium missing: scripts/install-browser")
def test_a_reviewer_reviews_three_items_with_the_keyboard_in_chromium(server):
    """Tom signs in through Airflow's form, then uses only Space, Tab, typing and Enter on the queue page."""
    base = server["base"]
    _, queue = _reviewing(server, "tom.hollis")
    plan = []  # (item, the state to move it to, a comment)
    for n, item in enumerate(queue["items"]):
        target = "needs_work" if n == 0 else ("not_relevant" if item["state"] == "accepted" else "accepted")
        plan.append((item, target, "Dates missing on page 2 <i>again</i>" if target == "needs_work" else ""))
    assert len(plan) == 3
    browser = Browser(width=1400, height=1000)
    try:
        browser.open(f"{base}/auth/login")
        browser.type_into("input[name=username]", "tom.hollis")
        browser.type_into("input[name=password]", REVIEWERS["tom.hollis"])
        browser.evaluate("document.querySelector('button[type=submit]').click()")
        browser.wait_for("!location.pathname.includes('/auth/login')")
        browser.open(f"{base}/reaccreditation/review?department={s.RETURNED_ID}")
        browser.wait_for("document.querySelectorAll('section.item form[method=post]').length === 3")
        for item, target, comment in plan:
            section = f"#item-{item['evidence_id']}"
            start = f"document.querySelector('{section} input[type=radio][value={target}]')"  # the start point (a fresh page may
            browser.wait_for(f"(e => (e.focus(), document.activeElement === e))({start})")  # not take focus at once)
            _press(browser, " ")  # choose the state
            _press(browser, "Tab")  # to the comment box
            if comment:
                browser.send("Input.insertText", {"text": comment})
            _press(browser, "Tab")  # to "Save review"
            browser.evaluate("window.before = true")  # gone once the form's answer (a new page) has loaded
            _press(browser, "Enter")
            browser.wait_for("!window.before && location.search.includes('done=') && document.readyState === 'complete'")
            badge = browser.evaluate(f"document.querySelector('{section} .badge').innerText")
            assert badge == dict((x["id"], x["label"]) for x in queue["states"])[target], browser.evaluate(
                "document.body.innerText"
            )
        text = browser.evaluate("document.body.innerText")
        assert "Dates missing on page 2 <i>again</i>" in text
        browser.screenshot(Path(tempfile.gettempdir()) / "reaccreditation-review.png")
    finally:
        browser.close()
    _, after = _reviewing(server, "tom.hollis")
    [returned] = [d for d in after["departments"] if d["id"] == s.RETURNED_ID]
    expected = dict.fromkeys(["unreviewed", "accepted", "needs_work", "not_relevant"], 0)
    for _item, target, _comment in plan:
        expected[target] += 1
    assert returned["counts"] == expected
    assert all(i["reviewer"] == "tom.hollis" for i in after["items"])


def test_the_portfolio_preview_opens_its_documents_behind_the_login(server, token):
    """The approval preview of the portfolio: every link in its index opens, documents download, none runs."""
    import re
    from urllib.parse import urljoin

    folder = server["tmp"] / "data" / "output" / "2027" / "portfolio"
    docs = folder / "documents" / "1" / "1.1"
    docs.mkdir(parents=True)
    (docs / "housing - Customer insight 2026.pdf").write_bytes(b"%PDF-1.4\n<html><script>alert(1)</script>\n%%EOF\n")
    (docs / "adult-social-care - Café minutes.docx").write_bytes(b"PK\x03\x04 not really a docx")
    (docs / "housing - Survey.txt").write_text("<script>alert(1)</script>")
    (folder / "portfolio.xlsx").write_bytes(b"PK\x03\x04")
    (folder / "MANIFEST").write_text("0" * 64 + "  portfolio.xlsx\n")
    hrefs = ["portfolio.xlsx", "MANIFEST", *(quote(f"documents/1/1.1/{p.name}") for p in sorted(docs.iterdir()))]
    (folder / "index.html").write_text("".join(f'<a href="{h}">{h}</a>' for h in hrefs))

    auth = {"Authorization": f"Bearer {token}"}
    index = f"{server['base']}/reaccreditation/files/2027/portfolio/index.html"
    page = httpx.get(index, headers=auth, timeout=30)
    assert page.status_code == 200
    answers = {h: httpx.get(urljoin(index, h), headers=auth, timeout=30) for h in re.findall(r'href="([^"]+)"', page.text)}
    assert len(answers) == 5 and {h: a.status_code for h, a in answers.items()} == dict.fromkeys(answers, 200)
    for h, a in answers.items():
        assert a.headers["x-content-type-options"] == "nosniff", h
        inline = h.endswith((".txt", "MANIFEST"))
        assert inline == ("content-disposition" not in a.headers), h  # only text shows; the rest downloads
        assert not inline or a.headers["content-type"].startswith("text/plain"), h
    pdf = answers[quote("documents/1/1.1/housing - Customer insight 2026.pdf")]
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-disposition"] == 'attachment; filename="housing - Customer insight 2026.pdf"'
    docx = answers[quote("documents/1/1.1/adult-social-care - Café minutes.docx")]
    assert docx.headers["content-disposition"] == (
        'attachment; filename="adult-social-care - Caf_ minutes.docx"; '
        "filename*=UTF-8''adult-social-care%20-%20Caf%C3%A9%20minutes.docx"
    )
    # Behind the same login as the page: no token, no document.
    assert httpx.get(urljoin(index, hrefs[2]), timeout=30).status_code == 401

    # The review queue opens a kept document its item names, behind the same login; nothing else.
    from reaccreditation.db import make_engine
    from reaccreditation.demo.documents import pdf
    from reaccreditation.documents.store import Delivery, keep
    from reaccreditation.review import store as review
    from reaccreditation.settings import Paths

    from ..gaps.helpers import ev, insert_evidence, insert_submission

    engine = make_engine(f"sqlite:///{server['db']}")
    data = Paths(server["tmp"] / "data")
    now = datetime.now(UTC)
    keep(engine, data, Delivery(2027, "housing", "inbox", now), "Tenant survey.pdf", pdf("Survey", "housing"))
    keep(engine, data, Delivery(2027, "adult-social-care", "inbox", now), "Care plan.pdf", pdf("Plan", "not housing's"))
    insert_evidence(
        engine, insert_submission(engine, "housing"), [ev("housing", "4.1.1", link="Tenant survey.pdf; Care plan.pdf")]
    )
    [item] = [i["evidence_id"] for i in review.queue(engine, 2027, "housing") if i["element_id"] == "4.1.1"]
    engine.dispose()
    queue = httpx.get(f"{server['base']}/reaccreditation/review", params={"department": "housing"}, headers=auth, timeout=60)
    link = f"/reaccreditation/review/{item}/document?name=Tenant%20survey.pdf"
    assert f'href="{link}"' in queue.text and "Care%20plan.pdf" not in queue.text  # only the kept file of its own department
    opened = httpx.get(server["base"] + link, headers=auth, timeout=30)
    assert opened.status_code == 200 and opened.content.startswith(b"%PDF-")
    assert opened.headers["content-type"] == "application/pdf"
    assert opened.headers["content-disposition"] == 'inline; filename="Tenant survey.pdf"'
    assert (
        opened.headers["x-content-type-options"] == "nosniff"
        and "default-src 'none'" in opened.headers["content-security-policy"]
    )
    document = f"{server['base']}/reaccreditation/review/{item}/document"
    for name in ("Care plan.pdf", "../../reaccreditation.db", str(server["db"]), "../../../etc/passwd"):
        assert httpx.get(document, params={"name": name}, headers=auth, timeout=30).status_code == 404, name
    assert httpx.get(server["base"] + link, timeout=30).status_code == 401
