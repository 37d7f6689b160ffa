"""The help desk's mailbox against real components: Dovecot (IMAP, mail delivered over LMTP), a
real `procedo serve` reading it on a driven clock, and aiosmtpd catching what Procedo sends.
A new mail becomes a ticket with a number and an acknowledgement; answers thread onto it (and
resume its clocks, or reopen it to the technician who closed it, or after the window open a
linked ticket); automatic mail is filed unanswered; a too-large message is refused with a
message to its sender; a forged In-Reply-To to another Comune's ticket does not reach it; and a
SIGKILL between filing and flagging opens no ticket twice.
"""
import email.message
import email.utils
import hashlib
import json
import re

import pytest

from mail_support import Dovecot
from notify_support import AOSTA, FORLI, SmtpServer, advance, notify_server, stream_events
from procedo_server import wait_for

MAILBOX = "assistenza@comune.forli.example.it"
POLL = 60
LIMIT = 10 << 20  # the server's default mail.max_message_bytes


def mail_settings(dovecot, **extra):
    settings = dict(mail_tenant=FORLI, mail_address=MAILBOX,
                    mail_imap_url=f"imap://127.0.0.1:{dovecot.imap_port}",
                    mail_username="helpdesk", mail_password="segreta", mail_poll_seconds=POLL,
                    mail_reopen_window_hours=168, mail_max_message_bytes=LIMIT,
                    # These tests say when a pass runs by moving the clock; IDLE has its own.
                    mail_idle="false",
                    testing_driven_clock="true", testing_clock_start="2026-11-24T09:00:00+01:00")
    settings.update(extra)
    return settings


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mail")
    dovecot = Dovecot(tmp, {"helpdesk": "segreta"}).start()
    smtp = SmtpServer().start()
    (tmp / "procedo").mkdir()
    server = notify_server(tmp / "procedo", smtp, **mail_settings(dovecot)).start()
    yield server, dovecot, smtp
    server.stop()
    smtp.stop()
    dovecot.stop()


def message(sender, subject, text, **headers):
    m = email.message.EmailMessage()
    m["From"] = sender
    m["To"] = MAILBOX
    m["Subject"] = subject
    m["Message-ID"] = email.utils.make_msgid(domain="example.it")
    m["Date"] = email.utils.formatdate()
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(text)
    return m


def poll(server, dovecot, filed):
    """Moves the clock past the poll interval until the server has flagged `filed` messages."""
    def done():
        advance(server, POLL)
        return dovecot.filed() >= filed
    wait_for(done, 30, f"{filed} messages filed", interval=0.2)


def tickets(server):
    """Every ticket opened in Forlì, by number: the opening event's data."""
    return {e["data"]["number"]: e["data"] for e in all_events(server)
            if e["type"] == "ticket.opened" and e["stream"].startswith(f"ticket-{FORLI}-")}


def all_events(server):
    r = server.request("GET", "/v1/streams/number-comune-forli-tck-2026/events?limit=1000", token=server.token("admin", ""))
    streams = [e["data"]["claimed_by"] for e in r.json()["events"]] if r.status == 200 else []
    return [e for s in streams for e in stream_events(server, s)]


def ticket(server, number, tenant=FORLI):
    r = server.request("GET", f"/v1/tickets/{number}", token=server.token("helpdesk_l1", tenant, "t1"))
    assert r.status == 200, r
    return r.json()


def reply_to(mail, sender, text, **headers):
    m = message(sender, "Re: " + mail["subject"], text, In_Reply_To=mail["message_id"],
                References=mail["message_id"], **headers)
    return m


def test_a_new_mail_becomes_a_ticket_with_a_number_and_an_acknowledgement(env):
    server, dovecot, smtp = env
    dovecot.deliver(message("Anna Rossi <anna@example.it>", "Stampante guasta",
                            "La stampante dell'ufficio anagrafe non stampa."))
    poll(server, dovecot, 1)
    ack = smtp.box.wait("anna@example.it", "ricevuto")
    number = re.search(r"TCK-2026-\d{6}", ack["subject"]).group(0)
    assert number in ack["body"] and ack["reply_to"] == MAILBOX
    t = ticket(server, number)
    assert t["fields"]["channel"] == "email" and t["fields"]["contact"] == {"email": "anna@example.it"}
    assert t["fields"]["subject"] == "Stampante guasta"
    original = t["fields"]["email"]["original"]
    stored = server.data_dir / "mail" / "blobs" / original[:2] / original
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == original


