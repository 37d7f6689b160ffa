"""Payments through pagoPA, end to end: a real `procedo serve` and the GPD stand-in
(pagopa_standin.py), a separate process the engine talks to over real HTTP on loopback. The
engine publishes each debt position with the numbers it allocated in the log, recovers a create
whose answer was lost without a new IUV, records a permanent refusal, reads the receipts (the only
proof of payment) and applies each exactly once: a paid top-up credits the prepaid account once
under duplicate deliveries and repeated SIGKILLs of the server. A wrong amount, a payment of a
cancelled position and a receipt for a notice the engine never issued become anomalies; an
expired position cannot be paid at the platform and is recorded expired.
"""
import hashlib
import json
import random
import subprocess
import time

from notify_support import AOSTA, FORLI, stream_events
from pagopa_support import ControlError, GpdStandIn
from procedo_server import BIN, SRC, Server, wait_for

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


def test_top_up_paid_credits_the_account_once(tmp_path):
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp_path, gpd).start()
        try:
            account = prepaid_account(server, 1)
            pos = create_position(server, f"payment-{AOSTA}-1", "top_up", account, 2500)
            until(server, "the position published",
                  lambda: "payment_position.published" in types(server, f"payment-{AOSTA}-1"))
            stored = [p for p in gpd.state()["positions"] if p["iupd"] == pos["iupd"]]
            assert len(stored) == 1 and stored[0]["status"] == "VALID", stored
            option = stored[0]["paymentOption"][0]
            assert option["iuv"] == pos["iuv"] and option["nav"] == pos["notice_number"]
            assert option["amount"] == 2500
            # The key went on every call and no call went without it.
            assert all(c["headers"].get("Ocp-Apim-Subscription-Key") == "***" for c in gpd.calls())

            receipt = gpd.pay(ORG, nav=pos["notice_number"], receiptId="RCPT-1",
                              paymentDateTime="2026-11-03T09:00:00")
            gpd.duplicate_receipt(ORG, pos["iuv"], times=3, mode="same")
            until(server, "the account credited",
                  lambda: "account.topped_up" in types(server, account))
            for _ in range(3):
                tick(server)
            time.sleep(0.5)
            ups = [e for e in stream_events(server, account) if e["type"] == "account.topped_up"]
            assert len(ups) == 1, ups
            assert ups[0]["data"]["amount_cents"] == 2500
            assert ups[0]["data"]["movement_id"] == "pagopa:" + receipt["receiptId"]
            assert ups[0]["data"]["date"] == "2026-11-03"
            assert types(server, f"payment-{AOSTA}-1").count("payment_position.paid") == 1
            # The account's balance shows the credit.
            acc = server.as_("operator", AOSTA, "olga").get(f"/v1/accounts/{account}")
            assert acc.status == 200 and acc.json()["balance_cents"] == 2500, acc
            pos_row = server.as_("operator", AOSTA, "olga").get(f"/v1/payments/payment-{AOSTA}-1").json()
            assert pos_row["status"] == "paid" and pos_row["receipt_id"] == "RCPT-1", pos_row
            t = server.as_("operator", AOSTA, "olga").get(
                "/v1/payments/reconciliation?date=2026-11-02").json()["totals"]
            assert t["paid"] == {"count": 1, "cents": 2500} and t["received"] == t["paid"], t
            log = (tmp_path / "serve.log").read_text()
            assert gpd.key not in log
        finally:
            server.stop()


