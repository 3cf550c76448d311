"""Named Airflow users from the organisation config: the compose api-server's start script, run for real."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from datetime import date

import pytest
import yaml

from reaccreditation.organisation.airflow_users import airflow_users, ensure_passwords
from reaccreditation.organisation.config import ConfigError, load_organisation

from ..conftest import ROOT


def test_quality_team_members_with_a_user_name_become_users(demo):  # type: ignore[no-untyped-def]
    org = load_organisation(demo["config"], date(2027, 1, 20))
    assert airflow_users(org, "admin") == [("admin", "admin"), ("priya.raman", "user"), ("tom.hollis", "user")]
    data = yaml.safe_load(demo["config"].read_text())
    data["quality_team"]["members"][0]["airflow_user"] = "priya,evil:admin"
    demo["config"].write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"quality_team.members\[0\].airflow_user 'priya,evil:admin': use letters"):
        airflow_users(load_organisation(demo["config"], date(2027, 1, 20)), "admin")


def test_new_users_get_a_private_password_and_old_ones_keep_theirs(tmp_path):
    path = tmp_path / "auth" / "passwords.json"
    assert ensure_passwords(path, ["admin"]) == ["admin"]
    first = json.loads(path.read_text())["admin"]
    assert ensure_passwords(path, ["admin", "priya.raman"]) == ["priya.raman"]
    saved = json.loads(path.read_text())
    assert saved["admin"] == first and len(saved["priya.raman"]) >= 20
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_api_server_script_starts_airflow_with_the_named_users(demo, tmp_path):  # type: ignore[no-untyped-def]
    """deploy/api-server.sh with a stand-in `airflow` that shows what it was started with."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "airflow"
    fake.write_text('#!/bin/sh\necho "ARGS=$*"\necho "USERS=$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"\n')
    fake.chmod(0o755)
    passwords = tmp_path / "auth" / "passwords.json"
    env = os.environ | {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "AIRFLOW_ADMIN_USER": "council.admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
    }
    done = subprocess.run(["bash", str(ROOT / "deploy" / "api-server.sh")], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "ARGS=api-server" in done.stdout
    assert "USERS=council.admin:admin,priya.raman:user,tom.hollis:user" in done.stdout
    saved = json.loads(passwords.read_text())
    assert set(saved) == {"council.admin", "priya.raman", "tom.hollis"}
    assert not any(p in done.stdout + done.stderr for p in saved.values())  # never printed
