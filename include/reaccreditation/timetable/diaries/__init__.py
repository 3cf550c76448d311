"""People's diaries: each person's busy times for the assessment days, from typed rules, an iCalendar
file or address, or a CalDAV calendar (docs/timetable.md, "People's diaries").

The solver only ever sees busy intervals per email (:class:`DiaryReading`); a source that is down, slow or
malformed never stops the plan: the person falls back to their typed rules or to "assumed free", with a note.
"""

from reaccreditation.timetable.diaries.check import people_problems
from reaccreditation.timetable.diaries.read import read_diaries, read_for
from reaccreditation.timetable.diaries.reading import DiaryReading

__all__ = ["DiaryReading", "people_problems", "read_diaries", "read_for"]
