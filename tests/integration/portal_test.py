"""The citizens' portal of on-demand services (/servizi) in a real Chromium, against a real
`procedo serve` and a real OpenID provider standing in for SPID/CIE (npm oidc-provider with its
own login form; the identity it vouches for carries no role and no Ente). A mother signs in from
her Comune's page, finds her child's canteen position with its credit, consumption per month and
movements, and asks for a low-credit alert typed in euro; a wrong form is answered in Italian next
to its field and changes nothing. She applies on line in two steps, presents the application and
gets its summary with each service's number, date and time, which prints without the page's
header and forms; the office's decision shows on her list. Another citizen gets "not found" for her position, as for one
that does not exist; forged CSRF changes nothing; sign-out reaches the provider. axe-core and
screenshots (desktop, 360 px) on every page.
"""
import json
import re
import subprocess
import urllib.parse

import pytest
from playwright.sync_api import sync_playwright

from browser_support import CHROMIUM, SHOTS, Browser
from console_test import OIDC_DIR
from notify_support import AOSTA, stream_events
from procedo_server import Server, await_ready, free_port

SECRET = "segreto-del-portale-di-prova"
# As SPID and CIE vouch for them: a name and a fiscal code (the claim with its "TINIT-").
CITIZENS = {"marta": {"name": "Marta Rossi", "fiscal_number": "TINIT-RSSMRT80A41A326X"},
            "paolo": {"name": "Paolo Neri", "fiscal_number": "TINIT-NREPLA75B12A326W"}}


