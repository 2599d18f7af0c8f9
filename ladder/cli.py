"""The command line: parse options, call the library, render, choose the exit code. No logic here."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sys
from pathlib import Path

from typing import Any

import click
import orjson
import yaml

from .version import __version__
from .engine import keep_freed_memory
from .errors import LadderError
from .readers import read_paths
from .progress import count_records, progress_wanted, with_progress
from .report import SINKS
from .summary import Tally, items_from_jsonl
from .synthetic import cohort
from .workers import audit_rendered
from .pack_loader import load_rules
from .rulebook import SEVERITY_RANK
from . import compare, config, duplicates
from .selftest import example_failures
from .cli_options import AS_OF, IGNORE, MIN_SEVERITY, RULES_HELP, SELECT, _load, _selection, needs_report_extra

FAIL_ON = ["info", "warning", "critical", "never"]
FEEDBACK_DB = "ladder-feedback.sqlite3"  # `ladder serve` writes it, `ladder feedback summary` reads it




@click.group()
@click.version_option(__version__, prog_name="ladder")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Audit treatment histories against a treatment-ladder rule pack (decision support, not a diagnosis).

    Settings may also come from [tool.ladder] in a pyproject.toml or from a ladder.toml, found from
    the working folder upward (`ladder config` shows them); the command line wins."""
    try:
        found = config.find(Path.cwd())
    except LadderError as error:
        raise click.UsageError(str(error)) from None
    if found:
        ctx.default_map = config.default_map(found[1], found[0].parent)
        ctx.meta["ladder.config"] = found


@main.command("config")
@click.pass_context
def show_config(ctx: click.Context) -> None:
    """The settings audit and explain use, and where each comes from."""
    path, settings = ctx.meta.get("ladder.config", (None, {}))
    click.echo(f"settings file: {path or 'none (defaults)'}")
    for key, commands in config.SETTINGS.items():
        where = str(path) if key in settings else "default"
        value = settings.get(key, {"rules": "csu-international", "fail-on": "critical", "jobs": 1,
                                   "as-of": "today"}.get(key, "-"))
        click.echo(f"  {key:<13} {value!s:<30} ({where}; {', '.join(commands)})")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--rules", "rules", default=None, help=RULES_HELP)
@click.option("--format", "fmt", type=click.Choice(sorted(SINKS)), default="text", show_default=True,
              help="text for people; json (one document), jsonl (a patient per line) or csv (a finding per row) for tools.")
@click.option("--jobs", type=click.IntRange(min=0), default=1, show_default=True,
              help="Worker processes running the engine (0: in this process, no crash isolation).")
@click.option("--fail-on", type=click.Choice(FAIL_ON), default="critical", show_default=True,
              help="Exit 1 when a finding at or above this severity remains.")
@click.option("--exit-zero", is_flag=True,
              help="Exit 0 even when findings remain. Exit 2 stays: a usage error, or any record that "
                   "yielded an error record (unreadable, invalid, or not auditable).")
@click.option("--progress/--no-progress", default=None,
              help="A progress bar on stderr (default: when stderr is a terminal and the report goes to a "
                   "file or pipe; it is cleared before the summary).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the report here instead of standard output.")
@click.option("--min-cell", type=click.IntRange(min=0), default=0, show_default=True,
              help="html: show cohort counts from 1 to N-1 as <N and leave the patients' own pages out "
                   "(a report that can leave the institution).")
@AS_OF
@SELECT
@IGNORE
@MIN_SEVERITY
def audit(paths: tuple[Path, ...], rules: str | None, fmt: str, jobs: int, fail_on: str,
          exit_zero: bool, progress: bool | None, output: Path | None, min_cell: int,
          as_of: dt.datetime | None, select: tuple[str, ...], ignore: tuple[str, ...],
          min_severity: str | None) -> None:
    """Audit case files, JSON Lines cohorts or CSV export folders: a report per patient and a summary."""
    book = _load(rules)
    chosen = _selection(book, select, ignore, min_severity)
    day = as_of.date() if as_of else dt.date.today()
    if fmt == "html":
        needs_report_extra()
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(output.open("wb")) if output else None
        _audit(paths, book, fmt, jobs, progress, out, min_cell, day, chosen, fail_on, exit_zero)



def _emit(out: Any, piece: str | bytes) -> None:
    """A piece of the report to standard output, or to the -o file."""
    if out is None:
        click.echo(piece, nl=False)
    elif piece:
        out.write(piece.encode("utf-8") if isinstance(piece, str) else piece)


