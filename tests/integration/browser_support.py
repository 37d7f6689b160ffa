"""What the browser tests share: Debian's chromium driven by Playwright, axe-core injected into
every page, and screenshots at desktop and phone widths under the build folder."""
import os
import pathlib

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

    def csrf(self):
        return next(c["value"] for c in self.context.cookies() if c["name"] == "procedo_csrf")

    def post(self, path, form, under):
        """POSTs `form` to `path` on the server of the current page (whose path starts with
        `under`), with this context's cookies, without following the redirect."""
        return self.page.request.post(self.page.url.split(under)[0] + path, form=form,
                                      max_redirects=0)

    def close(self):
        self.context.close()
