"""Intake fixtures: a private copy of the GX context, the corpus built for the demo council."""

from __future__ import annotations

import csv
import importlib.util
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data" / "intake"


def load_make_corpus():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("make_corpus", DATA / "make_corpus.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.fixture
def org(demo):  # type: ignore[no-untyped-def]
    from reaccreditation.organisation.config import load_organisation

    return load_organisation(demo["config"], today=date(2027, 1, 20))


@pytest.fixture
def corpus(org, tmp_path: Path) -> dict[int, dict[str, Path]]:  # type: ignore[no-untyped-def]
    return load_make_corpus().build(org, tmp_path / "corpus")


@pytest.fixture(scope="session")
def shared_corpus(tmp_path_factory) -> dict[int, dict[str, Path]]:  # type: ignore[no-untyped-def]
    """The corpus built once per session, for tests that only read it (no Airflow, no config env)."""
    from reaccreditation.demo import generate
    from reaccreditation.organisation.config import load_organisation

    folder = tmp_path_factory.mktemp("intake-corpus")
    make = load_make_corpus()
    paths = generate(folder / "demo", make.FIRST_DAY)
    return make.build(load_organisation(paths["config"], today=date(2027, 1, 20)), folder / "corpus")


@pytest.fixture(scope="session")
def expected() -> list[dict[str, str]]:
    with (DATA / "expected.csv").open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
