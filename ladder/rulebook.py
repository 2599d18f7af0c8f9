"""Rule packs: the schema, loading (from a path, a name or a string), validation and content hash."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, ConfigDict, Field, field_validator,
                      model_validator)

from . import conditions
from .fact_kinds import COURSE_FIELDS, FACT_FIELDS, KEY_FIELDS, NUMERIC_FIELDS, SINGLE_KINDS
from .model import History

Severity = Literal["info", "warning", "critical"]
ControlStatus = Literal["complete", "well_controlled", "uncontrolled"]
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}
DEFAULT_PACK = "csu-international"
_CODE = re.compile(r"^[A-Z]{2,4}\d{3}$")
_NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_TEMPLATE_FIELD = re.compile(r"\{(\w+)\.(\w+)\}")
_PATTERN_KEY = re.compile(r"^(\w+)(?: as (\w+))?$")


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(Spec):
    source: str = Field(min_length=1, description="Reference keys or a full reference.")
    clause: str = Field(min_length=1, description="What the source says that the rule rests on.")
    confirmed: bool = Field(description="False when the primary text was not seen (UNCONFIRMED).")


class Suggestion(Spec):
    """What a decision-support card offers for a finding (CDS Hooks suggestions). Text may name
    matched facts' fields, as a message does: "Order {screen.label} screening"."""

    label: str = Field(min_length=1, max_length=200, description="What the clinician may do, in words.")
    order: str | None = Field(default=None, max_length=200, description=(
        "A ServiceRequest to draft (its code's text, e.g. 'Tuberculosis screening'): the card's action "
        "creates it as a draft order, authored on the audit date."))


class Band(Spec):
    min: int
    max: int
    status: ControlStatus
    label: str


class InstrumentControl(Spec):
    bands: list[Band] = Field(min_length=1)
    citation: Citation


class ControlSpec(Spec):
    instruments: dict[Literal["UAS7", "UCT"], InstrumentControl]
    clinician: dict[Literal["responded", "partial", "no_response"], ControlStatus]
    citation: Citation


class ConditionCategory(Spec):
    names: list[str] = Field(min_length=1)
    codes: list[str] = []


class TrialSpec(Spec):
    """An adequate trial at a step: at least `min_days` at no less than the step's dose. The dose is
    judged per course (time at a lower dose does not count): `min_dose_mg` for every drug of the
    step, `min_dose_mg_by_drug` for some of them (a step of alternatives), `min_mg_per_kg_day` for
    weight-based dosing (an amount in mg with no weight cannot be judged: unknown)."""

    min_days: int = Field(gt=0, le=3650)
    min_dose_mg: float | None = Field(default=None, gt=0, le=1e6)
    min_dose_mg_by_drug: dict[str, Annotated[float, Field(gt=0, le=1e6)]] = {}
    min_mg_per_kg_day: float | None = Field(default=None, gt=0, le=1000)
    citation: Citation


def _course_condition(value: dict[str, Any]) -> dict[str, Any]:
    conditions.validate(value, COURSE_FIELDS, numeric=NUMERIC_FIELDS)
    return value


CourseCondition = Annotated[dict[str, Any], AfterValidator(_course_condition)]


class NextOptions(Spec):
    """What the guideline offers after a step, for a patient not controlled on it."""

    offers: str = Field(min_length=1, description="The options, as a clinician would say them.")
    citation: Citation


class Step(Spec):
    code: str = Field(pattern=r"^[A-Z0-9+]{2,6}$")
    label: str
    match: CourseCondition
    trial: TrialSpec | None = None
    citation: Citation
    next: NextOptions | None = None


class Phase(Spec):
    label: str
    course: CourseCondition
    min_days: int = Field(gt=0, le=3650)
    after_previous: bool = False
    implied_by_next: bool = Field(
        default=False, description="A record of the next phase implies this one happened before it.")
    implied_by: CourseCondition | None = Field(
        default=None, description="A course matching this (a later step) implies the phase happened "
                                  "before it: with no course of its own the phase is unknown, not failed.")


class RefractorySpec(Spec):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    definition: str
    reasoning: str
    citation: Citation
    phases: list[Phase] = Field(min_length=1)
    label: str | None = Field(default=None, description="A short name for reports (default: the id).")


class Examples(Spec):
    fires: dict[str, Any]
    passes: dict[str, Any]

    @field_validator("fires", "passes")
    @classmethod
    def _is_history(cls, value: dict[str, Any]) -> dict[str, Any]:
        History.model_validate({"id": "example", **value})
        return value


