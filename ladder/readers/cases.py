"""YAML and JSON case files: one patient history per file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import yaml

from .. import safe_yaml

if TYPE_CHECKING:
    from . import Failed, Record

MAX_BYTES = 10 * 1024 * 1024


def read(path: Path) -> Iterator["Record | Failed"]:
    from . import Failed, Record

    source = str(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            yield Failed(source, None, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
            return
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        yield Failed(source, None, f"not UTF-8 text (byte {error.start})")
        return
    except OSError as error:
        yield Failed(source, None, f"cannot read: {error.strerror}")
        return
    try:
        data = safe_yaml.load(text)  # JSON is YAML
    except yaml.YAMLError as error:
        yield Failed(source, None, f"not valid YAML/JSON: {_one_line(error)}")
        return
    except RecursionError:
        yield Failed(source, None, "not readable: nested too deeply (a history is a few levels deep)")
        return
    except (ValueError, OverflowError) as error:  # a value PyYAML's or json's own constructors refuse
        yield Failed(source, None, f"not valid YAML/JSON: {type(error).__name__}: {error}")
        return
    if not isinstance(data, dict):
        yield Failed(source, None, "a case file holds one patient history (a mapping)")
        return
    yield Record(source, data)


def _one_line(error: yaml.YAMLError) -> str:
    return " ".join(str(error).split())
