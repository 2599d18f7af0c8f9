"""Write docs/sources.md: every reference key the shipped packs cite, expanded, with the checks
and steps that cite it and whether their source was seen. `tests/test_readme.py` checks that the
file is current:

    .venv/bin/python tools/sources_md.py > docs/sources.md
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ladder.pack_loader import load_rules, packaged_packs  # noqa: E402


def cited_keys(source: str, keys: dict[str, str]) -> list[str]:
    return [key for key in keys if re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", source)]


def render() -> str:
    out = ["# Sources", "",
           "Every reference a shipped rule pack cites, in full, with what cites it. A citation marked",
           "UNCONFIRMED rests on a source whose primary text was not seen (a secondary summary); reports",
           "say so beside the finding. The project's notes behind the packs ship beside this file:",
           "`clinical.md` (guideline steps, doses, cut-offs and codes, each sourced; cited as",
           "\"clinical.md R-...\"), `guidelines-2026.md` (the 2025-2026 review of the default pack) and",
           "`durable-rules.md` (how the rules engine behaves and crashes).", ""]
    for name in packaged_packs():
        book = load_rules(name)
        out += [f"## {book.pack.id} {book.pack.version}", "", book.pack.title, ""]
        users: dict[str, list[str]] = {key: [] for key in book.sources}
        cited = [(f"step {s.code}", s.citation) for s in book.steps]
        cited += [(f"step {s.code} trial", s.trial.citation) for s in book.steps if s.trial]
        cited += [(c.code, c.citation) for c in book.checks]
        cited += [("refractory definition", book.refractory.citation)]
        cited += [(f"screening {g}", spec.citation) for g, spec in book.screenings.items() if spec.citation]
        for who, citation in cited:
            for key in cited_keys(citation.source, book.sources):
                users[key].append(who + ("" if citation.confirmed else " (UNCONFIRMED)"))
        for key, text in book.sources.items():
            out += [f"- **{key}**: {text}", f"  - cited by: {', '.join(users[key]) or 'nothing yet'}"]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    sys.stdout.write(render())
