"""YAML and JSON case files: one patient history per file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import yaml

if TYPE_CHECKING:
    from . import Failed, Record

MAX_BYTES = 10 * 1024 * 1024


class _NoAliasLoader(yaml.SafeLoader):
    """Safe YAML without anchors and aliases: case files do not need them, and an alias bomb
    (a few lines expanding to billions of nodes) must not hang an audit. Dates stay text, so that
    the model judges them and names the field ('start: 2023-13-01' is not a date): PyYAML's own
    timestamp constructor raised a bare ValueError for it."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in case files",
                                              event.start_mark)
        return super().compose_node(parent, index)


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
        data = yaml.load(text, Loader=_NoAliasLoader)  # JSON is YAML
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
