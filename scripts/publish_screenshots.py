"""Screenshots of the published Who's Who for docs/: the page (headless Chromium) and a
booklet page (pdftoppm). Run after `make publish`:

    .venv/bin/python scripts/publish_screenshots.py [--dir var/publish]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import chromium  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=str(ROOT / "var" / "publish"))
    parser.add_argument("--page", type=int, default=5, help="booklet page to show")
    args = parser.parse_args()
    folder, docs = Path(args.dir), ROOT / "docs"
    with chromium(1000, 1700) as driver:
        driver.get((folder / "index.html").as_uri())
        driver.save_screenshot(str(docs / "whos-who-page.png"))
    with tempfile.TemporaryDirectory() as work:
        prefix = Path(work) / "page"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "80", "-f", str(args.page), "-l", str(args.page),
             "-singlefile", str(folder / "whos-who-a5.pdf"), str(prefix)],
            check=True,
        )  # fmt: skip
        (docs / "whos-who-booklet.png").write_bytes(prefix.with_suffix(".png").read_bytes())
    print(f"Wrote {docs / 'whos-who-page.png'} and {docs / 'whos-who-booklet.png'}.")


if __name__ == "__main__":
    main()
