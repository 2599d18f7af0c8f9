"""History -> facts: the temporal abstraction before the engine (see derivation).

The rule pack supplies every clinical parameter (steps, trial windows, control bands, the refractory
definition); this package only knows concepts: course, step, trial, escalation, control, screening.
"""

from ..fact_kinds import FACT_FIELDS
from .derivation import PatientFacts, derive

__all__ = ["PatientFacts", "derive", "FACT_FIELDS"]