def test_lost_answer_and_refusals(tmp_path):
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp_path, gpd).start()
        try:
            account = prepaid_account(server, 2)
            # The create commits at pagoPA and the connection drops before the answer: the
            # engine reads it back by its IUPD and records it published, with no second IUV.
            gpd.fault("POST /organizations/*/debtpositions", mode="drop_after_commit")
            pos = create_position(server, f"payment-{AOSTA}-2", "top_up", account, 1000)
            until(server, "the position published after a lost answer",
                  lambda: "payment_position.published" in types(server, f"payment-{AOSTA}-2"))
            assert [p["iupd"] for p in gpd.state()["positions"]] == [pos["iupd"]]
            posts = gpd.calls("/debtpositions", method="POST")
            assert len(posts) == 1, posts  # the retry was a read, not a second create

            # Two 500s, then success: retried with backoff, published once.
            gpd.fault("POST /organizations/*/debtpositions", mode="status", status=500, times=2)
            create_position(server, f"payment-{AOSTA}-3", "top_up", account, 1000)
            until(server, "published after two 500s",
                  lambda: "payment_position.published" in types(server, f"payment-{AOSTA}-3"))

            # A 403 (the key not enabled for the Ente) is permanent: recorded, not retried.
            gpd.fault("POST /organizations/*/debtpositions", mode="status", status=403)
            create_position(server, f"payment-{AOSTA}-4", "top_up", account, 1000)
            until(server, "the refusal recorded",
                  lambda: "payment_position.publication_failed" in types(server, f"payment-{AOSTA}-4"))
            failed = [e for e in stream_events(server, f"payment-{AOSTA}-4")
                      if e["type"] == "payment_position.publication_failed"][0]["data"]
            assert failed["permanent"] is True and failed["http_status"] == 403
            before = len(gpd.calls("/debtpositions"))
            for _ in range(3):
                tick(server)
            assert len(gpd.calls("/debtpositions")) == before
        finally:
            server.stop()


def test_each_ente_reaches_its_own_station(tmp_path):
    """Aosta on the default connection, Forlì on base URLs and a key of its own (from a file): each
    position goes to its Ente's station with that station's key, each station's receipts come back,
    and neither key is written to the log."""
    with GpdStandIn(key="chiave-aosta", now=START) as aosta, \
            GpdStandIn(key="chiave-forli", now=START) as forli:
        key_file = tmp_path / "forli.key"
        key_file.write_text(forli.key + "\n")
        server = serve(tmp_path, aosta)
        server.config = tmp_path / "procedo.toml"
        server.config.write_text(
            "[pagopa.tenants.comune-forli]\n"
            f'positions_url = "{forli.positions_url}"\n'
            f'receipts_url = "{forli.receipts_url}"\n'
            f'subscription_key_file = "{key_file}"\n')
        server.start()
        try:
            account = prepaid_account(server, 11)
            in_aosta = create_position(server, f"payment-{AOSTA}-110", "top_up", account, 1500)
            office = server.as_("operator", FORLI, "fabio")
            r = office.command(f"payment-{FORLI}-110", "create_payment_position", {
                "purpose": "enrolment_fee", "reference": f"enrolment-{FORLI}-110",
                "description": "Quota di iscrizione al nido", "amount_cents": 3000,
                "due_date": "2026-12-31",
                "debtor": {"type": "F", "fiscal_code": "RSSMRT80A41A326X", "name": "Marta Rossi"}})
            assert r.status == 201, r
            in_forli = [e for e in stream_events(server, f"payment-{FORLI}-110")
                        if e["type"] == "payment_position.created"][0]["data"]
            until(server, "both published", lambda: all(
                "payment_position.published" in types(server, s)
                for s in (f"payment-{AOSTA}-110", f"payment-{FORLI}-110")))
            assert [p["iupd"] for p in aosta.state()["positions"]] == [in_aosta["iupd"]]
            assert [p["iupd"] for p in forli.state()["positions"]] == [in_forli["iupd"]]
            # Each station's receipt comes back to its own position.
            forli.pay(FORLI_ORG, nav=in_forli["notice_number"], receiptId="RCPT-FORLI-1")
            aosta.pay(ORG, nav=in_aosta["notice_number"], receiptId="RCPT-AOSTA-1")
            until(server, "both paid", lambda: all(
                "payment_position.paid" in types(server, s)
                for s in (f"payment-{AOSTA}-110", f"payment-{FORLI}-110")))
            log = (tmp_path / "serve.log").read_text()
            assert f"comune-forli at {forli.positions_url}" in log
            assert aosta.key not in log and forli.key not in log
        finally:
            server.stop()


