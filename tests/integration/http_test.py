"""The HTTP API against a real `procedo serve`: the operations routes, problem+json bodies,
commands with If-Match and Idempotency-Key, reads, read-your-writes, TLS, and hostile clients
(oversized bodies, malformed requests, stalled connections). Authentication, the live feed and
the authorization matrix are in http_access_test.py.
"""
import http.client
import json
import re
import socket
import time

import pytest

from procedo_server import BIN, SRC, Server, wait_for

from http_helpers import (AOSTA, FORLI, REGION, assert_problem, case_payload, http_server,
                          voucher_payload)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from http_server(tmp_path_factory)


# ---- operations routes -------------------------------------------------------------------------

def test_health_ready_metrics_openapi(server):
    assert server.request("GET", "/healthz").json() == {"status": "ok"}
    ready = server.request("GET", "/readyz")
    assert ready.status == 200 and ready.json()["status"] == "ready"
    metrics = server.request("GET", "/metrics")
    assert metrics.status == 200
    assert "procedo_http_request_duration_seconds_bucket" in metrics.body
    # Every consumer of the log is reported the same way, the projections among them.
    assert 'procedo_consumer_lag{consumer="projections"}' in metrics.body
    assert 'procedo_consumer_healthy{consumer="sla_timer"} 1' in metrics.body
    consumers = ready.json()["consumers"]
    assert set(consumers) >= {"projections", "sla_timer", "invoicing", "waiting_list"}
    assert all(c["healthy"] for c in consumers.values()), consumers
    spec = server.request("GET", "/openapi.json").json()
    assert spec["openapi"].startswith("3.1")


def test_event_schemas_are_served_as_the_server_checks_them(server):
    """What an integrator checks events against (a relay's ce_dataschema may name it): every
    type's schema, byte for byte the file the server validates with, personal marks included."""
    import jsonschema_rs
    files = sorted((SRC / "schemas" / "events").glob("*.json"))
    listed = server.request("GET", "/schemas/events").json()["event_types"]
    assert [t["type"] for t in listed] == sorted(f.stem for f in files)
    assert listed[0]["schema"] == f"/schemas/events/{listed[0]['type']}.json"
    started = server.request("GET", "/schemas/events/case.started.json")
    assert started.status == 200 and started.headers["content-type"] == "application/schema+json"
    assert started.body == (SRC / "schemas" / "events" / "case.started.json").read_text(encoding="utf-8")
    schema = started.json()
    assert schema["properties"]["applicant"]["properties"]["name"]["x-personal"] == "identity"
    # An event the server appended conforms to the schema it serves for its type.
    op = server.as_("operator", FORLI, "schemas")
    assert op.command("case-comune-forli-schemas", "start_case", {
        "procedure_id": "building_permit", "case_code": "FC-SCHEMA",
        "applicant": {"name": "Lia Neri"}, "consent": {"sms": False, "email": False}}).status == 201
    event = op.get("/v1/streams/case-comune-forli-schemas/events").json()["events"][0]
    assert event["type"] == "case.started"
    jsonschema_rs.validator_for(schema).validate(event["data"])
    broken = dict(event["data"], case_code="")
    assert not jsonschema_rs.validator_for(schema).is_valid(broken)
    for missing in ("case.started", "nothing.json", "case.started.json.json", ".json"):
        p = assert_problem(server.request("GET", f"/schemas/events/{missing}"), 404,
                           "schema-not-found")
        assert "GET /schemas/events" in p["detail"]


