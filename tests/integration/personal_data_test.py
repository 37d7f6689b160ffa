"""Personal data sealed per data subject, against a real `procedo serve` with a master key: the
applicant's name, e-mail and mobile never reach the log, the views or the server's output in
clear; the case view and the access export show them opened; an erasure by the Ente's
administrator destroys the keys, after which every reader shows "[dato cancellato]" while the
facts the law keeps (the case, its dates, its office) stay; `procedo verify` still passes and a
rebuild of every projection gives the same. Tenants never see each other's subjects.
"""
import json
import os
import pathlib

import pytest

from procedo_server import Client, Server, wait_for

AOSTA, FORLI = "comune-aosta", "comune-forli"
NAME, EMAIL, MOBILE = "Ottavia Quaglieri", "ottavia.quaglieri@example.it", "+39 347 5551234"
ERASED = "[dato cancellato]"


def ok(reply, status=(200, 201)):
    assert reply.status in ((status,) if isinstance(status, int) else status), reply
    return reply.json()


def case_payload(code):
    return {"procedure_id": "access_to_records", "case_code": code,
            "applicant": {"name": NAME, "email": EMAIL, "mobile": MOBILE},
            "consent": {"sms": False, "email": False}}


def files_holding(directory, texts):
    """Every file under `directory` that holds any of `texts`, as bytes (UTF-8)."""
    found = []
    for path in pathlib.Path(directory).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found += [f"{path}: {t}" for t in texts if t.encode() in content]
    return found


@pytest.fixture
def server(tmp_path):
    key = tmp_path / "master.key"
    key.write_text(os.urandom(32).hex() + "\n")
    key.chmod(0o600)
    s = Server(tmp_path / "data", personal_master_key_file=key)
    s.start()
    yield s
    s.stop()


