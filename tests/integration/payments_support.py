"""What the payments tests share: a `procedo serve` pointed at the GPD stand-in on a driven
clock, an admitted prepaid account, a debt position created by the office, and the driven clock's
ticks until something happens.
"""
import hashlib
import json

from notify_support import AOSTA, stream_events
from procedo_server import SRC, Server, wait_for

ORG = "00120100071"  # domain/payments/comune-aosta.json
FORLI_ORG = "00606620409"
START = "2026-11-02T08:00:00"


# The stream of the receipt RCPT-ELSEWHERE (domain::UnmatchedReceiptStream: a hash of its id).
UNMATCHED_ELSEWHERE = f"unmatched_receipt-{AOSTA}-" + hashlib.sha256(b"RCPT-ELSEWHERE").hexdigest()[:24]


def creditor_fiscal_code(tenant):
    """The Ente's fiscal code as its pagoPA settings give it (domain/payments/<tenant>.json)."""
    settings = json.loads((SRC / "domain" / "payments" / f"{tenant}.json").read_text())
    return settings["creditor"]["fiscal_code"]


def serve(tmp_path, gpd, **extra):
    settings = dict(testing_driven_clock="true", testing_clock_start=START + "Z",
                    pagopa_positions_url=gpd.positions_url, pagopa_receipts_url=gpd.receipts_url,
                    pagopa_subscription_key=gpd.key, pagopa_poll_seconds=60,
                    pagopa_retry_base_ms=1000, pagopa_timeout_ms=3000)
    settings.update(extra)
    return Server(tmp_path, **settings)


def prepaid_account(server, n):
    """A canteen position (prepaid in Aosta's catalogue), admitted by the office."""
    office = server.as_("operator", AOSTA, "olga")
    s = f"enrolment-{AOSTA}-pay-{n}"
    for cmd, payload in [
            ("start_enrolment", {
                "channel": "paper",
                "applicant": {"name": "Marta Rossi", "tax_code": "RSSMRT80A41A326X"},
                "beneficiary": {"name": f"Luca Rossi {n}", "tax_code": "RSSLCU15C10A326Y",
                                "birth_date": "2015-03-10"},
                "services": ["canteen"], "site": "primaria_saint_roch"}),
            ("complete_details", {"details": {"canteen": {"diet": "standard", "days_per_week": 5}}}),
            ("submit_enrolment", {}),
            ("rank_for_service", {"service": "canteen"}),
            ("admit_to_service", {"service": "canteen"})]:
        r = office.command(s, cmd, payload)
        assert r.status == 201, (cmd, r)
    return f"account-{AOSTA}-pay-{n}-canteen"


def create_position(server, stream, purpose, reference, cents, due="2026-12-31"):
    office = server.as_("operator", AOSTA, "olga")
    r = office.command(stream, "create_payment_position", {
        "purpose": purpose, "reference": reference, "description": "Ricarica mensa",
        "amount_cents": cents, "due_date": due,
        "debtor": {"type": "F", "fiscal_code": "RSSMRT80A41A326X", "name": "Marta Rossi"}})
    assert r.status == 201, r
    return [e for e in stream_events(server, stream) if e["type"] == "payment_position.created"][0]["data"]


def types(server, stream):
    return [e["type"] for e in stream_events(server, stream)]


def tick(server, seconds=61):
    """The poll interval passes on the server's driven clock."""
    r = server.request("POST", "/v1/testing/clock", body={"advance_seconds": seconds},
                       token=server.token("admin", ""))
    assert r.status == 200, r


def until(server, what, condition, timeout=30):
    def step():
        if condition():
            return True
        tick(server)
        return False
    wait_for(step, timeout, what, interval=0.2)
