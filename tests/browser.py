"""Real headless Chromium for page tests (Debian's ``chromium`` and ``chromium-driver``,
driven by Selenium), and axe-core from npm injected into the page.

``chromium()`` yields a WebDriver with a fresh profile; ``axe_violations(driver)`` runs axe
at WCAG 2.2 AA on the page and returns its violations. Keyboard helpers move with Tab and
press Enter, as a person without a mouse would.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_paths() -> tuple[str, str] | None:
    """Chromium and chromedriver on this machine, or None."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def require_chromium() -> None:
    """Skip (with the reason) only when Chromium or its driver is truly not installed."""
    if chromium_paths() is None:
        pytest.skip(
            "Chromium is not installed: `make browser` installs chromium and chromium-driver "
            "(apt-get, as root)"
        )


@contextmanager
def chromium(width: int = 1280, height: int = 1000) -> Iterator[Any]:
    """A headless Chromium with a fresh profile, quit when the block ends."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    paths = chromium_paths()
    if paths is None:
        raise RuntimeError("Chromium is not installed (make browser)")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = paths[0]
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        options.add_argument(f"--window-size={width},{height}")
        driver = webdriver.Chrome(service=Service(executable_path=paths[1]), options=options)
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()


def axe_violations(driver: Any, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core (from node_modules, never a CDN) on the current page at WCAG 2.2 AA."""
    if not AXE_JS.is_file():
        raise RuntimeError("axe-core is not installed: run `make assets` (npm ci)")
    driver.execute_script(AXE_JS.read_text(encoding="utf-8"))
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        "  .then(r => done(r.violations))"
        "  .catch(e => done([{id: 'axe-error', description: String(e), nodes: []}]));",
        tags or AXE_TAGS,
    )
    return list(result)


def describe(violations: list[dict[str, Any]]) -> str:
    """Violations in a readable list for an assertion message."""
    lines = []
    for v in violations:
        targets = [", ".join(n.get("target", [])) for n in v.get("nodes", [])][:5]
        lines.append(f"{v['id']} ({v.get('impact')}): {v.get('help', v.get('description'))} "
                     f"at {targets}")  # fmt: skip
    return "\n".join(lines)


def zoom_400(driver: Any) -> None:
    """Show pages as at 400% zoom on a 1280 px wide screen: 320 CSS pixels wide."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 320, "height": 256, "deviceScaleFactor": 4, "mobile": False},
    )


def reset_zoom(driver: Any) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def scrolls_sideways(driver: Any) -> bool:
    """True if the page itself is wider than the window (content must reflow at 400%)."""
    return bool(
        driver.execute_script(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;"
        )
    )


def focused(driver: Any) -> Any:
    return driver.switch_to.active_element


def tab_to(driver: Any, matches: Callable[[Any], bool], limit: int = 150) -> Any:
    """Press Tab until the focused element ``matches``; return it (fails if never reached)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    seen = []
    for _ in range(limit):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        element = focused(driver)
        if matches(element):
            return element
        seen.append(element.tag_name + ":" + (element.text or element.get_attribute("name") or ""))
    raise AssertionError(f"never reached by Tab; focus went through {seen[:40]}")


def by_name(name: str) -> Callable[[Any], bool]:
    return lambda e: e.get_attribute("name") == name


def by_text(text: str) -> Callable[[Any], bool]:
    return lambda e: (e.text or e.get_attribute("value") or "").strip() == text


def starting(text: str) -> Callable[[Any], bool]:
    return lambda e: (e.text or "").strip().startswith(text)


def press(driver: Any, *keys: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    ActionChains(driver).send_keys(*keys).perform()


def type_into(driver: Any, matches: Callable[[Any], bool], text: str, clear: bool = False) -> None:
    """Tab to a field and type ``text`` (select all first when ``clear``)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    tab_to(driver, matches)
    if clear:
        ActionChains(driver).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL).perform()
        press(driver, Keys.DELETE)
    press(driver, text)


def activate(driver: Any, matches: Callable[[Any], bool]) -> None:
    """Tab to a link or button and press Enter."""
    from selenium.webdriver.common.keys import Keys

    tab_to(driver, matches)
    press(driver, Keys.ENTER)


def wait_for(condition: Callable[[], Any], timeout: float = 30.0, every: float = 0.3) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return condition()
