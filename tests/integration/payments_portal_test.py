"""Paying through pagoPA from the citizens' portal, in a real Chromium, against a real `procedo
serve`, the portal's real OpenID provider (portal_test.NationalIdentity) and the GPD stand-in
(pagopa_standin.py) over HTTP on loopback. A mother asks for a 20,00 € top-up of her child's
canteen credit: a wrong amount is refused next to its field with nothing appended; the right one
gives her the payment notice (the codice avviso in groups of four, her name and fiscal code, the
QR code, which zbarimg decodes from the rendered page to pagoPA's payload for her notice), which
prints without the portal's header and navigation. The engine publishes the position to the
stand-in, the stand-in is paid, the driven clock moves, and her position's page shows the payment
received and the credit. Another citizen gets "not found" for her notice and her account, as for
ones that do not exist; a forged CSRF token changes nothing. axe-core and screenshots (desktop,
360 px) on every page. The console's side: payments_console_test.py.
"""
import re

import pytest
from playwright.sync_api import sync_playwright

from browser_support import CHROMIUM, SHOTS
from notify_support import AOSTA, stream_events
from pagopa_support import GpdStandIn
from payments_test import ORG, START, creditor_fiscal_code, serve, types, until
from portal_test import Citizen, admitted_canteen, euro, with_national_identity


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("payments-portal")
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp, gpd)
        idp = with_national_identity(server, tmp)
        base = f"http://127.0.0.1:{server.port}"
        server.start()
        SHOTS.mkdir(parents=True, exist_ok=True)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                yield server, browser, base, gpd
                browser.close()
        finally:
            server.stop()
            idp.stop()


def balance(server, account):
    r = server.as_("operator", AOSTA, "olga").get(f"/v1/accounts/{account}")
    assert r.status == 200, r
    return r.json()["balance_cents"]


def positions_for(server, account):
    """The debt positions for the account, as the office reads them (the payments view, caught
    up with the whole log: a position past its end waits for all of it)."""
    r = server.as_("operator", AOSTA, "olga").get(f"/v1/payments?reference={account}",
                                                  headers={"X-Min-Position": str(2**62)})
    assert r.status == 200, r
    return [p["stream"] for p in r.json()["items"]]


