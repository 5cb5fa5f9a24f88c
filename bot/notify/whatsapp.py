"""WhatsApp's 24-hour rule: free text within 24 hours of the person's last message,
otherwise only a pre-approved template (Twilio Content API: ``ContentSid`` and
``ContentVariables``), chosen by the message's kind from ``data/whatsapp_templates.yml``.

Pure functions: :func:`plan` says how a message can go, the sender does the sending.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from bot.routing.references import find_reference

SESSION = timedelta(hours=24)
MARGIN = timedelta(minutes=5)  # the message may take a moment to reach WhatsApp
FIELDS = ("body", "reference")
_SPACES = re.compile(r"\s+")
MAX_VARIABLE = 1000


class TemplateError(ValueError):
    """The templates file is not valid."""


@dataclass(frozen=True)
class Template:
    kind: str
    content_sid: str
    variables: dict[str, str] = field(default_factory=dict)  # number -> field name

    def values(self, body: str) -> str:
        """``ContentVariables``: the JSON Twilio wants, from the message's text."""
        fields = {"body": one_line(body), "reference": find_reference(body) or ""}
        return json.dumps({number: fields[name] for number, name in self.variables.items()})


def one_line(text: str) -> str:
    """A template variable: no line breaks, tabs or runs of spaces, at most 1000 characters."""
    flat = _SPACES.sub(" ", text.replace("\n", " / ")).strip()
    return flat if len(flat) <= MAX_VARIABLE else flat[: MAX_VARIABLE - 3] + "..."


def load_templates(path: Path) -> dict[str, Template]:
    """The configured templates by kind (those without a ContentSid are left out)."""
    if not path.is_file():
        return {}
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems: list[str] = []
    templates: dict[str, Template] = {}
    for kind, entry in (data.get("templates") or {}).items():
        entry = entry or {}
        variables = {str(k): str(v) for k, v in (entry.get("variables") or {}).items()}
        for number, name in variables.items():
            if name not in FIELDS:
                problems.append(f"{kind}: variable {number} is '{name}', not one of {FIELDS}")
        sid = str(entry.get("content_sid") or "").strip()
        if sid and not sid.startswith("HX"):
            problems.append(f"{kind}: content_sid '{sid}' does not look like a ContentSid (HX...)")
        if sid:
            templates[str(kind)] = Template(str(kind), sid, variables)
    if problems:
        raise TemplateError(f"{path}: " + "; ".join(problems))
    return templates


@dataclass(frozen=True)
class Plan:
    """How a message goes: as free text, with a template, or (``why``) not at all."""

    template: Template | None = None
    why: str = ""

    @property
    def free_text(self) -> bool:
        return self.template is None and not self.why


def in_session(last_inbound_at: datetime | None, now: datetime) -> bool:
    if last_inbound_at is None:
        return False
    if last_inbound_at.tzinfo is None:
        last_inbound_at = last_inbound_at.replace(tzinfo=timezone.utc)
    return now - last_inbound_at < SESSION - MARGIN


def plan(
    kind: str,
    last_inbound_at: datetime | None,
    templates: Mapping[str, Template],
    now: datetime,
    force_template: bool = False,
) -> Plan:
    """Free text inside the 24-hour session; outside it, the kind's template (or the
    ``message`` one); with none configured, a reason it cannot go."""
    if in_session(last_inbound_at, now) and not force_template:
        return Plan()
    template = templates.get(kind) or templates.get("message")
    if template is None:
        return Plan(
            why=f"outside WhatsApp's 24-hour window and no approved template for '{kind}' "
            "(data/whatsapp_templates.yml)"
        )
    return Plan(template)
