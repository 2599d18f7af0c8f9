"""The human report: one block per patient, most serious findings first, then a summary. Not for parsing."""

from __future__ import annotations

from collections import Counter

from ..findings import AuditReport, PatientResult
from ..rulebook import SEVERITY_RANK

VERDICT = {"met": "MET", "not_met": "NOT MET", "indeterminate": "CANNOT BE DETERMINED"}


def render(report: AuditReport) -> str:
    blocks = [patient_block(patient) for patient in report.patients]
    blocks += [f"ERROR {e.source}" + (f" (patient {e.patient})" if e.patient else "") + f": {e.message}"
               for e in report.errors]
    blocks.append(summary(report))
    return "\n\n".join(blocks) + "\n"


def patient_block(patient: PatientResult) -> str:
    refractory = patient.refractory
    lines = [f"{patient.id}  ({patient.source})",
             f"  step reached: {patient.step.code}, {patient.step.label}",
             f"  refractory:   {VERDICT[refractory.status]}"]
    if refractory.missing:
        lines += [f"                missing: {item}" for item in refractory.missing]
    ordered = sorted(patient.findings, key=lambda f: (-SEVERITY_RANK[f.severity], f.code))
    lines += [f"  {f.severity:<8} {f.code:<7} {f.message}" for f in ordered]
    return "\n".join(lines)


def summary(report: AuditReport) -> str:
    verdicts = Counter(p.refractory.status for p in report.patients)
    severities = Counter(f.severity for p in report.patients for f in p.findings)
    read = len(report.patients) + len(report.errors)
    return (f"{read} read = {len(report.patients)} audited + {len(report.errors)} errors "
            f"(rules {report.rules.id} {report.rules.version})\n"
            f"refractory: {verdicts['met']} met, {verdicts['not_met']} not met, "
            f"{verdicts['indeterminate']} cannot be determined\n"
            f"findings: {severities['critical']} critical, {severities['warning']} warning, "
            f"{severities['info']} info")