def test_sealed_shown_exported_then_erased_everywhere(server):
    s = server
    op = s.as_("operator", AOSTA, "op1")
    dpo = s.as_("privacy_officer", AOSTA, "dpo1")
    pos = ok(op.command("case-comune-aosta-1", "start_case", case_payload("PQ-1")))["position"]
    # The same e-mail on a second case finds the same person.
    pos = ok(op.command("case-comune-aosta-2", "start_case", case_payload("PQ-2")))["position"]

    # The log holds the values sealed, naming the subject.
    events = ok(op.get("/v1/streams/case-comune-aosta-1/events"))["events"]
    applicant = events[0]["data"]["applicant"]
    for field in ("name", "email", "mobile"):
        assert applicant[field].startswith("pd1."), applicant
    subject = applicant["subject"]
    other = ok(op.get("/v1/streams/case-comune-aosta-2/events"))["events"][0]["data"]["applicant"]
    assert other["subject"] == subject

    # The help desk: a ticket whose contact gives the same e-mail is the same person's.
    desk = s.as_("helpdesk_l1", AOSTA, "hd1")
    ticket = ok(s.request("POST", "/v1/tickets", {
        "channel": "portal", "priority": "normal", "subject": "Certificato non ricevuto",
        "contact": {"email": EMAIL, "phone": MOBILE}}, token=desk.token), 201)
    pos = ticket["position"]
    contact = ok(op.get(f"/v1/streams/{ticket['stream']}/events"))["events"][0]["data"]["contact"]
    assert contact["email"].startswith("pd1.") and contact["phone"].startswith("pd1."), contact
    assert contact["subject"] == subject
    shown = s.request("GET", f"/v1/tickets/{ticket['number']}", token=desk.token)
    assert shown.status == 200 and shown.json()["fields"]["contact"]["email"] == EMAIL, shown

    # A sealed value pasted into a command would be shown opened to whoever reads that stream:
    # refused, nothing appended.
    pasted = op.command("case-comune-aosta-2", "add_note", {"text": f"vedi {applicant['name']}."})
    assert pasted.status == 422 and pasted.json()["type"].endswith("payload-invalid"), pasted

    # What Kafka and the raw routes carry sealed, the tenant's integrator opens; another tenant's
    # gets nulls, as for text that is no sealed value.
    sealed = [applicant["name"], applicant["email"], "pd1.nothing", applicant["mobile"]]
    integ = s.as_("integrator", AOSTA, "int1")
    opened = ok(s.request("POST", "/v1/personal/open", {"values": sealed}, token=integ.token))
    assert opened == {"values": [NAME, EMAIL, None, MOBILE]}
    foreign = s.request("POST", "/v1/personal/open", {"values": sealed},
                        token=s.token("integrator", FORLI, "int2"))
    assert ok(foreign) == {"values": [None, None, None, None]}
    assert s.request("POST", "/v1/personal/open", {"values": sealed}, token=op.token).status == 403
    assert s.request("POST", "/v1/personal/open", {"values": "x"}, token=integ.token).status == 400

    # The case view shows them opened.
    view = s.request("GET", f"/v1/cases/case-comune-aosta-1?min_position={pos}", token=op.token)
    assert view.status == 200, view
    for text in (NAME, EMAIL, MOBILE):
        assert text in view.body, view

    # The access export: both cases' values, opened, with their groups.
    export = ok(dpo.get(f"/v1/subjects/{subject}?min_position={pos}"))
    assert export["subject"] == subject and export["tenant"] == AOSTA
    assert sorted(export["groups_held"]) == ["contact", "identity"]
    assert [i["stream"] for i in export["items"]] == [
        "case-comune-aosta-1", "case-comune-aosta-2", ticket["stream"]]
    assert {f["path"]: f["value"] for f in export["items"][2]["fields"]} == {
        "/contact/email": EMAIL, "/contact/phone": MOBILE}
    values = {f["path"]: (f["group"], f["value"]) for f in export["items"][0]["fields"]}
    assert values == {"/applicant/name": ("identity", NAME), "/applicant/email": ("contact", EMAIL),
                      "/applicant/mobile": ("contact", MOBILE)}
    # Another tenant's privacy officer, or a subject that does not exist: the same 404; other
    # staff: 403. The platform's administrator reads it for the tenant named.
    foreign = s.as_("privacy_officer", FORLI, "dpo2").get(f"/v1/subjects/{subject}")
    unknown = dpo.get("/v1/subjects/subj-AAAAAAAAAAAAAAAAAAAAAA")
    assert foreign.status == unknown.status == 404
    assert foreign.json()["detail"].replace(subject, "X") == unknown.json()["detail"].replace(
        "subj-AAAAAAAAAAAAAAAAAAAAAA", "X")
    assert op.get(f"/v1/subjects/{subject}").status == 403
    assert dpo.get("/v1/subjects/mario.rossi@example.it").status == 400
    root = s.as_("admin", "", "root")
    assert ok(root.get(f"/v1/subjects/{subject}?tenant={AOSTA}"))["items"] == export["items"]
    assert root.get(f"/v1/subjects/{subject}?tenant={FORLI}").status == 404

    # Only the subject's own tenant erases it: another tenant's officer, or the administrator on
    # another tenant's stream, is refused as for a subject that does not exist.
    for who, stream in ((s.as_("privacy_officer", FORLI, "dpo2"), f"subject-{FORLI}-{subject}"),
                        (root, f"subject-{FORLI}-{subject}")):
        refused = who.command(stream, "erase_personal_data", {"subject": subject, "reason": "request"})
        assert refused.status == 422 and refused.json()["guard"] == "subject_stream_matches", refused
    assert dpo.command(f"subject-{FORLI}-{subject}", "erase_personal_data",
                       {"subject": subject, "reason": "request"}).status == 404
    erased = ok(dpo.command(f"subject-{AOSTA}-{subject}", "erase_personal_data",
                            {"subject": subject, "reason": "request", "note": "richiesta n. 12"}))

    # Read-your-writes: a read at the erasure's position waits for it to be carried out too.
    view = s.request("GET", f"/v1/cases/case-comune-aosta-1?min_position={erased['position']}",
                     token=op.token)
    assert view.status == 200 and NAME not in view.body and ERASED in view.body, view
    case = view.json()
    # The facts the law keeps stay readable.
    assert case["stream"] == "case-comune-aosta-1"
    assert "Anagrafe" in view.body or case.get("state") or case.get("status"), case
    for text in (EMAIL, MOBILE):
        assert text not in view.body
    fields = ok(s.request("GET", f"/v1/tickets/{ticket['number']}", token=desk.token))["fields"]
    assert fields["contact"]["email"] == fields["contact"]["phone"] == ERASED, fields
    assert fields["subject"] == "Certificato non ricevuto"

    export = ok(dpo.get(f"/v1/subjects/{subject}?min_position={erased['position']}"))
    assert export["groups_held"] == []
    after = ok(s.request("POST", "/v1/personal/open", {"values": sealed}, token=integ.token))
    assert after == {"values": [ERASED, ERASED, None, ERASED]}
    assert all(f["value"] == ERASED for i in export["items"] if "fields" in i for f in i["fields"])
    assert export["items"][-1]["erasure"] == {"groups": [], "reason": "request"}

    # Everything on disk and in the server's output, byte for byte: no value in clear.
    s.stop()
    leaks = files_holding(s.data_dir, [NAME, EMAIL, MOBILE, "Quaglieri"])
    assert leaks == [], leaks
    verify = s.cli("verify", check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    rebuilt = s.cli("rebuild", "all", check=False)
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    s.start()
    again = s.request("GET", "/v1/cases/case-comune-aosta-1?min_position=1", token=op.token)
    assert again.status == 200 and ERASED in again.body and NAME not in again.body, again


def test_retention_erases_when_due_on_the_driven_clock(tmp_path):
    """access_to_records keeps personal data 5 years after case.closed (domain/catalogue): when
    the server's driven clock reaches that instant, the retention reactor erases the subject as
    the system, and the case view shows it."""
    key = tmp_path / "master.key"
    key.write_text(os.urandom(32).hex())
    s = Server(tmp_path / "data", personal_master_key_file=key, testing_driven_clock="true",
               testing_clock_start="2026-03-02T09:00:00Z")
    s.start()
    try:
        # Tokens that outlive the years the clock is moved by.
        years = 6 * 365 * 24 * 60
        op = Client(s, s.token("operator", AOSTA, "op1", ttl=years))
        admin = Client(s, s.token("admin", "", "root", ttl=years))
        ok(op.command("case-comune-aosta-7", "start_case", case_payload("RT-7")))
        # Before the term's SLA warning, which would move the stream on under the close.
        ok(admin.server.request("POST", "/v1/testing/clock", {"to": "2026-03-10T10:00:00Z"},
                                token=admin.token))
        closed = ok(op.command("case-comune-aosta-7", "close_case",
                               {"outcome": "accepted", "reason": "Accesso consentito"}))
        subject = ok(op.get("/v1/streams/case-comune-aosta-7/events"))["events"][0]["data"][
            "applicant"]["subject"]
        view = f"/v1/cases/case-comune-aosta-7?min_position={closed['position']}"
        ok(admin.server.request("POST", "/v1/testing/clock", {"to": "2031-03-10T09:59:59Z"},
                                token=admin.token))
        # A second before (the exact boundary is retention_test.cpp's, which pumps the reactor).
        stream = f"/v1/streams/subject-{AOSTA}-{subject}/events"
        assert NAME in s.request("GET", view, token=op.token).body
        ok(admin.server.request("POST", "/v1/testing/clock", {"to": "2031-03-10T10:00:00Z"},
                                token=admin.token))
        erasure = wait_for(lambda: (lambda r: r.status == 200 and r.json()["events"] and r)(
            s.request("GET", stream, token=admin.token)), 20, "the retention's erasure")
        data = erasure.json()["events"][0]["data"]
        assert data["reason"] == "retention" and data["erased_by"] == "retention"
        assert data["erased_at"].startswith("2031-03-10T10:00:00")
        wait_for(lambda: ERASED in s.request("GET", view, token=op.token).body, 20,
                 "the case view to show the erasure")
    finally:
        s.stop()


def test_the_notifier_opens_at_the_edge_and_never_writes_to_an_erased_address(tmp_path):
    """The notifier carries the applicant's values sealed (its queue, its delivery records) and
    opens them only as a message leaves: the citizen gets their name and password in clear over
    SMTP. Once erased, a change of the case sends nothing: the delivery is recorded as failed for
    good, without retrying."""
    import hashlib
    from notify_support import FORLI as NFORLI, SmtpServer, notify_server, password_of
    smtp = SmtpServer().start()
    key = tmp_path / "master.key"
    key.write_text(os.urandom(32).hex())
    s = notify_server(tmp_path / "data", smtp, personal_master_key_file=key)
    s.start()
    try:
        op, dpo = s.as_("operator", NFORLI, "op1"), s.as_("privacy_officer", NFORLI, "dpo1")
        ok(op.command(f"case-{NFORLI}-1", "start_case", {
            "procedure_id": "building_permit", "case_code": "NT-1",
            "applicant": {"name": NAME, "email": EMAIL}, "consent": {"sms": False, "email": True}}))
        mail = smtp.box.wait(EMAIL, "Avvio della pratica")
        assert "pd1." not in mail["body"] and password_of(mail)
        started = ok(op.get(f"/v1/streams/case-{NFORLI}-1/events"))["events"][0]["data"]["applicant"]
        ok(op.command(f"case-{NFORLI}-1", "suspend_case", {"reason": "Parere"}))
        resumed = ok(op.command(f"case-{NFORLI}-1", "resume_case", {"reason": "Parere pervenuto"}))
        resumed_mail = smtp.box.wait(EMAIL, "Riattivazione")
        assert f"Gentile {NAME}," in resumed_mail["body"]

        # A long address, sealed, is longer than any address: the delivery record holds it all.
        far = "lia.neri@" + ".".join(["sezione-anagrafe-e-servizi-demografici"] * 4) + ".example.it"
        ok(op.command(f"case-{NFORLI}-2", "start_case", {
            "procedure_id": "building_permit", "case_code": "NT-2",
            "applicant": {"name": "Lia Neri", "email": far}, "consent": {"sms": False, "email": True}}))
        smtp.box.wait(far, "Avvio della pratica")
        first = ok(op.get(f"/v1/streams/case-{NFORLI}-2/events"))["events"][0]
        sealed_far = first["data"]["applicant"]["email"]
        assert len(sealed_far) > 320, sealed_far
        far_message = hashlib.sha256(f"{first['id']}|email|{sealed_far}".encode()).hexdigest()[:32]
        wait_for(lambda: any(e["type"] == "notification.sent" for e in s.request(
            "GET", f"/v1/streams/notification-{far_message}/events",
            token=s.token("admin", "", "root")).json().get("events", [])),
            20, "the delivery to the long address recorded")

        erased = ok(dpo.command(f"subject-{NFORLI}-{started['subject']}", "erase_personal_data",
                                {"subject": started["subject"], "reason": "request",
                                 "groups": ["contact"]}))
        wait_for(lambda: EMAIL not in s.request(
            "GET", f"/v1/cases/case-{NFORLI}-1?min_position={erased['position']}",
            token=op.token).body, 20, "the e-mail address erased")
        closed = ok(op.command(f"case-{NFORLI}-1", "close_case",
                               {"outcome": "accepted", "reason": "Istanza conforme"}))
        message = hashlib.sha256(f"{closed['events'][0]['id']}|email|{started['email']}".encode()
                                 ).hexdigest()[:32]

        def failed_for_good():
            r = s.request("GET", f"/v1/streams/notification-{message}/events",
                          token=s.token("admin", "", "root"))
            events = r.json().get("events", []) if r.status == 200 else []
            return [e for e in events if e["type"] == "notification.failed"
                    and e["data"].get("final")] or None
        failed = wait_for(failed_for_good, 20, "the delivery to the erased address given up")
        assert len(failed) == 1 and failed[0]["data"]["attempt"] == 1
        assert not smtp.box.find(EMAIL, "Chiusura")
        assert resumed["position"] < closed["position"]
    finally:
        s.stop()
        smtp.stop()
    leaks = files_holding(tmp_path / "data", [EMAIL, "Quaglieri"])
    assert leaks == [], leaks
