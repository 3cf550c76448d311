"""A CalDAV calendar's busy times, via the ``caldav`` library.

First a free/busy query (RFC 4791 ``free-busy-query``): the server answers with busy periods only, so no event
reaches us. A server that does not answer it (some hosted calendars) is asked for the events in the window
instead (``calendar-query``); only their times are read, as from a published file.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter

from reaccreditation.timetable.config import CalDav
from reaccreditation.timetable.diaries.budget import Budget, seconds
from reaccreditation.timetable.diaries.ics import DiaryError, busy_from_ics, too_big
from reaccreditation.timetable.diaries.reading import Interval


def caldav_busy(source: CalDav, password: str, start: datetime, end: datetime, tz: ZoneInfo, budget: Budget) -> list[Interval]:
    """``budget``: its deadline covers every request of the read together; its size cap, each answer (and the
    events' bodies together, when free/busy is refused)."""
    import caldav
    from caldav.lib import error

    cap = budget.max_bytes
    try:
        client = caldav.DAVClient(url=source.url, username=source.username, password=password, timeout=budget.timeout)
        with client:
            adapter = _BudgetAdapter(budget)
            client.session.mount("http://", adapter)
            client.session.mount("https://", adapter)
            calendar = client.calendar(url=source.url)
            try:
                return busy_from_ics(_bytes(calendar.freebusy_request(start, end).data), start, end, tz, max_bytes=cap)
            except (error.AuthorizationError, error.NotFoundError):
                raise
            except error.DAVError:  # free/busy refused (not answered wrongly): the events in the window, times only
                found = calendar.search(start=start, end=end, event=True, expand=False)
                bodies = [_bytes(event.data) for event in found]
                if sum(len(b) for b in bodies) > cap:
                    raise too_big(sum(len(b) for b in bodies), cap) from None
                return [span for body in bodies for span in busy_from_ics(body, start, end, tz, skim=False, max_bytes=cap)]
    except DiaryError:
        raise
    except Exception as exc:
        raise _problem(exc, source, budget) from None


def _problem(exc: Exception, source: CalDav, budget: Budget) -> DiaryError:
    from caldav.lib import error

    if budget.failure is not None:  # the adapter's refusal, whatever caldav made of it
        return budget.failure
    if budget.expired:  # a read cut at the deadline fails however the library saw it
        return budget.refuse(budget.overrun())
    if isinstance(exc, error.AuthorizationError):
        return DiaryError(f"refused the user name {source.username!r} or its password")
    if isinstance(exc, error.NotFoundError):
        return DiaryError("has no calendar at that address")
    if isinstance(exc, error.DAVError):
        return DiaryError(f"did not answer a free/busy or calendar query ({type(exc).__name__})")
    name = type(exc).__name__  # requests' connection errors and timeouts, a malformed answer
    if "Timeout" in name:
        return DiaryError(f"did not answer within {seconds(budget.timeout)}")
    if "Connection" in name:
        return DiaryError("could not be reached (the connection was refused or the server is unknown)")
    return DiaryError(f"gave an answer that could not be read ({name})")


class _BudgetAdapter(HTTPAdapter):
    """requests' adapter, each answer read in pieces against the diary's budget: ``caldav`` asks requests for
    whole answers (``response.content``), which would otherwise read any amount, for any time."""

    def __init__(self, budget: Budget) -> None:
        super().__init__()
        self.budget = budget

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: object = None,
        verify: bool | str = True,
        cert: object = None,
        proxies: Mapping[str, str] | None = None,
    ) -> Response:
        """The whole answer, however ``stream`` was asked for; ``timeout``: the budget's, not caldav's."""
        budget = self.budget
        response = super().send(request, stream=True, timeout=budget.wait(), verify=verify, cert=cert, proxies=proxies)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit():
                budget.spend(int(declared), announced=True)
            body = bytearray()
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                budget.spend(len(body))
            budget.spend(len(body))  # a body ended by the deadline's cut is not a whole answer
        except BaseException:
            response.close()
            raise
        response._content = bytes(body)  # as requests keeps a body it read itself (stream=False)
        return response


def _bytes(data: str | bytes | None) -> bytes:
    return data.encode() if isinstance(data, str) else (data or b"")
