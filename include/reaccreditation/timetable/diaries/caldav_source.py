"""A CalDAV calendar's busy times, via the ``caldav`` library.

First a free/busy query (RFC 4791 ``free-busy-query``): the server answers with busy periods only, so no event
reaches us. A server that does not answer it (some hosted calendars) is asked for the events in the window
instead (``calendar-query``); only their times are read, as from a published file.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from reaccreditation.timetable.config import CalDav
from reaccreditation.timetable.diaries.fetch import seconds
from reaccreditation.timetable.diaries.ics import MAX_BYTES, DiaryError, busy_from_ics, too_big
from reaccreditation.timetable.diaries.reading import Interval


def caldav_busy(source: CalDav, password: str, start: datetime, end: datetime, tz: ZoneInfo, timeout: float) -> list[Interval]:
    import caldav
    from caldav.lib import error

    try:
        client = caldav.DAVClient(url=source.url, username=source.username, password=password, timeout=timeout)
        with client:
            calendar = client.calendar(url=source.url)
            try:
                return busy_from_ics(_bytes(calendar.freebusy_request(start, end).data), start, end, tz)
            except (error.AuthorizationError, error.NotFoundError):
                raise
            except error.DAVError:  # free/busy refused (not answered wrongly): the events in the window, times only
                found = calendar.search(start=start, end=end, event=True, expand=False)
                bodies = [_bytes(event.data) for event in found]
                if sum(len(b) for b in bodies) > MAX_BYTES:
                    raise too_big(sum(len(b) for b in bodies)) from None
                return [span for body in bodies for span in busy_from_ics(body, start, end, tz, skim=False)]
    except DiaryError:
        raise
    except error.AuthorizationError:
        raise DiaryError(f"refused the user name {source.username!r} or its password") from None
    except error.NotFoundError:
        raise DiaryError("has no calendar at that address") from None
    except error.DAVError as exc:
        raise DiaryError(f"did not answer a free/busy or calendar query ({type(exc).__name__})") from None
    except Exception as exc:  # requests' connection errors and timeouts, a malformed answer
        name = type(exc).__name__
        if "Timeout" in name:
            raise DiaryError(f"did not answer within {seconds(timeout)}") from None
        if "Connection" in name:
            raise DiaryError("could not be reached (the connection was refused or the server is unknown)") from None
        raise DiaryError(f"gave an answer that could not be read ({name})") from None


def _bytes(data: str | bytes | None) -> bytes:
    return data.encode() if isinstance(data, str) else (data or b"")
