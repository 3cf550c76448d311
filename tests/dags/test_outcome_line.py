"""Every task's log says in one line what it decided or did (``policies.default_args``' post_execute)."""

from __future__ import annotations

import logging

from reaccreditation.orchestration.callbacks import log_outcome, outcome_words
from reaccreditation.orchestration.policies import default_args


def test_every_dag_task_gets_the_outcome_line():
    assert default_args()["post_execute"] is log_outcome


def test_outcomes_read_as_words():
    assert outcome_words(None, short_circuit=True) == "nothing due today: the rest of this run is skipped"
    assert outcome_words({"pack_date": "2026-11-27"}, short_circuit=True) == "due: carrying on"
    assert outcome_words({"request": 13, "reminder": 0}) == "done: request 13, reminder 0"
    assert outcome_words({"files": ["a", "b"], "folder": "/x" * 40}) == "done: files 2"
    assert outcome_words(["send"]) == "next: send"
    assert outcome_words([]) == "done: 0 item(s)"
    assert outcome_words(None) == "done"


def test_the_line_is_logged_at_info_and_never_fails_the_task(caplog):
    class ShortCircuitOperator:
        task_id = "decide"

    with caplog.at_level(logging.INFO, logger="task.outcome"):
        log_outcome({"task": ShortCircuitOperator()}, None)
        log_outcome({}, {"sent": 15})
    assert [r.getMessage() for r in caplog.records] == [
        "Outcome of decide: nothing due today: the rest of this run is skipped",
        "Outcome of task: done: sent 15",
    ]