def test_stream_ids_name_their_tenant(server):
    """An operator of Aosta cannot take Forli's stream ids; Forli then starts its own; another
    tenant's id answers the same whether the stream exists or not."""
    aosta = server.as_("operator", AOSTA, "op-ids")
    forli = server.as_("operator", FORLI, "op-ids")
    taken = aosta.command("case-comune-forli-7", "start_case", case_payload("FC-7"))
    assert_problem(taken, 404, "stream-not-found")
    assert forli.command("case-comune-forli-7", "start_case", case_payload("FC-7")).status == 201
    # Existing or not, another tenant's stream reads and acts as "not found", with the same body.
    exists = aosta.command("case-comune-forli-7", "add_note", {"text": "x"})
    missing = aosta.command("case-comune-forli-8", "add_note", {"text": "x"})
    assert exists.status == missing.status == 404
    assert exists.json()["detail"].replace("-7", "-N") == missing.json()["detail"].replace("-8", "-N")
    for path in ("events", "state"):
        a = aosta.get(f"/v1/streams/case-comune-forli-7/{path}")
        b = aosta.get(f"/v1/streams/case-comune-forli-8/{path}")
        assert a.status == b.status == 404
        assert a.json()["detail"].replace("-7", "-N") == b.json()["detail"].replace("-8", "-N")
    # An id that names no tenant at all cannot be created either.
    assert_problem(aosta.command("case-7", "start_case", case_payload("X-7")), 404)
    # The administrator acts for the tenant the id names.
    admin = server.as_("admin", "")
    r = admin.command("case-comune-aosta-700", "start_case", case_payload("AO-700"))
    assert r.status == 201 and r.json()["events"][0]["tenant"] == AOSTA
    assert_problem(admin.command("case-nowhere-1", "start_case", case_payload("X-1")), 422,
                   "stream-names-no-tenant")


# ---- commands ----------------------------------------------------------------------------------

def test_command_lifecycle_with_versions_and_idempotency(server):
    op = server.as_("operator", FORLI, "op1")
    stream = "case-comune-forli-100"
    first = op.command(stream, "start_case", case_payload("FC-100"), headers={"Idempotency-Key": "start-100"})
    assert first.status == 201, first
    body = first.json()
    assert body["version"] == 1 and body["position"] >= 1 and not body["deduplicated"]
    assert body["events"][0]["type"] == "case.started"
    assert body["events"][0]["data"]["office"]["name"]  # copied from the catalogue
    assert first.headers["etag"] == '"1"'

    retry = op.command(stream, "start_case", case_payload("FC-100"), headers={"Idempotency-Key": "start-100"})
    assert retry.status == 200 and retry.json()["deduplicated"]
    assert retry.json()["position"] == body["position"]
    assert retry.json()["events"][0]["id"] == body["events"][0]["id"]

    # The same key on another command names an earlier request: a conflict, not a retry.
    reused = op.command(stream, "add_note", {"text": "x"}, headers={"Idempotency-Key": "start-100"})
    assert_problem(reused, 409, "idempotency-key-reused")

    suspend = op.command(stream, "suspend_case", {"reason": "Attesa parere ASL"}, headers={"If-Match": '"1"'})
    assert suspend.status == 201 and suspend.json()["version"] == 2
    stale = op.command(stream, "resume_case", {"reason": "Parere arrivato"}, headers={"If-Match": '"1"'})
    p = assert_problem(stale, 409, "version-conflict")
    assert p["actual_version"] == 2
    assert_problem(op.command(stream, "resume_case", {"reason": "x"}, headers={"If-Match": "abc"}), 400)

    state = op.get(f"/v1/streams/{stream}/state").json()
    assert state["state"] == "suspended" and state["version"] == 2


def test_rejections_are_typed_problems(server):
    op = server.as_("operator", FORLI, "op2")
    stream = "case-comune-forli-101"
    assert op.command(stream, "start_case", case_payload("FC-101")).status == 201
    p = assert_problem(op.command(stream, "close_case", {"outcome": "maybe"}), 422, "payload-invalid")
    assert len(p["violations"]) >= 2  # bad enum value and missing reason, each listed
    assert all("path" in v and "message" in v for v in p["violations"])
    assert_problem(op.command(stream, "receive_integration", {}), 409, "not-allowed-in-state")
    assert_problem(op.command(stream, "fly_to_the_moon", {}), 404, "unknown-command")
    citizen = server.as_("citizen", FORLI, "cit1")
    assert_problem(citizen.command(stream, "suspend_case", {"reason": "x"}), 403, "role-not-allowed")
    other = server.as_("operator", AOSTA, "op9")
    assert other.command(stream, "suspend_case", {"reason": "x"}).status in (403, 404)
    assert_problem(op.command(stream, "suspend_case", "{not json"), 400, "malformed-json")
    assert_problem(op.command("not a stream", "suspend_case", {}), 400)


