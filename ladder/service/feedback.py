"""Card feedback in SQLite: which check's cards clinicians accept or override, and why.

Stored: the card's uuid, the check it came from (recorded when the card was issued), the service
id, the outcome, the override reason's code and display, how many suggestions were accepted, and
the times. Nothing about the patient: no patient id, no card text, and no free-text user comment
(it may name the patient). `ladder feedback summary` reads the override rate per check: the signal
a rule author needs.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cards (uuid TEXT PRIMARY KEY, service TEXT NOT NULL, code TEXT NOT NULL,
                                  indicator TEXT NOT NULL, issued TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY, uuid TEXT NOT NULL, service TEXT NOT NULL,
                                     outcome TEXT NOT NULL, reason_code TEXT, reason_display TEXT,
                                     accepted_suggestions INTEGER NOT NULL, outcome_time TEXT,
                                     received TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS feedback_uuid ON feedback (uuid);
"""


class FeedbackError(ValueError):
    """A feedback entry that is not CDS Hooks feedback (the service answers 400 with it)."""


class FeedbackStore:
    """One SQLite database, shared by the service's threads (one connection, one lock)."""

    def __init__(self, path: str | Path = ":memory:", read_only: bool = False) -> None:
        """Raises FeedbackError naming the file when it cannot be opened or is not such a database."""
        self.path = str(path)
        self._lock = threading.Lock()
        try:
            if read_only:  # `ladder feedback summary`: reads, never changes or creates the file
                self._db = sqlite3.connect(f"{Path(self.path).resolve().as_uri()}?mode=ro", uri=True,
                                           check_same_thread=False)
                self._db.execute("SELECT count(*) FROM cards JOIN feedback ON 0").fetchall()
                return
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            with self._lock, self._db:
                if self.path != ":memory:":  # a write per call: the log, not a full sync, on each commit
                    self._db.execute("PRAGMA journal_mode=WAL")
                    self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.executescript(_SCHEMA)
        except sqlite3.Error as error:
            raise FeedbackError(f"{self.path}: not a usable ladder feedback database ({error})") from None

    def issued(self, service: str, cards: Iterable[tuple[str, str, str]]) -> None:
        """Remember each card's check: (uuid, code, indicator). No patient data."""
        now = _now()
        with self._lock, self._db:
            self._db.executemany("INSERT OR IGNORE INTO cards VALUES (?, ?, ?, ?, ?)",
                                 [(uid, service, code, indicator, now) for uid, code, indicator in cards])

    def record(self, service: str, entries: list[Any]) -> int:
        """Store feedback entries; raises FeedbackError naming the first that is not valid."""
        rows = [_row(service, number, entry) for number, entry in enumerate(entries)]
        with self._lock, self._db:
            self._db.executemany("INSERT INTO feedback (uuid, service, outcome, reason_code, reason_display, "
                                 "accepted_suggestions, outcome_time, received) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                 rows)
        return len(rows)

    def summary(self) -> list[dict[str, Any]]:
        """Per check: cards issued, feedback received, accepted, overridden, override rate, reasons."""
        with self._lock:
            issued = dict(self._db.execute("SELECT code, count(*) FROM cards GROUP BY code"))
            outcomes = self._db.execute(
                "SELECT coalesce(c.code, '(unknown card)'), f.outcome, f.reason_code, f.reason_display, count(*) "
                "FROM feedback f LEFT JOIN cards c ON c.uuid = f.uuid GROUP BY 1, 2, 3, 4").fetchall()
        per: dict[str, dict[str, Any]] = {code: _empty(code, n) for code, n in issued.items()}
        for code, outcome, reason, display, count in outcomes:
            entry = per.setdefault(code, _empty(code, 0))
            entry[outcome] += count
            if outcome == "overridden":
                label = display or reason or "no reason given"
                entry["reasons"][label] = entry["reasons"].get(label, 0) + count
        for entry in per.values():
            answered = entry["accepted"] + entry["overridden"]
            entry["override_rate"] = round(entry["overridden"] / answered, 3) if answered else None
        return sorted(per.values(), key=lambda e: (-(e["override_rate"] or 0), e["code"]))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _empty(code: str, issued: int) -> dict[str, Any]:
    return {"code": code, "issued": issued, "accepted": 0, "overridden": 0, "reasons": {}}


def _row(service: str, number: int, entry: Any) -> tuple[Any, ...]:
    where = f"feedback.{number}"
    if not isinstance(entry, dict):
        raise FeedbackError(f"{where} must be an object")
    card, outcome = entry.get("card"), entry.get("outcome")
    if not isinstance(card, str) or not 0 < len(card) <= 64:
        raise FeedbackError(f"{where}.card must be the card's uuid")
    if outcome not in ("accepted", "overridden"):
        raise FeedbackError(f"{where}.outcome must be 'accepted' or 'overridden'")
    reason = entry.get("overrideReason") or {}
    coding = reason.get("reason") if isinstance(reason, dict) else None
    coding = coding if isinstance(coding, dict) else {}
    accepted = entry.get("acceptedSuggestions") or []
    when = entry.get("outcomeTimestamp")
    card = _text(card)
    return (card, service, outcome, _text(coding.get("code")), _text(coding.get("display")),
            len(accepted) if isinstance(accepted, list) else 0, _text(when), _now())


def _text(value: Any) -> str | None:
    """Text SQLite can store (a lone surrogate written as its escape), cut to 200 characters."""
    if not isinstance(value, str):
        return None
    return value[:200].encode("utf-8", "backslashreplace").decode("utf-8")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def summary_text(rows: list[dict[str, Any]], path: str) -> str:
    if not rows:
        return f"no cards or feedback in {path}\n"
    lines = [f"{'check':<14} {'issued':>7} {'accepted':>9} {'overridden':>11} {'override rate':>14}  top reasons"]
    for row in rows:
        rate = "-" if row["override_rate"] is None else f"{row['override_rate']:.0%}"
        reasons = ", ".join(f"{label} ({n})" for label, n in
                            sorted(row["reasons"].items(), key=lambda r: -r[1])[:3])
        lines.append(f"{row['code']:<14} {row['issued']:>7} {row['accepted']:>9} {row['overridden']:>11} "
                     f"{rate:>14}  {reasons}")
    return "\n".join(lines) + f"\n({path})\n"
