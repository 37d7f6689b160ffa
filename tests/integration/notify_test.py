"""Seed 002 and the notifier against a real `procedo serve`, a real SMTP server (aiosmtpd on a free
loopback port) and a local HTTP sink standing in for the SMS gateway: every message's recipient,
subject, Italian text, link and reason; the citizen's login, lockout, resend, opt-out and survey;
SIGKILL between sending and recording; the SMTP server down, then up; restarts; SLA breaches to
the office on a driven clock (testing.driven_clock).
"""
import datetime
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import re
import threading
import urllib.parse
import zoneinfo

import pytest
from aiosmtpd.controller import Controller

from procedo_server import SRC, Server, free_port, wait_for

FORLI, AOSTA = "comune-forli", "comune-aosta"
BASE = "https://pratiche.example.it"
SMS_SECRET = "sms-test-secret"


class Mailbox:
    """aiosmtpd handler: every accepted message, parsed."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append({"to": list(envelope.rcpt_tos), "subject": str(msg["subject"]),
                                  "message_id": str(msg["message-id"]),
                                  "body": msg.get_content()})
        return "250 OK"

    def find(self, to, subject_part):
        with self.lock:
            return [m for m in self.messages if to in m["to"] and subject_part in m["subject"]]

    def wait(self, to, subject_part, timeout=20):
        return wait_for(lambda: self.find(to, subject_part), timeout, f"mail to {to}: {subject_part}")[0]


class SmtpServer:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.box = Mailbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


class SmsSink:
    """The SMS gateway: records each POST and checks its HMAC signature."""

    def __init__(self):
        self.received = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                want = "sha256=" + hmac.new(SMS_SECRET.encode(), body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, self.headers.get("X-Signature", ""))
                sink.received.append({"json": json.loads(body), "signature_ok": ok,
                                      "key": self.headers.get("Idempotency-Key")})
                self.send_response(202 if ok else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/sms"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, to, text_part, timeout=20):
        return wait_for(lambda: [s for s in self.received if s["json"]["to"] == to
                                 and text_part in s["json"]["text"]], timeout, f"SMS {text_part}")[0]


def notify_server(tmp, smtp, sms=None, **extra):
    settings = dict(notify_smtp_host="127.0.0.1", notify_smtp_port=smtp.port, notify_base_url=BASE,
                    notify_retry_base_ms=200, notify_retry_max_ms=1000, notify_timeout_ms=3000,
                    citizen_max_failures=3, citizen_lockout_seconds=60)
    if sms:
        settings.update(notify_sms_url=sms.url, notify_sms_secret=SMS_SECRET)
    settings.update(extra)
    return Server(tmp, **settings)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    smtp = SmtpServer().start()
    sms = SmsSink()
    server = notify_server(tmp_path_factory.mktemp("notify"), smtp, sms).start()
    yield server, smtp.box, sms
    server.stop()
    smtp.stop()
    sms.httpd.shutdown()


def start_case(op, n, code, email_addr="mario@example.it", mobile=None, consent=True):
    applicant = {"name": "Mario Bianchi", "email": email_addr}
    if mobile:
        applicant["mobile"] = mobile
    r = op.command(f"case-{FORLI}-{n}", "start_case", {
        "procedure_id": "building_permit", "case_code": code, "subject": "Ampliamento fabbricato",
        "applicant": applicant, "consent": {"sms": bool(mobile) and consent, "email": consent}})
    assert r.status == 201, r
    return r.json()


def password_of(mail):
    return re.search(r"Password: (\S+)", mail["body"]).group(1)


def login(server, code, password):
    return server.request("POST", "/v1/citizen/login", {"case_code": code, "password": password})


def citizen_get(server, token, path="/v1/citizen/case"):
    return server.request("GET", path, headers={"Authorization": "Bearer " + token})


def test_every_change_of_a_case_reaches_the_citizen(env):
    server, box, sms = env
    op = server.as_("operator", FORLI, "op1")
    start_case(op, 1, "FC-2026/001", "anna@example.it", "+39 333 1234567")
    stream = f"case-{FORLI}-1"
    started = box.wait("anna@example.it", "Avvio della pratica FC-2026/001")
    assert "Permesso di costruire" in started["subject"]
    assert "è stata avviata" in started["body"]
    assert "Ing. Maria Rossi" in started["body"] and "Sportello Unico per l'Edilizia" in started["body"]
    assert f"{BASE}/pratica?codice=FC-2026%2F001" in started["body"]
    assert re.fullmatch(r"<[0-9a-f]{32}@procedo\.local>", started["message_id"])
    text = sms.wait("+39 333 1234567", "avviata")
    assert text["signature_ok"] and re.fullmatch(r"[0-9a-f]{32}", text["key"])
    assert password_of(started) in text["json"]["text"]

    steps = [("suspend_case", {"reason": "Manca il parere della Soprintendenza"}, "Sospensione", "sospesa"),
             ("resume_case", {"reason": "Parere pervenuto"}, "Riattivazione", "riattivata"),
             ("request_integration", {"reason": "Allegare la planimetria catastale",
                                      "documents": ["Planimetria catastale", "Visura"]},
              "Richiesta di integrazione", "integrazione"),
             ("receive_integration", {}, None, None),
             ("close_case", {"outcome": "accepted", "reason": "Istanza conforme"}, "Chiusura", "chiusa")]
    for command, payload, subject, sms_word in steps:
        assert op.command(stream, command, payload).status == 201
        if subject:
            mail = box.wait("anna@example.it", subject)
            assert payload["reason"] in mail["body"] and f"{BASE}/pratica?codice=" in mail["body"]
            assert payload["reason"] in sms.wait("+39 333 1234567", sms_word)["json"]["text"]
    assert "esito: accolta" in box.wait("anna@example.it", "Chiusura")["body"]
    assert ("Documenti da presentare: Planimetria catastale; Visura"
            in box.wait("anna@example.it", "Richiesta di integrazione")["body"])
    # receive_integration sends nothing: exactly one mail per notified change.
    assert len(box.find("anna@example.it", "")) == 5

    r = login(server, "FC-2026/001", password_of(started))
    assert r.status == 200, r
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=Strict" in cookie
    view = server.request("GET", "/v1/citizen/case",
                          headers={"Cookie": cookie.split(";")[0]}).json()
    assert view["case_code"] == "FC-2026/001" and view["state"] == "chiusa"
    assert view["office"]["name"] == "Sportello Unico per l'Edilizia"
    assert view["responsible"]["email"] == "maria.rossi@provincia.example.it"
    assert view["term"]["text"].startswith("60 gg")
    assert [s["reason"] for s in view["suspensions"]] == ["Manca il parere della Soprintendenza",
                                                          "Allegare la planimetria catastale"]
    assert view["closure"]["reason"] == "Istanza conforme"
    assert view["closure"]["outcome_text"] == "accolta"
    # The expected date of the term, moved by the two suspensions, and met.
    assert (instant(view["term"]["deadline"]) - instant(view["started_at"])).days in (59, 60)
    assert view["term"]["closed_within_term"] is True
    assert [t["label"] for t in view["timeline"]][0] == "Avvio della pratica"


def test_wrong_password_lockout_and_resend(env):
    server, box, _ = env
    op = server.as_("operator", FORLI, "op1")
    start_case(op, 2, "FC-002", "luca@example.it")
    first = password_of(box.wait("luca@example.it", "Avvio"))
    assert login(server, "FC-002", "wrong").status == 401
    assert login(server, "FC-002", "wrong").status == 401
    locked = login(server, "FC-002", "wrong")
    assert locked.status == 429 and int(locked.headers["retry-after"]) == 60
    assert login(server, "FC-002", first).status == 429  # even the right password waits
    lockouts = server.request("GET", "/v1/streams/citizen-FC-002/events",
                              token=server.token("admin", "")).json()["events"]
    assert [e["type"] for e in lockouts][-1] == "citizen.locked_out"

    assert server.request("POST", f"/v1/citizen/cases/case-{FORLI}-2/credentials",
                          token=server.token("operator", AOSTA, "other")).status == 404
    r = server.request("POST", f"/v1/citizen/cases/case-{FORLI}-2/credentials", token=op.token)
    assert r.status == 202, r
    second = password_of(box.wait("luca@example.it", "Nuove credenziali"))
    assert second != first
    assert login(server, "FC-002", first).status == 401
    ok = login(server, "FC-002", second)
    assert ok.status == 200
    assert citizen_get(server, ok.json()["token"]).json()["case_code"] == "FC-002"


def test_a_citizen_sees_only_their_own_case(env):
    server, box, _ = env
    op = server.as_("operator", FORLI, "op1")
    start_case(op, 3, "FC-003", "a@example.it")
    start_case(op, 4, "FC-004", "b@example.it")
    pa = password_of(box.wait("a@example.it", "Avvio"))
    pb = password_of(box.wait("b@example.it", "Avvio"))
    assert login(server, "FC-004", pa).status == 401
    token = login(server, "FC-003", pa).json()["token"]
    assert citizen_get(server, token).json()["case_code"] == "FC-003"
    # The citizen's token opens nothing but /v1/citizen/*.
    assert citizen_get(server, token, f"/v1/streams/case-{FORLI}-4/events").status == 401
    assert citizen_get(server, token[:-2] + "xx").status == 401
    assert login(server, "FC-004", pb).status == 200


def test_survey_once_and_anonymous(env):
    server, box, _ = env
    op = server.as_("operator", FORLI, "op1")
    start_case(op, 5, "FC-005", "s@example.it")
    token = login(server, "FC-005", password_of(box.wait("s@example.it", "Avvio"))).json()["token"]
    h = {"Authorization": "Bearer " + token}
    assert server.request("POST", "/v1/citizen/survey", {"rating": 4, "comment": "Chiaro"}, headers=h).status == 201
    assert server.request("POST", "/v1/citizen/survey", {"rating": 1}, headers=h).status == 409
    answers = server.request("GET", f"/v1/streams/survey-{FORLI}-building_permit/events",
                             token=server.token("admin", "")).json()["events"]
    assert len(answers) == 1
    blob = json.dumps(answers[0])
    assert "FC-005" not in blob and f"case-{FORLI}-5" not in blob and "s@example.it" not in blob


def test_opt_out_and_no_consent_get_nothing(env):
    server, box, _ = env
    op = server.as_("operator", FORLI, "op1")
    start_case(op, 6, "FC-006", "o@example.it")
    token = login(server, "FC-006", password_of(box.wait("o@example.it", "Avvio"))).json()["token"]
    r = server.request("POST", "/v1/citizen/opt-out", headers={"Authorization": "Bearer " + token})
    assert r.status == 200
    start_case(op, 7, "FC-007", "none@example.it", consent=False)
    assert op.command(f"case-{FORLI}-6", "suspend_case", {"reason": "x"}).status == 201
    assert op.command(f"case-{FORLI}-7", "suspend_case", {"reason": "y"}).status == 201
    start_case(op, 8, "FC-008", "later@example.it")  # after the others in the log
    box.wait("later@example.it", "Avvio")
    assert box.find("o@example.it", "Sospensione") == []
    assert box.find("none@example.it", "") == []
    page = citizen_get(server, token).json()
    assert page["notifications"] == "opted_out"  # the page stays
    # Suspended: the term is not running, so no date, but the one it had when it stopped.
    assert page["state"] == "sospesa" and page["term"]["deadline"] is None
    assert page["term"]["deadline_before_suspension"]


def test_ticket_user_is_told_technician_level_two_and_resolution(env):
    server, box, _ = env
    l1 = server.as_("helpdesk_l1", FORLI, "hd1")
    t = "ticket-forli-1"
    assert l1.command(t, "open_ticket", {"channel": "email", "priority": "normal", "subject": "Stampante guasta",
                                          "contact": {"email": "user@example.it"}}).status == 201
    assert l1.command(t, "take_in_charge", {"technician": "t1", "technician_name": "Paolo Neri"}).status == 201
    assert "Paolo Neri" in box.wait("user@example.it", "preso in carico")["body"]
    assert l1.command(t, "escalate_ticket", {"reason": "Serve il fornitore", "technician": "t2",
                                             "technician_name": "Giulia Sala"}).status == 201
    mail = box.wait("user@example.it", "secondo livello")
    assert "Serve il fornitore" in mail["body"] and "Giulia Sala" in mail["body"]
    l2 = server.as_("helpdesk_l2", FORLI, "hd2")
    assert l2.command(t, "resolve_ticket", {"solution": "Sostituito il fusore", "answered_by": "email"}).status == 201
    assert "Sostituito il fusore" in box.wait("user@example.it", "risolto")["body"]
    assert l2.command(t, "close_ticket", {"note": "Verificato con l'utente"}).status == 201
    closed = box.wait("user@example.it", "chiuso")
    assert f"{BASE}/ticket/" in closed["body"] and "Note: Verificato con l'utente" in closed["body"]


def notification_events(server, message_id):
    r = server.request("GET", f"/v1/streams/notification-{message_id}/events", token=server.token("admin", ""))
    return [e["type"] for e in r.json().get("events", [])] if r.status == 200 else []


def message_id(event_id, channel, recipient):
    return hashlib.sha256(f"{event_id}|{channel}|{recipient}".encode()).hexdigest()[:32]


def test_sigkill_between_send_and_record_sends_no_new_message_id(tmp_path):
    smtp = SmtpServer().start()
    server = notify_server(tmp_path, smtp, PROCEDO_NOTIFY_CRASH_AFTER_SEND=1)
    server.env["PROCEDO_NOTIFY_CRASH_AFTER_SEND"] = "1"
    server.start()
    try:
        event = start_case(server.as_("operator", FORLI, "op1"), 1, "K-1", "k@example.it")["events"][0]
        mid = message_id(event["id"], "email", "k@example.it")
        wait_for(lambda: server.proc.poll() is not None, 20, "the notifier to die right after sending")
        assert box_ids(smtp) == [mid]
        del server.env["PROCEDO_NOTIFY_CRASH_AFTER_SEND"]
        server.start()
        wait_for(lambda: notification_events(server, mid) == ["notification.sent"], 20, "the send recorded")
        # A resend after the crash may repeat the message, but never under a new Message-ID.
        assert set(box_ids(smtp)) == {mid}
    finally:
        server.stop()
        smtp.stop()


def box_ids(smtp):
    return [m["message_id"].strip("<>").split("@")[0] for m in smtp.box.messages]


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
        types = [e["type"] for e in server.request("GET", "/v1/streams/citizen-R-1/events",
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


DAY = 86400
ROME = zoneinfo.ZoneInfo("Europe/Rome")
CATALOGUE = SRC / "domain" / "catalogue"


def advance(server, seconds):
    r = server.request("POST", "/v1/testing/clock", {"advance_seconds": seconds},
                       token=server.token("admin", ""))
    assert r.status == 200, r
    return r.json()["now"]


def stream_events(server, stream):
    r = server.request("GET", f"/v1/streams/{stream}/events", token=server.token("admin", ""))
    assert r.status == 200, r
    return r.json()["events"]


def instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


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
        assert l1.command("ticket-forli-7", "open_ticket", {
            "channel": "portal", "priority": "normal", "subject": "Accesso al portale",
            "contact": {"email": "user@example.it"}}).status == 201
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
        assert f"{BASE}/pratica?codice=S-1" in body
        # A term in calendar days ends with the 60th day after the start, local time (Rome).
        deadline = instant(breach["data"]["deadline"])
        start_day = instant(started["time"]).astimezone(ROME).date()
        assert deadline.astimezone(ROME).date() == start_day + datetime.timedelta(days=60)
        assert deadline.astimezone(ROME).time() == datetime.time(23, 59, 59, 999999)
        assert mail["message_id"].strip("<>").split("@")[0] == message_id(breach["id"], "email", office["email"])
        assert notification_events(server, message_id(breach["id"], "email", office["email"])) == ["notification.sent"]

        # The ticket's breaches go to the help desk's office from the catalogue, one per clock.
        tickets = wait_for(lambda: len(smtp.box.find(helpdesk["email"], "ticket forli-7")) >= 2 and
                           smtp.box.find(helpdesk["email"], "ticket forli-7"), 20, "the ticket's breaches")
        assert {re.search(r'orologio "(\w+)"', m["body"]).group(1) for m in tickets} == {"take_in_charge", "answer"}
        assert all("30 minuti lavorativi" in m["body"] or "5 giorni lavorativi" in m["body"] for m in tickets)

        # Once: a later mail proves the notifier went past the breaches, and none came twice,
        # neither now nor after a restart (a new run of the SLA timer and of the notifier).
        start_case(op, 2, "S-2", "second@example.it")
        smtp.box.wait("second@example.it", "Avvio")
        server.stop()
        server.start()
        advance(server, 70 * DAY)
        start_case(op, 3, "S-3", "third@example.it")
        smtp.box.wait("third@example.it", "Avvio")
        assert len(smtp.box.find(office["email"], "")) == 1
        assert len(smtp.box.find(helpdesk["email"], "")) == 2
        assert len(smtp.box.find("citizen@example.it", "")) == 1  # the citizen gets no breach mail
    finally:
        server.stop()
        smtp.stop()
