"""Fetch a live Open Referral API, page by page (``GET <services url>?page=N``).

HSDS 3.0 pages say ``total_pages`` (and ``last_page``); ORUK 1.x pages say ``totalPages``
(and ``last``). Pages are asked for from 1 until the last one. A page that fails (a
timeout, a refused connection, an HTTP error) is tried again a few times with a pause;
if it still fails, the whole fetch fails with a plain reason and nothing is imported, so
an import never replaces a directory with part of one.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.directory.formats.oruk import ShapeError, services_in

TIMEOUT = 30.0
RETRIES = 2  # extra tries for a page that fails
RETRY_PAUSE = 1.0  # seconds, doubled after each failed try
MAX_PAGES = 5000  # a guard against a feed that never says it has ended
USER_AGENT = "send-local-offer-assistant (directory import)"


class FetchError(RuntimeError):
    """The feed could not be read completely; the message says which page and why."""


@dataclass
class Fetched:
    """Every service of every page, and what the pages said about themselves."""

    services: list[Any] = field(default_factory=list)
    pages: int = 0
    total_pages: int | None = None
    total_items: int | None = None


def page_url(url: str, page: int, per_page: int | None) -> str:
    """``url`` with ``page`` (and ``per_page``) set, keeping its other query parameters."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("page", "per_page")]
    query.append(("page", str(page)))
    if per_page:
        query.append(("per_page", str(per_page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _get_json(url: str, timeout: float) -> Any:
    request = urllib.request.Request(  # noqa: S310 (the officer gives an http(s) URL)
        url, headers={"Accept": "application/json", "User-Agent": USER_AGENT}
    )
    with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310
        return json.loads(reply.read().decode("utf-8-sig"))


def _reason(exc: Exception) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        return f"could not connect ({exc.reason})"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, json.JSONDecodeError):
        return f"the answer is not JSON ({exc.msg})"
    if isinstance(exc, ShapeError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def fetch_services(
    url: str,
    per_page: int | None = None,
    timeout: float | None = None,
    retries: int | None = None,
    pause: float | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> Fetched:
    """Every service the feed at ``url`` lists; raise :class:`FetchError` if any page fails.
    ``timeout``, ``retries`` and ``pause`` default to TIMEOUT, RETRIES and RETRY_PAUSE."""
    timeout = TIMEOUT if timeout is None else timeout
    retries = RETRIES if retries is None else retries
    pause = RETRY_PAUSE if pause is None else pause
    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"'{url}' is not an http or https address")
    fetched = Fetched()
    page = 1
    while page <= MAX_PAGES:
        address = page_url(url, page, per_page)
        items, details = _page(address, page, fetched.total_pages, timeout, retries, pause)
        fetched.pages = page
        fetched.services.extend(items)
        total = _int(details.get("total_pages"))
        if total is not None:
            fetched.total_pages = total
        if fetched.total_items is None:
            fetched.total_items = _int(details.get("total_items"))
        if progress is not None:
            progress(page, fetched.total_pages)
        if not details or not items or details.get("last") is True:
            break  # a plain list, an empty page or the last page: nothing more to ask for
        if fetched.total_pages is not None and page >= fetched.total_pages:
            break
        page += 1
    else:
        raise FetchError(f"the feed did not end after {MAX_PAGES} pages")
    return fetched


def _page(
    address: str, page: int, total: int | None, timeout: float, retries: int, pause: float
) -> tuple[list[Any], dict[str, Any]]:
    of = f" of {total}" if total else ""
    for attempt in range(retries + 1):
        try:
            return services_in(_get_json(address, timeout))
        except (OSError, ValueError, http.client.HTTPException) as exc:  # also bad JSON, shape
            if isinstance(exc, ShapeError) or attempt == retries:
                raise FetchError(
                    f"page {page}{of} ({address}): {_reason(exc)}. Nothing was imported."
                ) from exc
            time.sleep(pause * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
