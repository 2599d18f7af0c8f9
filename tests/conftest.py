from __future__ import annotations

from pathlib import Path

import pytest

import ladder
from ladder.rulebook import Rulebook

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def book() -> Rulebook:
    return ladder.load_rules()


def codes(report: ladder.AuditReport) -> set[str]:
    return {f.code for f in report.patients[0].findings}