def test_a_reply_threads_and_a_reply_to_the_closing_mail_reopens_to_the_same_technician(env):
    server, dovecot, smtp = env
    filed = dovecot.filed()  # before the delivery: a pass may file it at once
    dovecot.deliver(message("luca@example.it", "Accesso negato", "Non riesco ad accedere al portale."))
    poll(server, dovecot, filed + 1)
    ack = smtp.box.wait("luca@example.it", "ricevuto")
    number = re.search(r"TCK-2026-\d{6}", ack["subject"]).group(0)
    stream = ticket(server, number)["stream"]
    tech = server.as_("helpdesk_l1", FORLI, "t1")
    assert tech.command(stream, "take_in_charge", {"technician": "t1", "technician_name": "Paolo Neri"}).status == 201
    # An answer to the acknowledgement: a message on the ticket.
    filed = dovecot.filed()  # before the delivery: a pass may file it at once
    dovecot.deliver(reply_to(ack, "luca@example.it", "Uso Firefox 128."))
    poll(server, dovecot, filed + 1)
    messages = [e for e in stream_events(server, stream) if e["type"] == "ticket.message_received"]
    assert [m["data"]["text"].strip() for m in messages] == ["Uso Firefox 128."]
    # An answer to an information request: the clocks run again.
    assert tech.command(stream, "request_information", {"question": "Quale messaggio vede?"}).status == 201
    asked = smtp.box.wait("luca@example.it", "servono altre informazioni")
    assert "Quale messaggio vede?" in asked["body"]
    filed = dovecot.filed()  # before the delivery: a pass may file it at once
    dovecot.deliver(reply_to(asked, "luca@example.it", "Password scaduta."))
    poll(server, dovecot, filed + 1)
    assert ticket(server, number)["state"] == "in_progress"
    # Resolved and closed by t1; an answer to the closing mail reopens it to t1.
    assert tech.command(stream, "resolve_ticket", {"solution": "Password reimpostata", "answered_by": "email"}).status == 201
    assert tech.command(stream, "close_ticket", {}).status == 201
    closed = smtp.box.wait("luca@example.it", "chiuso")
    filed = dovecot.filed()  # before the delivery: a pass may file it at once
    dovecot.deliver(reply_to(closed, "luca@example.it", "Il problema si ripresenta."))
    poll(server, dovecot, filed + 1)
    t = ticket(server, number)
    assert t["state"] == "in_progress" and t["fields"]["technician"] == "t1"
    assert smtp.box.wait("luca@example.it", "riaperto")
    # Closed again; an answer after the window opens a new ticket linked to this one.
    assert tech.command(stream, "resolve_ticket", {"solution": "Account sbloccato", "answered_by": "email"}).status == 201
    assert tech.command(stream, "close_ticket", {}).status == 201
    closed_again = wait_for(lambda: [m for m in smtp.box.find("luca@example.it", "chiuso") if m != closed],
                            20, "the second closing mail")[0]
    advance(server, 8 * 86400)
    filed = dovecot.filed()  # before the delivery: a pass may file it at once
    dovecot.deliver(reply_to(closed_again, "luca@example.it", "Di nuovo bloccato."))
    poll(server, dovecot, filed + 1)
    linked = [d for d in tickets(server).values() if d.get("related_ticket") == number]
    assert len(linked) == 1 and linked[0]["contact"] == {"email": "luca@example.it"}
    assert ticket(server, number)["state"] == "closed"


def test_automatic_mail_is_filed_unanswered(env):
    server, dovecot, smtp = env
    before = len(tickets(server))
    filed = dovecot.filed()
    dovecot.deliver(message("bob@example.it", "Fuori ufficio", "Sono in ferie fino a lunedì.",
                            Auto_Submitted="auto-replied"))
    dovecot.deliver(message("carla@example.it", "Newsletter", "Le novità del mese.", Precedence="bulk"))
    dovecot.deliver(message("MAILER-DAEMON@example.it", "Undelivered Mail", "Delivery failed."),
                    sender="")
    poll(server, dovecot, filed + 3)
    assert len(tickets(server)) == before
    advance(server, POLL)
    assert not [m for m in smtp.box.messages
                if {"bob@example.it", "carla@example.it", "MAILER-DAEMON@example.it"} & set(m["to"])]