def test_no_credentials_to_resend_before_the_first_are_issued(server):
    # This server sends no messages, so the start message's credentials never went out.
    op = server.as_("operator", FORLI, "op-cred")
    assert op.command("case-comune-forli-140", "start_case", case_payload("FC-140")).status == 201
    r = server.request("POST", "/v1/citizen/cases/case-comune-forli-140/credentials", token=op.token)
    p = assert_problem(r, 409, "not-joined")
    assert "not been issued yet" in p["detail"]


def test_segregation_of_duties_and_the_region(server):
    op = server.as_("operator", AOSTA, "op-a")
    stream = "voucher-comune-aosta-1"
    # JSON Schema's integers include 3.0, as a client holding floats writes them.
    assert op.command(stream, "enter_application", dict(voucher_payload(), household_members=3.0)).status == 201
    # The same person who entered it may not validate it, even holding the validator role
    # (an operator_validator may, by seed 000: it enters and validates in one step).
    same = server.as_("validator", AOSTA, "op-a")
    p = assert_problem(same.command(stream, "validate_application", {}), 422, "guard-refused")
    assert p["guard"] == "segregation_of_duties"
    validator = server.as_("validator", AOSTA, "val-a")
    assert validator.command(stream, "validate_application", {}).status == 201
    region = server.as_("region", REGION, "reg-1")
    # Not forwarded yet: the Region cannot see it.
    assert region.get(f"/v1/streams/{stream}/events").status == 404
    assert validator.command(stream, "forward_to_region", {}).status == 201
    assert region.get(f"/v1/streams/{stream}/events").status == 200
    assert region.command(stream, "approve_application", {"amount": 450}).status == 201
    assert server.as_("region", "regione-piemonte", "reg-2").get(f"/v1/streams/{stream}/events").status == 404


def test_services_catalogue_drives_the_enrolment(server):
    """GET /v1/services answers the caller's Comune's catalogue; the enrolment's two steps accept
    what it lists and refuse the rest with the guard's reason, appending nothing."""
    citizen = server.as_("citizen", FORLI, "cit-enrol")
    r = citizen.get("/v1/services")
    assert r.status == 200, r
    catalogue = r.json()
    assert catalogue["tenant"] == FORLI and catalogue["version"] >= 1
    services = {s["id"]: s for s in catalogue["services"]}
    assert {"canteen", "nursery", "transport", "home_care"} <= set(services)
    canteen = services["canteen"]
    assert canteen["regime"] == "prepaid" and canteen["tariffs"][0]["amount_cents"] > 0
    assert all(site["name"] for site in canteen["sites"])
    diet = next(q for q in canteen["questions"] if q["id"] == "diet")
    assert diet["type"] == "choice" and diet["required"] and len(diet["choices"]) >= 2
    # Another Comune's catalogue is not the caller's to read; an admin names the one to read.
    assert_problem(server.as_("operator", AOSTA, "op-s").get(f"/v1/services?tenant={FORLI}"), 403)
    assert_problem(server.as_("admin", "").get("/v1/services"), 400)
    torino = server.as_("admin", "").get("/v1/services?tenant=comune-torino")
    assert torino.status == 200 and torino.json()["services"] == []

    start = {"channel": "online",
             "applicant": {"name": "Carla Rossi", "tax_code": "RSSCRL80A41D704K"},
             "beneficiary": {"name": "Luca Rossi", "tax_code": "RSSLCU15C10D704P",
                             "birth_date": "2015-03-10"},
             "services": ["canteen", "swimming_pool"], "site": canteen["sites"][0]["id"]}
    stream = "enrolment-comune-forli-500"
    p = assert_problem(citizen.command(stream, "start_enrolment", start), 422, "guard-refused")
    assert p["guard"] == "services_offered" and "swimming_pool" in p["detail"]
    assert citizen.get(f"/v1/streams/{stream}/events").status == 404  # nothing appended
    start["services"] = ["canteen"]
    assert citizen.command(stream, "start_enrolment", start).status == 201

    def answer(q):
        return {"text": "nessuna", "integer": q.get("min", 1), "date": "2026-09-14",
                "boolean": True}.get(q["type"]) if q["type"] != "choice" else q["choices"][0]["value"]
    details = {q["id"]: answer(q) for q in canteen["questions"] if q["required"]}
    bad = dict(details, diet="kosher")
    p = assert_problem(citizen.command(stream, "complete_details", {"details": {"canteen": bad}}),
                       422, "guard-refused")
    assert p["guard"] == "details_answer_questions" and "diet" in p["detail"]
    assert citizen.get(f"/v1/streams/{stream}/state").json()["version"] == 1
    assert citizen.command(stream, "complete_details", {"details": {"canteen": details}}).status == 201
    submitted = citizen.command(stream, "submit_enrolment", {})
    assert submitted.status == 201
    assert submitted.json()["events"][0]["data"]["sequence_numbers"] == {"canteen": 1}


