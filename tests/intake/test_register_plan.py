"""The register's per-file look-ups search by the department's index, not by the year's (every row of the year)."""

from __future__ import annotations

from sqlalchemy import select, update

from reaccreditation.db import make_engine, upgrade
from reaccreditation.db.schema import evidence
from reaccreditation.intake.store import current_evidence


def _plan(engine, statement) -> str:  # type: ignore[no-untyped-def]
    compiled = statement.compile(engine, compile_kwargs={"render_postcompile": True})
    params = [compiled.params[name] for name in compiled.positiontup]
    with engine.connect() as conn:
        return " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", tuple(params)))


def test_current_evidence_is_found_by_department_not_by_year(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade(url)
    engine = make_engine(url)
    where = (current_evidence("housing", 2027), evidence.c.element_id.in_(["1.1.1", "1.1.2"]))
    statements = [
        select(evidence.c.element_id).distinct().where(where[0]),
        select(evidence.c.element_id, evidence.c.title).where(*where).order_by(evidence.c.id),
        update(evidence).where(*where).values(is_current=False),
    ]
    for statement in statements:
        plan = _plan(engine, statement)
        assert "ix_evidence_department_id" in plan and "ix_evidence_assessment_year" not in plan, plan
    # the condition the plain way round is what SQLite (no statistics) would search by year
    plain = select(evidence.c.id).where(evidence.c.department_id == "housing", evidence.c.assessment_year == 2027)
    assert "ix_evidence_assessment_year" in _plan(engine, plain)
