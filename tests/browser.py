"""A real browser for page tests: Debian's headless Chromium through Selenium, and axe-core.

``chromium()`` yields a WebDriver for a fresh, private Chromium (its own profile folder,
no network of its own: no sync, no component updates). ``axe_violations(driver)`` runs
axe-core (from npm, installed by ``make browser``) on the page the driver shows and returns
its violations of WCAG 2.0, 2.1 and 2.2 at levels A and AA, each as axe reports it
(``id``, ``impact``, ``help``, ``nodes``).

Nothing is skipped when the browser is missing: the tests fail and say to run
``make browser``, which installs it where the machine allows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from bot.config import PROJECT_ROOT

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
WCAG_AA_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa")
AXE_JS = Path(
    os.environ.get("AXE_CORE_JS")
    or PROJECT_ROOT / "var" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
)


def _program(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(f"{' or '.join(names)} is not installed: run `make browser`")


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile, closed (and its profile removed) after."""
    options = webdriver.ChromeOptions()
    options.binary_location = _program("chromium", "chromium-browser")
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        service = Service(executable_path=_program("chromedriver", "chromium-driver"))
        driver = webdriver.Chrome(options=options, service=service)
        try:
            driver.set_script_timeout(60)
            yield driver
        finally:
            driver.quit()


def axe_violations(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.2 AA violations on the current page (an empty list when it passes)."""
    if not AXE_JS.is_file():
        raise RuntimeError(f"axe-core is not installed at {AXE_JS}: run `make browser`")
    driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: "tag", values: arguments[0]}})
          .then(r => done(r.violations))
          .catch(e => done([{id: "axe-error", help: String(e), nodes: []}]));
        """,
        list(WCAG_AA_TAGS),
    )
    return list(result)
