"""Entries the assistant itself depends on, which no import may remove.

The safeguarding front door (named in every emergency reply), the Local Offer team (the
fallback owner of cases and who families are told to talk to), and every entry
``data/routing.yml`` sends cases to. An import can update them; only a person editing
the database, or these files, can take them away.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.directory.topics import FRONT_DOOR_KEY, LOCAL_OFFER_KEY

ROUTING_FILE = Path(__file__).resolve().parents[2] / "data" / "routing.yml"


def protected_keys(routing_file: Path = ROUTING_FILE) -> frozenset[str]:
    """The keys of entries an import must never remove."""
    keys = {FRONT_DOOR_KEY, LOCAL_OFFER_KEY}
    try:
        routing = yaml.safe_load(routing_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return frozenset(keys)  # the routing file is checked where it is loaded
    if isinstance(routing, dict):
        keys.add(str(routing.get("fallback_owner") or LOCAL_OFFER_KEY))
        keys.update(str(key) for key in routing.get("services") or {})
        keys.update(
            str(rule["service"])
            for rule in routing.get("rules") or []
            if isinstance(rule, dict) and rule.get("service")
        )
    return frozenset(keys)
