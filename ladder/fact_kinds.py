"""The kinds of fact the engine sees and their fields: the vocabulary rule packs are checked against.

Every fact is flat JSON with an `id` and a `type`. `ref` says where in the source record the fact's
item came from (a FHIR reference, a CSV file and row, or #/courses/2 in the case file): data to show
and link, never an identifier. Days are integer day numbers (ISO dates compare
as text in durable_rules); a field whose value is unknown is absent, so no test on it can pass.
"""

FACT_FIELDS: dict[str, tuple[str, ...]] = {
    "patient": ("id", "age", "sex", "step", "step_label", "step_rank", "angioedema", "courses",
                "assessments"),
    "course": ("id", "drug", "written", "class", "atc", "recognised", "step", "step_label",
               "step_rank", "step_certain", "dose", "unit", "daily_mg", "mg_per_kg_day", "multiple",
               "interval_days", "schedule", "start", "end", "start_day", "end_day", "days",
               "ongoing", "stop_reason", "continues", "source_id", "gap_before_days", "ref",
               "alternative", "alternative_of", "reading_of"),
    "trial": ("id", "course", "courses", "drug", "step", "step_label", "verdict", "days", "min_days", "dose",
              "min_dose_mg", "missing", "start", "end", "stop_reason", "dose_text", "min_dose_text", "ref"),
    "escalation": ("id", "from_course", "from_drug", "from_step", "from_verdict", "from_days",
                   "min_days", "to_course", "to_drug", "to_step", "to_start", "gap_days", "from_ref", "ref"),
    "step": ("id", "code", "label", "rank", "reached", "first_start", "first_start_day"),
    "condition": ("id", "category", "name", "onset", "end", "onset_day", "end_day", "ref", "status"),
    "screening": ("id", "group", "documented", "kinds", "date", "result", "first_day", "undated", "ref"),
    # A screening group judged for one new course of a drug class that needs it (pack: screenings).
    "screen": ("id", "group", "label", "course", "drug", "start", "status", "date", "result", "kind",
               "days_before", "window_days", "ref"),
    "drug_class": ("id", "class", "label", "courses", "repeated", "longest_days", "use"),
    "control": ("id", "status", "label", "instrument", "score", "judgement", "date", "strength", "course",
                "current_drug", "current_start", "ref"),
    "refractory": ("id", "status", "definition", "missing", "reason"),
    # A further definition of the pack (`definitions`), judged as the refractory one is.
    "definition": ("id", "definition", "label", "status", "missing", "reason"),
    # What the pack's guideline offers after the step reached, for a patient not controlled on it:
    # escalate (the step was tried adequately, or how is unknown) or continue (its trial is still
    # short of the minimum).
    "next": ("id", "step", "step_label", "action", "offers", "control_label", "control_date",
             "trial_verdict", "trial_days", "min_days", "source", "clause"),
    # An adverse event on record: the drug as the catalog names it, what kind of reaction, when.
    "reaction": ("id", "drug", "written", "kind", "date", "day", "description", "ref"),
    "dq": ("id", "issue", "course", "drug", "field", "detail", "ref"),
}

# Facts of a course's own fields a step or refractory phase may test (before the engine runs).
COURSE_FIELDS = FACT_FIELDS["course"]

# Fields holding numbers (every other field holds text): a pack's test must compare like with like
# (a string compared with a number raised TypeError inside the compiled conditions).
NUMERIC_FIELDS = frozenset({
    "age", "step_rank", "courses", "assessments", "dose", "daily_mg", "mg_per_kg_day", "multiple",
    "interval_days", "start_day", "end_day", "days", "gap_before_days", "min_days", "min_dose_mg",
    "from_days", "gap_days", "rank", "first_day", "longest_days", "score", "days_before", "window_days",
    "day", "onset_day", "first_start_day", "trial_days"})

# Kinds with one fact per patient, and the field that names one fact of a kind that has several:
# a pattern on these cannot multiply the matches of a check.
SINGLE_KINDS = frozenset({"patient", "control", "refractory", "next"})
KEY_FIELDS = {"drug_class": "class", "step": "code", "screening": "group", "definition": "definition"}