def test_an_ente_s_own_station_half_set_or_unknown_stops_the_start(tmp_path):
    with GpdStandIn(now=START) as gpd:
        for n, (toml, said) in enumerate([
                ('[pagopa.tenants.comune-forli]\npositions_url = "http://127.0.0.1:9/gpd"\n'
                 'receipts_url = "http://127.0.0.1:9/r"\nsubscription_key_file = "/nonexistent/key"\n',
                 "pagopa.tenants.comune-forli.subscription_key_file '/nonexistent/key' cannot be read"),
                ('[pagopa.tenants.comune-torino]\npositions_url = "http://127.0.0.1:9/gpd"\n',
                 "pagopa.tenants.comune-torino is set, but comune-torino takes no payments"),
                ('[pagopa.tenants.comune-forli]\nposition_url = "http://127.0.0.1:9/gpd"\n',
                 "unknown key 'pagopa.tenants.comune-forli.position_url'")]):
            data = tmp_path / f"d{n}"
            data.mkdir()
            server = serve(data, gpd)
            server.config = data / "procedo.toml"
            server.config.write_text(toml)
            # A start that went through would serve until stopped: the timeout fails the test.
            out = subprocess.run([str(BIN), "--config", str(server.config), "serve"], env=server.env,
                                 capture_output=True, text=True, timeout=30)
            assert out.returncode != 0, out
            assert said in out.stdout + out.stderr, out


def test_a_refused_withdrawal_is_recorded_as_the_withdrawal_s(tmp_path):
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp_path, gpd).start()
        try:
            account = prepaid_account(server, 9)
            stream = f"payment-{AOSTA}-90"
            create_position(server, stream, "top_up", account, 1000)
            until(server, "published", lambda: "payment_position.published" in types(server, stream))
            # pagoPA refuses the invalidation for good (the key lost its rights meanwhile): the
            # failure is the withdrawal's, not a publication's, and it is not asked again.
            gpd.fault("POST /organizations/*/debtpositions/*/invalidate", mode="status", status=403)
            r = server.as_("operator", AOSTA, "olga").command(stream, "cancel_payment_position",
                                                              {"reason": "Ricarica annullata"})
            assert r.status == 201, r
            until(server, "the refused withdrawal recorded",
                  lambda: "payment_position.platform_call_failed" in types(server, stream))
            failed = [e["data"] for e in stream_events(server, stream)
                      if e["type"] == "payment_position.platform_call_failed"]
            assert len(failed) == 1, failed
            assert (failed[0]["call"], failed[0]["permanent"], failed[0]["http_status"]) == ("withdraw", True, 403)
            kinds = types(server, stream)
            assert "payment_position.publication_failed" not in kinds
            assert "payment_position.withdrawn" not in kinds
            before = len(gpd.calls("/invalidate"))
            for _ in range(3):
                tick(server)
            assert len(gpd.calls("/invalidate")) == before
            row = server.as_("operator", AOSTA, "olga").get(
                f"/v1/payments/{stream}", headers={"X-Min-Position": str(2**62)})
            assert row.status == 200 and row.json()["platform_failure"]["call"] == "withdraw", row
        finally:
            server.stop()


