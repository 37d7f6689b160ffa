"""The notifier and the citizen's access across failures, against a real `procedo serve` and a real
SMTP server: SIGKILL between sending and recording, the SMTP server down then up, restarts (the
notifier's checkpoint, the failed-login count), and SLA breaches reaching the offices of the
procedure catalogue on a driven clock (testing.driven_clock), once.
"""
import datetime
import json
import re

from notify_support import (BASE, CATALOGUE, DAY, FORLI, ROME, SmtpServer, advance, box_ids,
                            instant, login, message_id, notification_events, notify_server,
                            password_of, start_case, stream_events)
from procedo_server import wait_for


def test_sigkill_between_send_and_record_sends_no_new_message_id(tmp_path):
    smtp = SmtpServer().start()
    # The fault point exists only in the builds the tests run (PROCEDO_FAULT_POINTS).
    server = notify_server(tmp_path, smtp, testing_fault_points="notify.crash_after_send")
    server.start()
    try:
        event = start_case(server.as_("operator", FORLI, "op1"), 1, "K-1", "k@example.it")["events"][0]
        mid = message_id(event["id"], "email", "k@example.it")
        wait_for(lambda: server.proc.poll() is not None, 20, "the notifier to die right after sending")
        assert box_ids(smtp) == [mid]
        del server.env["PROCEDO_TESTING_FAULT_POINTS"]
        server.start()
        wait_for(lambda: notification_events(server, mid) == ["notification.sent"], 20, "the send recorded")
        # A resend after the crash may repeat the message, but never under a new Message-ID.
        assert set(box_ids(smtp)) == {mid}
    finally:
        server.stop()
        smtp.stop()


def test_smtp_down_then_up_delivers_once(tmp_path):
    smtp = SmtpServer()  # not started: connections are refused
    server = notify_server(tmp_path, smtp).start()
    try:
        event = start_case(server.as_("operator", FORLI, "op1"), 1, "D-1", "d@example.it")["events"][0]
        mid = message_id(event["id"], "email", "d@example.it")
        wait_for(lambda: notification_events(server, mid).count("notification.failed") >= 2, 20,
                 "two failed attempts")
        smtp.start()
        wait_for(lambda: "notification.sent" in notification_events(server, mid), 20, "delivery")
        assert box_ids(smtp) == [mid]
        failed = server.request("GET", f"/v1/streams/notification-{mid}/events",
                                token=server.token("admin", "")).json()["events"][0]["data"]
        assert failed["attempt"] == 1 and "retry_at" in failed and failed["error"]
    finally:
        server.stop()
        smtp.stop()


def test_failed_logins_and_owed_mail_survive_a_restart(tmp_path):
    smtp = SmtpServer().start()
    server = notify_server(tmp_path, smtp).start()
    try:
        op = server.as_("operator", FORLI, "op1")
        start_case(op, 1, "R-1", "r@example.it")
        right = password_of(smtp.box.wait("r@example.it", "Avvio"))
        assert login(server, "R-1", "wrong").status == 401
        assert login(server, "R-1", "wrong").status == 401
        server.stop()
        server.start()  # a counter in memory would start again from 0 here
        locked = login(server, "R-1", "wrong")
        assert locked.status == 429 and int(locked.headers["retry-after"]) == 60
        assert login(server, "R-1", right).status == 429
        types = [e["type"] for e in server.request("GET", f"/v1/streams/citizen-{FORLI}-R-1/events",
                                                   token=server.token("admin", "")).json()["events"]]
        assert types == ["citizen.credentials_issued", "citizen.login_failed", "citizen.login_failed",
                         "citizen.locked_out"]
        # The restarted notifier resumed from its checkpoint: the start message did not go again.
        start_case(op, 2, "R-2", "r2@example.it")
        smtp.box.wait("r2@example.it", "Avvio")
        assert len(smtp.box.find("r@example.it", "")) == 1
    finally:
        server.stop()
        smtp.stop()


