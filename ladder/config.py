"""Settings from a file, as ruff reads them: `[tool.ladder]` in a pyproject.toml or the top level of
a ladder.toml, found from the working folder upward (the nearest file that has them wins; in one
folder ladder.toml before pyproject.toml). The command line wins over the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import LadderError

# Settings a file may give, and the commands they apply to (as their option names).
SETTINGS = {"rules": ("audit", "explain", "serve"), "select": ("audit", "explain", "serve"),
            "ignore": ("audit", "explain", "serve"), "min-severity": ("audit", "explain", "serve"), "fail-on": ("audit",), "jobs": ("audit",),
            "as-of": ("audit", "explain")}


def find(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest settings file at or above `start` and its settings, or None."""
    for folder in (start, *start.parents):
        for name in ("ladder.toml", "pyproject.toml"):
            path = folder / name
            if path.is_file():
                settings = _read(path)
                if settings is not None:
                    return path, settings
    return None


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise LadderError(f"cannot read settings: {error}", source=str(path)) from None
    settings = data if path.name == "ladder.toml" else data.get("tool", {}).get("ladder")
    if settings is None:
        return None
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise LadderError(f"unknown settings {', '.join(unknown)}; ladder takes {', '.join(SETTINGS)}",
                          source=str(path))
    return settings


def default_map(settings: dict[str, Any], base: Path) -> dict[str, dict[str, Any]]:
    """The settings as click's default_map: per command, by parameter name. A relative rules path
    is read from the settings file's folder."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in settings.items():
        if key == "rules" and isinstance(value, str) and (base / value).exists():
            value = str(base / value)
        if key in ("select", "ignore") and isinstance(value, list):
            value = tuple(str(v) for v in value)
        name = {"rules": "rules", "fail-on": "fail_on", "min-severity": "min_severity",
                "as-of": "as_of"}.get(key, key)
        for command in SETTINGS[key]:
            out.setdefault(command, {})[name] = value
    return out