def test_anomalies_and_expiry(tmp_path):
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp_path, gpd).start()
        try:
            account = prepaid_account(server, 3)
            wrong = create_position(server, f"payment-{AOSTA}-5", "top_up", account, 3000)
            cancelled = create_position(server, f"payment-{AOSTA}-6", "top_up", account, 3000)
            until(server, "both published", lambda: all(
                "payment_position.published" in types(server, f"payment-{AOSTA}-{n}") for n in (5, 6)))
            # Paid with another amount: an anomaly, the account untouched.
            gpd.pay(ORG, nav=wrong["notice_number"], receiptId="RCPT-WRONG", amount="29.00")
            # Cancelled by the office, withdrawn from pagoPA; a payment that got through anyway
            # (made at the counter before the withdrawal reached it) is an anomaly too.
            gpd.pay(ORG, nav=cancelled["notice_number"], receiptId="RCPT-LATE")
            r = server.as_("operator", AOSTA, "olga").command(
                f"payment-{AOSTA}-6", "cancel_payment_position", {"reason": "Ricarica annullata"})
            assert r.status == 201, r
            # A receipt for a notice the engine never issued.
            other = {"iupd": ORG + "-elsewhere-1", "type": "F", "fiscalCode": "RSSMRT80A41A326X",
                     "fullName": "Marta Rossi", "companyName": "Comune di Aosta",
                     "switchToExpired": False,
                     "paymentOption": [{"iuv": "02999999999999929", "amount": 700,
                                        "description": "Altro", "isPartialPayment": False,
                                        "dueDate": "2026-12-31T22:59:59",
                                        "transfer": [{"idTransfer": "1", "amount": 700,
                                                      "remittanceInformation": "Altro",
                                                      "category": "9/0101100IM/",
                                                      "iban": "IT02A0306901211100000046123"}]}]}
            gpd.create_position(ORG, other)
            gpd.pay(ORG, iuv="02999999999999929", receiptId="RCPT-ELSEWHERE")
            until(server, "the anomalies recorded", lambda: (
                "payment.anomaly_recorded" in types(server, f"payment-{AOSTA}-5")
                and "payment.anomaly_recorded" in types(server, f"payment-{AOSTA}-6")
                and stream_events(server, UNMATCHED_ELSEWHERE)))
            kinds = {n: [e["data"]["kind"] for e in stream_events(server, f"payment-{AOSTA}-{n}")
                         if e["type"] == "payment.anomaly_recorded"] for n in (5, 6)}
            assert kinds == {5: ["amount_mismatch"], 6: ["position_cancelled"]}, kinds
            assert "account.topped_up" not in types(server, account)
            assert "payment_position.paid" not in types(server, f"payment-{AOSTA}-5")
            unmatched = [e for e in stream_events(server, UNMATCHED_ELSEWHERE)]
            assert [e["type"] for e in unmatched] == ["unmatched_receipt.recorded"], unmatched
            assert unmatched[0]["data"]["amount"] == "7.00"
            # Paid before its cancellation reached pagoPA: nothing to withdraw there.
            assert "payment_position.withdrawn" not in types(server, f"payment-{AOSTA}-6")

            # A cancelled position no one paid is withdrawn (invalidated) at pagoPA.
            gone = create_position(server, f"payment-{AOSTA}-8", "top_up", account, 800)
            until(server, "published", lambda: "payment_position.published" in types(server, f"payment-{AOSTA}-8"))
            r = server.as_("operator", AOSTA, "olga").command(
                f"payment-{AOSTA}-8", "cancel_payment_position", {"reason": "Errore"})
            assert r.status == 201, r
            until(server, "withdrawn", lambda: "payment_position.withdrawn" in types(server, f"payment-{AOSTA}-8"))
            stored = [p for p in gpd.state()["positions"] if p["iupd"] == gone["iupd"]]
            assert stored[0]["status"] == "INVALID", stored
            try:
                gpd.pay(ORG, nav=gone["notice_number"])
                raise AssertionError("the platform took a payment of a withdrawn position")
            except ControlError as e:
                assert e.status == 422, e

            # The day balances to the cent: what pagoPA received is what was applied plus what
            # waits for an operator.
            office = server.as_("operator", AOSTA, "olga")
            day = office.get("/v1/payments/reconciliation?date=2026-11-02")
            assert day.status == 200, day
            report = day.json()
            t = report["totals"]
            assert t["received"] == {"count": 3, "cents": 2900 + 3000 + 700}, t
            assert t["paid"] == {"count": 0, "cents": 0}
            assert t["anomaly"] == {"count": 2, "cents": 2900 + 3000}
            assert t["unmatched"] == {"count": 1, "cents": 700}
            assert t["created"] == {"count": 3, "cents": 3000 + 3000 + 800}
            assert t["cancelled"] == {"count": 2, "cents": 3000 + 800}
            assert report["balanced"] is True and report["held_cents"] == 6600
            csv = office.get("/v1/payments/reconciliation?date=2026-11-02&format=csv")
            assert csv.status == 200 and "RCPT-WRONG" in csv.body and ";29,00" in csv.body, csv
            open_ = office.get("/v1/payments/anomalies").json()["items"]
            assert sorted(a["kind"] for a in open_) == ["amount_mismatch", "position_cancelled", "unmatched"]
            # Settled by the office: it leaves the open list, its record stays.
            r = office.command(f"payment-{AOSTA}-5", "settle_payment_anomaly",
                               {"receipt_id": "RCPT-WRONG", "resolution": "Rimborsati 29,00 euro"})
            assert r.status == 201, r
            left = office.get("/v1/payments/anomalies", headers={"X-Min-Position": str(r.json()["position"])})
            assert sorted(a["kind"] for a in left.json()["items"]) == ["position_cancelled", "unmatched"]
            # Another Ente's staff see none of it, not even that the position exists.
            forli = server.as_("operator", FORLI, "fabio")
            assert forli.get(f"/v1/payments/payment-{AOSTA}-5").status == 404
            assert forli.get("/v1/payments/anomalies").json()["items"] == []
            assert server.as_("citizen", AOSTA, "marta").get("/v1/payments").status == 403
        finally:
            server.stop()


