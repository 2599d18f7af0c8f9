"""The patient history: what a record says, nothing derived. Unknown stays unknown (None)."""

from __future__ import annotations

import re
import datetime as dt
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator,
                      model_validator)


def _squash(term: str) -> str:
    return re.sub(r"[\s_-]+", "", term.lower())


def _vocabulary(*terms: str, aliases: dict[str, str] | None = None) -> Any:
    """A closed vocabulary that reads a term however a record cases or spaces it ('Adverse event',
    'UAS-7', 'hepatitis B'), and the abbreviations clinicians write ('F' for female); anything else
    stays an error that lists the terms."""
    canonical = {_squash(term): term for term in terms}
    canonical.update({_squash(short): term for short, term in (aliases or {}).items()})

    def read(value: Any) -> Any:
        if isinstance(value, str) and value not in terms:
            return canonical.get(_squash(value), value)
        return value
    return Annotated[Literal[terms], BeforeValidator(read)]  # type: ignore[valid-type]


Sex = _vocabulary("female", "male", "other", "unknown", aliases={"f": "female", "m": "male"})
YesNoUnknown = _vocabulary("yes", "no", "unknown")
DoseUnit = _vocabulary("mg", "mg/kg/day", "mg/kg")
StopReason = _vocabulary("ineffective", "adverse_event", "intolerance", "remission", "patient_choice",
                         "planned_switch", "unknown")
Instrument = _vocabulary("UAS7", "UCT", "AAS7", "clinician")
Judgement = _vocabulary("responded", "partial", "no_response")
ScreeningKind = _vocabulary("tb", "hepatitis_b", "hepatitis_c", "hepatitis", "hiv")
ScreeningResult = _vocabulary("negative", "positive", "unknown")

# The scales' own ranges (instrument definitions, not clinical thresholds): UAS7 0-42 [Mlynek 2008],
# UCT 0-16 [Weller 2014], AAS7 0-105 [Weller 2013]; see docs/sources.md (score ranges).
SCORE_RANGES: dict[str, tuple[int, int]] = {"UAS7": (0, 42), "UCT": (0, 16), "AAS7": (0, 105)}

_FREQUENCY_WORDS = {
    "daily": 1.0, "once daily": 1.0, "qd": 1.0, "od": 1.0, "once a day": 1.0,
    "nocte": 1.0, "at night": 1.0, "mane": 1.0, "every morning": 1.0,
    "twice daily": 0.5, "bid": 0.5, "bd": 0.5, "twice a day": 0.5,
    "three times daily": 1 / 3, "tid": 1 / 3, "tds": 1 / 3, "three times a day": 1 / 3,
    "four times daily": 0.25, "qid": 0.25, "qds": 0.25, "four times a day": 0.25,
    "every other day": 2.0, "qod": 2.0, "alternate days": 2.0,
    "weekly": 7.0, "once weekly": 7.0, "once a week": 7.0, "twice weekly": 3.5, "twice a week": 3.5,
    "fortnightly": 14.0, "monthly": 28.0, "once monthly": 28.0, "once a month": 28.0,
}
# "every 2 weeks", "every two weeks", "every month", "q2w", "q12h", "4-weekly" ("biweekly" is
# ambiguous, twice a week or every two weeks, and stays an error).
_NUMBER = r"(\d+(?:\.\d+)?|one|two|three|four|five|six|eight|twelve)?"
_EVERY = re.compile(rf"^(?:every {_NUMBER} ?|q ?{_NUMBER} ?|{_NUMBER} )"
                    r"(hours?|hrs?|h|days?|d|weeks?|wks?|w|weekly|months?|mo|monthly)$")
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "twelve": 12}
_UNIT_DAYS = {"h": 1 / 24, "d": 1, "w": 7, "m": 28}
IRREGULAR = ("as needed", "intermittent")
_AS_NEEDED = {"prn", "when required", "as required"}  # written for "as needed"
_DURATION = re.compile(rf"^(?:for )?{_NUMBER} ?(days?|d|weeks?|wks?|w|months?|mo|years?|yrs?|y)$")
_DURATION_UNIT_DAYS = {"d": 1, "w": 7, "m": 365.25 / 12, "y": 365.25}
_CALENDAR_DAYS = (dt.date.max - dt.date.min).days  # no course is longer: not a clinical limit
# The largest number a record may hold: integers are exact up to 2**53 in JSON and in the engine's
# 64-bit arithmetic with room for what is derived from it (a technical bound, not a clinical one).
LARGEST = float(2 ** 53)


