"""Seed 002 and the notifier against a real `procedo serve`, a real SMTP server (aiosmtpd) and a
local HTTP sink standing in for the SMS gateway: every message's recipient, subject, Italian
text, link and reason; the citizen's login, lockout, resend, opt-out and survey. Crashes,
restarts and SLA breaches: notify_restart_test.py.
"""
import json
import re

import pytest

from notify_support import (AOSTA, BASE, FORLI, SmsSink, SmtpServer, citizen_get, instant, login,
                            notify_server, password_of, start_case)


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    smtp = SmtpServer().start()
    sms = SmsSink()
    server = notify_server(tmp_path_factory.mktemp("notify"), smtp, sms).start()
    yield server, smtp.box, sms
    server.stop()
    smtp.stop()
    sms.httpd.shutdown()


def test_every_change_of_a_case_reaches_the_citizen(env):
    server, box, sms = env
    op = server.as_("operator", FORLI, "op1")
    start_case(op, 1, "FC-2026/001", "anna@example.it", "+39 333 1234567")
    stream = f"case-{FORLI}-1"
    started = box.wait("anna@example.it", "Avvio della pratica FC-2026/001")
    assert "Permesso di costruire" in started["subject"]
    assert "è stata avviata" in started["body"]
    assert "Ing. Maria Rossi" in started["body"] and "Sportello Unico per l'Edilizia" in started["body"]
    assert f"{BASE}/pratica?ente={FORLI}&codice=FC-2026%2F001" in started["body"]
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
            assert payload["reason"] in mail["body"] and f"{BASE}/pratica?ente={FORLI}&codice=" in mail["body"]
            assert payload["reason"] in sms.wait("+39 333 1234567", sms_word)["json"]["text"]
    assert "esito: accolta" in box.wait("anna@example.it", "Chiusura")["body"]
    assert ("Documenti da presentare: Planimetria catastale; Visura"
            in box.wait("anna@example.it", "Richiesta di integrazione")["body"])
    # receive_integration sends nothing: exactly one mail per notified change.
    assert len(box.find("anna@example.it", "")) == 5

    r = login(server, "FC-2026/001", password_of(started))
    assert r.status == 200, r
    cookie = r.headers["set-cookie"]
    # Plain HTTP: a Secure cookie would be dropped by a browser on any host but localhost.
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
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
    lockouts = server.request("GET", f"/v1/streams/citizen-{FORLI}-FC-002/events",
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
    t = "ticket-comune-forli-1"
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
    assert "Note: Verificato con l'utente" in closed["body"]
    # Every message of the ticket links to its requester's page with the same key.
    links = {re.search(r"(\S+/ticket\?\S+)", m["body"]).group(1) for m in box.find("user@example.it", "Ticket")}
    assert len(links) == 1
    assert re.fullmatch(re.escape(f"{BASE}/ticket?ente={FORLI}&id={t}&chiave=") + "[0-9a-f]{32}", links.pop())


def test_a_closure_announced_over_http_is_checked_and_told_to_open_tickets(tmp_path):
    """Seed 004: the help desk may close for at most 8 business days a year, announced at least
    5 days ahead; the requesters of open tickets are told, once each, while the server runs."""
    smtp = SmtpServer().start()
    server = notify_server(tmp_path, smtp, testing_driven_clock="true",
                           testing_clock_start="2026-12-01T08:00:00Z").start()
    try:
        hd = server.as_("helpdesk_l1", FORLI, "hd1")
        for n, email in [(1, "ugo@example.it"), (2, "eva@example.it"), (3, "rita@example.it")]:
            assert hd.command(f"ticket-{FORLI}-{n}", "open_ticket", {
                "channel": "portal", "priority": "normal", "subject": f"Richiesta {n}",
                "contact": {"email": email}}).status == 201
        assert hd.command(f"ticket-{FORLI}-3", "take_in_charge",
                          {"technician": "t1", "technician_name": "Paola Neri"}).status == 201
        assert hd.command(f"ticket-{FORLI}-3", "resolve_ticket",
                          {"solution": "Fatto", "answered_by": "email"}).status == 201
        box = smtp.box
        box.wait("rita@example.it", "risolto")

        admin = server.as_("admin", FORLI, "adm")
        stream = f"calendar-{FORLI}-helpdesk"
        closure = {"calendar": "helpdesk", "tenant": FORLI, "closure_id": "natale-2026",
                   "from": "2026-12-28", "to": "2026-12-30", "reason": "festività natalizie"}
        # Too short a notice: refused with the first possible day, and nothing is told.
        early = admin.command(stream, "announce_closure", dict(closure, **{"from": "2026-12-03"}))
        assert early.status == 422 and "2026-12-06" in early.body, early
        # Staff of the help desk may not close it: only an administrator.
        assert hd.command(stream, "announce_closure", closure).status == 403

        assert admin.command(stream, "announce_closure", closure).status == 201
        for who in ("ugo@example.it", "eva@example.it"):
            mail = box.wait(who, "l'assistenza sarà sospesa")
            assert "sospeso dal 28/12/2026 al 30/12/2026 compresi (festività natalizie)" in mail["body"]
        # More than 8 business days in the year: refused.
        long = dict(closure, closure_id="estate", **{"from": "2026-12-14", "to": "2026-12-23"})
        assert admin.command(stream, "announce_closure", long).status == 422
        assert admin.command(stream, "cancel_closure", {"calendar": "helpdesk", "tenant": FORLI,
                                                        "closure_id": "natale-2026"}).status == 201
        assert admin.command(stream, "cancel_closure", {"calendar": "helpdesk", "tenant": FORLI,
                                                        "closure_id": "natale-2026"}).status == 422
        # Once each, and nobody with only resolved tickets.
        assert len(box.find("ugo@example.it", "sospesa")) == 1
        assert box.find("rita@example.it", "sospesa") == []
    finally:
        server.stop()
        smtp.stop()


def enrol_for_canteen(server, n, applicant):
    """An online application for the canteen of Saint-Roch, submitted and ranked."""
    cit = server.as_("citizen", AOSTA, f"cit-enrol-{n}")
    op = server.as_("operator", AOSTA, "op1")
    stream = f"enrolment-{AOSTA}-{n}"
    start = {"channel": "online",
             "applicant": {"name": "Carla Blanc", "tax_code": "BLNCRL80A41A326K", **applicant},
             "beneficiary": {"name": f"Luca Blanc {n}", "tax_code": "BLNLCU15C10A326P",
                             "birth_date": "2015-03-10"},
             "services": ["canteen"], "site": "primaria_saint_roch"}
    assert cit.command(stream, "start_enrolment", start).status == 201
    assert cit.command(stream, "complete_details",
                       {"details": {"canteen": {"diet": "standard", "days_per_week": 5}}}).status == 201
    assert cit.command(stream, "submit_enrolment", {}).status == 201
    assert op.command(stream, "rank_for_service", {"service": "canteen"}).status == 201
    return cit, op, stream


def test_an_enrolment_s_outcomes_reach_the_applicant(env):
    server, box, sms = env
    first, op, one = enrol_for_canteen(server, 1, {"email": "primo@example.it"})
    _, _, two = enrol_for_canteen(server, 2, {"email": "seconda@example.it", "phone": "+39 333 7654321"})
    _, _, three = enrol_for_canteen(server, 3, {"email": "terzo@example.it"})

    assert op.command(one, "admit_to_service", {"service": "canteen"}).status == 201
    admitted = box.wait("primo@example.it", "Mensa scolastica: domanda di Luca Blanc 1 accolta")
    assert "presso Scuola primaria Saint-Roch è stata accolta (domanda n. 1, Comune di Aosta)" in admitted["body"]
    assert f"{BASE}/servizi/iscrizioni/{one}" in admitted["body"]

    assert op.command(two, "place_on_waiting_list", {"service": "canteen", "reason": "Posti riservati ai residenti"}).status == 201
    waiting = box.wait("seconda@example.it", "in lista d'attesa")
    assert "Motivo: Posti riservati ai residenti" in waiting["body"]
    assert "in lista d'attesa" in sms.wait("+39 333 7654321", "lista d'attesa")["json"]["text"]

    assert op.command(three, "reject_for_service", {"service": "canteen", "reason": "Domanda incompleta"}).status == 201
    assert "Motivo: Domanda incompleta" in box.wait("terzo@example.it", "respinta")["body"]

    # The first withdraws: the waiting list moves up by itself, and the second is told.
    assert first.command(one, "withdraw_from_service", {"service": "canteen"}).status == 201
    moved = box.wait("seconda@example.it", "Mensa scolastica: domanda di Luca Blanc 2 accolta")
    assert "si è liberato un posto e la lista d'attesa è scorsa" in moved["body"]
    assert "dalla lista d'attesa" in sms.wait("+39 333 7654321", "accolta")["json"]["text"]
    # One message per outcome and channel.
    assert len(box.find("primo@example.it", "")) == 1
    assert len(box.find("seconda@example.it", "")) == 2
    assert len(box.find("terzo@example.it", "")) == 1