def test_expired_position_refuses_payment(tmp_path):
    # Forlì's settings make a position expire at its due date (pagoPA's switchToExpired).
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp_path, gpd).start()
        try:
            office = server.as_("operator", FORLI, "fabio")
            stream = f"payment-{FORLI}-1"
            r = office.command(stream, "create_payment_position", {
                "purpose": "enrolment_fee", "reference": f"enrolment-{FORLI}-1",
                "description": "Quota di iscrizione al nido", "amount_cents": 5000,
                "due_date": "2026-11-10",
                "debtor": {"type": "F", "fiscal_code": "BNCLCU80A01D704X", "name": "Lucia Bianchi"}})
            assert r.status == 201, r
            until(server, "published", lambda: "payment_position.published" in types(server, stream))
            pos = [e for e in stream_events(server, stream) if e["type"] == "payment_position.created"][0]["data"]
            # The day after the due date, in Rome: pagoPA refuses the payment, the engine
            # records the position expired.
            gpd.clock("2026-11-11T08:00:00")
            try:
                gpd.pay(FORLI_ORG, nav=pos["notice_number"], receiptId="RCPT-TOO-LATE")
                raise AssertionError("the platform took a payment of an expired position")
            except ControlError as e:
                assert e.status == 422, e
            r = server.request("POST", "/v1/testing/clock", body={"to": "2026-11-11T08:00:00Z"},
                               token=server.token("admin", ""))
            assert r.status == 200, r
            until(server, "the expiry recorded", lambda: "payment_position.expired" in types(server, stream))
            assert "payment_position.paid" not in types(server, stream)
        finally:
            server.stop()


def test_top_ups_credit_once_across_sigkills(tmp_path):
    rng = random.Random(7)
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp_path, gpd).start()
        accounts, positions = [], []
        try:
            for n in range(5):
                accounts.append(prepaid_account(server, 10 + n))
                positions.append(create_position(server, f"payment-{AOSTA}-{20 + n}", "top_up",
                                                 accounts[-1], 100 * (n + 1)))
            until(server, "all published", lambda: all(
                "payment_position.published" in types(server, f"payment-{AOSTA}-{20 + n}") for n in range(5)))
            for n, pos in enumerate(positions):
                gpd.pay(ORG, nav=pos["notice_number"], receiptId=f"RCPT-K{n}",
                        paymentDateTime="2026-11-04T10:00:00")
                gpd.duplicate_receipt(ORG, pos["iuv"], times=2, mode="same")
            # The receipts' reads are slow, so the kills land in the middle of the work; the list
            # comes in another order each time.
            gpd.fault("GET /payments/*/receipts/*", delay_ms=150, times=50)
            gpd.reorder(True, mode="shuffle", seed=3)
            for _ in range(4):
                tick(server)
                time.sleep(rng.uniform(0.05, 0.6))
                server.kill()
                server.stop()
                server.start()
            gpd.clear_faults()
            until(server, "every account credited", lambda: all(
                "account.topped_up" in types(server, a) for a in accounts), timeout=60)
            for _ in range(2):
                tick(server)
            time.sleep(0.5)
            for n, a in enumerate(accounts):
                ups = [e["data"] for e in stream_events(server, a) if e["type"] == "account.topped_up"]
                assert [(u["movement_id"], u["amount_cents"]) for u in ups] == [
                    (f"pagopa:RCPT-K{n}", 100 * (n + 1))], (a, ups)
                assert types(server, f"payment-{AOSTA}-{20 + n}").count("payment_position.paid") == 1
            assert server.cli("verify").returncode == 0
        finally:
            server.stop()


