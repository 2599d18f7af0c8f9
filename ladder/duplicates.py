"""Patient ids that appear more than once in one audit, named with every source that holds them.

The tally keeps two 8-byte digests per patient (id and source); repeated ids are found at the end
by sorting, and only when there are some are the inputs read again to name the records."""

from __future__ import annotations

from typing import Any, Iterable

from .readers import Failed, Record, parse, patient_id, printable
from .summary import Tally, digest


def repeated(tally: Tally) -> list[list[int]]:
    """For each id seen more than once: the source digests of its records, in input order."""
    ids, sources = tally.ids, tally.sources
    order = sorted(range(len(ids)), key=lambda n: (ids[n], n))
    groups, start = [], 0
    for end in range(1, len(order) + 1):
        if end == len(order) or ids[order[end]] != ids[order[start]]:
            if end - start > 1:
                groups.append([sources[n] for n in order[start:end]])
            start = end
    return groups


def named(groups: list[list[int]], records: Iterable[Record | Failed]) -> list[dict[str, Any]]:
    """The repeated ids with their sources, read again from the inputs (only the records needed)."""
    wanted = {s for group in groups for s in group}
    found: dict[int, tuple[str, str | None]] = {}
    for record in records:
        if isinstance(record, Failed):
            continue
        source = printable(record.source)
        key = digest(source)
        if key in wanted and key not in found:
            try:
                data = parse(record)
            except ValueError:
                continue
            found[key] = (source, patient_id(data) if isinstance(data, dict) else getattr(data, "id", None))
            if len(found) == len(wanted):
                break
    out = []
    for group in groups:
        named_sources = [found[s] for s in group if s in found]
        if named_sources:
            out.append({"patient": named_sources[0][1], "sources": [s for s, _ in named_sources]})
    return out
