"""assessment_history's ``path`` reads only the config's history folder: no other worker file reaches the log."""

from __future__ import annotations

import pendulum
import pytest

from reaccreditation.outcomes.history import HistoryError, history_file

from .conftest import load_dag


def test_only_files_in_the_history_folder_are_opened(tmp_path):
    config_dir = tmp_path / "config"
    (config_dir / "history").mkdir(parents=True)
    (config_dir / "history" / "outcomes.csv").write_text("assessment_year\n")
    (config_dir / "organisation.yaml").write_text("")
    (config_dir / "history" / "out.csv").symlink_to("/etc/passwd")
    inside = config_dir / "history" / "outcomes.csv"
    assert history_file("history/outcomes.csv", config_dir) == inside.resolve()
    assert history_file(str(inside), config_dir) == inside.resolve()  # an absolute path inside is the same file
    for name in ("../../etc/passwd", "/etc/passwd", "history/../organisation.yaml", "history", "history/out.csv"):
        with pytest.raises(HistoryError) as caught:
            history_file(name, config_dir)
        assert f"path {name!r}: outcomes files are read only from the history folder" in str(caught.value)


def test_the_dag_refuses_a_path_out_and_logs_nothing_of_the_file(airflow_db, project_db, demo, tmp_path, capfd, caplog):  # type: ignore[no-untyped-def]
    # A CSV elsewhere on the worker: read as outcomes, its cells would come back in the problem list.
    secret = tmp_path / "elsewhere" / "staff.csv"
    secret.parent.mkdir()
    secret.write_text("assessment_year,framework,assessment_type,element_id,rating,action\nSECRET-4f1c,x,y,z,w,v\n")
    dag = load_dag("assessment_history")
    relative = "../" * len(demo["config"].parent.parts) + str(secret).lstrip("/")
    for minute, path in enumerate((relative, str(secret))):
        run = dag.test(logical_date=pendulum.datetime(2027, 1, 20, 12, minute, tz="UTC"), run_conf={"path": path})
        assert run.state == "failed"
    text = "".join(capfd.readouterr()) + caplog.text
    assert "outcomes files are read only from the history folder beside the organisation config" in text
    assert "SECRET-4f1c" not in text
