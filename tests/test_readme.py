"""The README documents what ships: every check, and the exact commands CI runs."""

from __future__ import annotations

import ladder

from .conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_check_is_in_the_readme_table():
    for check in ladder.load_rules().checks:
        assert f"| {check.code} | {check.name} | {check.severity} |" in README, check.code


def test_ci_runs_the_readme_test_command():
    command = [line for line in (ROOT / ".ci" / "run").read_text().splitlines()
               if "pytest" in line][0]
    assert command in README


def test_docs_sources_is_current_and_expands_every_reference():
    import importlib.util
    spec = importlib.util.spec_from_file_location("sources_md", ROOT / "tools" / "sources_md.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    assert (ROOT / "docs" / "sources.md").read_text(encoding="utf-8") == module.render(), \
        "regenerate: .venv/bin/python tools/sources_md.py > docs/sources.md"
    for key, text in ladder.load_rules().sources.items():
        assert f"**{key}**: {text}" in module.render()


def test_nothing_shipped_cites_files_outside_the_repository():
    """Reports and docstrings cited ../shared/reference/clinical.md, which a user never has."""
    shipped = [ROOT / "README.md", *(ROOT / "ladder").rglob("*.py"), *(ROOT / "ladder").rglob("*.yaml"),
               *(ROOT / "rules").rglob("*.yaml"), *(ROOT / "cases").rglob("*.*"), *(ROOT / "docs").rglob("*.md")]
    offenders = [str(p.relative_to(ROOT)) for p in shipped
                 if "shared/reference" in p.read_text(encoding="utf-8") or "../shared" in p.read_text(encoding="utf-8")]
    assert offenders == []
    for name in ("clinical.md", "sources.md", "durable-rules.md"):
        assert (ROOT / "docs" / name).is_file()
