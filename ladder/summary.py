"""Cohort counts: patients per step, refractory verdicts, findings per check, read = audited + errors.

Small cells can be suppressed (`min_cell`), as cohort tools in this field do, so that a summary can
leave the institution without singling anyone out: a count from 1 to min_cell - 1 prints as
"<min_cell". Complementary suppression keeps a hidden cell hidden: where the cells of a group add up
to a total that is shown (patients per step, per verdict: each adds up to the audited count), a
group with one suppressed cell has its smallest other non-zero cell suppressed too (printed "*"),
so that no hidden count is the total minus the others.
"""

from __future__ import annotations

import hashlib
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import orjson

from .rulebook import SEVERITY_RANK

_UNRANKED = 99  # outputs written before results carried the step's rank list their steps last


@dataclass
class Tally:
    audited: int = 0
    errors: int = 0
    worst: int = -1  # highest severity rank seen, -1 for none
    steps: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    patients_per_check: Counter[str] = field(default_factory=Counter)
    findings_per_check: Counter[str] = field(default_factory=Counter)
    severities: Counter[str] = field(default_factory=Counter)
    names: dict[str, str] = field(default_factory=dict)
    step_ranks: dict[str, int] = field(default_factory=dict)  # to list steps in ladder order
    definitions: Counter[str] = field(default_factory=Counter)  # "label|status" of further definitions
    # 8-byte digests of each audited patient's id and source, in the order counted: 16 bytes a
    # patient, so that repeated ids can be found at the end of a cohort of millions (duplicates.py).
    ids: array = field(default_factory=lambda: array("Q"))
    sources: array = field(default_factory=lambda: array("Q"))

    @property
    def read(self) -> int:
        return self.audited + self.errors

    def add(self, item: dict[str, Any]) -> None:
        if "error" in item:
            self.errors += 1
            return
        self.audited += 1
        self.ids.append(digest(item["id"]))
        self.sources.append(digest(item["source"]))
        step = f"{item['step']['code']} {item['step']['label']}"
        self.steps[step] += 1
        self.step_ranks[step] = item["step"].get("rank", _UNRANKED)
        self.verdicts[item["refractory"]["status"]] += 1
        for other in item.get("definitions", []):
            self.definitions[f"{other['label']}|{other['status']}"] += 1
        codes = set()
        for finding in item["findings"]:
            codes.add(finding["code"])
            self.findings_per_check[finding["code"]] += 1
            self.names[finding["code"]] = f"{finding['name']} ({finding['severity']})"
            self.severities[finding["severity"]] += 1
            if not finding.get("accepted"):  # a documented, deliberate deviation does not fail a run
                self.worst = max(self.worst, SEVERITY_RANK[finding["severity"]])
        self.patients_per_check.update(codes)

    def merge(self, other: "Tally") -> None:
        """Add another tally's counts (a worker's chunk) to this one."""
        self.audited += other.audited
        self.errors += other.errors
        self.worst = max(self.worst, other.worst)
        for mine, theirs in ((self.steps, other.steps), (self.verdicts, other.verdicts),
                             (self.patients_per_check, other.patients_per_check),
                             (self.findings_per_check, other.findings_per_check),
                             (self.severities, other.severities), (self.definitions, other.definitions)):
            mine.update(theirs)
        self.names.update(other.names)
        self.step_ranks.update(other.step_ranks)
        self.ids.extend(other.ids)
        self.sources.extend(other.sources)

    def as_dict(self, min_cell: int = 0) -> dict[str, Any]:
        cell = _suppressor(min_cell)
        steps = sorted(self.steps, key=lambda k: (self.step_ranks.get(k, _UNRANKED), k))
        return {"read": self.read, "audited": self.audited, "errors": self.errors,
                "min_cell": min_cell,
                "steps": _complemented({k: self.steps[k] for k in steps}, min_cell),
                "refractory": _complemented({k: self.verdicts[k] for k in ("met", "not_met", "indeterminate")},
                                            min_cell),
                "definitions": {label: _complemented({k: self.definitions[f"{label}|{k}"]
                                                      for k in ("met", "not_met", "indeterminate")}, min_cell)
                                for label in sorted({key.split("|")[0] for key in self.definitions})},
                "checks": {code: {"name": self.names[code],
                                  "patients": cell(self.patients_per_check[code]),
                                  "findings": cell(self.findings_per_check[code])}
                           for code in sorted(self.findings_per_check)}}

    def render(self, min_cell: int = 0) -> str:
        data = self.as_dict(min_cell)
        lines = [f"{data['read']} read = {data['audited']} audited + {data['errors']} "
                 f"error{'' if data['errors'] == 1 else 's'}"]
        if min_cell:
            lines.append(f"(counts from 1 to {min_cell - 1} shown as <{min_cell}; * hides a count that "
                         "would reveal one of them)")
        lines += ["", "patients by highest step reached"]
        lines += [f"  {count:>8}  {step}" for step, count in data["steps"].items()]
        lines += ["", "refractory definition"]
        lines += [f"  {count:>8}  {verdict}" for verdict, count in data["refractory"].items()]
        for label, verdicts in data["definitions"].items():
            lines += ["", label]
            lines += [f"  {count:>8}  {verdict}" for verdict, count in verdicts.items()]
        lines += ["", "checks             patients  findings"]
        lines += [f"  {code:<8} {row['patients']:>12}  {row['findings']:>8}  {row['name']}"
                  for code, row in data["checks"].items()]
        return "\n".join(lines) + "\n"


def digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "backslashreplace"), digest_size=8).digest(), "big")


def _complemented(group: dict[str, int], min_cell: int) -> dict[str, int | str]:
    """A group of cells adding up to a shown total, suppressed so that no hidden cell can be
    recovered from the total and the others: with one small cell hidden, the next smallest
    non-zero cell is hidden too ("*")."""
    cell = _suppressor(min_cell)
    out: dict[str, int | str] = {key: cell(count) for key, count in group.items()}
    hidden = [key for key, value in out.items() if isinstance(value, str)]
    if len(hidden) == 1:
        shown = [key for key, value in out.items() if isinstance(value, int) and value > 0]
        if shown:
            out[min(shown, key=lambda key: group[key])] = "*"
    return out


def _suppressor(min_cell: int):  # type: ignore[no-untyped-def]
    def cell(count: int) -> int | str:
        return f"<{min_cell}" if 0 < count < min_cell else count
    return cell


def items_from_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of a `--format jsonl` audit output."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError as error:
                    raise ValueError(f"{path}:{number}: not valid JSON: {error}") from None
