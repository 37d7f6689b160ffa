"""Payments through pagoPA that go wrong, end to end against a real `procedo serve` and the GPD
stand-in: a wrong amount, a payment of a cancelled position and a receipt for a notice the engine
never issued become anomalies; an expired position cannot be paid at the platform and is recorded
expired.
"""
from notify_support import AOSTA, FORLI, stream_events
from pagopa_support import ControlError, GpdStandIn
from payments_support import (FORLI_ORG, ORG, START, UNMATCHED_ELSEWHERE, create_position,
                              prepaid_account, serve, types, until)


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
