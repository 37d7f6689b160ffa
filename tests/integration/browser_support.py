"""What the browser tests share: Debian's chromium driven by Playwright, axe-core injected into
every page, screenshots at desktop and phone widths under the build folder, and a QR code drawn on
a page read back as a phone would (zbarimg, from Debian's zbar-tools)."""
import os
import pathlib
import shutil
import subprocess
import time

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from procedo_server import SRC

CHROMIUM = os.environ.get("PROCEDO_CHROMIUM", "/usr/bin/chromium")
AXE = SRC / "adapters" / "web" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = pathlib.Path(os.environ.get("PROCEDO_SCREENSHOTS_DIR",
                                    pathlib.Path(os.environ.get("PROCEDO_BIN", SRC / "build" / "bin")).parent
                                    / "web-screenshots"))
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


class Browser:
    """One browser context (its own cookies) with axe-core injected into every page: an init
    script is not subject to the page's Content-Security-Policy, so the policy stays as served,
    and any violation of it the browser reports fails the test."""

    def __init__(self, browser, width=1280):
        self.context = browser.new_context(viewport={"width": width, "height": 900}, locale="it-IT")
        self.context.add_init_script(path=str(AXE))
        self.page = self.context.new_page()
        self.csp_errors = []
        self.page.on("console", lambda m: self.csp_errors.append(m.text)
                     if "Content Security Policy" in m.text else None)
        # Each page load and each failed request, with the time: pytest shows them when a test
        # fails, so that a navigation that never came says whether the request left the browser
        # and what came back.
        self.page.on("response", lambda r: print(f"{time.monotonic():.3f} {r.status} {r.request.method} {r.url}")
                     if r.request.resource_type == "document" else None)
        self.page.on("request", lambda r: print(f"{time.monotonic():.3f} sent {r.method} {r.url}")
                     if r.resource_type == "document" else None)
        self.page.on("requestfailed", lambda r: print(f"{time.monotonic():.3f} failed {r.method} {r.url}: {r.failure}"))

    def click_to_go(self, selector):
        """Clicks what takes the page elsewhere (a link, a form's button), and makes sure the
        browser asked for the next page. Headless Chromium under load has been seen to drop such
        a click: no request left the browser (the server's access log shows nothing came, and the
        browser's own log no request) and the test waited for a page that was never asked for.
        A click that asked for nothing within 10 s is made once more, and said; one that asks for
        nothing twice fails. The click must ask for a page: one that does not is a test's error."""
        for attempt in (1, 2):
            clicked = False
            try:
                with self.page.expect_request(lambda r: r.is_navigation_request()
                                              and r.frame == self.page.main_frame, timeout=10_000):
                    self.page.click(selector)
                    clicked = True
                return
            except PlaywrightTimeoutError:
                if attempt == 2 or not clicked:
                    raise
                print(f"{time.monotonic():.3f} clicking {selector} asked for no page: clicking again")

    def check(self, name):
        """axe-core at WCAG 2.1 AA, no CSP report, and screenshots at desktop and 360 px."""
        result = self.page.evaluate("opts => axe.run(document, opts)",
                                    {"runOnly": {"type": "tag", "values": WCAG}})
        violations = [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]]
        assert violations == [], f"{name}: {violations}"
        assert self.csp_errors == [], self.csp_errors
        self.page.screenshot(path=str(SHOTS / f"{name}-desktop.png"), full_page=True)
        size = self.page.viewport_size
        self.page.set_viewport_size({"width": 360, "height": 800})
        assert self.page.evaluate("document.documentElement.scrollWidth") <= 360, f"{name} scrolls sideways at 360 px"
        self.page.screenshot(path=str(SHOTS / f"{name}-360.png"), full_page=True)
        self.page.set_viewport_size(size)

    def qr_text(self, selector, name):
        """The text of the one QR code drawn at `selector`, decoded from the pixels Chromium
        renders: a PNG screenshot of the element (kept as SHOTS/<name>.png) read by zbarimg, QR
        codes only, the data as encoded (no charset conversion). Fails, never skips, when zbarimg
        is missing: scripts/setup installs it."""
        zbarimg = shutil.which("zbarimg")
        if zbarimg is None:
            pytest.fail("zbarimg is not installed: the QR code cannot be decoded; install Debian's "
                        "zbar-tools (scripts/setup does)", pytrace=False)
        png = SHOTS / f"{name}.png"
        self.page.locator(selector).screenshot(path=str(png), type="png")
        r = subprocess.run([zbarimg, "--raw", "-q", "--nodbus", "-Sdisable", "-Sqrcode.enable", str(png)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, f"zbarimg read no QR code in {png} (exit {r.returncode}): {r.stderr}"
        symbols = r.stdout.splitlines()
        assert len(symbols) == 1, f"{png}: {len(symbols)} QR codes: {symbols}"
        return symbols[0]

    def csrf(self):
        return next(c["value"] for c in self.context.cookies() if c["name"] == "procedo_csrf")

    def post(self, path, form, under):
        """POSTs `form` to `path` on the server of the current page (whose path starts with
        `under`), with this context's cookies, without following the redirect."""
        return self.page.request.post(self.page.url.split(under)[0] + path, form=form,
                                      max_redirects=0)

    def close(self):
        self.context.close()
