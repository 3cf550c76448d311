"""Reaccreditation: the domain of an annual service-standard reaccreditation, as plain Python.

Nothing in this package imports Airflow except :mod:`reaccreditation.orchestration`, and nothing else
imports that package back; the map of packages and the import rules are in docs/architecture.md
(checked by tests/test_architecture.py).
"""
