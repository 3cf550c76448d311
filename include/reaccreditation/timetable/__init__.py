"""The assessment timetable: who the assessor meets, when and where, solved with OR-Tools CP-SAT.

Modules, one job each: ``config`` (the ``timetable:`` section of the organisation config; imported by
``organisation.py``, so it must stay light), ``scope`` (which elements the visit must cover),
``problem`` (config -> plain data the solver and checker share), ``precheck`` (capacity arithmetic that
explains the usual infeasibilities), ``solver`` (CP-SAT), ``checker`` (independent of the solver),
``store`` (the stored timetable: previous solution and invite sequence numbers), ``writers``
(xlsx/json), ``ics`` and ``invites`` (iCalendar and email), ``picture`` (a day as a Gantt chart).
"""
