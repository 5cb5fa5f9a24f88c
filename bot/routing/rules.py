"""Routing rules kept as data a council officer can read and edit (``data/routing.yml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.config import PROJECT_ROOT
from bot.directory import Catalog
from bot.text import normalise

ROUTING_FILE = PROJECT_ROOT / "data" / "routing.yml"
NOTIFY_METHODS = ("email", "webhook", "sms", "log")


@dataclass(frozen=True)
class ServiceRoute:
    """How a service receives cases and how soon it should acknowledge them."""

    key: str
    notify: str
    address: str
    target_hours: int


@dataclass(frozen=True)
class Rule:
    category: str
    service: str
    urgency: str
    phrases: tuple[str, ...]


@dataclass(frozen=True)
class Decision:
    """Where a case goes and why."""

    service: str
    category: str
    urgency: str
    reason: str


@dataclass(frozen=True)
class Routing:
    fallback_owner: str
    default_target_hours: int
    services: dict[str, ServiceRoute]
    rules: tuple[Rule, ...]

    def route_for(self, service: str) -> ServiceRoute:
        return self.services.get(
            service, ServiceRoute(service, "log", "", self.default_target_hours)
        )

    def decide(self, text: str, catalog: Catalog | None = None) -> Decision:
        """First matching rule; else the directory's best entry; else the fallback owner."""
        padded = f" {normalise(text)} "
        for rule in self.rules:
            if any(f" {phrase} " in padded for phrase in rule.phrases):
                return Decision(rule.service, rule.category, rule.urgency, "rule")
        if catalog is not None:
            matches = catalog.search(text, limit=1)
            if matches:
                return Decision(matches[0].entry.key, "directory", "normal", "directory")
        return Decision(self.fallback_owner, "general", "normal", "fallback")


class RoutingError(ValueError):
    pass


def load_routing(path: Path = ROUTING_FILE) -> Routing:
    """Read and check the routing file; errors name the bad rule or service."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems: list[str] = []
    services = {}
    for key, body in (data.get("services") or {}).items():
        notify = str(body.get("notify", "log"))
        if notify not in NOTIFY_METHODS:
            problems.append(f"services.{key}: notify must be one of {', '.join(NOTIFY_METHODS)}")
        services[key] = ServiceRoute(
            key,
            notify,
            str(body.get("address") or ""),
            int(body.get("target_hours") or data.get("default_target_hours") or 72),
        )
    rules = []
    for number, body in enumerate(data.get("rules") or [], start=1):
        phrases = tuple(normalise(str(p)) for p in body.get("phrases") or [] if normalise(str(p)))
        if not body.get("service") or not phrases:
            problems.append(f"rule {number}: needs a service and at least one phrase")
            continue
        rules.append(
            Rule(
                str(body.get("category") or body["service"]),
                str(body["service"]),
                str(body.get("urgency") or "normal"),
                phrases,
            )
        )
    if problems:
        raise RoutingError(f"{path}: " + "; ".join(problems))
    return Routing(
        fallback_owner=str(data.get("fallback_owner") or "local_offer"),
        default_target_hours=int(data.get("default_target_hours") or 72),
        services=services,
        rules=tuple(rules),
    )
