"""Loading rule packs: from a packaged pack's name, a path or YAML text; validated, hashed over
their extends chain, and remembered by file signature and content (a pack is compiled once)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from . import pack_chain, safe_yaml
from .errors import RulePackError
from .rulebook import DEFAULT_PACK, Rulebook


@lru_cache(maxsize=1)
def packaged_packs() -> dict[str, Path]:
    """The packs that ship with ladder: the repository's rules/ folder, or its copy in a wheel."""
    bundled = Path(str(resources.files("ladder"))) / "packs"
    folder = bundled if bundled.is_dir() else Path(__file__).resolve().parent.parent / "rules"
    return {path.stem: path for path in sorted(folder.glob("*.yaml"))}


def load_rules(source: str | Path | None = None, *, text: str | None = None) -> Rulebook:
    """Load and validate a rule pack from a path, a packaged pack's name, or YAML text.

    With no argument, the default pack (the international CSU guideline ladder).
    Raises RulePackError naming the file, the rule and the field.
    """
    if text is not None:
        return _parsed(text, "<string>")
    name = DEFAULT_PACK if source is None else str(source)
    packs = packaged_packs()
    path = packs[name] if name in packs else Path(name)
    try:
        stat = path.stat()
        signature = (str(path), stat.st_mtime_ns, stat.st_size)
        if signature in _read and _read[signature] in _loaded:  # unchanged since read
            return _loaded[_read[signature]]
        raw = path.read_bytes()
    except OSError as error:
        known = ", ".join(packs) or "none"
        raise RulePackError(f"cannot read rule pack ({error.strerror}); packaged packs: {known}",
                            source=str(path)) from None
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RulePackError("not UTF-8 text", source=str(path)) from None
    book = _parsed(decoded, str(path))
    if len(book.provenance) and all(where == str(path) for where in book.provenance.values()):
        if len(_read) >= _LOADED_MAX:  # a pack of one file: its signature stands for its content
            _read.pop(next(iter(_read)))
        _read[signature] = (str(path), _content_key(decoded))
    return book


_loaded: dict[tuple[str, str], "Rulebook"] = {}  # (origin, sha256 of the text) -> the pack
_read: dict[tuple[str, int, int], tuple[str, str]] = {}  # (path, mtime, size) -> a key of _loaded
_LOADED_MAX = 32


def _parsed(text: str, origin: str) -> "Rulebook":
    """parse_rules, remembered by origin and content: `ladder.audit(history)` with the default pack
    re-read and recompiled the pack on every call (70 ms); a changed file is a new key."""
    key = (origin, _content_key(text))
    book = _loaded.get(key)
    if book is None:
        book = parse_rules(text, origin)
        if book.provenance and any(where.split(" (")[0] != origin for where in book.provenance.values()):
            return book  # it extends another file, whose changes its own text does not show
        if len(_loaded) >= _LOADED_MAX:
            _loaded.pop(next(iter(_loaded)))
        _loaded[key] = book
    return book


def _content_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


MAX_PACK_BYTES = 1024 * 1024  # the default pack is about 50 KB


def parse_rules(text: str, origin: str) -> Rulebook:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:  # a lone surrogate in text given as a string
        raise RulePackError(f"not UTF-8 text (character {error.start})", source=origin) from None
    if len(text) > MAX_PACK_BYTES:
        raise RulePackError(f"a rule pack is at most {MAX_PACK_BYTES // 1024} KB", source=origin)
    try:
        data = safe_yaml.load(text)
    except yaml.YAMLError as error:
        raise RulePackError(f"not valid YAML: {' '.join(str(error).split())}", source=origin) from None
    except RecursionError:
        raise RulePackError("nested too deeply to read", source=origin) from None
    except (ValueError, OverflowError) as error:
        raise RulePackError(f"not valid YAML: {type(error).__name__}: {error}", source=origin) from None
    if not isinstance(data, dict):
        raise RulePackError("a rule pack is a YAML mapping", source=origin)
    data, digest, provenance = pack_chain.resolve(data, text, origin, _read_base, safe_yaml.load)
    try:
        book = Rulebook.model_validate(data)
    except RecursionError:
        raise RulePackError("nested too deeply to validate", source=origin) from None
    except ValidationError as error:
        raise RulePackError("\n  ".join(["does not fit the rule-pack schema:",
                                         *_located(error, data)]), source=origin) from None
    return book.model_copy(update={"sha256": digest, "origin": origin, "provenance": provenance})


def _read_base(name: str, origin: str) -> tuple[str, str]:
    """The text of the pack an `extends:` names, and where it was read from."""
    path = pack_chain.base_path(name, origin, packaged_packs())
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as error:
        raise RulePackError(f"extends: cannot read {name!r} ({error}); packaged packs: "
                            f"{', '.join(packaged_packs())}", source=origin) from None


def _located(error: ValidationError, data: dict[str, Any]) -> list[str]:
    """Name checks and steps by their code, not only their index: 'checks[3] (AH001).when'."""
    lines = []
    for item in error.errors(include_url=False, include_input=False):
        loc = [str(part) for part in item["loc"]]
        if len(loc) > 1 and loc[0] in ("checks", "steps") and loc[1].isdigit():
            index, items = int(loc[1]), data.get(loc[0]) or []
            entry = items[index] if index < len(items) else None
            code = entry.get("code") if isinstance(entry, dict) else None
            loc[:2] = [f"{loc[0]}[{index}]" + (f" ({code})" if code else "")]
        lines.append(f"{'.'.join(loc) or '(top level)'}: {item['msg']}")
    return lines
