"""Where to complain about a service, and how to challenge a "no" (``data/complaints.yml``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

COMPLAINTS_FILE = Path(__file__).resolve().parents[2] / "data" / "complaints.yml"


@dataclass(frozen=True)
class ComplaintsRoute:
    """Who takes complaints about a service, how to reach them, and where a case goes."""

    key: str
    name: str
    how: str
    case_service: str
    phone: str | None = None
    email: str | None = None
    web: str | None = None

    def contact(self) -> str:
        """'Call 01632 960124, or email complaints@example.org.' (what there is)."""
        ways = [f"call {self.phone}"] if self.phone else []
        ways += [f"email {self.email}"] if self.email else []
        if not ways and self.web:
            ways.append(f"visit {self.web}")
        if not ways:
            return ""
        text = ", or ".join(ways)
        return text[:1].upper() + text[1:] + "."


@dataclass(frozen=True)
class Complaints:
    routes: dict[str, ComplaintsRoute]
    services: dict[str, str]
    default: str
    appeals: dict[str, str]
    default_appeal: str
    handlers: tuple[str, ...] = ()

    def route_for(self, service_key: str | None) -> ComplaintsRoute:
        """The complaints route for a directory entry (the council's when not listed)."""
        return self.routes[self.services.get(service_key or "", self.default)]

    def route_taken_by(self, case_service: str) -> ComplaintsRoute | None:
        """The route whose complaints go to ``case_service`` (e.g. healthwatch: the NHS's)."""
        return next((r for r in self.routes.values() if r.case_service == case_service), None)

    def appeal_for(self, needs: Sequence[str]) -> str:
        """How to challenge a decision about the first of ``needs`` that has a route."""
        return next((self.appeals[n] for n in needs if n in self.appeals), self.default_appeal)


def load_complaints(path: Path = COMPLAINTS_FILE) -> Complaints:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    routes = {
        key: ComplaintsRoute(
            key=key,
            name=str(body["name"]),
            how=str(body.get("how") or ""),
            case_service=str(body.get("case_service") or "complaints"),
            phone=body.get("phone"),
            email=body.get("email"),
            web=body.get("web"),
        )
        for key, body in (data.get("routes") or {}).items()
    }
    services = {str(k): str(v) for k, v in (data.get("services") or {}).items()}
    unknown = sorted({*services.values(), str(data.get("default"))} - set(routes))
    if unknown:
        raise ValueError(f"{path}: services use routes that are not defined: {unknown}")
    return Complaints(
        routes=routes,
        services=services,
        default=str(data["default"]),
        appeals={str(k): str(v) for k, v in (data.get("appeals") or {}).items()},
        default_appeal=str(data.get("default_appeal") or ""),
        handlers=tuple(str(k) for k in data.get("handlers") or ()),
    )


@lru_cache(maxsize=1)
def complaints() -> Complaints:
    return load_complaints()
