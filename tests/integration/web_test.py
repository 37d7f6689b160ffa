"""La tua pratica on line in a real Chromium (Debian's, driven by Playwright) against a real
`procedo serve` and a real SMTP server (aiosmtpd): the citizen follows the link of the start
message, logs in and reads the case; the office suspends it and the page says why; the survey
once; the opt-out; wrong passwords, the lockout, and bad input through the forms. A help-desk
requester follows the link of a ticket's message to its page, which shows the technician and the
times, and the pause while information is requested; a wrong key, another tenant's link or a
missing ticket all get the same 404. HEAD answers every page with GET's headers and no body.
axe-core checks every page at WCAG 2.1 AA; screenshots at desktop and phone widths go under the
build folder.
The server runs on a driven clock, so an expired session needs no waiting.
"""
import hashlib
import hmac
import os
import pathlib
import re
import socket
import urllib.parse

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
    c.click_to_go("text=Invia la risposta")
    assert page.inner_text("#voto-errore").startswith("Scegli un voto da 1")
    assert page.get_attribute("fieldset", "aria-describedby") == "voto-errore"
    c.check("survey-error")
    page.click("label[for=voto4]")
    page.fill("#commento", "Tutto chiaro <i>grazie</i>")
    c.click_to_go("text=Invia la risposta")
    page.wait_for_url(re.compile(r".*esito=questionario$"))
    assert "risposta al questionario è stata registrata" in page.inner_text("[role=status]")
    assert page.locator("#questionario-compilato").count() == 1 and page.locator("#voto4").count() == 0
    again = c.post("/pratica/questionario", {"csrf": c.csrf(), "voto": "5"})
    assert again.status == 303 and again.headers["location"].endswith("esito=questionario-gia-compilato")
    answers = [e for e in events_of(server, f"survey-{FORLI}-building_permit") if e["type"] == "survey.answered"]
    assert len(answers) == 1 and answers[0]["data"]["rating"] == 4

    # Opting out of messages: said on the page, recorded once.
    c.click_to_go("text=Non voglio più ricevere messaggi")
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
    c.click_to_go("button:has-text('Accedi')")
    assert page.inner_text("#codice-errore") == "Inserisci il codice della pratica."
    assert page.get_attribute("#codice", "aria-describedby") == "codice-errore"
    assert page.inner_text("#password-errore") == "Inserisci la password."
    c.check("login-empty")
    # Too long, and markup in a field: refused or shown as text.
    long = c.post("/pratica/accesso", {"csrf": c.csrf(), "ente": FORLI, "codice": "X" * 65, "password": "p"})
    assert long.status == 400 and "ha al massimo 64 caratteri" in long.text()
    page.fill("#codice", "<script>alert(1)</script>")
    page.fill("#password", "qualcosa")
    c.click_to_go("button:has-text('Accedi')")
    assert page.input_value("#codice") == "<script>alert(1)</script>"
    assert "&lt;script&gt;" in page.content() and page.locator("main script").count() == 0
    # Another Comune in the URL: the case is not found there, whatever the password.
    page.goto(f"{base}/pratica?ente=comune-aosta&codice=FC-2026%2F102")
    page.fill("#password", password_of(mail))
    c.click_to_go("button:has-text('Accedi')")
    assert "Codice pratica o password non corretti" in page.inner_text("#password-errore")
    assert len(events_of(server, citizen_stream)) == before
    # The case page without a session goes back to the login.
    page.goto(f"{base}/pratica/caso")
    assert "esito=sessione-scaduta" in page.url

    # Wrong passwords (citizen.max_failures = 3 here), then the lockout in plain Italian.
    page.goto(link_of(mail))
    for _ in range(2):
        page.fill("#password", "sbagliata")
        c.click_to_go("button:has-text('Accedi')")
        assert page.inner_text("#password-errore").startswith("Codice pratica o password non corretti")
    c.check("login-wrong-password")
    page.fill("#password", "sbagliata")
    with page.expect_response(lambda r: r.url.endswith("/pratica/accesso")) as locked:
        c.click_to_go("button:has-text('Accedi')")
    assert locked.value.status == 429 and locked.value.headers["retry-after"] == "60"
    alert = page.inner_text("[role=alert]")
    assert alert.startswith("Hai inserito una password errata troppe volte")
    assert "bloccato per 1 minuto, fino alle" in alert and "contatta l'ufficio" in alert
    c.check("login-locked")
    # Even the right password waits; after the minute it opens the case.
    page.fill("#password", password_of(mail))
    c.click_to_go("button:has-text('Accedi')")
    assert "troppe volte" in page.inner_text("[role=alert]")
    advance(server, 61)
    page.fill("#password", password_of(mail))
    c.click_to_go("button:has-text('Accedi')")
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
    c.click_to_go("button:has-text('Accedi')")
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


def ticket_link_of(mail):
    return re.search(r"(http://127\.0\.0\.1:\d+/ticket\?\S+)", mail["body"]).group(1)


