"""`extends:` — a pack that starts from another and changes only what it names (a site's local
policy in a few lines):

    extends: csu-international          # a packaged pack's name, or a path from this file's folder
    pack: {id: our-clinic, version: "1", title: Our clinic's CSU audit}
    disable: [JAK001]                   # checks left out
    severity: {CTL002: info}            # a check's severity changed
    checks: [...]                       # a check with a base code replaces it (a changed threshold); others are added
    steps: [{code: BIO, trial: {min_days: 112}}]   # merged into the base step of that code
    ladder: [...]                       # or: the whole list of steps replaced (another guideline's ladder)
    sources: {...}                      # also conditions, screenings: merged by key; control, refractory: replaced

The result is validated as any pack; its hash covers every file of the chain, and `provenance`
says which file gave each step and check.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any, Callable

from .errors import RulePackError

EXTENSION_KEYS = {"extends", "pack", "disable", "severity", "checks", "steps", "ladder", "sources", "conditions",
                  "screenings", "control", "refractory", "retired_codes", "standard_doses", "definitions"}
MAX_CHAIN = 4

ReadBase = Callable[[str, str], tuple[str, str]]  # (name or path, origin of the extending file) -> (text, origin)


def resolve(data: dict[str, Any], text: str, origin: str, read_base: ReadBase,
            load: Callable[[str], Any], depth: int = 0) -> tuple[dict[str, Any], str, dict[str, str]]:
    """The pack `data` with its `extends` chain applied: (merged data, sha256 of the chain's texts,
    provenance of each step and check code)."""
    if "extends" not in data:
        provenance = {f"step {s.get('code')}": origin for s in data.get("steps", []) if isinstance(s, dict)}
        provenance.update({f"check {c.get('code')}": origin for c in data.get("checks", []) if isinstance(c, dict)})
        return data, hashlib.sha256(text.encode("utf-8")).hexdigest(), provenance
    if depth >= MAX_CHAIN:
        raise RulePackError(f"extends: a chain of more than {MAX_CHAIN} packs (or a cycle)", source=origin)
    unknown = sorted(set(data) - EXTENSION_KEYS)
    if unknown:
        raise RulePackError(f"an extending pack takes {', '.join(sorted(EXTENSION_KEYS))}; not "
                            f"{', '.join(unknown)}", source=origin)
    if not isinstance(data["extends"], str):
        raise RulePackError("extends: names one pack (a packaged pack's name or a path)", source=origin)
    base_text, base_origin = read_base(data["extends"], origin)
    base_data = load(base_text)
    if not isinstance(base_data, dict):
        raise RulePackError("a rule pack is a YAML mapping", source=base_origin)
    merged, base_digest, provenance = resolve(base_data, base_text, base_origin, read_base, load, depth + 1)
    merged = copy.deepcopy(merged)
    _apply(merged, data, origin, provenance)
    digest = hashlib.sha256((base_digest + hashlib.sha256(text.encode("utf-8")).hexdigest()).encode()).hexdigest()
    return merged, digest, provenance


def _apply(merged: dict[str, Any], data: dict[str, Any], origin: str, provenance: dict[str, str]) -> None:
    merged["pack"] = data.get("pack", merged.get("pack"))
    checks = {c.get("code"): c for c in merged.get("checks", []) if isinstance(c, dict)}
    for code in _listed(data.get("disable", []), "disable", origin):
        if checks.pop(code, None) is None:
            raise RulePackError(f"disable: the base pack has no check {code!r}", source=origin)
        provenance[f"check {code}"] = f"{origin} (disabled)"
    for code, severity in _mapping(data.get("severity", {}), "severity", origin).items():
        if code not in checks:
            raise RulePackError(f"severity: the base pack has no check {code!r}", source=origin)
        checks[code] = {**checks[code], "severity": severity}
        provenance[f"check {code}"] = f"{origin} (severity)"
    for check in _listed(data.get("checks", []), "checks", origin):
        if not isinstance(check, dict):
            raise RulePackError("checks: each item is a check", source=origin)
        checks[check.get("code")] = check
        provenance[f"check {check.get('code')}"] = origin
    merged["checks"] = list(checks.values())
    if "ladder" in data:  # another guideline's steps, in its order
        merged["steps"] = _listed(data["ladder"], "ladder", origin)
        for step in merged["steps"]:
            provenance[f"step {step.get('code') if isinstance(step, dict) else step}"] = origin
    steps = {s.get("code"): s for s in merged.get("steps", []) if isinstance(s, dict)}
    for step in _listed(data.get("steps", []), "steps", origin):
        if not isinstance(step, dict) or step.get("code") not in steps:
            raise RulePackError(f"steps: {step.get('code') if isinstance(step, dict) else step!r} is no "
                                "step of the base pack (steps are changed, not added)", source=origin)
        steps[step["code"]].update(_deep_merge(steps[step["code"]], step))
        provenance[f"step {step['code']}"] = origin
    for key in ("sources", "conditions", "screenings", "standard_doses"):
        merged[key] = {**merged.get(key, {}), **_mapping(data.get(key, {}), key, origin)}
    for key in ("control", "refractory", "definitions"):
        if key in data:
            merged[key] = data[key]
    merged["retired_codes"] = sorted(set(merged.get("retired_codes", [])) | set(data.get("retired_codes", [])))


def _deep_merge(base: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in change.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _listed(value: Any, key: str, origin: str) -> list[Any]:
    if not isinstance(value, list):
        raise RulePackError(f"{key}: takes a list", source=origin)
    return value


def _mapping(value: Any, key: str, origin: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RulePackError(f"{key}: takes a mapping", source=origin)
    return value


def base_path(name: str, origin: str, packaged: dict[str, Path]) -> Path:
    """A packaged pack's file, or a path read from the extending file's folder."""
    if name in packaged:
        return packaged[name]
    folder = Path(origin).parent if origin != "<string>" else Path.cwd()
    return folder / name
