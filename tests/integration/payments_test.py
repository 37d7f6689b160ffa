"""Payments through pagoPA, end to end: a real `procedo serve` and the GPD stand-in
(pagopa_standin.py), a separate process the engine talks to over real HTTP on loopback. The
engine publishes each debt position with the numbers it allocated in the log, recovers a create
whose answer was lost without a new IUV, records a permanent refusal, reads the receipts (the only
proof of payment) and applies each exactly once: a paid top-up credits the prepaid account once
under duplicate deliveries and repeated SIGKILLs of the server. A wrong amount, a payment of a
cancelled position and a receipt for a notice the engine never issued become anomalies
(payments_anomalies_test.py, with expiry).
"""
import json
import random
import subprocess
import time

from notify_support import AOSTA, FORLI, stream_events
from pagopa_support import GpdStandIn
from payments_support import (FORLI_ORG, ORG, START, create_position, prepaid_account, serve,
                              tick, types, until)
from procedo_server import BIN


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