def _audit(paths: tuple[Path, ...], book: Any, fmt: str, jobs: int, progress: bool | None, out: Any,
           min_cell: int, day: dt.date, chosen: Any, fail_on: str, exit_zero: bool) -> None:
    sink, tally = SINKS[fmt](), Tally()
    if hasattr(sink, "min_cell"):
        sink.min_cell = min_cell
    if out is not None and hasattr(sink, "colour"):
        sink.colour = False  # a file gets no terminal colours
    _emit(out, sink.begin(__version__, {"id": book.pack.id, "version": book.pack.version,
                                        "sha256": book.sha256}, day.isoformat()))
    if jobs == 0:
        keep_freed_memory()  # the engine runs in this process, which is ours to tune
    outputs = audit_rendered(read_paths(paths), book, jobs, sink.render, tally, day, chosen)
    show = progress_wanted(progress, out is not None, sys.stdout.isatty(), sys.stderr.isatty())
    for output in (with_progress(outputs, count_records(paths)) if show else outputs):
        _emit(out, sink.write(output))
    groups = duplicates.repeated(tally)
    warnings = duplicates.named(groups, read_paths(paths)) if groups else []
    for warning in warnings:
        click.echo(f"WARNING patient id {warning['patient']!r} appears {len(warning['sources'])} times: "
                   f"{', '.join(warning['sources'])}", err=True)
    if warnings and hasattr(sink, "document"):
        sink.document["warnings"] = [{"duplicate_patient_id": w["patient"], "sources": w["sources"]}
                                     for w in warnings]
    _emit(out, sink.end(tally))
    if tally.errors:
        sys.exit(2)
    sys.exit(0 if exit_zero or tally.worst < SEVERITY_RANK.get(fail_on, len(SEVERITY_RANK)) else 1)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("other", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--min-cell", type=click.IntRange(min=0), default=5, show_default=True,
              help="Show counts from 1 to N-1 as <N (0: show every count).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def summary(path: Path, other: Path | None, min_cell: int, fmt: str) -> None:
    """Cohort counts from a `--format jsonl` audit: per step, per verdict, per check. With a second
    audit of the same cohort (another pack): cross-tabs of how many patients move, per step reached
    and per definition."""
    if other is not None:
        try:
            data = compare.crosstab(path, other, min_cell)
        except (ValueError, KeyError, TypeError) as error:
            raise click.UsageError(f"cannot compare {path} and {other}: {error}") from None
        click.echo(json.dumps(data, indent=2) if fmt == "json" else compare.render(data), nl=fmt == "json")
        return
    tally = Tally()
    try:
        for item in items_from_jsonl(path):
            tally.add(item)
    except (ValueError, KeyError, TypeError) as error:
        raise click.UsageError(f"{path} is not ladder JSON Lines output: {error}") from None
    click.echo(json.dumps(tally.as_dict(min_cell), indent=2) if fmt == "json" else tally.render(min_cell),
               nl=fmt == "json")


@main.command()
@click.argument("size", type=click.IntRange(min=1))
@click.option("--seed", type=int, default=1, show_default=True)
def synth(size: int, seed: int) -> None:
    """Write a seeded synthetic cohort as JSON Lines (for tests and benchmarks; not clinical data)."""
    for history in cohort(size, seed):
        sys.stdout.buffer.write(orjson.dumps(history) + b"\n")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--rules", "rules", default=None, help=RULES_HELP)
@click.option("--public-key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="PEM public key of the CDS client: requests must then carry a JWT it signed.")
@click.option("--jwks", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="JWKS file of the CDS client's keys (selected by the token's kid).")
@click.option("--issuer", "issuers", multiple=True, help="Accepted token issuer (repeatable).")
@click.option("--public-url", help="The service's URL as clients call it: the JWT audience (required with --public-key/--jwks).")
@click.option("--max-body", type=int, default=2_000_000, show_default=True, help="Largest request body, bytes.")
@click.option("--feedback-db", default=FEEDBACK_DB, show_default=True, help="SQLite file for card feedback.")
@click.option("--cors-origin", "cors", multiple=True, help="Browser origin allowed to call (repeatable; "
              "default any: tokens are bearer tokens, never cookies); 'none' for no cross-origin calls.")
@SELECT
@IGNORE
@MIN_SEVERITY
def serve(host: str, port: int, rules: str | None, public_key: Path | None, jwks: Path | None,
          issuers: tuple[str, ...], public_url: str | None, max_body: int, feedback_db: str,
          cors: tuple[str, ...], select: tuple[str, ...], ignore: tuple[str, ...], min_severity: str | None) -> None:
    """Run the CDS Hooks service (patient-view, order-select, order-sign)."""
    import uvicorn

    from .service import create_app
    from .service.auth import TokenVerifier

    verifier = TokenVerifier.from_files(public_key, jwks, list(issuers) or None) if (public_key or jwks) else None
    if verifier is not None and not public_url:
        raise click.UsageError("--public-url is required with --public-key/--jwks: it is the audience "
                               "client tokens must name (never taken from the request's headers)")
    book = _load(rules)
    from .service.feedback import FeedbackError, FeedbackStore
    try:
        store = FeedbackStore(feedback_db)
    except FeedbackError as error:
        raise click.UsageError(f"--feedback-db {error}") from None
    app = create_app(book, verifier, max_body=max_body, public_url=public_url,
                     selection=_selection(book, select, ignore, min_severity), feedback=store,
                     cors_origins=() if cors == ("none",) else (cors or ("*",)))
    uvicorn.run(app, host=host, port=port, log_level="info")


@main.group()
def feedback() -> None:
    """What clinicians did with the service's cards."""


@feedback.command("summary")
@click.option("--db", default=FEEDBACK_DB, show_default=True, help="The service's feedback database.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def feedback_summary(db: str, fmt: str) -> None:
    """Per check: cards issued, accepted, overridden, the override rate and the reasons given."""
    from .service.feedback import FeedbackError, FeedbackStore, summary_text
    if not Path(db).is_file():
        raise click.UsageError(f"no feedback database at {db} (ladder serve --feedback-db writes it)")
    try:
        rows = FeedbackStore(db, read_only=True).summary()
    except FeedbackError as error:
        raise click.UsageError(str(error)) from None
    click.echo(json.dumps(rows, indent=2) if fmt == "json" else summary_text(rows, db), nl=fmt == "json")


@main.group()
def rules() -> None:
    """List, show and validate rule packs."""


@rules.command("packs")
def rules_packs() -> None:
    """The packs that ship with ladder: id, version, title, checks, unconfirmed checks."""
    from .pack_loader import packaged_packs
    for name in packaged_packs():
        book = _load(name)
        unconfirmed = sum(not check.citation.confirmed for check in book.checks)
        click.echo(f"{book.pack.id:<22} {book.pack.version:<12} {len(book.checks):>3} checks "
                   f"({unconfirmed} unconfirmed)  {book.pack.title}")


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
    """One check's documentation (what, why, source, condition, examples), or one step's (its match,
    trial and next options); each says which pack file it came from."""
    book = _load(pack)
    step = next((s for s in book.steps if s.code == code.upper()), None)
    if step is not None:
        dump = yaml.safe_dump(step.model_dump(exclude_none=True), sort_keys=False, default_flow_style=None)
        click.echo(f"step {step.code}: {step.label}\n\nFrom: {book.provenance.get(f'step {step.code}', book.origin)}"
                   f"\n\n{dump}")
        return
    try:
        check = book.check(code)
    except KeyError:
        raise click.UsageError(f"no check or step {code!r} in {book.pack.id}; see `ladder rules list`") from None
    status = "confirmed" if check.citation.confirmed else "UNCONFIRMED: the primary text was not seen"
    sources = [f"    {key}: {book.sources[key]}" for key in book.sources
               if key in check.citation.source.replace(",", " ").split()]
    if "clinical.md" in check.citation.clause:
        sources.append("    clinical.md: the project's reference notes, docs/clinical.md in the ladder repository")
    dump = lambda data: "    " + yaml.safe_dump(data, sort_keys=False, default_flow_style=None).strip().replace("\n", "\n    ")  # noqa: E731
    click.echo("\n".join([
        f"{check.code} {check.name} ({check.severity})", "", check.summary, "",
        f"From: {book.provenance.get(f'check {check.code}', book.origin)}", "",
        "Why it matters:", f"    {check.rationale.strip()}", "",
        f"Source ({status}):", f"    {check.citation.clause}", *sources, "",
        "Fires when:", dump(check.when), "",
        "Message:", f"    {check.message}", "",
        *(["Decision-support cards suggest:", *(f"    {s.label}" + (f" (draft order: {s.order})" if s.order else "")
                                                 for s in check.suggest), ""] if check.suggest else []),
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


if __name__ == "__main__":
    main()


from .cli_explain import explain  # noqa: E402  (a command of its own module, added to the group)

main.add_command(explain)
