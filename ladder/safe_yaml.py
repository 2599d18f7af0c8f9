"""The one YAML loader ladder uses for what users give it (case files and rule packs).

Safe YAML without anchors and aliases: neither needs them, and an alias bomb (a few lines expanding
to billions of nodes; a 43 KB pack of nested aliases still validating after 60 s) must not hang
ladder. Dates stay text, so that the model judges them and names the field ('start: 2023-13-01'
is not a date): PyYAML's own timestamp constructor raised a bare ValueError for it.
"""

from __future__ import annotations

from typing import Any

import yaml


class NoAliasLoader(yaml.SafeLoader):
    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed here",
                                              event.start_mark)
        return super().compose_node(parent, index)


def load(text: str | bytes) -> Any:
    """Parse YAML (or JSON). Raises yaml.YAMLError, RecursionError (nested too deeply) or ValueError."""
    return yaml.load(text, Loader=NoAliasLoader)  # noqa: S506  NoAliasLoader is a SafeLoader