def _frequency_text(frequency: str) -> str:
    """Lower case, single spaces, hyphens as spaces, and no dots after letters ("b.d." = "bd")."""
    return " ".join(re.sub(r"(?<=[a-z])\.", "", frequency.lower().replace("-", " ")).split())


def _source_field() -> Any:
    return Field(default=None, max_length=500, description=(
        "Where this item comes from in the source record: a FHIR reference (MedicationStatement/abc), "
        "a CSV file and row, an EHR id. Readers fill it; when absent, findings name the item by its "
        "place in the case file (#/courses/2, a JSON Pointer)."))


def irregular(frequency: str) -> str | None:
    """'as needed' or 'intermittent' when the schedule is one of those (as written: 'prn'...)."""
    text = _frequency_text(frequency)
    return "as needed" if text in _AS_NEEDED else (text if text in IRREGULAR else None)


@lru_cache(maxsize=4096)  # pure, and a cohort writes the same few schedules again and again
def interval_days(frequency: str) -> float | None:
    """Days between doses for a regular schedule; None for 'as needed' or 'intermittent' use.

    Raises ValueError for a schedule it cannot read, so a typo is an input error, never a guess.
    A month counts as 4 weeks: injectable schedules such as omalizumab's are written that way.
    """
    text = _frequency_text(frequency)
    if text in IRREGULAR or text in _AS_NEEDED:
        return None
    if text in _FREQUENCY_WORDS:
        return _FREQUENCY_WORDS[text]
    match = _EVERY.match(text)
    if match and (text.startswith("every") or any(match.groups()[:3])):  # "q w" alone is no schedule
        number = next((n for n in match.groups()[:3] if n), "1")
        unit = "m" if match.group(4).startswith("mo") else match.group(4)[0]
        days = float(_WORDS.get(number, number)) * _UNIT_DAYS[unit]
        if not 0 < days <= _CALENDAR_DAYS:
            raise ValueError(f"cannot read frequency {frequency!r}: an interval of zero, or one longer "
                             "than the calendar, is no schedule")
        return days
    raise ValueError(
        f"cannot read frequency {frequency!r}: use e.g. 'daily', 'twice daily', 'every other day', "
        "'every 2 weeks', 'every 4 weeks', 'as needed' or 'intermittent'")


_NAMED_INTERVALS = {1.0: "daily", 0.5: "twice daily", 1 / 3: "three times daily", 0.25: "four times daily",
                    2.0: "every other day", 3.5: "twice weekly"}


def schedule_words(every_days: float) -> str:
    """Days between doses in the words records use (and interval_days reads back): 'daily',
    'every 2 weeks', 'every 10 days'."""
    for days, words in _NAMED_INTERVALS.items():
        if abs(every_days - days) < 1e-6:
            return words
    if every_days >= 7 and every_days % 7 == 0:
        weeks = int(every_days // 7)
        return "weekly" if weeks == 1 else f"every {weeks} weeks"
    return f"every {every_days:g} days"


@lru_cache(maxsize=4096)
def duration_days(text: str) -> int:
    """Days in a course length as records write it: '6 months', '12 weeks', '10 days', '1 year'.

    Calendar months and years (6 months = 183 days): the length the record states, read as it is.
    Raises ValueError for a length it cannot read ('3-6 months' is a range, never a guess).
    """
    match = _DURATION.match(" ".join(text.lower().split()))
    if not match or not match.group(1):
        raise ValueError(f"cannot read duration {text!r}: use e.g. '10 days', '12 weeks', "
                         "'6 months' or '1 year' (or duration_days)")
    number = float(_WORDS.get(match.group(1), match.group(1)))
    unit = "m" if match.group(2).startswith("mo") else match.group(2)[0]
    return round(number * _DURATION_UNIT_DAYS[unit])


class Record(BaseModel):
    # No infinite or NaN numbers: YAML writes them (.inf, .nan) and no dose or score is one.
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True,
                              allow_inf_nan=False)


