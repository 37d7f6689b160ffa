"""La tua pratica on line in a real Chromium (Debian's, driven by Playwright) against a real
`procedo serve` and a real SMTP server (aiosmtpd): the citizen follows the link of the start
message, logs in and reads the case; the office suspends it and the page says why; the survey
once; the opt-out; wrong passwords, the lockout, and bad input through the forms. axe-core checks
every page at WCAG 2.1 AA; screenshots at desktop and phone widths go under the build folder.
The server runs on a driven clock, so an expired session needs no waiting.
"""
import re

import pytest
from playwright.sync_api import sync_playwright

from browser_support import CHROMIUM, SHOTS, Browser
from notify_support import FORLI, SmtpServer, advance, notify_server, password_of, start_case


class Citizen(Browser):
    def post(self, path, form):
        return super().post(path, form, under="/pratica")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    smtp = SmtpServer().start()
    server = notify_server(tmp_path_factory.mktemp("web"), smtp, testing_driven_clock="true",
                           testing_clock_start="2026-11-23T08:00:00Z")
    base = f"http://127.0.0.1:{server.port}"
    server.env["PROCEDO_NOTIFY_BASE_URL"] = base
    server.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield server, smtp.box, browser, base
        browser.close()
    server.stop()
    smtp.stop()


def link_of(mail):
    return re.search(r"(http://127\.0\.0\.1:\d+/pratica\?\S+)", mail["body"]).group(1)


def events_of(server, stream):
    r = server.request("GET", f"/v1/streams/{stream}/events", token=server.token("admin", ""))
    return r.json()["events"] if r.status == 200 else []


