"""Which findings an audit keeps and shows, as ruff users expect: `--select` and `--ignore` take codes
or code prefixes (JAK, TRL00); a finding outside the selection is dropped (it neither shows nor
counts toward --fail-on); `--min-severity` only hides what is shown below it, and --fail-on keeps
deciding the exit code from every selected finding."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from .errors import LadderError
from .rulebook import SEVERITY_RANK, Rulebook


@dataclass(frozen=True)
class Selection:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    min_severity: str | None = None

    def keeps(self, code: str) -> bool:
        return (not self.select or code.startswith(self.select)) and not (self.ignore and code.startswith(self.ignore))

    def shows(self, finding: dict[str, Any]) -> bool:
        return self.min_severity is None or SEVERITY_RANK[finding["severity"]] >= SEVERITY_RANK[self.min_severity]

    def selected(self, item: dict[str, Any]) -> dict[str, Any]:
        """The result with only the selected findings (an error record as it is)."""
        if "findings" not in item or (not self.select and not self.ignore):
            return item
        return {**item, "findings": [f for f in item["findings"] if self.keeps(f["code"])]}

    def shown(self, item: dict[str, Any]) -> dict[str, Any]:
        """The result with only the findings at or above --min-severity."""
        if "findings" not in item or self.min_severity is None:
            return item
        return {**item, "findings": [f for f in item["findings"] if self.shows(f)]}


def selection(book: Rulebook, select: tuple[str, ...] = (), ignore: tuple[str, ...] = (),
              min_severity: str | None = None) -> Selection:
    """A Selection checked against the pack: a code or prefix no check has is an error, with the
    nearest code (a typo must not silently select nothing)."""
    codes = [check.code for check in book.checks]
    for given in (*select, *ignore):
        if not any(code.startswith(given.upper()) for code in codes):
            near = difflib.get_close_matches(given.upper(), codes, n=1)
            raise LadderError(f"no check of {book.pack.id} has the code or prefix {given!r}"
                              + (f" (did you mean {near[0]}?)" if near else ""))
    if min_severity is not None and min_severity not in SEVERITY_RANK:
        raise LadderError(f"--min-severity takes {', '.join(SEVERITY_RANK)}, not {min_severity!r}")
    return Selection(tuple(s.upper() for s in select), tuple(i.upper() for i in ignore), min_severity)