def test_a_too_large_message_is_refused_with_a_message_to_the_sender(env):
    server, dovecot, smtp = env
    before = len(tickets(server))
    m = message("dario@example.it", "Documenti", "In allegato la scansione.")
    # A 20 MB scan, over the 10 MB limit: its sender is told, and no ticket is opened.
    m.add_attachment(b"\0" * (20 << 20), maintype="application", subtype="pdf", filename="scansione.pdf")
    filed = dovecot.filed()  # before the delivery: a pass may file it at once
    dovecot.deliver(m)
    poll(server, dovecot, filed + 1)
    refused = smtp.box.wait("dario@example.it", "non accettato")
    assert "troppo grande" in refused["body"] and "10,0 MB" in refused["body"], refused["body"]
    assert len(tickets(server)) == before


def test_a_forged_in_reply_to_does_not_reach_another_comunes_ticket(env):
    server, dovecot, smtp = env
    aosta = server.request("POST", "/v1/tickets", {"channel": "portal", "priority": "normal", "subject": "Scanner",
                                                   "contact": {"email": "eva@example.it"}},
                           token=server.token("helpdesk_l1", AOSTA, "a1"))
    assert aosta.status == 201, aosta
    theirs = smtp.box.wait("eva@example.it", "ricevuto")
    version = ticket(server, aosta.json()["number"], AOSTA)["version"]
    # The Aosta mail's Message-ID, sent to Forlì's mailbox.
    filed = dovecot.filed()
    dovecot.deliver(message("mallory@example.it", "Re: richiesta", "Chiudete tutto.",
                            In_Reply_To=theirs["message_id"], References=theirs["message_id"]))
    poll(server, dovecot, filed + 1)
    assert ticket(server, aosta.json()["number"], AOSTA)["version"] == version
    mine = [d for d in tickets(server).values() if d["contact"] == {"email": "mallory@example.it"}]
    assert len(mine) == 1 and "related_ticket" not in mine[0]


def test_a_sigkill_between_filing_and_flagging_opens_no_ticket_twice(tmp_path):
    dovecot = Dovecot(tmp_path, {"helpdesk": "segreta"}).start()
    smtp = SmtpServer().start()
    (tmp_path / "procedo").mkdir()
    server = notify_server(tmp_path / "procedo", smtp,
                           **mail_settings(dovecot, testing_fault_points="mail.crash_after_file"))
    try:
        for i in range(3):
            dovecot.deliver(message(f"u{i}@example.it", f"Richiesta {i}", f"Testo {i}"))
        try:
            server.start()
        except AssertionError:
            pass  # the fault point may fire before the server answers /healthz
        # The first pass files the group (all three), then the process dies before flagging it.
        wait_for(lambda: server.proc.poll() is not None, 30, "the fault point's SIGKILL")
        server.stop()
        assert dovecot.filed() == 0 and len(tickets_of(server)) == 3
        server.env.pop("PROCEDO_TESTING_FAULT_POINTS")
        server.start()
        poll(server, dovecot, 3)
        opened = tickets_of(server)
        assert sorted(d["contact"]["email"] for d in opened) == [f"u{i}@example.it" for i in range(3)]
        for i in range(3):
            smtp.box.wait(f"u{i}@example.it", "ricevuto")
        # One ticket, so one acknowledgement: the notifier may have sent it just before the
        # SIGKILL and not recorded it, and then sends it again, but under the same Message-ID.
        acks = smtp.box.find("u0@example.it", "ricevuto")
        assert len({m["message_id"] for m in acks}) == 1, acks
    finally:
        server.stop()
        smtp.stop()
        dovecot.stop()


