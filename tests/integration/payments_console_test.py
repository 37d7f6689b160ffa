"""A debt position's payment notice in the staff console, in a real Chromium against a real
`procedo serve` and the organisation's OpenID provider (console_test.serve_console): the office
opens it from the position's page, its QR code decoded by zbarimg to pagoPA's payload; another
Ente's operator finds it does not exist, as one that does not. axe-core and screenshots (desktop,
360 px).
"""
import pytest

from console_test import Staff, serve_console
from notify_support import AOSTA
from payments_support import creditor_fiscal_code


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    yield from serve_console(tmp_path_factory)


def test_the_office_opens_a_positions_notice_from_the_console(console):
    server, browser, base = console
    stream = f"payment-{AOSTA}-sportello-1"
    cents = 102099
    r = server.as_("operator", AOSTA, "olga").command(stream, "create_payment_position", {
        "purpose": "enrolment_fee", "reference": f"enrolment-{AOSTA}-sportello-1",
        "description": "Quota di iscrizione al nido", "amount_cents": cents, "due_date": "2027-01-31",
        "debtor": {"type": "F", "fiscal_code": "BNCLCU80A01A326X", "name": "Lucia <i>Bianchi</i>"}})
    assert r.status == 201, r
    nav = r.json()["events"][0]["data"]["notice_number"]
    row = server.as_("operator", AOSTA, "olga").get(f"/v1/payments/{stream}",
                                                    headers={"X-Min-Position": str(r.json()["position"])})
    assert row.status == 200 and row.json()["notice_number"] == nav, row

    olga = Staff(browser)
    olga.sign_in(base, "olga")
    olga.page.goto(f"{base}/console/pratiche/{stream}")
    olga.click_to_go("#link-avviso")
    assert olga.page.url == f"{base}/console/pagamenti/{stream}/avviso", olga.page.url
    assert olga.page.inner_text("#codice-avviso") == " ".join(nav[i:i + 4] for i in range(0, 18, 4))
    assert olga.page.inner_text("#importo") == "1.020,99 €"
    assert olga.page.inner_text("#scadenza") == "31/01/2027"
    assert olga.page.inner_text("#destinatario-nome") == "Lucia <i>Bianchi</i>"  # as text
    assert olga.page.inner_text("#avviso-stato") == "in pubblicazione"
    # The QR code as Chromium draws it: pagoPA's payload for this notice and amount.
    assert olga.qr_text("svg.avviso-qr", "console-payment-notice-qr") == \
        f"PAGOPA|002|{nav}|{creditor_fiscal_code(AOSTA)}|{cents}"
    olga.check("console-payment-notice")
    olga.close()

    franco = Staff(browser)  # Forlì's operator
    franco.sign_in(base, "franco")
    other = franco.page.goto(f"{base}/console/pagamenti/{stream}/avviso")
    missing = franco.page.goto(f"{base}/console/pagamenti/payment-{AOSTA}-nessuno/avviso")
    assert other.status == missing.status == 404
    franco.close()
