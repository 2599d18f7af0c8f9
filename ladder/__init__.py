"""ladder: audits treatment histories against a declarative treatment-ladder rule pack.

Decision support, not a diagnosis: every finding names the guideline clause and the record facts
it rests on, and a verdict the record cannot support is reported as indeterminate.
"""

from .version import __version__  # noqa: E402
from .audit import audit  # noqa: E402
from .errors import EngineError, InputError, LadderError, RulePackError  # noqa: E402
from .findings import AuditError, AuditReport, Finding, PatientResult, Refractory  # noqa: E402
from .model import (AdverseEvent, Assessment, Condition, Course, Diagnosis, History,  # noqa: E402
                    Screening)
from .pack_loader import load_rules  # noqa: E402
from .rulebook import Rulebook  # noqa: E402

__all__ = [
    "__version__",
    "audit", "load_rules", "Rulebook",
    "History", "Course", "Assessment", "AdverseEvent", "Screening", "Condition", "Diagnosis",
    "Finding", "PatientResult", "Refractory", "AuditReport", "AuditError",
    "LadderError", "InputError", "RulePackError", "EngineError",
]
