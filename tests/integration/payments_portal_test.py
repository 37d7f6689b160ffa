"""Paying through pagoPA from the citizens' portal, in a real Chromium, against a real `procedo
serve`, the portal's real OpenID provider (portal_test.NationalIdentity) and the GPD stand-in
(pagopa_standin.py) over HTTP on loopback. A mother asks for a 20,00 € top-up of her child's
canteen credit: a wrong amount is refused next to its field with nothing appended; the right one
gives her the payment notice (the codice avviso in groups of four, her name and fiscal code, the
QR code, which zbarimg decodes from the rendered page to pagoPA's payload for her notice), which
prints without the portal's header and navigation. The engine publishes the position to the
stand-in, the stand-in is paid, the driven clock moves, and her position's page shows the payment
received and the credit. Another citizen gets "not found" for her notice and her account, as for
ones that do not exist; a forged CSRF token changes nothing. A father in Forlì, whose application
for the nursery owes its 30,00 € fee before he may submit it, asks for the fee's notice from the
application's page, pays it at the stand-in, and submits. axe-core and screenshots (desktop,
360 px) on every page. The console's side: payments_console_test.py.
"""
import re

import pytest
from playwright.sync_api import sync_playwright

from browser_support import CHROMIUM, SHOTS
from notify_support import AOSTA, FORLI, stream_events
from pagopa_support import GpdStandIn
from payments_support import FORLI_ORG, ORG, START, creditor_fiscal_code, serve, types, until
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
    marta.click_to_go("#modulo-ricarica button[type=submit]")
    assert "20,00" in marta.page.inner_text("#ricarica-importo-errore")
    assert marta.page.get_attribute("#ricarica-importo", "aria-invalid") == "true"
    assert marta.page.input_value("#ricarica-importo") == "venti euro"  # as typed
    assert positions_for(server, account) == [] and stream_events(server, account) == head
    marta.check("payments-top-up-error")

    typed = "20,00"
    marta.page.fill("#ricarica-importo", typed)
    marta.click_to_go("#modulo-ricarica button[type=submit]")
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
    marta.click_to_go("#pagamenti tbody a")
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
    marta.click_to_go("#pagamenti tbody a")
    assert marta.page.inner_text("#importo") == "15,00 €"
    marta.close()



def nursery_draft(server, citizen, n):
    """An application of the citizen's for Forlì's nursery, its details completed, not submitted:
    the catalogue asks 30,00 € with it."""
    me = server.as_("citizen", FORLI, citizen)
    s = f"enrolment-{FORLI}-quota-{n}"
    for cmd, payload in [
            ("start_enrolment", {
                "channel": "online",
                "applicant": {"name": "Marta Rossi", "tax_code": "RSSMRT80A41A326X"},
                "beneficiary": {"name": "Anna <i>Rossi</i>", "tax_code": "RSSNNA25C50D704Y",
                                "birth_date": "2025-03-10"},
                "services": ["nursery"], "site": "nido_il_girasole"}),
            ("complete_details", {"details": {"nursery": {
                "attendance": "full_time", "start_date": "2027-01-11",
                "both_parents_working": True}}})]:
        r = me.command(s, cmd, payload)
        assert r.status == 201, (cmd, r)
    return me, s


