"""`ladder explain`: one patient's timeline, verdict phase by phase and findings, as text, as an
HTML page, or as the timeline picture alone (PNG/SVG, for pasting into a note)."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import click
import orjson

from .audit import audit_history, load_history
from .cli_options import AS_OF, IGNORE, MIN_SEVERITY, RULES_HELP, SELECT, _load, _selection, needs_report_extra
from .errors import InputError, LadderError
from .facts import derive
from .readers import Failed, read_paths
from .report import explain as explain_report


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--rules", "rules", default=None, help=RULES_HELP)
@click.option("--patient", "patient", default=None, help="Only this patient (by id) of a cohort file or folder.")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "png", "svg"]), default="text", show_default=True,
              help="text; html (one self-contained page with the timeline picture); png or svg (the timeline alone).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of standard output (needed for png: it is not text).")
@AS_OF
@SELECT
@IGNORE
@MIN_SEVERITY
def explain(path: Path, rules: str | None, patient: str | None, fmt: str, output: Path | None,
            as_of: dt.datetime | None, select: tuple[str, ...], ignore: tuple[str, ...],
            min_severity: str | None) -> None:
    """Show one patient's timeline, the refractory verdict phase by phase, and why each finding fired.
    PATH may be `-` to read one history (YAML or JSON) or JSON Lines from standard input."""
    book = _load(rules)
    chosen = _selection(book, select, ignore, min_severity)
    day = as_of.date() if as_of else dt.date.today()
    if fmt != "text":
        needs_report_extra()
        if fmt == "png" and output is None and sys.stdout.isatty():
            raise click.UsageError("a PNG is not text: give -o FILE (or redirect standard output)")
    failed, found = False, False
    pieces: list[str | bytes] = []
    with _stdin_file(path) as readable:
        for record in read_paths([readable]):
            try:
                if isinstance(record, Failed):
                    if patient is not None and record.patient not in (None, patient):
                        continue
                    raise InputError(record.message, source=record.source)
                history = load_history(record)
                if patient is not None and history.id != patient:
                    continue
                found = True
                source = record.source.replace(str(readable), "<stdin>") if str(path) == "-" else record.source
                result = audit_history(history, book, source, day)
                result = result.model_copy(update={"findings": [
                    f for f in result.findings if chosen.keeps(f.code) and chosen.shows({"severity": f.severity})]})
            except LadderError as error:
                click.echo(f"ERROR {error}", err=True)
                failed = True
                continue
            try:
                pieces.append(_rendered(fmt, history, book, day, result))
            except Exception as error:  # noqa: BLE001  never a traceback: say what failed, for whom
                click.echo(f"ERROR {record.source} (patient {history.id}): ladder could not draw this "
                           f"{fmt} ({type(error).__name__}: {error}); please report it", err=True)
                failed = True
                continue
            if fmt != "text":
                break  # a page or a picture is one patient's: the first (name another with --patient)
    if patient is not None and not found and not failed:
        raise click.UsageError(f"no patient {patient!r} in {path}")
    if pieces or output is None:
        _write(pieces, output)  # an -o file is written only with something in it
    sys.exit(2 if failed else 0)


def _rendered(fmt: str, history: Any, book: Any, day: dt.date, result: Any) -> str | bytes:
    derived = derive(history, book, as_of=day)
    if fmt == "text":
        return explain_report.render(history, derived, result) + "\n"
    from .report.timeline import model
    item = result.model_dump(mode="json")
    item["timeline"] = model(history, derived, item, book)
    if fmt == "html":
        from .report.html import explain_html
        from .version import __version__
        return explain_html(item, {"ladder": __version__, "as_of": day.isoformat(),
                                   "rules": {"id": book.pack.id, "version": book.pack.version, "sha256": book.sha256}})
    from .report.static_timeline import picture
    return picture(item["timeline"], fmt)


def _write(pieces: list[str | bytes], output: Path | None) -> None:
    data = b"".join(p.encode() if isinstance(p, str) else p for p in pieces)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        output.write_bytes(data)



@contextlib.contextmanager
def _stdin_file(path: Path) -> Iterator[Path]:
    """`-`: standard input in a temporary file the readers know (JSON Lines when every line is a
    JSON object and there are several, else one YAML/JSON history)."""
    if str(path) != "-":
        yield path
        return
    data = sys.stdin.buffer.read()
    lines = [line for line in data.splitlines() if line.strip()]
    try:
        jsonl = len(lines) > 1 and all(isinstance(orjson.loads(line), dict) for line in lines)
    except orjson.JSONDecodeError:
        jsonl = False
    with tempfile.TemporaryDirectory(prefix="ladder-stdin-") as folder:
        target = Path(folder) / ("stdin.jsonl" if jsonl else "stdin.yaml")
        target.write_bytes(data)
        yield target