def test_the_citizen_follows_the_link_and_reads_the_case(env):
    server, box, browser, base = env
    op = server.as_("operator", FORLI, "op1")
    start_case(op, 1, "FC-2026/101", "anna@example.it")
    mail = box.wait("anna@example.it", "Avvio della pratica FC-2026/101")
    c = Citizen(browser)
    response = c.page.goto(link_of(mail))
    assert response.status == 200
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert c.page.locator("html").get_attribute("lang") == "it"
    assert c.page.input_value("#codice") == "FC-2026/101"  # from the link
    assert c.page.inner_text("#ente-nome") == "Comune di Forlì"
    c.check("login")

    # Keyboard only: the skip link is the first stop, then the form.
    c.page.keyboard.press("Tab")
    assert c.page.evaluate("document.activeElement.textContent") == "Vai al contenuto principale"
    c.page.fill("#password", password_of(mail))
    c.page.keyboard.press("Enter")
    c.page.wait_for_url(f"{base}/pratica/caso")
    cookie = next(x for x in c.context.cookies() if x["name"] == "procedo_pratica")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    page = c.page
    assert page.locator("h1").inner_text() == "Pratica FC-2026/101"
    body = page.locator("main").inner_text()
    for text in ("Permesso di costruire", "Sportello Unico per l'Edilizia", "Ing. Maria Rossi",
                 "maria.rossi@provincia.example.it", "+39 0543 714111", "60 gg.",
                 "23/11/2026 alle 09:00", "Nessuna sospensione."):
        assert text in body, text
    assert page.inner_text("#stato") == "in corso"
    assert page.inner_text("#scadenza") == "22/01/2027"
    assert len(page.evaluate("document.documentElement.outerHTML").encode()) < 30 * 1024
    assert page.request.get(page.url).headers["cache-control"] == "no-store"
    c.check("case")

    # The office suspends it and writes a note with markup: the page shows both, the note as text.
    stream = f"case-{FORLI}-1"
    assert op.command(stream, "suspend_case", {"reason": "Manca il parere della Soprintendenza"}).status == 201
    assert op.command(stream, "add_note", {"text": "<script>alert('x')</script> <b>grassetto</b>"}).status == 201
    page.reload()
    assert page.inner_text("#stato") == "sospesa"
    suspension = page.inner_text("#sospensioni")
    assert "Sospensione dal 23/11/2026 alle 09:00, in corso. Motivo: Manca il parere della Soprintendenza" in suspension
    assert "<script>alert('x')</script> <b>grassetto</b>" in page.inner_text("#note")
    assert page.locator("#note script, #note b").count() == 0
    assert "il termine non decorre" in page.locator("main").inner_text()
    c.check("case-suspended")
    assert op.command(stream, "resume_case", {"reason": "Parere pervenuto"}).status == 201
    page.reload()
    assert page.inner_text("#stato") == "riattivata"
    assert "al 23/11/2026 alle 09:00. Motivo: Manca il parere della Soprintendenza. Ripresa: Parere pervenuto" \
        in page.inner_text("#sospensioni")

    # The survey: an empty answer is refused at its field, then answered once.
    page.click("text=Invia la risposta")
    assert page.inner_text("#voto-errore").startswith("Scegli un voto da 1")
    assert page.get_attribute("fieldset", "aria-describedby") == "voto-errore"
    c.check("survey-error")
    page.click("label[for=voto4]")
    page.fill("#commento", "Tutto chiaro <i>grazie</i>")
    page.click("text=Invia la risposta")
    page.wait_for_url(re.compile(r".*esito=questionario$"))
    assert "risposta al questionario è stata registrata" in page.inner_text("[role=status]")
    assert page.locator("#questionario-compilato").count() == 1 and page.locator("#voto4").count() == 0
    again = c.post("/pratica/questionario", {"csrf": c.csrf(), "voto": "5"})
    assert again.status == 303 and again.headers["location"].endswith("esito=questionario-gia-compilato")
    answers = [e for e in events_of(server, f"survey-{FORLI}-building_permit") if e["type"] == "survey.answered"]
    assert len(answers) == 1 and answers[0]["data"]["rating"] == 4

    # Opting out of messages: said on the page, recorded once.
    page.click("text=Non voglio più ricevere messaggi")
    page.wait_for_url(re.compile(r".*esito=rinuncia$"))
    assert page.locator("#messaggi-sospesi").count() == 1
    c.check("case-opted-out")
    assert server.request("GET", "/v1/citizen/case", headers={"Authorization": f"Bearer {cookie['value']}"}
                          ).json()["notifications"] == "opted_out"

    # Closed: the outcome and its reason, and the term met.
    assert op.command(stream, "close_case", {"outcome": "accepted", "reason": "Istanza conforme al <PRG>"}).status == 201
    page.reload()
    assert page.inner_text("#stato") == "chiusa"
    assert page.inner_text("#chiusura") == "Chiusa il 23/11/2026 alle 09:00 con esito accolta. Motivo: Istanza conforme al <PRG>"
    assert "Conclusa entro il termine." in page.locator("main").inner_text()
    c.check("case-closed")

    # A forged CSRF token changes nothing.
    before = len(events_of(server, f"citizen-{FORLI}-FC-2026@2F101"))
    forged = c.post("/pratica/rinuncia", {"csrf": "0" * 64})
    assert forged.status == 403 and "nulla è stato modificato" in forged.text()
    assert len(events_of(server, f"citizen-{FORLI}-FC-2026@2F101")) == before

    # The session ends after 30 minutes of the server's clock: back to the login, filled in.
    advance(server, 31 * 60)
    page.goto(f"{base}/pratica/caso")
    assert "/pratica?ente=comune-forli&codice=FC-2026%2F101&esito=sessione-scaduta" in page.url
    assert "La sessione è scaduta" in page.inner_text("[role=alert]")
    assert page.input_value("#codice") == "FC-2026/101"
    c.check("session-expired")
    c.close()