class Diagnosis(Record):
    name: str = "chronic spontaneous urticaria"
    code: str | None = None
    onset: dt.date | None = None
    angioedema: YesNoUnknown = "unknown"


ConditionStatus = _vocabulary("active", "resolved", aliases={
    "recurrence": "active", "relapse": "active", "current": "active",
    "inactive": "resolved", "remission": "resolved", "history": "resolved", "past": "resolved"})


class Condition(Record):
    """A comorbidity (or a state such as pregnancy or lactation) as written, with an optional code,
    onset and end (none: it continues, unless its status says it has ended)."""

    name: str = Field(min_length=1)
    code: str | None = None
    onset: dt.date | None = None
    end: dt.date | None = None
    status: ConditionStatus | None = Field(
        default=None, description="active, or resolved ('history of', FHIR inactive/remission/resolved): "
                                  "a resolved condition with no end date ended on a day not recorded.")
    source: str | None = _source_field()


class Course(Record):
    """One continuous course of one drug at one dose and schedule, as the record gives it."""

    id: str | None = None
    drug: str = Field(min_length=1, description="The drug as written in the record.")
    dose: float | None = Field(default=None, gt=0, le=LARGEST)
    unit: DoseUnit | None = None
    frequency: str | None = None
    dose_multiple: float | None = Field(
        default=None, gt=0, le=LARGEST,
        description="Multiple of the standard dose when the record states it instead of an amount.")
    start: dt.date | None = None
    end: dt.date | None = None
    duration_days: int | None = Field(
        default=None, gt=0,
        description="The course's length as the record states it ('for 6 months') when its dates "
                    "are not known. Dates, when both are given, decide.")
    duration: str | None = Field(
        default=None, description="The course's length as the record writes it ('6 months', "
                                  "'12 weeks'), instead of duration_days.")
    ongoing: bool = False
    stop_reason: StopReason | None = None
    gap_before: str | None = Field(
        default=None, description="Time off this drug before this course, as the record writes it "
                                  "('restarted a year later': '1 year'): a re-treatment, not a continuation.")
    notes: str | None = None
    source: str | None = _source_field()

    @field_validator("frequency", "duration", "gap_before")
    @classmethod
    def _readable(cls, value: str | None, info: ValidationInfo) -> str | None:
        """A schedule or length the record writes must be one ladder can read: an error, never a guess."""
        if value is not None:
            (interval_days if info.field_name == "frequency" else duration_days)(value)
        return value

    @property
    def gap_before_days(self) -> int | None:
        return duration_days(self.gap_before) if self.gap_before else None

    @property
    def length_days(self) -> int | None:
        """The stated length: duration_days, or the written duration in days."""
        if self.duration_days is not None:
            return self.duration_days
        return duration_days(self.duration) if self.duration else None

    @model_validator(mode="after")
    def _consistent(self) -> "Course":
        if self.duration is not None and self.duration_days is not None:
            raise ValueError("give duration or duration_days, not both")
        if self.dose is not None and self.unit is None:
            raise ValueError("a dose needs its unit (mg, mg/kg/day or mg/kg)")
        if self.ongoing and self.end is not None:
            raise ValueError("a course cannot be ongoing and have an end date")
        if (self.length_days or 0) > _CALENDAR_DAYS:
            raise ValueError(f"a course of {self.length_days} days is longer than the calendar")
        return self


class Assessment(Record):
    """A dated disease-activity score, or a clinician's documented judgement of response."""

    date: dt.date | None = None
    instrument: Instrument
    score: int | None = None
    judgement: Judgement | None = None
    course: int | str | None = Field(
        default=None, description="The course this assessment judges, when the record ties it to one "
                                  "(its position from 1, or its id): 'after the third dose of course 2'.")
    notes: str | None = None
    source: str | None = _source_field()

    @model_validator(mode="after")
    def _score_fits_instrument(self) -> "Assessment":
        if self.instrument == "clinician":
            if self.judgement is None:
                raise ValueError("a clinician assessment needs a judgement "
                                 "(responded, partial or no_response)")
            if self.score is not None:
                raise ValueError("a clinician assessment has a judgement, not a score")
            return self
        if self.score is None:
            raise ValueError(f"a {self.instrument} assessment needs a score")
        low, high = SCORE_RANGES[self.instrument]
        if not low <= self.score <= high:
            raise ValueError(f"{self.instrument} score {self.score} is outside {low}-{high}")
        return self


