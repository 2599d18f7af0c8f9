"""FHIR values -> ladder values: codes, extensions, dates, doses, and repeated administrations
grouped into courses (the helpers of readers.fhir)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..model import schedule_words

SYSTEM = "https://ladder.invalid/fhir/CodeSystem/csu"  # ladder's local codes (README: FHIR)
EXTENSION = "https://ladder.invalid/fhir/StructureDefinition/"
_UNITS = {"mg": "mg", "mg/kg": "mg/kg", "mg/kg/d": "mg/kg/day", "mg/kg/day": "mg/kg/day"}


def _runs(doses: list[tuple[dt.date, Any, Any]]) -> list[list[tuple[dt.date, Any, Any]]]:
    """Split dated doses where the interval or the dose changes."""
    runs: list[list[tuple[dt.date, Any, Any]]] = []
    for dose in doses:
        if runs:
            run = runs[-1]
            interval = (dose[0] - run[-1][0]).days
            same_dose = _dose_value(dose[2]) == _dose_value(run[-1][2])
            previous = (run[-1][0] - run[-2][0]).days if len(run) > 1 else interval
            if same_dose and abs(interval - previous) <= 2:
                run.append(dose)
                continue
        runs.append([dose])
    return runs


def _administered_course(drug: str, run: list[tuple[dt.date, Any, Any]]) -> dict[str, Any]:
    course: dict[str, Any] = {"drug": drug, "start": run[0][0].isoformat()}
    dosage = run[0][2]
    value = _dose_value(dosage)
    if value is not None:
        unit = _UNITS.get((dosage.dose.code or dosage.dose.unit or "").strip())
        if unit:
            course.update(dose=value, unit=unit)
    if len(run) > 1:
        interval = round((run[-1][0] - run[0][0]).days / (len(run) - 1))
        course["frequency"] = schedule_words(interval)
        # The last dose covers one more interval: the course ends when the next dose would be due.
        course["end"] = (run[-1][0] + dt.timedelta(days=interval)).isoformat()
    return course


def _dose_value(dosage: Any) -> float | None:
    return float(dosage.dose.value) if dosage is not None and dosage.dose and dosage.dose.value is not None else None


def _age(birth: str, last: dt.date | None) -> dict[str, Any]:
    year = int(birth[:4])
    out: dict[str, Any] = {"birth_year": year}
    if last is not None:
        born = dt.date.fromisoformat(birth) if len(birth) == 10 else None
        age = last.year - year
        if born is not None and (last.month, last.day) < (born.month, born.day):
            age -= 1
        out["age"] = age
    return out


def _extension(resource: Any, name: str) -> Any:
    for extension in getattr(resource, "extension", None) or []:
        if extension.url == EXTENSION + name:
            return extension
    return None


def _extension_text(extension: Any) -> str:
    inner = next((e for e in extension.extension or [] if e.url == "meaning"), None)
    return inner.valueString if inner is not None else "anchor date"


def _text(concept: Any) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return concept.text
    return next((c.display for c in concept.coding or [] if c.display), None)


def _code(concept: Any) -> str | None:
    if concept is None:
        return None
    local = next((c.code for c in concept.coding or [] if c.system == SYSTEM), None)
    return local or concept.text


def _full_day(value: Any) -> dt.date | None:
    """The day of a FHIR date or dateTime; None for a partial one ('2023-04') or none."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _put(entry: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        entry[key] = value


def _ref(resource: Any) -> str:
    return f"{resource.get_resource_type()}/{resource.id or '(no id)'}"