def test_application_fee_paid_then_enrolment_submitted(tmp_path):
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp_path, gpd).start()
        try:
            me = server.as_("citizen", FORLI, "lucia")
            office = server.as_("operator", FORLI, "fabio")
            enrolment = f"enrolment-{FORLI}-fee-1"
            for cmd, payload in [
                    ("start_enrolment", {
                        "channel": "online",
                        "applicant": {"name": "Lucia Bianchi", "tax_code": "BNCLCU80A41D704X"},
                        "beneficiary": {"name": "Marco Bianchi", "tax_code": "BNCMRC24C10D704Y",
                                        "birth_date": "2024-03-10"},
                        "services": ["nursery"], "site": "nido_il_girasole"}),
                    ("complete_details", {"details": {"nursery": {
                        "attendance": "full_time", "start_date": "2027-01-11",
                        "both_parents_working": True}}})]:
                r = me.command(enrolment, cmd, payload)
                assert r.status == 201, (cmd, r)
            # Forlì's nursery asks its fee with the application: not paid, not submitted.
            r = me.command(enrolment, "submit_enrolment", {})
            assert r.status == 422 and "application_fee_paid" in r.body, r
            stream = f"payment-{FORLI}-fee-1"
            r = office.command(stream, "create_payment_position", {
                "purpose": "enrolment_fee", "reference": enrolment,
                "description": "Quota di iscrizione al nido", "amount_cents": 3000,
                "due_date": "2026-12-31",
                "debtor": {"type": "F", "fiscal_code": "BNCLCU80A41D704X", "name": "Lucia Bianchi"}})
            assert r.status == 201, r
            until(server, "published", lambda: "payment_position.published" in types(server, stream))
            pos = [e for e in stream_events(server, stream) if e["type"] == "payment_position.created"][0]["data"]
            gpd.pay(FORLI_ORG, nav=pos["notice_number"], receiptId="RCPT-FEE-1")
            until(server, "the fee recorded on the enrolment",
                  lambda: "enrolment.application_fee_paid" in types(server, enrolment))
            fee = [e["data"] for e in stream_events(server, enrolment)
                   if e["type"] == "enrolment.application_fee_paid"]
            assert fee == [{"fee_payment": stream, "fee_receipt_id": "RCPT-FEE-1", "fee_paid_cents": 3000}]
            r = me.command(enrolment, "submit_enrolment", {})
            assert r.status == 201, r
        finally:
            server.stop()


def test_with_personal_data_sealed_the_debtor_reaches_pagopa_opened_and_is_sealed_here(tmp_path):
    """A server with a master key: the debtor of a position is sealed in its event, under the same
    subject as the application whose applicant has the same fiscal code, and pagoPA still gets the
    fiscal code and name it needs (opened at the client, as the notifier opens at its sender)."""
    key = tmp_path / "master.key"
    key.write_text("cd" * 32 + "\n")
    key.chmod(0o600)
    with GpdStandIn(now=START) as gpd:
        server = serve(tmp_path, gpd, personal_master_key_file=key).start()
        try:
            account = prepaid_account(server, 1)
            pos = create_position(server, f"payment-{AOSTA}-1", "top_up", account, 2500)
            assert pos["debtor"]["fiscal_code"].startswith("pd1.") and "Marta" not in json.dumps(pos)
            started = [e["data"] for e in stream_events(server, f"enrolment-{AOSTA}-pay-1")
                       if e["type"] == "enrolment.started"][0]
            assert started["applicant"]["subject"] == pos["debtor"]["subject"]
            until(server, "the position published",
                  lambda: "payment_position.published" in types(server, f"payment-{AOSTA}-1"))
            sent = [c["body"] for c in gpd.calls("/debtpositions", method="POST")]
            assert len(sent) == 1 and sent[0]["iupd"] == pos["iupd"], sent
            assert sent[0]["fiscalCode"] == "RSSMRT80A41A326X" and sent[0]["fullName"] == "Marta Rossi", sent
            gpd.pay(ORG, nav=pos["notice_number"], receiptId="RCPT-S", paymentDateTime="2026-11-03T09:00:00")
            until(server, "the account credited", lambda: "account.topped_up" in types(server, account))
            assert "RSSMRT80A41A326X" not in (tmp_path / "serve.log").read_text()
        finally:
            server.stop()
