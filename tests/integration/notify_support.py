"""What the notifier's integration tests share: a real SMTP server (aiosmtpd on a free loopback
port) that parses what it accepts, a local HTTP sink standing in for the SMS gateway (it checks
the HMAC signature), a `procedo serve` configured for both, and small helpers over the API.
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
import zoneinfo

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
                                  "reply_to": str(msg["reply-to"] or ""),
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


def login(server, code, password, tenant=FORLI):
    """The citizen's login: the Comune (the link's `ente`), the case code and the password."""
    return server.request("POST", "/v1/citizen/login",
                          {"tenant": tenant, "case_code": code, "password": password})


def citizen_get(server, token, path="/v1/citizen/case"):
    return server.request("GET", path, headers={"Authorization": "Bearer " + token})


def notification_events(server, message_id):
    r = server.request("GET", f"/v1/streams/notification-{message_id}/events", token=server.token("admin", ""))
    return [e["type"] for e in r.json().get("events", [])] if r.status == 200 else []


def message_id(event_id, channel, recipient):
    return hashlib.sha256(f"{event_id}|{channel}|{recipient}".encode()).hexdigest()[:32]


def box_ids(smtp):
    return [m["message_id"].strip("<>").split("@")[0] for m in smtp.box.messages]


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
