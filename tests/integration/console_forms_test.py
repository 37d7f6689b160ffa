"""A new procedure needs no new page: a procedure nobody wrote a page for (an expense claim with a
list of expenses, each with its own receipts, and named contacts) is added to a copy of the domain
as data only (a workflow file and its event's schema), and an operator enters it in a real
Chromium from the form the console generates: rows are added and removed by posting the form
(no JavaScript), Enter in a field sends the form rather than removing a row, a row's refusal is
said at the row's field with everything typed kept, and the event holds the lists as typed.
axe-core checks the pages at WCAG 2.1 AA."""
import json
import re
import shutil
import urllib.parse

import pytest

from console_test import Staff, serve_console
from notify_support import stream_events
from procedo_server import SRC

ROW = {"type": "object", "required": ["description", "amount_cents"], "additionalProperties": False,
       "properties": {
           "description": {"title": "Descrizione", "type": "string", "minLength": 1, "maxLength": 100},
           "amount_cents": {"title": "Importo in centesimi", "type": "integer", "minimum": 1},
           "receipts": {"title": "Ricevute", "type": "array", "items": {
               "type": "object", "required": ["number"], "additionalProperties": False,
               "properties": {"number": {"title": "Numero", "type": "string", "minLength": 1,
                                         "maxLength": 20}}}}}}
CLAIM = {
    "title": "Chiedi il rimborso", "type": "object", "required": ["subject", "expenses"],
    "additionalProperties": False,
    "properties": {
        "subject": {"title": "Oggetto", "type": "string", "minLength": 1, "maxLength": 200},
        "expenses": {"title": "Spese", "type": "array", "minItems": 1, "maxItems": 10, "items": ROW},
        "contacts": {"title": "Referenti", "type": "object", "additionalProperties": {
            "type": "object", "required": ["phone"], "additionalProperties": False,
            "properties": {"phone": {"title": "Telefono", "type": "string",
                                     "pattern": "^[0-9]{6,12}$"}}}}}}
WORKFLOW = {
    "id": "expense_claim", "version": 1, "stream_kind": "claim",
    "description": "An expense claim, added as data only.",
    "states": ["submitted"],
    "commands": {"submit_claim": {
        "initial": True, "to": "submitted", "roles": ["operator"], "payload": CLAIM,
        "events": [{"type": "claim.submitted", "copy": ["subject", "expenses", "contacts"]}]}}}
EVENT = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "claim.submitted",
         "type": "object", "required": ["subject", "expenses"], "additionalProperties": False,
         "properties": CLAIM["properties"]}


def add_procedure(server, tmp):
    """A copy of the domain and schemas with one more procedure, as files."""
    domain, schemas = tmp / "domain", tmp / "schemas"
    shutil.copytree(SRC / "domain", domain, ignore=shutil.ignore_patterns("*.cpp", "*.h", "*.in"))
    shutil.copytree(SRC / "schemas", schemas)
    (domain / "workflows" / "expense_claim.json").write_text(json.dumps(WORKFLOW, indent=2))
    (schemas / "events" / "claim.submitted.json").write_text(json.dumps(EVENT, indent=2))
    server.env.update({"PROCEDO_DOMAIN_DIR": str(domain), "PROCEDO_SCHEMAS_DIR": str(schemas)})


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    yield from serve_console(tmp_path_factory, prepare=add_procedure)


