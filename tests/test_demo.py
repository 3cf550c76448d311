import csv
import json
from collections import Counter
from datetime import date, timedelta

from reaccreditation.demo import default_first_day, generate
from reaccreditation.organisation.config import load_organisation

from .conftest import FIRST_DAY


def test_demo_council_is_realistic_and_complete(tmp_path):
    paths = generate(tmp_path, FIRST_DAY)
    org = load_organisation(paths["config"])
    assert len(org.departments) == 12
    assert org.unowned_elements == []
    assert {e.id for d in org.departments for e in map(org.standard.element, d.elements)} == {e.id for e in org.standard.elements}
    assert len(org.sites) == 4 and org.leadership


def test_history_has_five_years_with_growing_compliance_plus(tmp_path):
    paths = generate(tmp_path, FIRST_DAY)
    with paths["history"].open() as f:
        rows = list(csv.DictReader(f))
    years = sorted({int(r["assessment_year"]) for r in rows})
    assert years == [2022, 2023, 2024, 2025, 2026]
    plus = Counter(int(r["assessment_year"]) for r in rows if r["rating"] == "Compliance Plus")
    assert [plus[y] for y in years] == [6, 7, 9, 10, 12]
    types = {int(r["assessment_year"]): r["assessment_type"] for r in rows}
    assert types[2026] == "full" and types[2023] == "full" and types[2025] == "surveillance"
    planted = json.loads(paths["planted"].read_text())
    assert len(planted["last_year_partials"]) == 3 and len(planted["last_year_compliance_plus"]) == 12


def test_demo_is_deterministic(tmp_path):
    a = generate(tmp_path / "a", FIRST_DAY)
    b = generate(tmp_path / "b", FIRST_DAY)
    assert a["history"].read_bytes() == b["history"].read_bytes()
    assert a["config"].read_bytes() == b["config"].read_bytes()


def test_default_first_day_puts_today_in_the_week_of_the_t23_pack(tmp_path):
    for offset in range(14):  # every weekday of two weeks, a bank-holiday-free stretch of 2026
        today = date(2026, 9, 7) + timedelta(days=offset)
        day = default_first_day(today)
        assert day.weekday() == 0 and 18 <= (day - today).days <= 24
    today = date(2026, 12, 2)
    paths = generate(tmp_path, default_first_day(today))
    org = load_organisation(paths["config"], today=today)
    assert org.due_date(23) <= today < org.due_date(16)  # the T-23 pack is due today, the T-30 one is past
    assert org.due_date(30) < today
