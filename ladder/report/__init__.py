"""Renderers: an AuditReport -> text for people, JSON for tools. One module per format."""

from __future__ import annotations

from typing import Callable

from ..findings import AuditReport
from . import json_report, text

Renderer = Callable[[AuditReport], str]

RENDERERS: dict[str, Renderer] = {"text": text.render, "json": json_report.render}
