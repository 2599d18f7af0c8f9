"""Options and helpers the commands share (ladder.cli and ladder.cli_explain)."""

from __future__ import annotations

import click

from .errors import LadderError
from .pack_loader import load_rules
from .rulebook import Rulebook
from .selection import Selection, selection

RULES_HELP = "Rule pack: a path or a packaged pack's name (default: csu-international)."


def _load(rules: str | None) -> Rulebook:
    try:
        return load_rules(rules)
    except LadderError as error:
        raise click.UsageError(str(error)) from None


def _selection(book: Rulebook, select: tuple[str, ...], ignore: tuple[str, ...],
               min_severity: str | None) -> Selection:
    try:
        return selection(book, tuple(p for s in select for p in s.split(",") if p),
                         tuple(p for s in ignore for p in s.split(",") if p), min_severity)
    except LadderError as error:
        raise click.UsageError(str(error)) from None


SELECT = click.option("--select", multiple=True, metavar="CODES",
                      help="Only these checks: codes or prefixes, comma-separated or repeated (JAK, TRL00).")
IGNORE = click.option("--ignore", multiple=True, metavar="CODES",
                      help="Drop these checks: codes or prefixes (they neither show nor count toward --fail-on).")
MIN_SEVERITY = click.option("--min-severity", type=click.Choice(["info", "warning", "critical"]), default=None,
                            help="Show only findings at or above this severity (--fail-on still counts every selected one).")
AS_OF = click.option(
    "--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
    help="The audit date, YYYY-MM-DD (default: today; printed in the report): an ongoing course runs "
         "to it. Give the report's date to reproduce a run.")


def needs_report_extra() -> None:
    """HTML, PNG and SVG need the report extra (plotly, matplotlib, Jinja2): say so, never a traceback."""
    import importlib.util
    if not all(importlib.util.find_spec(name) for name in ("jinja2", "matplotlib", "plotly")):
        raise click.UsageError("the HTML, PNG and SVG reports need ladder's report extra: "
                               "pip install 'ladder[report]'")