def test_sla_breaches_reach_the_catalogue_office_once_on_a_driven_clock(tmp_path):
    smtp = SmtpServer().start()
    server = notify_server(tmp_path, smtp, testing_driven_clock="true").start()
    office = json.loads((CATALOGUE / "building_permit.json").read_text())["office"]
    helpdesk = json.loads((CATALOGUE / "helpdesk_ticket.json").read_text())["office"]
    try:
        assert server.request("POST", "/v1/testing/clock", {"advance_seconds": 1},
                              token=server.token("operator", FORLI, "op1")).status == 403
        op = server.as_("operator", FORLI, "op1")
        started = start_case(op, 1, "S-1", "citizen@example.it")["events"][0]
        l1 = server.as_("helpdesk_l1", FORLI, "hd1")
        opened = l1.command("ticket-comune-forli-7", "open_ticket", {
            "channel": "portal", "priority": "normal", "subject": "Accesso al portale",
            "contact": {"email": "user@example.it"}})
        assert opened.status == 201
        number = opened.json()["events"][0]["data"]["number"]  # what the office's mail names
        smtp.box.wait("citizen@example.it", "Avvio")
        # Time stands still: nothing is due, nothing goes to the offices.
        assert smtp.box.find(office["email"], "") == [] and smtp.box.find(helpdesk["email"], "") == []

        # 61 days on: the 60-day term of the case and the ticket's clocks are all past.
        advance(server, 61 * DAY)
        mail = smtp.box.wait(office["email"], "Sforamento")
        breach = next(e for e in stream_events(server, f"case-{FORLI}-1") if e["type"] == "sla.breached")
        assert mail["to"] == [office["email"]]
        assert mail["subject"] == "Sforamento del tempo previsto: pratica S-1"
        body = mail["body"]
        assert f"All'ufficio {office['name']}" in body
        assert "60 giorni di calendario" in body and 'orologio "term"' in body
        assert "la pratica S-1 (Permesso di costruire)" in body
        assert f"la scadenza era {breach['data']['deadline']}" in body
        assert f"{BASE}/pratica?ente={FORLI}&codice=S-1" in body
        # A term in calendar days ends with the 60th day after the start, local time (Rome).
        deadline = instant(breach["data"]["deadline"])
        start_day = instant(started["time"]).astimezone(ROME).date()
        assert deadline.astimezone(ROME).date() == start_day + datetime.timedelta(days=60)
        assert deadline.astimezone(ROME).time() == datetime.time(23, 59, 59, 999999)
        assert mail["message_id"].strip("<>").split("@")[0] == message_id(breach["id"], "email", office["email"])
        assert notification_events(server, message_id(breach["id"], "email", office["email"])) == ["notification.sent"]

        # The ticket's breaches go to the help desk's office from the catalogue, one per clock.
        tickets = wait_for(lambda: len(smtp.box.find(helpdesk["email"], f"ticket {number}")) >= 2 and
                           smtp.box.find(helpdesk["email"], f"ticket {number}"), 20, "the ticket's breaches")
        assert {re.search(r'orologio "(\w+)"', m["body"]).group(1) for m in tickets} == {"take_in_charge", "answer"}
        assert all("30 minuti lavorativi" in m["body"] or "5 giorni lavorativi" in m["body"] for m in tickets)

        # Once: a later mail proves the notifier went past the breaches, and none came twice,
        # neither now nor after a restart (a new run of the SLA timer and of the notifier).
        start_case(op, 2, "S-2", "second@example.it")
        smtp.box.wait("second@example.it", "Avvio")
        admin = server.token("admin", "")
        before = server.request("GET", "/v1/testing/clock", token=admin).json()["now"]
        assert server.request("GET", "/readyz").json()["clock"] == "driven"
        server.stop()
        server.start()
        # The driven clock resumes where the log left it, never back at the wall time 61 days
        # earlier: a day on, the second case is far from its term, and nothing fired before
        # fires again.
        after = server.request("GET", "/v1/testing/clock", token=admin).json()["now"]
        assert instant(after) >= instant(before) - datetime.timedelta(seconds=1), (before, after)
        advance(server, DAY)
        start_case(op, 3, "S-3", "third@example.it")
        smtp.box.wait("third@example.it", "Avvio")
        assert len(smtp.box.find(office["email"], "")) == 1
        assert len(smtp.box.find(helpdesk["email"], "")) == 2
        assert len(smtp.box.find("citizen@example.it", "")) == 1  # the citizen gets no breach mail
    finally:
        server.stop()
        smtp.stop()