def test_wrong_passwords_bad_input_and_the_lockout_read_plainly(env):
    server, box, browser, base = env
    op = server.as_("operator", FORLI, "op1")
    start_case(op, 2, "FC-2026/102", "luca@example.it")
    mail = box.wait("luca@example.it", "Avvio della pratica FC-2026/102")
    c = Citizen(browser)
    page = c.page
    page.goto(link_of(mail))
    citizen_stream = f"citizen-{FORLI}-FC-2026@2F102"
    before = len(events_of(server, citizen_stream))

    # Empty fields: each message tied to its field, nothing recorded.
    page.fill("#codice", "")
    page.click("button:has-text('Accedi')")
    assert page.inner_text("#codice-errore") == "Inserisci il codice della pratica."
    assert page.get_attribute("#codice", "aria-describedby") == "codice-errore"
    assert page.inner_text("#password-errore") == "Inserisci la password."
    c.check("login-empty")
    # Too long, and markup in a field: refused or shown as text.
    long = c.post("/pratica/accesso", {"csrf": c.csrf(), "ente": FORLI, "codice": "X" * 65, "password": "p"})
    assert long.status == 400 and "ha al massimo 64 caratteri" in long.text()
    page.fill("#codice", "<script>alert(1)</script>")
    page.fill("#password", "qualcosa")
    page.click("button:has-text('Accedi')")
    assert page.input_value("#codice") == "<script>alert(1)</script>"
    assert "&lt;script&gt;" in page.content() and page.locator("main script").count() == 0
    # Another Comune in the URL: the case is not found there, whatever the password.
    page.goto(f"{base}/pratica?ente=comune-aosta&codice=FC-2026%2F102")
    page.fill("#password", password_of(mail))
    page.click("button:has-text('Accedi')")
    assert "Codice pratica o password non corretti" in page.inner_text("#password-errore")
    assert len(events_of(server, citizen_stream)) == before
    # The case page without a session goes back to the login.
    page.goto(f"{base}/pratica/caso")
    assert "esito=sessione-scaduta" in page.url

    # Wrong passwords (citizen.max_failures = 3 here), then the lockout in plain Italian.
    page.goto(link_of(mail))
    for _ in range(2):
        page.fill("#password", "sbagliata")
        page.click("button:has-text('Accedi')")
        assert page.inner_text("#password-errore").startswith("Codice pratica o password non corretti")
    c.check("login-wrong-password")
    page.fill("#password", "sbagliata")
    with page.expect_response(lambda r: r.url.endswith("/pratica/accesso")) as locked:
        page.click("button:has-text('Accedi')")
    assert locked.value.status == 429 and locked.value.headers["retry-after"] == "60"
    alert = page.inner_text("[role=alert]")
    assert alert.startswith("Hai inserito una password errata troppe volte")
    assert "bloccato per 1 minuto, fino alle" in alert and "contatta l'ufficio" in alert
    c.check("login-locked")
    # Even the right password waits; after the minute it opens the case.
    page.fill("#password", password_of(mail))
    page.click("button:has-text('Accedi')")
    assert "troppe volte" in page.inner_text("[role=alert]")
    advance(server, 61)
    page.fill("#password", password_of(mail))
    page.click("button:has-text('Accedi')")
    page.wait_for_url(f"{base}/pratica/caso")
    assert page.locator("h1").inner_text() == "Pratica FC-2026/102"
    c.close()


def test_assets_are_hashed_cached_and_only_those_needed(env):
    server, _, browser, base = env
    c = Citizen(browser)
    c.page.goto(f"{base}/pratica?ente={FORLI}")
    hrefs = c.page.eval_on_selector_all("link[rel=stylesheet]", "ls => ls.map(l => l.getAttribute('href'))")
    assert len(hrefs) == 3
    for href in hrefs:
        assert re.fullmatch(r"/static/[a-z-]+\.[0-9a-f]{16}\.css", href), href
        r = server.request("GET", href)
        assert r.status == 200 and r.headers["cache-control"] == "public, max-age=31536000, immutable"
    fonts = re.findall(r"url\((/static/[^)]+\.woff2)\)", server.request("GET", hrefs[1]).body)
    assert len(fonts) == 4 and all(server.request("GET", f).status == 200 for f in fonts)
    # The fonts load (they are used by the page), and nothing outside the hashed set is served.
    assert c.page.evaluate("document.fonts.check('16px \"Titillium Web\"')")
    assert server.request("GET", "/static/bootstrap-italia.min.css").status == 404
    assert server.request("GET", "/static/..%2Fpackage.json").status == 404
    c.check("login-no-code")
    # Without the link's Comune the login asks for it, and says so when it is missing.
    c.page.goto(f"{base}/pratica")
    c.page.fill("#codice", "FC-1")
    c.page.fill("#password", "x")
    c.page.click("button:has-text('Accedi')")
    assert c.page.inner_text("#ente-errore").startswith("Indica il codice dell'ente")
    assert c.page.get_attribute("#ente", "aria-describedby") == "ente-errore"
    c.check("login-no-comune")
    # An address under /pratica that is no page, or a form's address opened directly, answers
    # with a page in Italian, not with the API's JSON.
    for path in ("/pratica/nonesiste", "/pratica/accesso"):
        r = server.request("GET", path)
        assert r.status == 404 and r.headers["content-type"].startswith("text/html"), (path, r)
        assert "Pagina non trovata" in r.body and "content-security-policy" in r.headers
    c.page.goto(f"{base}/pratica/nonesiste")
    c.check("not-found")
    c.close()
