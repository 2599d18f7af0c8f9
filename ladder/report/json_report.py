"""The machine-readable report (the stable contract in README.md)."""

from __future__ import annotations

from ..findings import AuditReport


def render(report: AuditReport) -> str:
    return report.to_json()
