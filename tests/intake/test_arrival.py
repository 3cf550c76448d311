"""The inbox folder's arrival trigger: one event per new file, none for a file already announced or swept."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reaccreditation.orchestration.arrival import InboxArrivalTrigger

from ..trigger_events import Events

POLL = 0.02


class Watching(InboxArrivalTrigger):
    """The trigger with the question "is an intake run active?" answered by the test instead of Airflow."""

    active = False

    async def run_active(self) -> bool:
        return self.active


def test_a_new_file_fires_once_and_a_second_file_fires_again(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"  # not there yet: the watcher waits for it

    async def scenario() -> list[dict | None]:
        async with Events(Watching(str(inbox), poll_interval=POLL)) as events:
            seen = [await events.next(0.2)]
            inbox.mkdir()
            (inbox / ".hr-return.xlsx.1234.tmp").write_bytes(b"half")  # being written: never announced
            (inbox / "~$hr-return.xlsx").write_bytes(b"lock")  # Excel's lock file: the sweep leaves it too
            (inbox / "hr-return.xlsx").write_bytes(b"PK workbook")
            seen.append(await events.next(2))
            seen.append(await events.next(20 * POLL))  # the same file, still there: nothing
            (inbox / "finance-return.xlsx").write_bytes(b"PK another")
            seen.append(await events.next(2))
            (inbox / "hr-return.xlsx").unlink()  # swept
            seen.append(await events.next(20 * POLL))
            return seen

    before, first, again, second, after_sweep = asyncio.run(scenario())
    assert before is None
    assert first == {"source": "inbox", "files": ["hr-return.xlsx"], "count": 1}
    assert again is None
    assert second == {"source": "inbox", "files": ["finance-return.xlsx"], "count": 1}
    assert after_sweep is None


def test_a_file_replaced_under_the_same_name_is_a_new_arrival(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "hr-return.xlsx").write_bytes(b"PK first")

    async def scenario() -> list[dict | None]:
        async with Events(Watching(str(inbox), poll_interval=POLL)) as events:
            seen = [await events.next(2)]
            (inbox / "hr-return.xlsx").write_bytes(b"PK corrected, longer")
            seen.append(await events.next(2))
            return seen

    first, replaced = asyncio.run(scenario())
    assert first == {"source": "inbox", "files": ["hr-return.xlsx"], "count": 1}
    assert replaced == first


@pytest.mark.parametrize("taken", [True, False], ids=["the run took it", "it came after the run's sweep"])
def test_nothing_is_announced_while_a_run_is_active(tmp_path: Path, taken: bool) -> None:
    """A file the running intake sweeps (e.g. one the mailbox step wrote) never queues a second run."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    trigger = Watching(str(inbox), poll_interval=POLL)
    trigger.active = True

    async def scenario() -> list[dict | None]:
        async with Events(trigger) as events:
            (inbox / "hr-return.xlsx").write_bytes(b"PK workbook")
            seen = [await events.next(20 * POLL)]
            if taken:
                (inbox / "hr-return.xlsx").unlink()
            trigger.active = False
            seen.append(await events.next(20 * POLL))
            return seen

    during, after = asyncio.run(scenario())
    assert during is None
    assert after == (None if taken else {"source": "inbox", "files": ["hr-return.xlsx"], "count": 1})


def test_a_burst_of_files_is_one_event(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()

    async def scenario() -> list[dict | None]:
        async with Events(Watching(str(inbox), poll_interval=0.2)) as events:
            await asyncio.sleep(0.05)  # the first look finds the folder empty
            for n in range(10):
                (inbox / f"dept-{n:02d}.xlsx").write_bytes(b"PK %d" % n)
            return [await events.next(2), await events.next(1)]

    burst, more = asyncio.run(scenario())
    assert burst is not None and burst["count"] == 10
    assert more is None