def test_a_citizen_tops_up_her_childs_credit_with_pagopa(env):
    server, browser, base, gpd = env
    account = admitted_canteen(server, 1, "marta")
    before = balance(server, account)

    marta = Citizen(browser)
    marta.sign_in(base, "marta")
    marta.page.goto(f"{base}/servizi/posizioni/{account}")
    assert marta.page.locator("#pagamenti").count() == 0  # nothing asked yet

    # An amount that is none: said at the field, nothing sent.
    head = stream_events(server, account)
    marta.page.fill("#ricarica-importo", "venti euro")
    marta.page.click("#modulo-ricarica button[type=submit]")
    assert "20,00" in marta.page.inner_text("#ricarica-importo-errore")
    assert marta.page.get_attribute("#ricarica-importo", "aria-invalid") == "true"
    assert marta.page.input_value("#ricarica-importo") == "venti euro"  # as typed
    assert positions_for(server, account) == [] and stream_events(server, account) == head
    marta.check("payments-top-up-error")

    typed = "20,00"
    marta.page.fill("#ricarica-importo", typed)
    marta.page.click("#modulo-ricarica button[type=submit]")
    marta.page.wait_for_url(re.compile(rf".*/servizi/pagamenti/payment-{AOSTA}-[0-9a-f]+\?esito=ricarica.*"))
    first = marta.page.url.split("/servizi/pagamenti/")[1].split("?")[0]
    assert positions_for(server, account) == [first]
    created = [e for e in stream_events(server, first) if e["type"] == "payment_position.created"]
    assert len(created) == 1, created
    data = created[0]["data"]
    assert created[0]["actor"]["role"] == "citizen" and created[0]["actor"]["id"] == "marta"
    assert (data["purpose"], data["reference"], data["amount_cents"]) == ("top_up", account, 2000)
    assert data["debtor"] == {"type": "F", "fiscal_code": "RSSMRT80A41A326X", "name": "Marta Rossi"}

    # The notice: pagoPA's content, the code in groups of four, the QR code drawn inline.
    nav = data["notice_number"]
    printed = " ".join(nav[i:i + 4] for i in range(0, 18, 4))
    assert "Fatto" in marta.page.inner_text("#esito")
    assert marta.page.inner_text("#codice-avviso") == printed
    assert marta.page.inner_text("#importo") == "20,00 €"
    assert re.fullmatch(r"[0-9]{2}/[0-9]{2}/2026", marta.page.inner_text("#scadenza"))
    assert marta.page.inner_text("#ente-nome") == "Comune di Aosta"
    assert marta.page.inner_text("#ente-codice-fiscale") == ORG
    assert marta.page.inner_text("#destinatario-nome") == "Marta Rossi"
    assert marta.page.inner_text("#destinatario-codice-fiscale") == "RSSMRT80A41A326X"
    assert marta.page.locator("svg.avviso-qr path").count() == 1
    assert marta.page.get_attribute("svg.avviso-qr", "viewBox") == "0 0 41 41"  # version 4
    # What a phone reads from the QR code as Chromium draws it: pagoPA's payload, with the notice
    # number the office reads for the position, the Ente's fiscal code from its pagoPA settings and
    # the amount she typed, in cents.
    euros, cents = typed.split(",")
    row = server.as_("operator", AOSTA, "olga").get(f"/v1/payments/{first}")
    assert row.status == 200, row
    office_nav = row.json()["notice_number"]
    assert office_nav == nav
    expected = f"PAGOPA|002|{office_nav}|{creditor_fiscal_code(AOSTA)}|{int(euros) * 100 + int(cents)}"
    assert marta.qr_text("svg.avviso-qr", "payments-notice-qr") == expected
    marta.check("payments-notice")
    # Printed: the notice alone, without the portal's header, navigation and links back.
    marta.page.emulate_media(media="print")
    assert not marta.page.is_visible("header") and not marta.page.is_visible("nav")
    assert marta.page.is_visible("#avviso") and marta.page.is_visible("svg.avviso-qr")
    marta.page.emulate_media(media="screen")

    # Published at pagoPA with the numbers the log gave it; paid there; the engine reads the
    # receipt as the driven clock moves and credits the account.
    until(server, "the position published", lambda: "payment_position.published" in types(server, first))
    stored = [p for p in gpd.state()["positions"] if p["iupd"] == data["iupd"]]
    assert len(stored) == 1 and stored[0]["paymentOption"][0]["nav"] == nav, stored
    gpd.pay(ORG, nav=nav, receiptId="RCPT-PORTALE-1", paymentDateTime="2026-11-02T09:00:00")
    # The office's own top-up is there already: this one is named after the receipt.
    def credited():
        return [e for e in stream_events(server, account) if e["type"] == "account.topped_up"
                and e["data"]["movement_id"] == "pagopa:RCPT-PORTALE-1"]
    until(server, "the account credited", credited)
    assert len(credited()) == 1 and credited()[0]["data"]["amount_cents"] == 2000

    marta.page.goto(f"{base}/servizi/posizioni/{account}?dopo={credited()[0]['position']}")
    assert marta.page.inner_text("#credito") == euro(before + 2000)
    rows = marta.page.locator("#pagamenti tbody tr").all_inner_texts()
    assert len(rows) == 1 and "pagata" in rows[0] and "20,00 €" in rows[0], rows
    marta.check("payments-position-paid")
    marta.page.click("#pagamenti tbody a")
    assert marta.page.inner_text("#avviso-stato") == "pagata"
    assert marta.page.locator("#avviso-pagato").count() == 1
    assert marta.page.locator("svg.avviso-qr").count() == 0  # nothing left to pay with
    marta.check("payments-notice-paid")

    # A forged form changes nothing.
    forged = f"payment-{AOSTA}-falso1"
    r = marta.post(f"/servizi/posizioni/{account}/ricarica",
                   {"csrf": "falso", "importo": "20,00", "flusso": forged, "chiave": "k"}, under="/servizi")
    assert r.status == 403
    assert stream_events(server, forged) == [] and positions_for(server, account) == [first]
    marta.close()


def test_another_citizen_finds_no_notice_and_cannot_top_up(env):
    server, browser, base, gpd = env
    account = admitted_canteen(server, 2, "marta")
    mine = f"payment-{AOSTA}-ufficio-2"
    r = server.as_("operator", AOSTA, "olga").command(mine, "create_payment_position", {
        "purpose": "top_up", "reference": account, "description": "Ricarica mensa",
        "amount_cents": 1500, "due_date": "2026-12-31",
        "debtor": {"type": "F", "fiscal_code": "RSSMRT80A41A326X", "name": "Marta Rossi"}})
    assert r.status == 201, r
    created_at = r.json()["position"]

    paolo = Citizen(browser)
    paolo.sign_in(base, "paolo")
    hers = paolo.page.goto(f"{base}/servizi/pagamenti/{mine}")
    assert paolo.page.inner_text("h1") == "Pagina non trovata"
    missing = paolo.page.goto(f"{base}/servizi/pagamenti/payment-{AOSTA}-nessuno")
    assert hers.status == missing.status == 404
    paolo.check("payments-notice-not-found")
    # Her account named in his own form: refused as one that does not exist, nothing appended.
    before = len(stream_events(server, account))
    his = f"payment-{AOSTA}-paolo1"
    r = paolo.post(f"/servizi/posizioni/{account}/ricarica",
                   {"csrf": paolo.csrf(), "importo": "20,00", "flusso": his, "chiave": "p"},
                   under="/servizi")
    assert r.status == 404
    assert stream_events(server, his) == [] and positions_for(server, account) == [mine]
    assert len(stream_events(server, account)) == before
    paolo.close()

    # Marta sees the office's position on her page and opens its notice.
    marta = Citizen(browser)
    marta.sign_in(base, "marta")
    marta.page.goto(f"{base}/servizi/posizioni/{account}?dopo={created_at}")
    rows = marta.page.locator("#pagamenti tbody tr").all_inner_texts()
    assert len(rows) == 1 and "15,00 €" in rows[0], rows
    marta.page.click("#pagamenti tbody a")
    assert marta.page.inner_text("#importo") == "15,00 €"
    marta.close()