def test_a_citizen_pays_the_application_fee_from_her_application_then_submits(env):
    server, browser, base, gpd = env
    me, enrolment = nursery_draft(server, "marta", 1)
    refused = me.command(enrolment, "submit_enrolment", {})
    assert refused.status == 422 and refused.json()["guard"] == "application_fee_paid", refused

    marta = Citizen(browser)
    marta.sign_in(base, "marta", ente=FORLI)
    marta.page.goto(f"{base}/servizi/iscrizioni/{enrolment}")
    assert marta.page.inner_text("#quota-importo") == "30,00 €"
    assert marta.page.locator("#quota-avvisi").count() == 0
    marta.check("payments-fee-due")

    # A forged CSRF token asks for nothing.
    head = stream_events(server, enrolment)
    marta.page.evaluate("document.querySelector('#modulo-quota input[name=csrf]').value = 'falso'")
    marta.click_to_go("#modulo-quota button[type=submit]")
    assert positions_for_fee(server, enrolment) == [] and stream_events(server, enrolment) == head
    marta.page.goto(f"{base}/servizi/iscrizioni/{enrolment}")

    marta.click_to_go("#modulo-quota button[type=submit]")
    marta.page.wait_for_url(re.compile(rf".*/servizi/pagamenti/payment-{FORLI}-[0-9a-f]+\?esito=quota.*"))
    fee = marta.page.url.split("/servizi/pagamenti/")[1].split("?")[0]
    created = [e for e in stream_events(server, fee) if e["type"] == "payment_position.created"]
    assert len(created) == 1, created
    data = created[0]["data"]
    assert created[0]["actor"]["role"] == "citizen" and created[0]["actor"]["id"] == "marta"
    # The amount is the catalogue's, not the person's: she typed nothing.
    assert (data["purpose"], data["reference"], data["amount_cents"]) == ("enrolment_fee", enrolment, 3000)
    assert data["description"] == "Quota di iscrizione Asilo nido - Anna <i>Rossi</i>"
    assert "Fatto" in marta.page.inner_text("#esito")
    assert marta.page.inner_text("#importo") == "30,00 €"
    assert marta.page.inner_text("#ente-nome") == "Comune di Forlì"
    assert "<i>" in marta.page.inner_text("#avviso")  # shown as text, never as markup
    nav = data["notice_number"]
    assert marta.qr_text("svg.avviso-qr", "payments-fee-notice-qr") == f"PAGOPA|002|{nav}|{FORLI_ORG}|3000"
    marta.check("payments-fee-notice")

    # Back on the application: the notice is listed, and no second one is offered while it is
    # payable.
    marta.click_to_go(f"a[href='/servizi/iscrizioni/{enrolment}']")
    assert len(marta.page.locator("#quota-avvisi li").all()) == 1
    assert marta.page.locator("#modulo-quota").count() == 0
    marta.check("payments-fee-asked")

    until(server, "the fee's position published", lambda: "payment_position.published" in types(server, fee))
    gpd.pay(FORLI_ORG, nav=nav, receiptId="RCPT-QUOTA-1", paymentDateTime="2026-11-02T10:00:00")
    until(server, "the fee recorded on the application",
          lambda: "enrolment.application_fee_paid" in types(server, enrolment))
    paid = [e for e in stream_events(server, enrolment) if e["type"] == "enrolment.application_fee_paid"]
    assert len(paid) == 1 and paid[0]["data"] == {"fee_payment": fee, "fee_receipt_id": "RCPT-QUOTA-1",
                                                  "fee_paid_cents": 3000}, paid
    marta.page.goto(f"{base}/servizi/iscrizioni/{enrolment}?dopo={paid[0]['position']}")
    assert "30,00 €" in marta.page.inner_text("#quota-pagata")
    assert marta.page.locator("#quota-importo").count() == 0 and marta.page.locator("#modulo-quota").count() == 0
    marta.check("payments-fee-paid")
    marta.click_to_go("form[action$='/submit_enrolment'] button[type=submit]")
    marta.page.wait_for_url(re.compile(r".*esito=submit_enrolment.*"))
    assert "enrolment.submitted" in types(server, enrolment)

    # Paid and submitted: asking again is refused by the command, nothing appended.
    other = server.as_("citizen", FORLI, "marta").command(f"payment-{FORLI}-quota-again", "create_payment_position", {
        "purpose": "enrolment_fee", "reference": enrolment, "description": "Quota", "amount_cents": 3000,
        "due_date": "2026-12-31", "debtor": data["debtor"]})
    assert other.status == 400 and "owes no application fee" in other.json()["detail"], other


def test_another_citizen_cannot_ask_for_someone_elses_fee(env):
    server, browser, base, gpd = env
    _, enrolment = nursery_draft(server, "marta", 2)
    paolo = Citizen(browser)
    paolo.sign_in(base, "paolo", ente=FORLI)
    paolo.page.goto(f"{base}/servizi/iscrizioni/{enrolment}")
    assert paolo.page.locator("#quota").count() == 0
    # The form's POST with his own session: answered as for an application that does not exist.
    paolo.page.goto(f"{base}/servizi")
    csrf = paolo.page.evaluate("(document.querySelector('input[name=csrf]') || {}).value || ''")
    assert csrf
    for target in (enrolment, f"enrolment-{FORLI}-quota-99"):
        r = paolo.page.request.post(f"{base}/servizi/iscrizioni/{target}/quota",
                                    form={"csrf": csrf, "flusso": f"payment-{FORLI}-abcdef", "chiave": "k"})
        assert r.status == 404, (target, r.status)
    assert positions_for_fee(server, enrolment) == []


def positions_for_fee(server, enrolment):
    r = server.as_("operator", FORLI, "fabio").get(f"/v1/payments?reference={enrolment}",
                                                   headers={"X-Min-Position": str(2**62)})
    assert r.status == 200, r
    return [p["stream"] for p in r.json()["items"]]