def test_tenants_never_see_each_other(server):
    op = server.as_("operator", FORLI, "op3")
    stream = "case-comune-forli-102"
    assert op.command(stream, "start_case", case_payload("FC-102")).status == 201
    aosta = server.as_("operator", AOSTA, "op-b")
    for path in (f"/v1/streams/{stream}/events", f"/v1/streams/{stream}/state"):
        assert_problem(aosta.get(path), 404, "stream-not-found")
        assert op.get(path).status == 200
        assert server.as_("admin", "").get(path).status == 200


# ---- reads -------------------------------------------------------------------------------------

def test_stream_history_pages(server):
    op = server.as_("operator", FORLI, "op4")
    stream = "case-comune-forli-103"
    assert op.command(stream, "start_case", case_payload("FC-103")).status == 201
    for i in range(4):
        assert op.command(stream, "add_note", {"text": f"nota {i}"}).status == 201
    page = op.get(f"/v1/streams/{stream}/events?limit=2").json()
    assert [e["version"] for e in page["events"]] == [1, 2] and page["next_from"] == 3
    rest = op.get(f"/v1/streams/{stream}/events?from=3&limit=10").json()
    assert [e["version"] for e in rest["events"]] == [3, 4, 5] and "next_from" not in rest
    back = op.get(f"/v1/streams/{stream}/events?direction=backward&limit=2").json()
    assert [e["version"] for e in back["events"]] == [5, 4]
    assert_problem(op.get(f"/v1/streams/{stream}/events?limit=0"), 400, "invalid-parameter")
    assert_problem(op.get(f"/v1/streams/{stream}/events?from=x"), 400, "invalid-parameter")
    p = assert_problem(op.get(f"/v1/streams/{stream}/events?direction=sideways"), 400)
    assert p["parameter"] == "direction"
    for e in rest["events"]:
        assert len(e["hash"]) == 64 and len(e["prev_hash"]) == 64


def test_state_as_of_an_instant(server):
    op = server.as_("operator", FORLI, "op5")
    stream = "case-comune-forli-104"
    started = op.command(stream, "start_case", case_payload("FC-104")).json()
    t1 = started["events"][0]["time"]
    wait_for(lambda: time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) > t1[:19], 3, "the clock to pass t1")
    assert op.command(stream, "suspend_case", {"reason": "ferie"}).status == 201
    then = op.get(f"/v1/streams/{stream}/state?as_of={t1}").json()
    assert then["state"] == "open" and then["version"] == 1
    assert op.get(f"/v1/streams/{stream}/state").json()["state"] == "suspended"
    assert_problem(op.get(f"/v1/streams/{stream}/state?as_of=yesterday"), 400)


# ---- hostile clients ---------------------------------------------------------------------------

def test_oversized_body_gets_413(server):
    op = server.as_("operator", FORLI, "op7")
    big = {"text": "x" * 70000}
    assert_problem(op.command("case-comune-forli-106", "add_note", big), 413, "too-large")
    assert server.request("GET", "/healthz").status == 200


