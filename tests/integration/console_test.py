"""The staff console in a real Chromium (Debian's, driven by Playwright) against a real
`procedo serve` and a real OpenID provider (npm oidc-provider, run by Node on loopback, with its
own login form): people sign in at the provider, land on the worklists of their role, start a case
and suspend it from forms generated from the workflow data, validate a heating-voucher
application and forward it, and the Region finds it in its worklist. Forged CSRF tokens, forged or
replayed callbacks, a profile without a valid role, another Comune's case and an expired session
are refused and change nothing. axe-core checks every console page at WCAG 2.1 AA; screenshots at
desktop and 360 px go under the build folder. The server runs on a driven clock that starts at
the real time (the provider's ID tokens carry real instants), so the session expires without
waiting.
"""
import datetime
import json
import re
import subprocess
import urllib.parse

import pytest
from playwright.sync_api import sync_playwright

from browser_support import CHROMIUM, SHOTS, Browser
from notify_support import AOSTA, FORLI, advance, stream_events
from procedo_server import SRC, Server, await_ready, free_port

OIDC_DIR = SRC / "tests" / "integration" / "oidc"
SECRET = "segreto-del-client-di-prova"
ACCOUNTS = {
    "olga": {"name": "Olga Operatrice", "role": "operator", "tenant": AOSTA},
    "rita": {"name": "Rita Responsabile", "role": "validator", "tenant": AOSTA},
    "regina": {"name": "Regina Regione", "role": "region", "tenant": "regione-vda"},
    "franco": {"name": "Franco di Forlì", "role": "operator", "tenant": FORLI},
    "tina": {"name": "Tina dell'Help desk", "role": "helpdesk_l1", "tenant": FORLI},
    "cuoco": {"name": "Carlo Cuoco", "role": "chef", "tenant": AOSTA},
    "ada": {"name": "Ada Amministratrice", "role": "admin", "tenant": FORLI},
}


