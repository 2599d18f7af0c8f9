"""The command line: parse options, call the library, render, choose the exit code. No logic here."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import yaml

from . import __version__
from .audit import audit_record, audit_records, report
from .errors import LadderError
from .facts import derive
from .findings import AuditError
from .model import History
from .readers import read_paths
from .report import RENDERERS
from .report import explain as explain_report
from .rulebook import SEVERITY_RANK, Rulebook, load_rules
from .selftest import example_failures

FAIL_ON = ["info", "warning", "critical", "never"]
RULES_HELP = "Rule pack: a path or a packaged pack's name (default: csu-international)."


def _load(rules: str | None) -> Rulebook:
    try:
        return load_rules(rules)
    except LadderError as error:
        raise click.UsageError(str(error)) from None


@click.group()
@click.version_option(__version__, prog_name="ladder")
def main() -> None:
    """Audit treatment histories against a treatment-ladder rule pack (decision support, not a diagnosis)."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rules", "rules", default=None, help=RULES_HELP)
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True)
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="critical", show_default=True,
              help="Exit 1 when a finding at or above this severity remains.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (unreadable input still exits 2).")
def audit(paths: tuple[Path, ...], rules: str | None, fmt: str, fail_on: str, exit_zero: bool) -> None:
    """Audit case files or folders of them: a report per patient and a summary."""
    book = _load(rules)
    result = report(audit_records(read_paths(paths), book), book)
    click.echo(RENDERERS[fmt](result), nl=False)
    if result.errors:
        sys.exit(2)
    threshold = SEVERITY_RANK.get(fail_on, len(SEVERITY_RANK))
    worst = max((SEVERITY_RANK[f.severity] for p in result.patients for f in p.findings), default=-1)
    sys.exit(0 if exit_zero or worst < threshold else 1)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--rules", "rules", default=None, help=RULES_HELP)
def explain(path: Path, rules: str | None) -> None:
    """Show one patient's timeline, the refractory verdict phase by phase, and why each finding fired."""
    book = _load(rules)
    failed = False
    for record in read_paths([path]):
        result = audit_record(record, book)
        if isinstance(result, AuditError):
            click.echo(f"ERROR {result.source}: {result.message}", err=True)
            failed = True
            continue
        history = History.model_validate(record.data)  # type: ignore[union-attr]
        click.echo(explain_report.render(history, derive(history, book), result))
    sys.exit(2 if failed else 0)


@main.group()
def rules() -> None:
    """List, show and validate rule packs."""


@rules.command("list")
@click.option("--rules", "pack", default=None, help=RULES_HELP)
def rules_list(pack: str | None) -> None:
    """Every check: code, name, severity, source."""
    book = _load(pack)
    click.echo(f"{book.pack.id} {book.pack.version}  sha256 {book.sha256[:16]}")
    for check in book.checks:
        mark = "" if check.citation.confirmed else " (UNCONFIRMED)"
        click.echo(f"{check.code:<7} {check.name:<44} {check.severity:<8} {check.citation.source}{mark}")


@rules.command("show")
@click.argument("code")
@click.option("--rules", "pack", default=None, help=RULES_HELP)
def rules_show(code: str, pack: str | None) -> None:
    """One check's documentation: what, why, source, condition, examples."""
    book = _load(pack)
    try:
        check = book.check(code)
    except KeyError:
        raise click.UsageError(f"no check {code!r} in {book.pack.id}; see `ladder rules list`") from None
    status = "confirmed" if check.citation.confirmed else "UNCONFIRMED: the primary text was not seen"
    sources = [f"    {key}: {book.sources[key]}" for key in book.sources
               if key in check.citation.source.replace(",", " ").split()]
    dump = lambda data: "    " + yaml.safe_dump(data, sort_keys=False, default_flow_style=None).strip().replace("\n", "\n    ")  # noqa: E731
    click.echo("\n".join([
        f"{check.code} {check.name} ({check.severity})", "", check.summary, "",
        "Why it matters:", f"    {check.rationale.strip()}", "",
        f"Source ({status}):", f"    {check.citation.clause}", *sources, "",
        "Fires when:", dump(check.when), "",
        "Message:", f"    {check.message}", "",
        "Example that fires:", dump(check.examples.fires), "",
        "Example that does not fire:", dump(check.examples.passes)]))


@rules.command("validate")
@click.argument("packs", nargs=-1, required=True)
def rules_validate(packs: tuple[str, ...]) -> None:
    """Check rule packs against the schema, and run each check's own examples."""
    bad = False
    for pack in packs:
        try:
            book = load_rules(pack)
        except LadderError as error:
            click.echo(f"invalid: {error}")
            bad = True
            continue
        failures = example_failures(book)
        for failure in failures:
            click.echo(f"invalid: {book.origin}: {failure}")
        bad |= bool(failures)
        if not failures:
            click.echo(f"ok: {book.origin} ({book.pack.id} {book.pack.version}, "
                       f"{len(book.checks)} checks, sha256 {book.sha256[:16]})")
    sys.exit(1 if bad else 0)
