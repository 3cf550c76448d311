"""Reaccreditation: the domain of an annual service-standard reaccreditation, as plain Python.

Nothing in this package imports Airflow except :mod:`reaccreditation.orchestration.connections`.
"""