class Provider:
    """oidc-provider as its own process: the organisation's identity provider."""

    def __init__(self, tmp, redirect_uri, post_logout_redirect_uri):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.config = tmp / "oidc.json"
        self.config.write_text(json.dumps({
            "port": self.port, "issuer": self.issuer, "accounts": ACCOUNTS,
            "clients": [{"client_id": "procedo-console", "client_secret": SECRET,
                         "redirect_uris": [redirect_uri],
                         "post_logout_redirect_uris": [post_logout_redirect_uri]}]}))
        self.log = open(tmp / "oidc.log", "w")
        self.proc = subprocess.Popen(["node", str(OIDC_DIR / "provider.mjs"), str(self.config)],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        await_ready(self.proc, tmp / "oidc.log", "the OpenID provider")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


def serve_console(tmp_path_factory, prepare=None):
    """A server, its provider and Chromium, for one test module (the last test of this one moves
    the server's clock past every session). `prepare(server, tmp)` runs before the server starts."""
    tmp = tmp_path_factory.mktemp("console")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    server = Server(tmp, testing_driven_clock="true", testing_clock_start=now)
    base = f"http://127.0.0.1:{server.port}"
    idp = Provider(tmp, f"{base}/console/accesso/ritorno", f"{base}/console/accesso/uscito")
    server.env.update({"PROCEDO_NOTIFY_BASE_URL": base, "PROCEDO_OIDC_ISSUER": idp.issuer,
                       "PROCEDO_OIDC_CLIENT_ID": "procedo-console",
                       "PROCEDO_OIDC_CLIENT_SECRET": SECRET,
                       "PROCEDO_OIDC_SCOPES": "openid profile procedo"})
    if prepare:
        prepare(server, tmp)
    server.start()
    server.idp = idp
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield server, browser, base
        browser.close()
    server.stop()
    idp.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    yield from serve_console(tmp_path_factory)


class Staff(Browser):
    def post(self, path, form):
        return super().post(path, form, under="/console")

    def sign_in(self, base, login):
        """At the provider's own login form, as a person would; back on the console's home."""
        self.page.goto(f"{base}/console/accesso")
        self.click_to_go("#accedi")
        self.at_provider(login)
        assert self.page.url == f"{base}/console", self.page.url

    def at_provider(self, login):
        """Signs in at the provider's login form (any password: it is a test provider) and
        confirms what it shares with the console, if it asks; the provider then sends the
        browser back to the console."""
        # Either the provider's page, loaded, or the console when the provider remembers this
        # browser's sign-in and sent it straight back: looking before either is there would see
        # a page still on its way.
        self.page.wait_for_url(re.compile(r".*/interaction/[^/?]+$|.*/console$"))
        if self.page.locator("input[name=login]").count() == 0:
            return
        self.page.fill("input[name=login]", login)
        self.page.fill("input[name=password]", "qualunque")
        with self.page.expect_navigation():
            self.click_to_go("button[type=submit]")
        if "/interaction/" in self.page.url:
            with self.page.expect_navigation():
                self.click_to_go("button[type=submit]")
        self.csp_errors.clear()  # the provider's pages are not ours

    def open_form(self, title):
        self.page.click(f"summary:has-text('{title}')")


def case_events(server, stream):
    return [e["type"] for e in stream_events(server, stream)]


def test_an_operator_signs_in_starts_a_case_and_suspends_it(env):
    server, browser, base = env
    op = Staff(browser)
    r = op.page.goto(f"{base}/console")
    assert op.page.url == f"{base}/console/accesso"
    headers = r.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    op.check("console-signin")

    op.sign_in(base, "olga")
    assert op.page.url == f"{base}/console"
    cookie = next(c for c in op.context.cookies() if c["name"] == "procedo_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"
    assert op.page.inner_text("#utente") == "Olga Operatrice"
    assert "Operatore · Comune di Aosta" in op.page.locator("header").inner_text()
    # The operator's lists (not the validator's, not the Region's) and what it may start.
    assert op.page.locator("#elenco-open_cases").count() == 1
    assert op.page.locator("#elenco-awaiting_validation").count() == 0
    assert op.page.locator("#elenco-forwarded_to_region").count() == 0
    starts = op.page.inner_text("#avvia")
    assert "Avvia la pratica" in starts and "Inserisci la domanda" in starts
    assert "Inserisci e valida la domanda" not in starts  # that one is the operator-validator's
    op.check("console-home-operator")

    op.click_to_go("text=Avvia la pratica")
    assert op.page.url == f"{base}/console/nuova/admin_case/start_case"
    assert op.page.locator("label[for=start-case-applicant-name]").inner_text() == "Nome e cognome (obbligatorio)"
    assert op.page.locator("#start-case-consent-email").get_attribute("type") == "checkbox"
    op.check("console-new-case")
    # Sent empty: each required field says so, nothing is appended.
    op.click_to_go("button:has-text('Avvia la pratica')")
    assert op.page.inner_text("#start-case-case-code-errore") == "Compila «Codice pratica»: è obbligatorio."
    assert op.page.inner_text("#start-case-applicant-name-errore") == "Compila «Nome e cognome»: è obbligatorio."
    assert op.page.get_attribute("#start-case-case-code", "aria-invalid") == "true"
    op.check("console-new-case-errors")
    # A malformed e-mail and an unknown procedure: the schema's and the guard's refusals, in Italian.
    op.page.fill("#start-case-procedure-id", "building_permit")
    op.page.fill("#start-case-case-code", "AO-2026/7")
    op.page.fill("#start-case-applicant-name", "Mario <b>Rossi</b>")
    op.page.fill("#start-case-applicant-email", "non-una-mail")
    op.click_to_go("button:has-text('Avvia la pratica')")
    assert "«E-mail» non ha il formato atteso" in op.page.inner_text("#start-case-applicant-email-errore")
    assert op.page.input_value("#start-case-case-code") == "AO-2026/7"  # what was typed stays
    op.page.fill("#start-case-applicant-email", "mario@example.it")
    op.page.fill("#start-case-procedure-id", "procedimento_inesistente")
    op.click_to_go("button:has-text('Avvia la pratica')")
    assert "non è nel catalogo" in op.page.inner_text("[role=alert]")
    op.page.fill("#start-case-procedure-id", "building_permit")
    op.page.click("label[for=start-case-consent-email]")  # Bootstrap Italia draws the box on the label
    op.click_to_go("button:has-text('Avvia la pratica')")
    op.page.wait_for_url(re.compile(r".*/console/pratiche/case-comune-aosta-[0-9a-f]+\?esito=start_case.*"))
    stream = urllib.parse.unquote(op.page.url.split("/console/pratiche/")[1].split("?")[0])
    assert "«Avvia la pratica» è stato registrato" in op.page.inner_text("#esito")
    assert op.page.inner_text("h1") == "Pratica AO-2026/7"
    assert op.page.inner_text("#stato") == "in corso"
    main = op.page.locator("main").inner_text()
    assert "Mario <b>Rossi</b>" in main and op.page.locator("main b").count() == 0  # escaped
    assert "Permesso di costruire" in main and "Scadenza del termine" in main
    assert "Avvio della pratica, olga (Operatore)" in op.page.inner_text("#cronologia")
    events = stream_events(server, stream)
    assert [e["type"] for e in events] == ["case.started"]
    assert events[0]["actor"]["id"] == "olga" and events[0]["data"]["consent"] == {"sms": False, "email": True}
    op.check("console-case")

    # Suspending: the reason is required, then the state and the timeline say it.
    op.open_form("Sospendi la pratica")
    op.click_to_go("#modulo-suspend_case button[type=submit]")
    assert op.page.inner_text("#suspend-case-reason-errore") == "Compila «Motivo»: è obbligatorio."
    assert op.page.locator("#modulo-suspend_case").is_visible()  # its details stay open
    op.check("console-case-form-error")
    op.page.fill("#suspend-case-reason", "Manca il parere della Soprintendenza")
    op.click_to_go("#modulo-suspend_case button[type=submit]")
    op.page.wait_for_url(re.compile(r".*esito=suspend_case.*"))
    assert op.page.inner_text("#stato") == "sospesa"
    assert "Sospensione, olga (Operatore). Manca il parere della Soprintendenza" in op.page.inner_text("#cronologia")
    assert op.page.locator("summary:has-text('Riattiva la pratica')").count() == 1
    assert op.page.locator("summary:has-text('Sospendi la pratica')").count() == 0
    op.check("console-case-suspended")
    assert case_events(server, stream) == ["case.started", "case.suspended"]

    # A forged CSRF token: 403, nothing appended.
    forged = op.post(f"/console/pratiche/{stream}/resume_case", {"csrf": "0" * 64, "f.reason": "x"})
    assert forged.status == 403 and "nulla è stato modificato" in forged.text()
    # A form sent again (the same idempotency key) runs once; a stale one is told why.
    token = op.csrf()
    assert case_events(server, stream) == ["case.started", "case.suspended"]
    stale = op.post(f"/console/pratiche/{stream}/add_note",
                    {"csrf": token, "versione": "1", "chiave": "k1", "f.text": "nota"})
    assert stale.status == 409 and "Qualcun altro ha modificato la pratica" in stale.text()
    assert case_events(server, stream) == ["case.started", "case.suspended"]

    # Another Comune's operator: the case does not exist for them, and cannot be acted on.
    other = Staff(browser)
    other.sign_in(base, "franco")
    r = other.page.goto(f"{base}/console/pratiche/{stream}")
    assert r.status == 404 and "Pratica non trovata" in other.page.inner_text("h1")
    other.check("console-not-found")
    refused = other.post(f"/console/pratiche/{stream}/resume_case",
                         {"csrf": other.csrf(), "f.reason": "Riattivo io"})
    assert refused.status == 404
    assert case_events(server, stream) == ["case.started", "case.suspended"]
    other.close()

    # Signing out ends the session on the server, whatever the browser keeps, and at the
    # provider too (RP-initiated logout), which asks to confirm and sends the browser back.
    op.click_to_go("header button:has-text('Esci')")
    op.page.wait_for_url(re.compile(re.escape(server.idp.issuer) + r"/session/end.*"))
    op.click_to_go("button[name=logout]")
    op.page.wait_for_url(f"{base}/console/accesso?esito=uscito")
    op.csp_errors.clear()  # the provider's pages are not ours
    assert "Sei uscito" in op.page.inner_text("[role=alert]")
    op.check("console-signed-out")
    op.context.add_cookies([{**cookie}])
    op.page.goto(f"{base}/console")
    assert op.page.url.startswith(f"{base}/console/accesso")
    # Signed out at the provider as well: the next sign-in asks for credentials again.
    op.click_to_go("#accedi")
    op.page.wait_for_url(re.compile(r".*/interaction/[^/?]+$|.*/console$"))
    assert op.page.locator("input[name=login]").count() == 1
    op.close()


def test_a_validator_forwards_an_application_and_the_region_sees_it(env):
    server, browser, base = env
    op = Staff(browser)
    op.sign_in(base, "olga")
    op.click_to_go("text=Inserisci la domanda")
    form = op.page
    form.fill("#enter-application-applicant-name", "Lucia Neri")
    form.fill("#enter-application-applicant-tax-code", "NRELCU80A41A326K")
    form.fill("#enter-application-address", "Via Festaz 10, Aosta")
    form.fill("#enter-application-household-members", "tre")
    form.select_option("#enter-application-fuel", "pellet")
    assert form.locator("#enter-application-fuel option[value=pellet]").inner_text() == "pellet"
    form.click("button:has-text('Inserisci la domanda')")
    assert form.inner_text("#enter-application-household-members-errore") == \
        "Scrivi in «Componenti del nucleo familiare» un numero intero da 1 a 30."
    op.check("console-new-voucher-errors")
    form.fill("#enter-application-household-members", "3")
    form.fill("#enter-application-isee", "12500,50")
    form.click("button:has-text('Inserisci la domanda')")
    form.wait_for_url(re.compile(r".*/console/pratiche/voucher-comune-aosta-.*"))
    stream = urllib.parse.unquote(form.url.split("/console/pratiche/")[1].split("?")[0])
    data = stream_events(server, stream)[0]["data"]
    assert data["household_members"] == 3 and data["isee"] == 12500.5 and data["fuel"] == "pellet"
    assert form.inner_text("#stato") == "inserita"
    assert form.locator("summary:has-text('Valida la domanda')").count() == 0  # not the operator's
    op.close()

    val = Staff(browser)
    val.sign_in(base, "rita")
    assert stream in val.page.locator("#elenco-awaiting_validation").inner_html()
    val.check("console-home-validator")
    val.click_to_go(f"#elenco-awaiting_validation a[href='/console/pratiche/{stream}']")
    val.open_form("Valida la domanda")
    val.check("console-voucher")
    val.click_to_go("#modulo-validate_application button[type=submit]")
    val.page.wait_for_url(re.compile(r".*esito=validate_application.*"))
    assert val.page.inner_text("#stato") == "validata"
    val.open_form("Invia alla Regione")
    val.click_to_go("#modulo-forward_to_region button[type=submit]")
    val.page.wait_for_url(re.compile(r".*esito=forward_to_region.*"))
    assert val.page.inner_text("#stato") == "inviata alla Regione"
    assert "Inviata a\nRegione Autonoma Valle d'Aosta" in val.page.locator("dl.facts").inner_text()
    val.close()

    region = Staff(browser)
    region.sign_in(base, "regina")
    listed = region.page.locator("#elenco-forwarded_to_region")
    assert stream in listed.inner_html() and "Lucia Neri" in listed.inner_text()
    assert region.page.locator("#elenco-forwarded_to_region th:has-text('Scadenza')").count() == 1
    region.check("console-home-region")
    region.click_to_go(f"#elenco-forwarded_to_region a[href='/console/pratiche/{stream}']")
    for title in ("Accogli la domanda", "Respingi la domanda", "Rinvia al Comune per correzioni"):
        assert region.page.locator(f"summary:has-text('{title}')").count() == 1
    region.open_form("Accogli la domanda")
    region.page.fill("#approve-application-amount", "350,50")
    region.check("console-region-application")
    region.click_to_go("#modulo-approve_application button[type=submit]")
    region.page.wait_for_url(re.compile(r".*esito=approve_application.*"))
    assert region.page.inner_text("#stato") == "accolta"
    assert stream_events(server, stream)[-1]["data"]["amount"] == 350.5
    region.close()


def archive_solved_ticket(server, subject, solution):
    """A ticket of Forlì taken through to the knowledge base over the API."""
    api = server.as_("helpdesk_l1", "comune-forli", "kb-seed")
    opened = server.request("POST", "/v1/tickets", {"channel": "portal", "priority": "normal", "subject": subject},
                            token=api.token)
    assert opened.status == 201, opened
    stream = opened.json()["stream"]
    for command, payload in [("take_in_charge", {"technician": "t-1", "technician_name": "Paola Neri"}),
                             ("resolve_ticket", {"solution": solution, "answered_by": "email"}),
                             ("close_ticket", {}), ("archive_ticket", {})]:
        r = api.command(stream, command, payload)
        assert r.status == 201, (command, r)
    return opened.json()["number"]


def test_the_help_desk_works_a_ticket_from_its_queue(env):
    server, browser, base = env
    solved = archive_solved_ticket(server, "Il portale rifiuta il PDF allegato",
                                   "Comprimere il PDF sotto i 20 MB e caricarlo di nuovo.")
    hd = Staff(browser)
    hd.sign_in(base, "tina")
    assert "Nessun ticket aperto." in hd.page.inner_text("#coda-ticket")
    hd.click_to_go("text=Apri un ticket")
    hd.page.select_option("#open-ticket-channel", "phone")
    hd.page.select_option("#open-ticket-priority", "high")
    hd.page.fill("#open-ticket-subject", "Il portale non accetta il PDF")
    hd.check("console-new-ticket")
    hd.click_to_go("button:has-text('Apri un ticket')")
    hd.page.wait_for_url(re.compile(r".*/console/pratiche/ticket-comune-forli-.*"))
    stream = urllib.parse.unquote(hd.page.url.split("/console/pratiche/")[1].split("?")[0])
    assert hd.page.inner_text("#stato") == "aperto"
    hd.page.goto(f"{base}/console")
    queue = hd.page.inner_text("#coda-ticket")
    assert "Il portale non accetta il PDF" in queue and "alta" in queue and "aperto" in queue
    assert stream in hd.page.locator("#elenco-tickets_to_take").inner_html()
    hd.check("console-home-helpdesk")

    hd.click_to_go(f"#coda-ticket a[href='/console/pratiche/{stream}']")
    hd.open_form("Prendi in carico")
    hd.page.fill("#take-in-charge-technician", "t-7")
    hd.page.fill("#take-in-charge-technician-name", "Tommaso Tecnico")
    hd.click_to_go("#modulo-take_in_charge button[type=submit]")
    hd.page.wait_for_url(re.compile(r".*esito=take_in_charge.*"))
    assert hd.page.inner_text("#stato") == "in lavorazione"
    assert "Tecnico\nTommaso Tecnico" in hd.page.locator("dl.facts").inner_text()
    # Taken in charge: the solved tickets most like it, from the knowledge base.
    similar = hd.page.inner_text("#simili")
    assert solved in similar and "Comprimere il PDF sotto i 20 MB" in similar, similar
    hd.check("console-ticket")
    # A reminder from the requester, recorded by the operator who took the call: the queue shows
    # it beside the ticket's number.
    hd.open_form("Registra un sollecito")
    hd.page.fill("#record-reminder-text", "Quando sarà risolto?")
    hd.click_to_go("#modulo-record_reminder button[type=submit]")
    hd.page.wait_for_url(re.compile(r".*esito=record_reminder.*"))
    hd.page.goto(f"{base}/console")
    cells = hd.page.locator("#coda-ticket tbody tr td").all_inner_texts()
    assert re.fullmatch(r"TCK-\d{4}-\d{6}", cells[0]) and cells[6:8] == ["1", "0"], cells
    hd.click_to_go(f"#coda-ticket a[href='/console/pratiche/{stream}']")
    hd.open_form("Risolvi")
    hd.page.fill("#resolve-ticket-solution", "Ridotta la dimensione del file: ora si carica.")
    hd.page.select_option("#resolve-ticket-answered-by", "email")
    hd.click_to_go("#modulo-resolve_ticket button[type=submit]")
    hd.page.wait_for_url(re.compile(r".*esito=resolve_ticket.*"))
    hd.open_form("Chiudi il ticket")
    hd.click_to_go("#modulo-close_ticket button[type=submit]")
    hd.page.wait_for_url(re.compile(r".*esito=close_ticket.*"))
    assert hd.page.inner_text("#stato") == "chiuso"
    assert case_events(server, stream) == ["ticket.opened", "ticket.taken_in_charge",
                                           "ticket.reminder_received", "ticket.resolved",
                                           "ticket.closed"]
    hd.page.goto(f"{base}/console")
    assert "Nessun ticket aperto." in hd.page.inner_text("#coda-ticket")
    hd.close()


def test_an_operator_enters_a_paper_enrolment_from_the_services_catalogue(env):
    """Seed 003: the office enters paper applications. Step 1 offers the Comune's services and
    sites (domain/services/comune-aosta.json), step 2 each chosen service's questions; the
    catalogue's refusals come back at their fields and append nothing."""
    server, browser, base = env
    op = Staff(browser)
    op.sign_in(base, "olga")
    op.click_to_go("text=Iscrivi ai servizi")
    assert op.page.url == f"{base}/console/nuova/service_enrolment/start_enrolment"
    assert op.page.locator("label[for=start-enrolment-services-canteen]").inner_text() == "Mensa scolastica"
    assert op.page.locator("#start-enrolment-services-nursery").get_attribute("type") == "checkbox"
    assert "Scuola primaria Saint-Roch" in op.page.inner_text("#start-enrolment-site")
    op.check("console-new-enrolment")
    op.page.select_option("#start-enrolment-channel", "paper")
    op.page.fill("#start-enrolment-applicant-name", "Carla Blanc")
    op.page.fill("#start-enrolment-applicant-tax-code", "BLNCRL80A41A326K")
    op.page.fill("#start-enrolment-beneficiary-name", "Luca Blanc")
    op.page.fill("#start-enrolment-beneficiary-tax-code", "BLNLCU15C10A326P")
    op.page.fill("#start-enrolment-beneficiary-birth-date", "2015-03-10")
    op.page.click("label[for=start-enrolment-services-canteen]")
    op.page.click("label[for=start-enrolment-services-nursery]")
    op.page.select_option("#start-enrolment-site", "primaria_saint_roch")
    op.click_to_go("button:has-text('Iscrivi ai servizi')")
    # The nursery is not given at a primary school: said at the site, nothing appended.
    assert "non offre «Asilo nido»" in op.page.inner_text("#start-enrolment-site-errore")
    assert op.page.get_attribute("#start-enrolment-site", "aria-invalid") == "true"
    assert op.page.is_checked("#start-enrolment-services-canteen")  # what was chosen stays
    op.check("console-new-enrolment-errors")
    op.page.click("label[for=start-enrolment-services-nursery]")
    op.page.click("label[for=start-enrolment-services-transport]")
    op.click_to_go("button:has-text('Iscrivi ai servizi')")
    op.page.wait_for_url(re.compile(r".*/console/pratiche/enrolment-comune-aosta-[0-9a-f]+\?esito=start_enrolment.*"))
    stream = urllib.parse.unquote(op.page.url.split("/console/pratiche/")[1].split("?")[0])
    events = stream_events(server, stream)
    assert [e["type"] for e in events] == ["enrolment.started"]
    assert events[0]["data"]["services"] == ["canteen", "transport"]
    assert events[0]["data"]["site"] == "primaria_saint_roch" and events[0]["data"]["channel"] == "paper"

    # Step 2: the two services' questions, under their names.
    op.page.click("summary:has-text(\"Completa l'iscrizione\")")
    assert op.page.locator("label[for=complete-details-details-canteen-diet]").inner_text() == \
        "Mensa scolastica: Dieta (obbligatorio)"
    assert "Stazione ferroviaria" in op.page.inner_text("#complete-details-details-transport-stop")
    op.page.select_option("#complete-details-details-canteen-diet", "vegetarian")
    op.page.fill("#complete-details-details-canteen-days-per-week", "9")
    op.page.select_option("#complete-details-details-transport-stop", "stazione")
    op.page.select_option("#complete-details-details-transport-trips", "both")
    op.click_to_go("#modulo-complete_details button[type=submit]")
    assert "da 1 a 5" in op.page.inner_text("#complete-details-details-canteen-days-per-week-errore")
    op.check("console-enrolment-details-error")
    assert case_events(server, stream) == ["enrolment.started"]
    op.page.fill("#complete-details-details-canteen-days-per-week", "5")
    op.click_to_go("#modulo-complete_details button[type=submit]")
    op.page.wait_for_url(re.compile(r".*esito=complete_details.*"))
    op.open_form("Presenta la domanda")
    op.click_to_go("#modulo-submit_enrolment button[type=submit]")
    op.page.wait_for_url(re.compile(r".*esito=submit_enrolment.*"))
    assert op.page.inner_text("#stato") == "presentata"
    assert "Domanda presentata, olga (Operatore)" in op.page.inner_text("#cronologia")
    # The summary handed to the applicant: services, site, each service's number, date and time.
    facts = op.page.locator("dl.facts").inner_text()
    assert "Servizi richiesti\nMensa scolastica, Trasporto scolastico" in facts
    assert "Plesso\nScuola primaria Saint-Roch" in facts
    assert re.search(r"Progressivo per «Mensa scolastica»\n[0-9]+", facts), facts
    assert re.search(r"Presentata il\n[0-9]{2}/[0-9]{2}/[0-9]{4} alle [0-9]{2}:[0-9]{2}", facts), facts
    op.check("console-enrolment-submitted")
    events = stream_events(server, stream)
    assert [e["type"] for e in events] == ["enrolment.started", "enrolment.details_completed",
                                           "enrolment.submitted"]
    assert events[1]["data"]["details"] == {"canteen": {"diet": "vegetarian", "days_per_week": 5},
                                            "transport": {"stop": "stazione", "trips": "both"}}
    assert set(events[2]["data"]["sequence_numbers"]) == {"canteen", "transport"}
    op.close()


def test_forged_replayed_and_refused_sign_ins(env):
    server, browser, base = env
    # A callback with a state this server never issued.
    b = Staff(browser)
    r = b.page.goto(f"{base}/console/accesso/ritorno?code=abc&state=inventato")
    assert r.status == 403 and "non corrisponde a un accesso avviato" in b.page.inner_text("main")
    b.check("console-signin-refused")

    # A sign-in's state taken to another browser (login CSRF): refused there, and spent.
    asked = []
    b.page.on("request", lambda req: asked.append(req.url))
    b.page.goto(f"{base}/console/accesso/avvia")
    state = next(urllib.parse.parse_qs(urllib.parse.urlparse(u).query)["state"][0]
                 for u in asked if "state=" in u)
    thief = Staff(browser)
    r = thief.page.goto(f"{base}/console/accesso/ritorno?code=abc&state={state}")
    assert r.status == 403 and "non corrisponde a un accesso avviato" in thief.page.inner_text("main")
    assert not any(c["name"] == "procedo_console" for c in thief.context.cookies())
    thief.close()
    b.at_provider("olga")  # the person's own sign-in then comes back with a spent state
    assert b.page.url.startswith(f"{base}/console/accesso/ritorno")
    assert "non corrisponde a un accesso avviato" in b.page.inner_text("main")
    assert not any(c["name"] == "procedo_console" for c in b.context.cookies())

    b.close()

    # A forged code with the right state: the provider's token endpoint refuses it.
    forger = Staff(browser)
    asked = []
    forger.page.on("request", lambda req: asked.append(req.url))
    forger.page.goto(f"{base}/console/accesso/avvia")
    state = next(urllib.parse.parse_qs(urllib.parse.urlparse(u).query)["state"][0]
                 for u in asked if "state=" in u)
    r = forger.page.goto(f"{base}/console/accesso/ritorno?code=manomesso&state={state}")
    assert r.status == 403 and "non ha confermato la tua identità" in forger.page.inner_text("main")
    assert not any(c["name"] == "procedo_console" for c in forger.context.cookies())
    forger.close()

    # A genuine callback used twice: the second time it is refused.
    again = Staff(browser)
    asked = []
    again.page.on("request", lambda req: asked.append(req.url))
    again.sign_in(base, "olga")
    callback = next(u for u in asked if "/console/accesso/ritorno" in u)
    r = again.page.goto(callback)
    assert r.status == 403 and "non corrisponde a un accesso avviato" in again.page.inner_text("main")
    again.close()

    # A person the provider knows, with a role this product does not: no session.
    chef = Staff(browser)
    chef.page.goto(f"{base}/console/accesso")
    chef.click_to_go("#accedi")
    chef.at_provider("cuoco")
    assert chef.page.url.startswith(f"{base}/console/accesso/ritorno")
    assert "non ha confermato la tua identità" in chef.page.inner_text("main")
    assert not any(c["name"] == "procedo_console" for c in chef.context.cookies())
    chef.close()


def test_the_session_expires_on_the_servers_clock(env):
    """Last: it moves the server's clock past the provider's tokens."""
    server, browser, base = env
    op = Staff(browser)
    op.sign_in(base, "olga")
    advance(server, 8 * 3600 - 60)
    assert op.page.goto(f"{base}/console").url == f"{base}/console"
    advance(server, 61)
    op.page.goto(f"{base}/console")
    assert op.page.url == f"{base}/console/accesso?esito=sessione-scaduta"
    assert "La sessione è scaduta" in op.page.inner_text("[role=alert]")
    op.check("console-session-expired")
    op.close()