class Check(Spec):
    code: str
    name: str
    severity: Severity
    summary: str
    rationale: str
    citation: Citation
    when: list[dict[str, dict[str, Any]]] = Field(min_length=1)
    message: str
    examples: Examples
    suggest: list[Suggestion] = Field(default_factory=list, max_length=4, description=(
        "Suggestions a decision-support card offers with the finding (labels and draft orders)."))
    cites_trial_step: bool = Field(
        default=False, description="A finding about a trial's length or dose cites that step's trial "
                                   "clause (ciclosporin's for a ciclosporin trial), not this check's.")

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.match(value):
            raise ValueError("a code is 2-4 capital letters and 3 digits, e.g. AH001")
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("a name is kebab-case, e.g. antihistamine-above-4x")
        return value

    @model_validator(mode="after")
    def _patterns(self) -> "Check":
        aliases: dict[str, str] = {}
        for position, pattern in enumerate(self.when):
            if len(pattern) != 1:
                raise ValueError(f"when[{position}]: one fact per item, as `course: {{...}}`")
            key, condition = next(iter(pattern.items()))
            kind, alias = _parse_pattern_key(key, position)
            if alias in aliases:
                raise ValueError(f"when[{position}]: alias {alias!r} used twice; write `{kind} as other`")
            try:
                conditions.validate(condition, FACT_FIELDS[kind], aliases, numeric=NUMERIC_FIELDS)
            except conditions.ConditionError as error:
                raise ValueError(f"when[{position}].{key}: {error}") from None
            aliases[alias] = kind
        self._bounded_join()
        texts = [("message", self.message)] + [
            (f"suggest[{n}].{key}", text) for n, s in enumerate(self.suggest)
            for key, text in (("label", s.label), ("order", s.order)) if text]
        for where, text in texts:
            for alias, field in _TEMPLATE_FIELD.findall(text):
                if alias not in aliases or field not in FACT_FIELDS[aliases[alias]]:
                    raise ValueError(f"{where}: {{{alias}.{field}}} names no field of a matched fact")
        return self

    def _bounded_join(self) -> None:
        """A check joins at most MAX_PATTERNS facts, and at most MAX_OPEN of a kind a patient has
        many of without naming which (a check joining 6 courses took 17.6 GB for one 12-course
        patient: the engine holds every combination)."""
        if len(self.when) > MAX_PATTERNS:
            raise ValueError(f"when: a check matches at most {MAX_PATTERNS} facts")
        open_ = [kind for _, kind, condition in self.patterns if kind not in SINGLE_KINDS
                 and not _pinned(condition, KEY_FIELDS.get(kind))]
        if len(open_) > MAX_OPEN:
            raise ValueError(f"when: at most {MAX_OPEN} patterns may match any of a patient's many "
                             f"facts ({', '.join(open_)}); pin the others to one (e.g. drug_class: {{class: x}})")

    @property
    def patterns(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(alias, fact kind, condition) for each matched fact, in order."""
        out = []
        for position, pattern in enumerate(self.when):
            key, condition = next(iter(pattern.items()))
            kind, alias = _parse_pattern_key(key, position)
            out.append((alias, kind, condition))
        return out


MAX_PATTERNS = 6
MAX_OPEN = 2


def _pinned(condition: dict[str, Any], key: str | None) -> bool:
    """The condition names one fact of its kind: an equality test on the kind's key field."""
    return key is not None and isinstance(condition.get(key), (str, int)) and not isinstance(condition.get(key), bool)


def _parse_pattern_key(key: str, position: int) -> tuple[str, str]:
    match = _PATTERN_KEY.match(key)
    if not match or match.group(1) not in FACT_FIELDS:
        raise ValueError(f"when[{position}]: {key!r} is not a fact kind "
                         f"({', '.join(FACT_FIELDS)}), optionally `kind as alias`")
    return match.group(1), match.group(2) or match.group(1)


ScreeningKindName = Literal["tb", "hepatitis_b", "hepatitis_c", "hepatitis", "hiv"]


class ScreeningGroup(Spec):
    """Screenings of these kinds, judged before each new course of the `before` drug classes: a
    result dated on or before the start (within `window_days` when set) satisfies it."""

    kinds: list[ScreeningKindName] = Field(min_length=1)
    label: str | None = Field(default=None, description="The group as a clinician names it.")
    before: list[str] = Field(default=[], description="Drug classes whose start needs this screening.")
    window_days: int | None = Field(default=None, gt=0, le=3650,
                                    description="How long before the start a result still counts.")
    citation: Citation | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        return {"kinds": value} if isinstance(value, list) else value  # the older form: kinds only

    @model_validator(mode="after")
    def _cited_window(self) -> "ScreeningGroup":
        if self.window_days is not None and self.citation is None:
            raise ValueError("a screening window is a threshold: cite it (citation)")
        return self


class PackInfo(Spec):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    version: str
    title: str
    description: str = ""


class Rulebook(Spec):
    """A validated rule pack."""

    pack: PackInfo
    sources: dict[str, str]
    control: ControlSpec
    conditions: dict[str, ConditionCategory] = {}
    standard_doses: dict[str, Annotated[float, Field(gt=0, le=1e6)]] = Field(
        default={}, description="Regional standard daily doses in mg (generic -> mg/day), over the "
                                "catalog's: the multiple of a course is read against them.")
    screenings: dict[str, ScreeningGroup] = {}
    steps: list[Step] = Field(min_length=1)
    refractory: RefractorySpec
    definitions: list[RefractorySpec] = Field(
        default=[], description="Further definitions judged beside `refractory` (each three-valued, with "
                                "its own checks on `definition` facts).")
    checks: list[Check] = Field(min_length=1)
    retired_codes: list[str] = []
    sha256: str = ""  # of the pack's text, or of every text of its extends chain
    origin: str = ""
    provenance: dict[str, str] = {}  # "check CODE" / "step CODE" -> the file that gave it

    @model_validator(mode="after")
    def _unique(self) -> "Rulebook":
        for label, values in (("definition id", [d.id for d in (self.refractory, *self.definitions)]),
                              ("step code", [s.code for s in self.steps]),
                              ("check code", [c.code for c in self.checks]),
                              ("check name", [c.name for c in self.checks])):
            seen = {v for v in values if values.count(v) > 1}
            if seen:
                raise ValueError(f"duplicate {label}: {', '.join(sorted(seen))}")
        reused = ({c.code for c in self.checks} | {s.code for s in self.steps}) & set(self.retired_codes)
        if reused:
            raise ValueError(f"retired codes are never reused: {', '.join(sorted(reused))}")
        return self

    def __hash__(self) -> int:  # packs are immutable; caches of compiled rules key on content
        return hash((self.pack.id, self.sha256))

    def check(self, code: str) -> Check:
        for check in self.checks:
            if check.code == code.upper():
                return check
        raise KeyError(code)

    @property
    def step_ranks(self) -> dict[str, int]:
        return {step.code: rank for rank, step in enumerate(self.steps, start=1)}