class NationalIdentity:
    """oidc-provider as its own process, with the portal as its client."""

    def __init__(self, tmp, base):
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        config = tmp / "spid.json"
        config.write_text(json.dumps({
            "port": self.port, "issuer": self.issuer, "accounts": CITIZENS,
            "clients": [{"client_id": "procedo-portale", "client_secret": SECRET,
                         "redirect_uris": [f"{base}/servizi/accesso/ritorno"],
                         "post_logout_redirect_uris": [f"{base}/servizi/accesso/uscito"]}]}))
        self.log = open(tmp / "spid.log", "w")
        self.proc = subprocess.Popen(["node", str(OIDC_DIR / "provider.mjs"), str(config)],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        await_ready(self.proc, tmp / "spid.log", "the national identity provider")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("portal")
    server = Server(tmp)
    idp = with_national_identity(server, tmp)
    base = f"http://127.0.0.1:{server.port}"
    server.start()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield server, browser, base
        browser.close()
    server.stop()
    idp.stop()


class Citizen(Browser):
    def sign_in(self, base, login, ente=AOSTA):
        self.page.goto(f"{base}/servizi")
        self.click_to_go(f"#enti a[href='/servizi?ente={ente}']")
        assert "Comune" in self.page.inner_text("#ente-scelto")
        self.check(f"portal-signin-{login}")
        self.click_to_go("#accedi")
        # The provider's page, loaded, or the portal when the provider remembers this browser.
        self.page.wait_for_url(re.compile(r".*/interaction/[^/?]+$|.*/servizi$"))
        if self.page.locator("input[name=login]").count():
            self.page.fill("input[name=login]", login)
            self.page.fill("input[name=password]", "qualunque")
            with self.page.expect_navigation():
                self.click_to_go("button[type=submit]")
            if "/interaction/" in self.page.url:
                with self.page.expect_navigation():
                    self.click_to_go("button[type=submit]")
        self.csp_errors.clear()  # the provider's pages are not ours
        assert self.page.url == f"{base}/servizi", self.page.url


def with_national_identity(server, tmp):
    """The portal's OpenID provider, as the portal of `server` (not started yet) is set to use it."""
    base = f"http://127.0.0.1:{server.port}"
    idp = NationalIdentity(tmp, base)
    server.env.update({"PROCEDO_NOTIFY_BASE_URL": base,
                       "PROCEDO_PORTAL_OIDC_ISSUER": idp.issuer,
                       "PROCEDO_PORTAL_OIDC_CLIENT_ID": "procedo-portale",
                       "PROCEDO_PORTAL_OIDC_CLIENT_SECRET": SECRET})
    return idp


def admitted_canteen(server, n, citizen):
    """An application the citizen made on line, ranked and admitted by the office; the
    position's stream, with a top-up and three meals recorded by the office."""
    me = server.as_("citizen", AOSTA, citizen)
    office = server.as_("operator", AOSTA, "olga")
    s = f"enrolment-{AOSTA}-portale-{n}"
    for who, cmd, payload in [
            (me, "start_enrolment", {
                "channel": "online",
                "applicant": {"name": "Marta Rossi", "tax_code": "RSSMRT80A41A326X"},
                "beneficiary": {"name": "Luca <b>Rossi</b>", "tax_code": "RSSLCU15C10A326Y",
                                "birth_date": "2015-03-10"},
                "services": ["canteen"], "site": "primaria_saint_roch"}),
            (me, "complete_details", {"details": {"canteen": {"diet": "standard",
                                                              "days_per_week": 5}}}),
            (me, "submit_enrolment", {}),
            (office, "rank_for_service", {"service": "canteen"}),
            (office, "admit_to_service", {"service": "canteen"})]:
        r = who.command(s, cmd, payload)
        assert r.status == 201, (cmd, r)
    account = f"account-{AOSTA}-portale-{n}-canteen"
    r = office.command(account, "top_up_account", {"movement_id": f"R-{n}", "amount_cents": 2000,
                                                   "date": "2026-11-02"})
    assert r.status == 201, r
    for day in (3, 4, 5):
        r = office.command(account, "record_usage", {"movement_id": f"P-{n}-{day}",
                                                     "date": f"2026-11-0{day}",
                                                     "site": "primaria_saint_roch"})
        assert r.status == 201, r
    # The pages read views: they have caught up with the last meal before anyone looks.
    seen = office.get(f"/v1/accounts/{account}", headers={"X-Min-Position": str(r.json()["position"])})
    assert seen.status == 200 and seen.json()["movements"] == 4, seen
    return account


def test_a_citizen_sees_her_childs_position_and_sets_a_low_credit_alert(env):
    server, browser, base = env
    account = admitted_canteen(server, 1, "marta")
    marta = Citizen(browser)
    marta.sign_in(base, "marta")
    assert "Marta Rossi" in marta.page.inner_text("#utente")
    rows = marta.page.locator("#posizioni tbody tr").all_inner_texts()
    assert len(rows) == 1 and "Luca <b>Rossi</b>" in rows[0], rows  # shown as text, escaped
    balance = 2000 - 3 * marta_meal_cents(server, account)
    assert euro(balance) in rows[0], (rows, balance)
    marta.check("portal-home")

    marta.click_to_go("#posizioni tbody a")
    assert marta.page.url.endswith(f"/servizi/posizioni/{account}")
    assert marta.page.inner_text("#credito") == euro(balance)
    assert "novembre 2026" in marta.page.inner_text("#consumi") and "3" in marta.page.inner_text("#consumi")
    moves = marta.page.locator("#movimenti tbody tr").all_inner_texts()
    assert len(moves) == 4 and "Ricarica" in moves[0] and "Consumo" in moves[1], moves
    assert "Non attivo" in marta.page.inner_text("#avviso-attuale")
    marta.check("portal-position")

    # A threshold that is no amount: refused next to its field, nothing recorded.
    before = len(stream_events(server, account))
    marta.page.click("label[for=set-low-credit-alert-channels-0]")  # the box is drawn on the label
    marta.page.fill("#set-low-credit-alert-threshold-cents", "cinque euro")
    marta.page.fill("#set-low-credit-alert-email", "marta@example.it")
    marta.click_to_go("#modulo-set_low_credit_alert button[type=submit]")
    assert marta.page.locator("#set-low-credit-alert-threshold-cents-errore").count() == 1
    assert len(stream_events(server, account)) == before
    marta.check("portal-position-error")

    marta.page.fill("#set-low-credit-alert-threshold-cents", "7,50")
    marta.click_to_go("#modulo-set_low_credit_alert button[type=submit]")
    assert "Fatto" in marta.page.inner_text("#esito")
    assert "sotto € 7,50" in marta.page.inner_text("#avviso-attuale")
    events = stream_events(server, account)
    assert events[-1]["type"] == "account.low_credit_alert_set"
    assert events[-1]["data"]["threshold_cents"] == 750 and events[-1]["actor"]["role"] == "citizen"

    # A forged form changes nothing.
    r = marta.post(f"/servizi/posizioni/{account}/avviso",
                   {"csrf": "falso", "f.channels.1": "sms", "f.phone": "3331234567"}, under="/servizi")
    assert r.status == 403
    assert len(stream_events(server, account)) == len(events)
    marta.close()


def test_another_citizen_finds_no_such_position(env):
    server, browser, base = env
    account = admitted_canteen(server, 2, "marta")
    paolo = Citizen(browser)
    paolo.sign_in(base, "paolo")
    assert paolo.page.locator("#nessuna-posizione").count() == 1
    mine = paolo.page.goto(f"{base}/servizi/posizioni/{account}")
    missing = paolo.page.goto(f"{base}/servizi/posizioni/account-{AOSTA}-nessuna-canteen")
    assert mine.status == missing.status == 404
    assert paolo.page.inner_text("h1") == "Pagina non trovata"
    paolo.check("portal-not-found")
    paolo.close()


def test_without_a_session_the_pages_lead_to_sign_in_and_sign_out_ends_it(env):
    server, browser, base = env
    anon = Citizen(browser)
    r = anon.page.goto(f"{base}/servizi/posizioni/account-{AOSTA}-portale-1-canteen")
    assert anon.page.url == f"{base}/servizi?esito=sessione-scaduta", anon.page.url
    assert "sessione" in anon.page.inner_text("[role=alert]")
    anon.sign_in(base, "marta")
    with anon.page.expect_navigation():
        anon.click_to_go("header form button[type=submit]")
    # Signed out here, and sent to sign out at the provider too, to come back to the portal.
    assert anon.page.url.startswith(f"{server.env['PROCEDO_PORTAL_OIDC_ISSUER']}/session/end"), anon.page.url
    assert "servizi%2Faccesso%2Fuscito" in anon.page.url
    r = anon.page.goto(f"{base}/servizi/posizioni/account-{AOSTA}-portale-1-canteen")
    assert "sessione-scaduta" in anon.page.url
    anon.close()


def test_a_citizen_applies_on_line_in_two_steps_and_keeps_the_summary(env):
    server, browser, base = env
    marta = Citizen(browser)
    marta.sign_in(base, "marta")
    marta.click_to_go("#nuova-domanda")
    assert marta.page.url == f"{base}/servizi/iscrizioni/nuova"
    # The channel is the portal's: never asked.
    assert marta.page.locator("#start-enrolment-channel").count() == 0
    assert marta.page.locator("label[for=start-enrolment-services-canteen]").inner_text() == "Mensa scolastica"
    marta.check("portal-new-enrolment")
    marta.page.fill("#start-enrolment-applicant-name", "Marta Rossi")
    marta.page.fill("#start-enrolment-applicant-tax-code", "RSSMRT80A41A326X")
    marta.page.fill("#start-enrolment-beneficiary-name", "Giulia Rossi")
    marta.page.fill("#start-enrolment-beneficiary-tax-code", "RSSGLI17C50A326Z")
    marta.page.fill("#start-enrolment-beneficiary-birth-date", "2017-03-10")
    marta.page.click("label[for=start-enrolment-services-nursery]")
    marta.page.select_option("#start-enrolment-site", "primaria_saint_roch")
    marta.click_to_go("#modulo-start_enrolment button[type=submit]")
    # The nursery is not given at a primary school: said at the site, nothing appended.
    assert "non offre «Asilo nido»" in marta.page.inner_text("#start-enrolment-site-errore")
    assert marta.page.is_checked("#start-enrolment-services-nursery")  # what was chosen stays
    marta.check("portal-new-enrolment-error")
    marta.page.click("label[for=start-enrolment-services-nursery]")
    marta.page.click("label[for=start-enrolment-services-canteen]")
    marta.click_to_go("#modulo-start_enrolment button[type=submit]")
    marta.page.wait_for_url(re.compile(r".*/servizi/iscrizioni/enrolment-comune-aosta-[0-9a-f]+\?esito=start_enrolment.*"))
    stream = urllib.parse.unquote(marta.page.url.split("/servizi/iscrizioni/")[1].split("?")[0])
    events = stream_events(server, stream)
    assert [e["type"] for e in events] == ["enrolment.started"]
    assert events[0]["data"]["channel"] == "online" and events[0]["actor"]["role"] == "citizen"
    assert marta.page.inner_text("#stato") == "in compilazione"

    # Step 2: the canteen's questions; a wrong answer is said at its field.
    marta.page.select_option("#complete-details-details-canteen-diet", "vegetarian")
    marta.page.fill("#complete-details-details-canteen-days-per-week", "9")
    marta.click_to_go("#modulo-complete_details button[type=submit]")
    assert "da 1 a 5" in marta.page.inner_text("#complete-details-details-canteen-days-per-week-errore")
    assert len(stream_events(server, stream)) == 1
    marta.check("portal-enrolment-details-error")
    marta.page.fill("#complete-details-details-canteen-days-per-week", "5")
    marta.click_to_go("#modulo-complete_details button[type=submit]")
    marta.page.wait_for_url(re.compile(r".*esito=complete_details.*"))
    marta.click_to_go("#modulo-submit_enrolment button[type=submit]")
    marta.page.wait_for_url(re.compile(r".*esito=submit_enrolment.*"))
    assert "presentata" in marta.page.inner_text("#esito")
    summary = marta.page.inner_text("#riepilogo")
    assert "Fruitore\nGiulia Rossi" in summary and "Plesso\nScuola primaria Saint-Roch" in summary
    assert re.search(r"Progressivo per «Mensa scolastica»\n[0-9]+", summary), summary
    assert re.search(r"Presentata il\n[0-9]{2}/[0-9]{2}/[0-9]{4} alle [0-9]{2}:[0-9]{2}", summary), summary
    assert marta.page.locator("form.command-form").count() == 0  # nothing left to send
    marta.check("portal-enrolment-summary")
    # Printed, the summary is all there is: no header, navigation or forms.
    marta.page.emulate_media(media="print")
    assert not marta.page.is_visible("header") and not marta.page.is_visible("nav")
    assert marta.page.is_visible("#riepilogo")
    marta.page.emulate_media(media="screen")

    # The office decides; her list says so.
    office = server.as_("operator", AOSTA, "olga")
    assert office.command(stream, "rank_for_service", {"service": "canteen"}).status == 201
    r = office.command(stream, "place_on_waiting_list", {"service": "canteen"})
    assert r.status == 201, r
    # The list is a view: asked to wait for the office's decision, it shows it.
    marta.page.goto(f"{base}/servizi?dopo={r.json()['position']}")
    rows = marta.page.locator("#domande tbody tr").all_inner_texts()
    mine = [r for r in rows if "Giulia Rossi" in r]
    assert len(mine) == 1 and "presentata" in mine[0] and "lista d'attesa" in mine[0], rows
    marta.close()

    # Another citizen: the application does not exist for her.
    paolo = Citizen(browser)
    paolo.sign_in(base, "paolo")
    assert paolo.page.goto(f"{base}/servizi/iscrizioni/{stream}").status == 404
    assert paolo.page.locator("#domande").count() == 0
    paolo.close()


def marta_meal_cents(server, account):
    r = server.as_("operator", AOSTA, "olga").get(f"/v1/accounts/{account}")
    assert r.status == 200, r
    return r.json()["usage_cents"] // 3


def euro(cents):
    whole = f"{abs(cents) // 100:,}".replace(",", ".")
    return f"€ {'-' if cents < 0 else ''}{whole},{abs(cents) % 100:02d}"