def raw_head(server, path):
    """HEAD on the wire: the status line and headers, and whatever bytes follow them (none)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, rest


def test_the_requester_follows_the_ticket_link(env):
    server, box, browser, base = env
    # A Tuesday at 09:00 in Rome, inside the help desk's hours (the clock only moves forward).
    r = server.request("POST", "/v1/testing/clock", {"to": "2026-11-24T09:00:00+01:00"},
                       token=server.token("admin", ""))
    assert r.status == 200, r
    hd = server.as_("helpdesk_l1", FORLI, "hd1")
    stream = f"ticket-{FORLI}-1"
    assert hd.command(stream, "open_ticket", {
        "channel": "portal", "priority": "normal", "subject": "Non riesco ad allegare la planimetria",
        "description": "Il portale rifiuta il file <PDF> da 3 MB.",
        "contact": {"email": "ugo@example.it"}}).status == 201
    advance(server, 600)
    assert hd.command(stream, "take_in_charge", {"technician": "t7", "technician_name": "Paola Neri"}).status == 201
    # The number the server issued on opening is the one in the mail and on the page; the
    # acknowledgement and the taken-in-charge mail promise the times the page shows.
    ack = box.wait("ugo@example.it", "Ticket TCK-2026-000001 ricevuto")
    assert "Un tecnico la prenderà in carico entro il 24/11/2026 alle 09:30." in ack["body"], ack
    mail = box.wait("ugo@example.it", "Ticket TCK-2026-000001 preso in carico")
    assert "La risoluzione è prevista entro il 24/11/2026 alle 16:10." in mail["body"], mail
    link = ticket_link_of(mail)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert query["ente"] == [FORLI] and query["id"] == [stream]
    # The key is the one the secret derives for this tenant and ticket, not the stream id.
    secret = (server.data_dir / "notify-secret").read_bytes()
    want = hmac.new(secret, f"ticket-key|{FORLI}|{stream}".encode(), hashlib.sha256).hexdigest()[:32]
    assert query["chiave"] == [want]

    c = Citizen(browser)
    page = c.page
    response = page.goto(link)
    assert response.status == 200
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "same-origin"
    assert page.locator("h1").inner_text() == "Ticket TCK-2026-000001"
    assert page.inner_text("#numero") == "TCK-2026-000001"
    assert page.inner_text("#tecnico") == "Paola Neri"
    assert page.inner_text("#stato") == "in lavorazione"
    assert page.inner_text("#livello") == "primo livello"
    assert page.inner_text("#oggetto") == "Non riesco ad allegare la planimetria"
    # TP of the portal channel: 30 business minutes, met at 09:10; TR: 6 business hours from then.
    assert page.inner_text("#tempo-presa-in-carico") == \
        "Preso in carico il 24/11/2026 alle 09:10, entro il tempo previsto."
    assert page.inner_text("#tempo-risoluzione") == "Entro il 24/11/2026 alle 16:10."
    assert "Il portale rifiuta il file <PDF> da 3 MB." in page.inner_text("#messaggi")
    c.check("ticket")

    # The technician asks for information: the resolution clock stops and the page says so.
    advance(server, 50 * 60)
    assert hd.command(stream, "request_information",
                      {"question": "Quale browser usi? <b>Chrome</b> o <script>x()</script>"}).status == 201
    page.reload()
    assert page.inner_text("#stato") == "in attesa delle informazioni richieste"
    assert "il tempo di risoluzione è sospeso" in page.inner_text("#in-attesa")
    assert page.inner_text("#tempo-risoluzione") == (
        "Sospeso dal 24/11/2026 alle 10:00, in attesa delle informazioni richieste. Alla ripresa "
        "resteranno 5 ore e 10 minuti di orario di servizio. Prima della sospensione scadeva il "
        "24/11/2026 alle 16:10.")
    assert "Quale browser usi? <b>Chrome</b> o <script>x()</script>" in page.inner_text("#messaggi")
    assert page.locator("#messaggi b, #messaggi script").count() == 0
    c.check("ticket-paused")

    # HEAD: the headers GET sends, Content-Length included, and no body.
    path = link[len(base):]
    get = server.request("GET", path)
    status, head_headers, rest = raw_head(server, path)
    assert status == 200 and rest == b""
    assert int(head_headers["content-length"]) == len(get.body.encode())
    for name in ("content-type", "content-security-policy", "cache-control", "x-frame-options"):
        assert head_headers[name] == get.headers[name], name

    # A tampered key, another tenant's link, a ticket that does not exist (with the key the
    # secret would give it) and no key at all: one and the same 404 page.
    key = query["chiave"][0]
    tampered = key[:-1] + ("0" if key[-1] != "0" else "1")
    missing = f"ticket-{FORLI}-99"
    missing_key = hmac.new(secret, f"ticket-key|{FORLI}|{missing}".encode(), hashlib.sha256).hexdigest()[:32]
    wrong = [f"/ticket?ente={FORLI}&id={stream}&chiave={tampered}",
             f"/ticket?ente=comune-aosta&id={stream}&chiave={key}",
             f"/ticket?ente={FORLI}&id={missing}&chiave={missing_key}",
             f"/ticket?ente={FORLI}&id={stream}"]
    answers = [server.request("GET", p) for p in wrong]
    mains = [re.search(r"<main.*</main>", a.body, re.S).group(0) for a in answers]
    assert all(a.status == 404 for a in answers), answers
    assert len(set(mains)) == 1 and "Ticket non trovato" in mains[0] and "Paola" not in mains[0]
    assert all(a.headers["content-type"].startswith("text/html") for a in answers)
    status, _, rest = raw_head(server, wrong[0])
    assert status == 404 and rest == b""
    page.goto(base + wrong[0])
    c.check("ticket-not-found")
    c.close()


def test_head_answers_every_page_like_get(env):
    server, _, _, _ = env
    css = re.search(r'href="(/static/[^"]+\.css)"', server.request("GET", "/pratica").body).group(1)
    for path in ("/pratica", f"/pratica?ente={FORLI}&codice=FC-1", "/pratica/caso", "/pratica/nonesiste", css,
                 "/static/nonesiste.css"):
        get = server.request("GET", path)
        status, headers, rest = raw_head(server, path)
        assert status == get.status and rest == b"", path
        assert int(headers["content-length"]) == len(get.body.encode()), path
        assert headers["content-type"] == get.headers["content-type"], path
        assert headers.get("cache-control") == get.headers.get("cache-control"), path
