"""Two audits of one cohort under two packs, side by side: per patient, the step reached and each
definition's verdict under each pack, counted as cross-tabs (how many patients move). The two
`--format jsonl` outputs are read together, line by line, so memory stays flat whatever the size:
they must list the same patients in the same order (audits of one input do)."""

from __future__ import annotations

from collections import Counter
from itertools import zip_longest
from pathlib import Path
from typing import Any

from .summary import _complemented, items_from_jsonl


def crosstab(first: Path, second: Path, min_cell: int = 0) -> dict[str, Any]:
    """{"patients", "errors", "packs", "steps": {a: {b: n}}, "refractory": ..., "definitions": {id: ...}}.
    Raises ValueError when the two outputs are not audits of the same patients in the same order."""
    steps: Counter[tuple[str, str]] = Counter()
    verdicts: Counter[tuple[str, str]] = Counter()
    definitions: dict[str, Counter[tuple[str, str]]] = {}
    patients = errors = 0
    for number, (a, b) in enumerate(zip_longest(items_from_jsonl(first), items_from_jsonl(second)), start=1):
        if a is None or b is None:
            raise ValueError(f"line {number}: one output ends before the other (not audits of one cohort)")
        if "error" in a or "error" in b:
            errors += 1
            continue
        if a["id"] != b["id"]:
            raise ValueError(f"line {number}: patient {a['id']!r} against {b['id']!r} (not audits of one cohort)")
        patients += 1
        steps[(a["step"]["code"], b["step"]["code"])] += 1
        verdicts[(a["refractory"]["status"], b["refractory"]["status"])] += 1
        theirs = {d["id"]: d["status"] for d in b.get("definitions", [])}
        for mine in a.get("definitions", []):
            if mine["id"] in theirs:
                definitions.setdefault(mine["id"], Counter())[(mine["status"], theirs[mine["id"]])] += 1
    def table(counts: Counter[tuple[str, str]]) -> dict[str, dict[str, int | str]]:
        # The cells of a table add up to the patients shown: suppressed as one group, so that no
        # hidden cell is the total minus the others (complementary suppression, as `summary`).
        flat = _complemented({f"{x}\t{y}": n for (x, y), n in sorted(counts.items())}, min_cell)
        out: dict[str, dict[str, int | str]] = {}
        for key, value in flat.items():
            x, y = key.split("\t")
            out.setdefault(x, {})[y] = value
        return out
    return {"first": str(first), "second": str(second), "patients": patients, "errors": errors,
            "min_cell": min_cell, "steps": table(steps), "refractory": table(verdicts),
            "definitions": {key: table(counts) for key, counts in sorted(definitions.items())}}


def render(data: dict[str, Any]) -> str:
    lines = [f"{data['patients']} patients in both audits ({data['errors']} with an error in either): "
             f"rows {data['first']}, columns {data['second']}"]
    for title, table in [("step reached", data["steps"]), ("refractory definition", data["refractory"]),
                         *[(f"definition {k}", v) for k, v in data["definitions"].items()]]:
        lines += ["", title]
        for row, cells in table.items():
            lines.append(f"  {row:<16} -> " + ", ".join(f"{col}: {n}" for col, n in cells.items()))
    return "\n".join(lines) + "\n"
