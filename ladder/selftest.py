"""Run every check's own examples: `fires` must trigger it, `passes` must not."""

from __future__ import annotations

from .audit import audit_history
from .errors import LadderError
from .model import History
from .rulebook import Rulebook


def example_failures(book: Rulebook) -> list[str]:
    failures = []
    for check in book.checks:
        for kind, data, expected in (("fires", check.examples.fires, True),
                                     ("passes", check.examples.passes, False)):
            history = History.model_validate({"id": f"{check.code}-{kind}", **data})
            try:
                fired = check.code in {f.code for f in audit_history(history, book).findings}
            except LadderError as error:
                failures.append(f"checks ({check.code}).examples.{kind}: {error}")
                continue
            if fired != expected:
                verb = "does not fire on" if expected else "fires on"
                failures.append(f"checks ({check.code}).examples.{kind}: the check {verb} its example")
    return failures
