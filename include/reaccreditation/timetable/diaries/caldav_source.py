"""A CalDAV calendar's busy times by a free/busy query (RFC 4791 ``free-busy-query``), via the ``caldav`` library.

The server answers with busy periods only, so no event titles ever reach us.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from reaccreditation.timetable.config import CalDav
from reaccreditation.timetable.diaries.fetch import seconds
from reaccreditation.timetable.diaries.ics import DiaryError, busy_from_ics
from reaccreditation.timetable.diaries.reading import Interval


def caldav_busy(source: CalDav, password: str, start: datetime, end: datetime, tz: ZoneInfo, timeout: float) -> list[Interval]:
    import caldav
    from caldav.lib import error

    try:
        client = caldav.DAVClient(
            url=source.url, username=source.username, password=password, timeout=timeout, enable_rfc6764=False
        )
        with client:
            answer = client.calendar(url=source.url).freebusy_request(start, end)
            data = answer.data
    except error.AuthorizationError:
        raise DiaryError(f"refused the user name {source.username!r} or its password") from None
    except error.NotFoundError:
        raise DiaryError("has no calendar at that address") from None
    except error.DAVError as exc:
        raise DiaryError(f"did not answer the free/busy query ({type(exc).__name__})") from None
    except Exception as exc:  # niquests' connection errors and timeouts, a malformed answer
        name = type(exc).__name__
        if "Timeout" in name:
            raise DiaryError(f"did not answer within {seconds(timeout)}") from None
        if "Connection" in name:
            raise DiaryError("could not be reached (the connection was refused or the server is unknown)") from None
        raise DiaryError(f"gave an answer that could not be read ({name})") from None
    return busy_from_ics((data or "").encode() if isinstance(data, str) else (data or b""), start, end, tz)
