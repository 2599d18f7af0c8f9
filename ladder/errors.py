"""One error hierarchy. Every error says where (file, patient, record, field) and what went wrong."""

from __future__ import annotations


class LadderError(Exception):
    """Base of every error ladder raises on purpose."""

    def __init__(self, message: str, *, source: str | None = None, patient: str | None = None,
                 location: str | None = None) -> None:
        self.message = message
        self.source = source
        self.patient = patient
        self.location = location
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [part for part in (self.source, self.patient and f"patient {self.patient}",
                                   self.location) if part]
        return f"{': '.join(where)}: {self.message}" if where else self.message


class InputError(LadderError):
    """A history that cannot be read or does not fit the model."""


class RulePackError(LadderError):
    """A rule pack that cannot be read or does not fit the schema."""


class EngineError(LadderError):
    """The rules engine failed for one patient."""


def pydantic_messages(error: object) -> list[str]:
    """Turn a pydantic ValidationError into 'field.path: message' lines (no input echo)."""
    lines = []
    for item in error.errors(include_url=False, include_input=False):  # type: ignore[attr-defined]
        loc = ".".join(str(part) for part in item["loc"]) or "(top level)"
        lines.append(f"{loc}: {item['msg']}")
    return lines