def tickets_of(server):
    """The opening events of Forlì's tickets, read from the log while the server is stopped or
    running alike (the CLI needs it stopped; this reads over HTTP when it runs)."""
    if server.proc is None:
        lines = server.cli("log", "read", "--limit", "100000").stdout.splitlines()
        events = [json.loads(line) for line in lines if line.strip()]
        return [e["data"] for e in events if e["type"] == "ticket.opened"]
    return list(tickets(server).values())


def test_idle_reads_new_mail_without_waiting_for_the_poll(tmp_path):
    """With IMAP IDLE the mailbox announces new mail and the server reads it at once: the driven
    clock never reaches the hour-long poll interval here, so only IDLE can file the second
    message (without it, the message waits for the poll: the other tests move the clock)."""
    dovecot = Dovecot(tmp_path, {"helpdesk": "segreta"}).start()
    smtp = SmtpServer().start()
    (tmp_path / "procedo").mkdir()
    server = notify_server(tmp_path / "procedo", smtp,
                           **mail_settings(dovecot, mail_poll_seconds=3600, mail_idle="true"))
    try:
        dovecot.deliver(message("prima@example.it", "Prima richiesta", "Testo"))
        server.start()
        # The first pass, at start, files what is there.
        wait_for(lambda: dovecot.filed() == 1, 30, "the first pass")
        dovecot.deliver(message("seconda@example.it", "Seconda richiesta", "Testo"))
        wait_for(lambda: dovecot.filed() == 2, 60, "the message announced by IDLE")
        assert sorted(d["contact"]["email"] for d in tickets(server).values()) == [
            "prima@example.it", "seconda@example.it"]
    finally:
        server.stop()
        smtp.stop()
        dovecot.stop()


def test_with_personal_data_sealed_the_sender_is_one_subject_and_never_in_clear(tmp_path):
    """A server with a master key: the ticket a mail opens holds its sender's address sealed,
    in the contact and in the mail's record alike, under one subject (the same address on a
    later mail finds them again); the acknowledgement still reaches the sender, and staff read
    the ticket with the address opened."""
    dovecot = Dovecot(tmp_path, {"helpdesk": "segreta"}).start()
    smtp = SmtpServer().start()
    (tmp_path / "procedo").mkdir()
    key = tmp_path / "master.key"
    key.write_text("ab" * 32 + "\n")
    key.chmod(0o600)
    server = notify_server(tmp_path / "procedo", smtp, personal_master_key_file=key,
                           **mail_settings(dovecot))
    sender = "giovanna.zanetti@example.it"
    try:
        server.start()
        dovecot.deliver(message(f"Giovanna Zanetti <{sender}>", "Rimborso", "Chiedo il rimborso."))
        dovecot.deliver(message(sender, "Rimborso, di nuovo", "Nessuna risposta."))
        poll(server, dovecot, 2)
        opened = list(tickets(server).values())
        assert len(opened) == 2, opened
        subjects = set()
        for data in opened:
            assert data["contact"]["email"].startswith("pd1.") and sender not in json.dumps(data)
            assert data["email"]["from"].startswith("pd1.")
            subjects |= {data["contact"]["subject"], data["email"]["subject"]}
        assert len(subjects) == 1, subjects
        ack = smtp.box.wait(sender, "ricevuto")
        number = re.search(r"TCK-2026-\d{6}", ack["subject"]).group(0)
        assert ticket(server, number)["fields"]["contact"]["email"] == sender

        # A message too large is refused: the refusal holds the sender sealed, under a subject of
        # its own (the mailbox never ends: found again, the person's tickets would never reach
        # their retention), and the sender is still told.
        big = message(sender, "Scansione", "In allegato.")
        big.add_attachment(b"\0" * (LIMIT + 1), maintype="application", subtype="pdf", filename="s.pdf")
        filed = dovecot.filed()
        dovecot.deliver(big)
        poll(server, dovecot, filed + 1)
        smtp.box.wait(sender, "non accettato")
        refusals = [e["data"] for e in stream_events(server, f"mailbox-{FORLI}") if e["type"] == "mail.refused"]
        assert len(refusals) == 1, refusals
        assert refusals[0]["sender"]["email"].startswith("pd1."), refusals
        assert refusals[0]["sender"]["subject"] not in subjects and sender not in json.dumps(refusals)
    finally:
        server.stop()
        smtp.stop()
        dovecot.stop()