def test_malformed_http_and_unknown_routes(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        reply = s.recv(4096).decode()
    assert reply.startswith("HTTP/1.1 400")
    assert_problem(server.request("GET", "/v2/nothing"), 404, "not-found")
    r = server.request("DELETE", "/healthz")
    assert_problem(r, 405, "method-not-allowed")
    assert r.headers["allow"] == "GET"
    assert_problem(server.request("GET", "/v1/streams/%zz/events"), 400, "bad-url")


def test_stalled_clients_are_cut_off(server):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # and never finishes the headers
        data = s.recv(4096)
    assert data == b""  # closed by the server
    assert time.monotonic() - started < 5  # read_timeout is 1 s in this fixture
    assert server.request("GET", "/healthz").status == 200


def test_the_access_log_follows_each_connection_and_leaves_out_queries(server):
    """Each step of a kept-alive connection, in order, under its own number; never a query
    string (it may hold personal data)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        port = s.getsockname()[1]
        for path in (b"/healthz?chi=Quirino-Nascosto", b"/nowhere"):
            s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
            wait_for(lambda: b"\r\n\r\n" in s.recv(4096, socket.MSG_PEEK), 5, "an answer")
            s.recv(65536)
    opened = wait_for(lambda: [l for l in server.log_tail(2000).splitlines()
                               if l.endswith(f" opened from 127.0.0.1:{port}")], 5, "the opening")
    number = opened[0].split(" connection ")[1].split()[0]

    def steps():
        lines = [re.sub(r" in [0-9.]+ ms$", "", l.split(f" connection {number} ", 1)[1])
                 for l in server.log_tail(2000).splitlines() if f" connection {number} " in l]
        return lines if lines and lines[-1] == "gone" else None
    assert wait_for(steps, 5, "the connection to end in the log") == [
        f"opened from 127.0.0.1:{port}",
        "read GET /healthz (0 body bytes)", "answered 200", "written; waiting for the next request",
        "read GET /nowhere (0 body bytes)", "answered 404", "written; waiting for the next request",
        "read ended: end of stream", "gone"]
    text = server.log_tail(2000)
    assert "Quirino" not in text and "chi=" not in text


def test_read_your_writes(server):
    """A command's answer carries its position; a read that asks for it sees the write, every
    time, however far behind the views were when it asked."""
    op = server.as_("operator", FORLI, "op8")
    stream = "case-comune-forli-107"
    r = op.command(stream, "start_case", case_payload("FC-107")).json()
    assert r["position"] >= 1 and r["version"] == 1
    for i in range(30):
        w = op.command(stream, "add_note", {"text": f"nota {i}"}).json()
        view = op.get(f"/v1/cases/{stream}?min_position={w['position']}")
        assert view.status == 200
        body = view.json()
        assert body["version"] == w["version"] == i + 2, body["version"]
        assert body["timeline"][-1]["details"]["note"] == f"nota {i}"
    # A position past the log's end waits for the whole log only (no retry could reach it): the
    # view as of now. (Views that lag behind the log answer 503: view_routes_tests.)
    ahead = op.get(f"/v1/cases/{stream}?min_position={w['position'] + 1000}")
    assert ahead.status == 200 and ahead.json()["version"] == 31


def test_tls_when_a_certificate_is_configured(tmp_path):
    import ssl
    import subprocess
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    s = Server(tmp_path / "data", http_tls_certificate=cert, http_tls_private_key=key)
    s.proc = subprocess.Popen([str(BIN), "serve"], env=s.env,
                              stdout=open(tmp_path / "serve.log", "wb"), stderr=subprocess.STDOUT)
    try:
        ctx = ssl.create_default_context(cafile=str(cert))

        def get(path):
            conn = http.client.HTTPSConnection("127.0.0.1", s.port, context=ctx, timeout=5)
            conn.request("GET", path, headers={"Authorization": "Bearer " + s.token("admin", "")})
            r = conn.getresponse()
            body = r.read()
            conn.close()
            return r.status, body

        def up():
            try:
                return get("/healthz")[0] == 200
            except OSError:
                assert s.proc.poll() is None, (tmp_path / "serve.log").read_text()
                return False
        wait_for(up, 20, "the TLS server")
        status, body = get("/readyz")
        assert status == 200 and json.loads(body)["status"] == "ready"
        # Plain HTTP on the TLS port gets no answer it could mistake for one.
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as raw:
            raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert not raw.recv(4096).startswith(b"HTTP/1.1 200")
    finally:
        s.proc.terminate()
        s.proc.wait(20)


def test_bad_tls_files_stop_the_server_with_a_reason(tmp_path):
    s = Server(tmp_path / "data", http_tls_certificate=tmp_path / "missing.pem", http_tls_private_key=tmp_path / "k.pem")
    import subprocess
    r = subprocess.run([str(BIN), "serve"], env=s.env, capture_output=True, text=True, timeout=30)
    assert r.returncode != 0
    assert "tls_certificate" in r.stderr