ReactionKind = _vocabulary("anaphylaxis", "hypersensitivity", "serum_sickness", "infection", "other",
                           aliases={"serum sickness-like reaction": "serum_sickness"})


class AdverseEvent(Record):
    date: dt.date | None = None
    drug: str | None = None
    description: str = Field(min_length=1)
    kind: ReactionKind | None = Field(
        default=None, description="What the reaction was, when the record says; else read from the "
                                  "description's words (anaphylaxis, serum sickness), or unknown.")
    source: str | None = _source_field()


class Screening(Record):
    kind: ScreeningKind
    date: dt.date | None = None
    result: ScreeningResult = "unknown"
    notes: str | None = None
    source: str | None = _source_field()


class DeviationException(Record):
    """A deviation the record says was deliberate: the finding is kept, marked accepted with the
    reason, and does not count toward --fail-on."""

    code: str = Field(min_length=1, description="The check's code, e.g. LAD006.")
    reason: str = Field(min_length=1, description="Why: 'omalizumab not available under the patient's insurance'.")
    date: dt.date | None = None


class Anchor(Record):
    """Published cases give relative times; a case anchors them to a chosen date and says how."""

    date: dt.date
    meaning: str = Field(min_length=1)


class History(Record):
    """One patient's CSU treatment history."""

    id: str = Field(min_length=1)
    sex: Sex = "unknown"
    age: int | None = Field(default=None, ge=0, le=120, description="Age at the last record.")
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    anchor: Anchor | None = None
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    comorbidities: list[Condition] = Field(default_factory=list)
    courses: list[Course] = Field(default_factory=list)
    assessments: list[Assessment] = Field(default_factory=list)
    adverse_events: list[AdverseEvent] = Field(default_factory=list)
    screenings: list[Screening] = Field(default_factory=list)
    exceptions: list[DeviationException] = Field(default_factory=list)
    source: str | None = Field(default=None, description="Where the history comes from.")
    observed_until: dt.date | None = Field(
        default=None, description="The last day the record covers (e.g. a case report's last follow-up): "
                                  "an ongoing course runs to it, and nothing is known after it.")
    complete: bool | None = Field(
        default=None, description="false for a truncated source (a case report cut off mid-story): a "
                                  "later phase missing from it is unknown, not absent.")
    unmapped: list[str] = Field(
        default_factory=list, description="What a reader could not map from the source record, per record "
                                "(e.g. a FHIR resource with an unknown code); reported, never dropped.")
    notes: str | None = None

    @field_validator("courses")
    @classmethod
    def _course_ids_unique(cls, courses: list[Course]) -> list[Course]:
        """A record's course ids name its courses; two courses with one id make it ambiguous."""
        first: dict[str, int] = {}
        for number, course in enumerate(courses):
            if course.id is not None and first.setdefault(course.id, number) != number:
                raise ValueError(f"courses {first[course.id]} and {number} share the id "
                                 f"{course.id!r}; a course id names one course")
        return courses

    @model_validator(mode="after")
    def _assessed_courses_exist(self) -> "History":
        for number, assessment in enumerate(self.assessments):
            if assessment.course is not None and self.course_index(assessment.course) is None:
                raise ValueError(f"assessments.{number}.course: no course {assessment.course!r} "
                                 f"(give a position from 1 to {len(self.courses)} or a course's id)")
        return self

    def ref(self, field: str, number: int) -> str:
        """Where item `number` (from 0) of a list field came from: the item's own source, else its
        place in the history as a JSON Pointer fragment (#/courses/2), read against the file."""
        item = getattr(self, field)[number]
        return getattr(item, "source", None) or f"#/{field}/{number}"

    def course_index(self, reference: int | str) -> int | None:
        """The position (from 0) of the course an assessment names by position from 1 or by id."""
        if isinstance(reference, int) or (isinstance(reference, str) and reference.isdigit()
                                          and not any(c.id == reference for c in self.courses)):
            position = int(reference) - 1
            return position if 0 <= position < len(self.courses) else None
        return next((n for n, c in enumerate(self.courses) if c.id == reference), None)

    @field_validator("comorbidities", mode="before")
    @classmethod
    def _conditions_from_names(cls, value: object) -> object:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value
