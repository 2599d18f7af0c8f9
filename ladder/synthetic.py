"""A seeded synthetic CSU cohort for tests and benchmarks: realistic step distributions, gaps,
missing values, scores. Same seed, same cohort. Not clinical data: a load and correctness fixture.

Shape: every patient starts on a standard-dose antihistamine; each later step is reached by a
falling share of patients (about 70% up-dose, 40% omalizumab, 15% shortened interval, 6%
ciclosporin, 4% an advanced agent), with flares treated by short or long steroid courses, and a
share of records missing doses, schedules or end dates.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, Iterator

_AH = [("cetirizine", 10), ("Zyrtec", 10), ("levocetirizine", 5), ("loratadine", 10),
       ("desloratadine", 5), ("fexofenadine", 180), ("bilastine", 20), ("rupatadine", 10),
       ("cetrizine", 10)]
_ADVANCED = [("abrocitinib", 100, "daily"), ("upadacitinib", 15, "daily"),
             ("dupilumab", 300, "every 2 weeks"), ("remibrutinib", 25, "twice daily"),
             ("abrocitinib (Xeljanz)", 100, "daily")]
_COMORBIDITIES = ["hypertension", "asthma", "allergic rhinitis", "hypothyroidism",
                  "chronic kidney disease", "type 2 diabetes"]


def cohort(size: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """`size` patient histories as plain dicts (what a JSON Lines file holds), deterministically."""
    rng = random.Random(seed)
    for number in range(1, size + 1):
        yield _patient(rng, f"syn-{seed}-{number:07d}")


def _patient(rng: random.Random, pid: str) -> dict[str, Any]:
    day = date(2018, 1, 1) + timedelta(days=rng.randrange(2000))
    courses: list[dict[str, Any]] = []
    assessments: list[dict[str, Any]] = []
    score = rng.randint(16, 42)

    def step(course: dict[str, Any], weeks: int, responds: float) -> bool:
        nonlocal day, score
        length = max(1, int(weeks * 7 * rng.uniform(0.5, 1.5)))
        course = {**course, "start": day.isoformat()}
        end = day + timedelta(days=length)
        controlled = rng.random() < responds
        score = rng.randint(0, 6) if controlled else max(7, min(42, score + rng.randint(-8, 4)))
        if rng.random() < 0.92:
            assessments.append({"instrument": "UAS7", "score": score, "date": end.isoformat()})
        else:
            assessments.append({"instrument": "clinician", "date": end.isoformat(),
                                "judgement": "responded" if controlled else "no_response"})
        if controlled and rng.random() < 0.5:
            course["ongoing"] = True
        elif rng.random() < 0.05:
            pass  # end date missing from the record
        else:
            course.update(end=end.isoformat(), stop_reason="ineffective" if not controlled
                          else rng.choice(["remission", "patient_choice"]))
        _maybe_drop(rng, course)
        courses.append(course)
        day = end + timedelta(days=rng.choice([0, 0, 0, 7, 30]))
        return not controlled and not course.get("ongoing")

    assessments.append({"instrument": "UAS7", "score": score, "date": day.isoformat()})
    name, standard = rng.choice(_AH)
    go = step({"drug": name, "dose": standard, "unit": "mg", "frequency": "daily"}, 3, 0.35)
    if go and rng.random() < 0.85:
        # Up-dosing: 2x, 3x, 4x (most often), or 6x, above the guideline's ceiling.
        per_dose, frequency = rng.choice([(standard, "twice daily"), (standard, "three times daily"),
                                          (standard, "four times daily"), (standard, "four times daily"),
                                          (standard * 2, "three times daily")])
        go = step({"drug": name, "dose": per_dose, "unit": "mg", "frequency": frequency}, 4, 0.3)
    if go and rng.random() < 0.6:
        go = step({"drug": rng.choice(["omalizumab", "Xolair"]), "dose": rng.choice([300, 300, 300, 150]),
                   "unit": "mg", "frequency": "every 4 weeks"}, 26, 0.65)
    if go and rng.random() < 0.6:
        go = step({"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 2 weeks"}, 13, 0.4)
    if go and rng.random() < 0.5:
        go = step({"drug": rng.choice(["ciclosporin", "cyclosporine", "Neoral"]),
                   "dose": rng.choice([3, 3, 4, 6]), "unit": "mg/kg/day", "frequency": "daily"}, 12, 0.5)
    if go and rng.random() < 0.7:
        name, dose, frequency = rng.choice(_ADVANCED)
        step({"drug": name, "dose": dose, "unit": "mg", "frequency": frequency}, 12, 0.7)
    if rng.random() < 0.3:
        start = date.fromisoformat(courses[0]["start"]) + timedelta(days=rng.randrange(60))
        courses.append({"drug": rng.choice(["prednisolone", "prednisone"]), "dose": 30, "unit": "mg",
                        "frequency": "daily", "start": start.isoformat(),
                        "end": (start + timedelta(days=rng.choice([5, 7, 10, 14, 30]))).isoformat()})
    history: dict[str, Any] = {
        "id": pid, "sex": rng.choice(["female", "female", "male"]), "age": rng.randint(18, 80),
        "diagnosis": {"name": "chronic spontaneous urticaria",
                      "angioedema": rng.choice(["yes", "no", "unknown"])},
        "comorbidities": rng.sample(_COMORBIDITIES, rng.choice([0, 0, 1, 2])),
        "courses": courses, "assessments": assessments}
    if any(c["drug"] in ("abrocitinib", "upadacitinib", "abrocitinib (Xeljanz)") for c in courses) \
            and rng.random() < 0.8:
        history["screenings"] = [{"kind": "tb", "result": "negative"},
                                 {"kind": "hepatitis_b", "result": "negative"}]
    return history


def _maybe_drop(rng: random.Random, course: dict[str, Any]) -> None:
    """Real records are incomplete: drop a dose or a schedule now and then."""
    roll = rng.random()
    if roll < 0.06:
        course.pop("dose", None)
        course.pop("unit", None)
    elif roll < 0.10:
        course.pop("frequency", None)
