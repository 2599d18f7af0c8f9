"""What every output format provides: begin, one piece per patient (or error), end.

`render` is pure and runs in the worker process that audited the patient; `write` runs in the
parent, in input order, and returns the text to print (a one-document format keeps it until `end`).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..summary import Tally

Item = dict[str, Any]


class Sink(Protocol):
    @staticmethod
    def render(item: Item) -> Any: ...
    def begin(self, ladder: str, rules: dict[str, str], as_of: str) -> str: ...
    def write(self, rendered: Any) -> str | bytes: ...
    def end(self, tally: Tally) -> str: ...


class StreamSink:
    """A format printed piece by piece as results arrive: no header or footer unless overridden."""

    def begin(self, ladder: str, rules: dict[str, str], as_of: str) -> str:
        return ""

    def write(self, rendered: str | bytes) -> str | bytes:
        return rendered

    def end(self, tally: Tally) -> str:
        return ""
