"""Golden JSON reports for every case in cases/. Refresh after a reviewed change with:

    LADDER_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and read the diff of tests/golden/ before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

import ladder

from .conftest import ROOT

CASES = sorted(p.relative_to(ROOT) for p in (ROOT / "cases").rglob("*") if p.suffix in (".yaml", ".json"))
GOLDEN = ROOT / "tests" / "golden"
AS_OF = dt.date(2026, 12, 2)  # the audit date of the goldens: ongoing courses run to it


def report_json(case: Path) -> str:
    return ladder.audit(case, as_of=AS_OF).to_json()


@pytest.mark.parametrize("case", CASES, ids=str)
def test_report_matches_golden(case: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # sources in reports are the relative paths a user types
    golden = GOLDEN / case.relative_to("cases").with_suffix(".json")
    actual = report_json(case)
    if os.environ.get("LADDER_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


def test_every_case_has_a_golden_and_no_golden_is_orphaned() -> None:
    expected = {GOLDEN / c.relative_to("cases").with_suffix(".json") for c in CASES}
    assert set(GOLDEN.rglob("*.json")) == expected


def test_same_input_gives_byte_identical_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert report_json(Path("cases")) == report_json(Path("cases"))


OTHER_PACKS = ["csu-us-2014", "csu-japan-2018", "csu-china-2022"]
PACK_GOLDEN = ROOT / "tests" / "golden-packs"


@pytest.mark.parametrize("pack", OTHER_PACKS)
def test_seed_and_synthetic_cases_under_each_pack_match_golden(pack: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cases audited under every shipped pack (issue 12): a change of a pack shows in a diff."""
    monkeypatch.chdir(ROOT)
    parts = [ladder.audit(Path("cases") / folder, rules=pack, as_of=AS_OF).to_json() for folder in ("seed", "synthetic")]
    actual = "".join(parts)
    golden = PACK_GOLDEN / f"{pack}.json"
    if os.environ.get("LADDER_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")
