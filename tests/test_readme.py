"""The README documents what ships: every check, and the exact commands CI runs."""

from __future__ import annotations

import ladder

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_check_is_in_the_readme_table():
    for check in ladder.load_rules().checks:
        assert f"| {check.code} | {check.name} | {check.severity} |" in README, check.code


def test_ci_runs_the_readme_test_command():
    command = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
               if "pytest" in line][0]
    assert command in README