def test_a_procedure_added_as_data_is_entered_with_rows_in_its_generated_form(env):
    server, browser, base = env
    op = Staff(browser)
    op.sign_in(base, "olga")
    assert "Chiedi il rimborso" in op.page.inner_text("#avvia")
    op.click_to_go("text=Chiedi il rimborso")
    assert op.page.url == f"{base}/console/nuova/expense_claim/submit_claim"
    # One row to start from (the list needs at least one), with its own receipts' row.
    assert op.page.inner_text("#submit-claim-expenses legend >> nth=0") == "Spese (obbligatorio)"
    assert op.page.locator("#submit-claim-expenses-0-description").count() == 1
    assert op.page.locator("#submit-claim-expenses-1-description").count() == 0
    op.check("console-new-claim")

    op.page.fill("#submit-claim-subject", "Trasferta a Torino")
    op.page.fill("#submit-claim-expenses-0-description", "Treno")
    op.page.fill("#submit-claim-expenses-0-amount-cents", "2350")
    op.page.fill("#submit-claim-expenses-0-receipts-0-number", "R-1")
    op.click_to_go("button:has-text('Aggiungi a «Spese»')")
    # The same form again, one row more, what was typed kept; nothing sent.
    assert op.page.url == f"{base}/console/nuova/expense_claim/submit_claim"
    assert op.page.input_value("#submit-claim-expenses-0-description") == "Treno"
    assert op.page.input_value("#submit-claim-expenses-0-receipts-0-number") == "R-1"
    op.page.fill("#submit-claim-expenses-1-description", "Taxi <b>notturno</b>")
    op.page.fill("#submit-claim-expenses-1-amount-cents", "0")
    op.click_to_go("button:has-text('Aggiungi a «Spese»')")
    op.page.fill("#submit-claim-expenses-2-description", "Autobus")
    op.page.fill("#submit-claim-expenses-2-amount-cents", "450")
    op.page.fill("#submit-claim-contacts-0-chiave", "Ufficio")
    op.page.fill("#submit-claim-contacts-0-phone", "01 65")

    # Enter in a field sends the form (and does not remove a row): the refusals come back at the
    # rows' fields, escaped, with every row as typed.
    op.page.press("#submit-claim-subject", "Enter")
    op.page.wait_for_load_state()
    assert (op.page.inner_text("#submit-claim-expenses-1-amount-cents-errore")
            == "Scrivi in «Importo in centesimi» un numero intero non inferiore a 1.")
    assert "non ha il formato atteso" in op.page.inner_text("#submit-claim-contacts-0-phone-errore")
    assert op.page.get_attribute("#submit-claim-expenses-1-amount-cents", "aria-invalid") == "true"
    assert op.page.input_value("#submit-claim-expenses-1-description") == "Taxi <b>notturno</b>"
    assert op.page.locator("main b").count() == 0
    assert op.page.locator("#submit-claim-expenses-2-description").count() == 1
    op.check("console-new-claim-errors")

    # Removing the refused row moves the next one up.
    op.click_to_go("button:has-text('Rimuovi «Spese» 2')")
    assert op.page.input_value("#submit-claim-expenses-1-description") == "Autobus"
    assert op.page.locator("#submit-claim-expenses-2-description").count() == 0
    op.page.fill("#submit-claim-contacts-0-phone", "0165123456")
    op.click_to_go("#modulo-submit_claim button.btn-primary")
    op.page.wait_for_url(re.compile(r".*/console/pratiche/claim-comune-aosta-[0-9a-f]+\?esito=submit_claim.*"))
    stream = urllib.parse.unquote(op.page.url.split("/console/pratiche/")[1].split("?")[0])
    events = stream_events(server, stream)
    assert [e["type"] for e in events] == ["claim.submitted"]
    assert events[0]["data"] == {
        "subject": "Trasferta a Torino",
        "expenses": [{"description": "Treno", "amount_cents": 2350, "receipts": [{"number": "R-1"}]},
                     {"description": "Autobus", "amount_cents": 450}],
        "contacts": {"Ufficio": {"phone": "0165123456"}}}
    op.check("console-claim")


def test_row_buttons_with_a_forged_token_or_path_change_nothing(env):
    server, browser, base = env
    op = Staff(browser)
    op.sign_in(base, "olga")
    op.page.goto(f"{base}/console/nuova/expense_claim/submit_claim")
    form = {"csrf": op.csrf(), "f.subject": "x", "n.expenses": "1",
            "f.expenses.0.description": "Treno", "f.expenses.0.amount_cents": "100"}
    r = op.post("/console/nuova/expense_claim/submit_claim", {**form, "csrf": "falso", "aggiungi": "expenses"})
    assert r.status == 403
    # A button naming no list, or a row that is not there: the form again, nothing sent.
    for button in ({"aggiungi": "subject"}, {"rimuovi": "expenses.9"}, {"rimuovi": "../x"}):
        r = op.post("/console/nuova/expense_claim/submit_claim", {**form, **button})
        assert r.status == 200 and "Chiedi il rimborso" in r.text()
        assert 'name="f.expenses.0.description" value="Treno"' in r.text()
