"""Who may do what over HTTP against a real `procedo serve`: authentication (tokens, algorithm
confusion, API keys, the rate limit on failures), the live feed (Server-Sent Events, caught up,
live and resumed with Last-Event-ID) showing each reader only what it may read, and the
authorization matrix of every role, route and tenant.
"""
import base64
import hashlib
import hmac
import http.client
import json
import time

import pytest

from http_helpers import (AOSTA, FORLI, REGION, assert_problem, case_payload, http_server,
                          voucher_payload)
from procedo_server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from http_server(tmp_path_factory)


# ---- authentication ----------------------------------------------------------------------------

def test_requests_without_valid_credentials_get_401(server):
    path = "/v1/streams/case-comune-forli-1/events"
    assert_problem(server.request("GET", path), 401, "unauthenticated")
    assert_problem(server.request("GET", path, headers={"Authorization": "Bearer nonsense"}), 401)
    assert_problem(server.request("GET", path, headers={"Authorization": "Basic dXNlcjpwdw=="}), 401)
    expired = server.token("operator", FORLI, "late", ttl=-5)
    p = assert_problem(server.request("GET", path, token=expired), 401)
    assert "expired" in p["detail"]


def test_algorithm_confusion_is_refused(server):
    # An HS256 token "signed" with the server's public key as the HMAC secret must not pass.
    public_pem = (server.data_dir / "dev-keys" / "public.pem").read_bytes()
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
    header = enc(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = enc(json.dumps({"sub": "x", "role": "admin", "exp": int(time.time()) + 600}).encode())
    sig = enc(hmac.new(public_pem, header + b"." + claims, hashlib.sha256).digest())
    forged = (header + b"." + claims + b"." + sig).decode()
    assert_problem(server.request("GET", "/v1/events?from=1", token=forged), 401)


def test_api_keys_authenticate_integrators(tmp_path):
    s = Server(tmp_path)
    key = s.cli("apikey", "create", "--tenant", FORLI, "--name", "protocollo").stdout.strip()
    assert key.startswith("pk_")
    stored = (tmp_path / "api-keys.json").read_text()
    assert key not in stored and hashlib.sha256(key.encode()).hexdigest() in stored
    s.start()
    try:
        r = s.request("POST", "/v1/streams/case-comune-forli-77/commands/start_case",
                      body=case_payload("FC-77"), headers={"X-API-Key": key})
        # Integrators are not among start_case's roles: authenticated, then refused by role.
        assert_problem(r, 403, "role-not-allowed")
        assert_problem(s.request("GET", "/v1/events?from=1", headers={"X-API-Key": "pk_wrong"}), 401)
    finally:
        s.stop()


def test_failing_authentications_are_throttled_and_valid_ones_never_are(tmp_path):
    """Failing attempts are throttled per credential and per client address; a valid credential
    is accepted whatever others behind the same address did (one proxy or NAT per office)."""
    s = Server(tmp_path, auth_max_failures=6, auth_max_failures_per_credential=2,
               http_trusted_proxies="127.0.0.1").start()
    try:
        def get(headers):
            return s.request("GET", "/v1/events?from=999999", headers=headers, timeout=5)
        bad = {"Authorization": "Bearer bad"}
        # The same bad token, sent again and again: 2 failures, then 429 for that token.
        assert get(bad).status == 401 and get(bad).status == 401
        r = get(bad)
        assert_problem(r, 429, "too-many-failed-authentications")
        assert int(r.headers["retry-after"]) > 0
        # A valid token from the same address is not refused.
        assert s.request("GET", "/healthz").status == 200
        admin = {"Authorization": "Bearer " + s.token("admin", "")}
        assert s.request("GET", "/v1/streams/x-1/state", headers=admin).status in (400, 404)
        # Other bad tokens from the same address: the address reaches its limit of 6 failures.
        statuses = [get({"Authorization": f"Bearer bad-{i}"}).status for i in range(4)]
        assert statuses[:3] == [401, 401, 401] and statuses[3] == 429, statuses
        # ... and the valid token still passes, from that very address.
        assert s.request("GET", "/v1/streams/x-1/state", headers=admin).status in (400, 404)
        # Behind the trusted proxy (the test talks from 127.0.0.1), failures count per client:
        # another client's first failure is a plain 401, and its valid token passes.
        other = {"Authorization": "Bearer bad-x", "X-Forwarded-For": "203.0.113.7"}
        assert get(other).status == 401
        forwarded_admin = dict(admin, **{"X-Forwarded-For": "203.0.113.7"})
        assert s.request("GET", "/v1/streams/x-1/state", headers=forwarded_admin).status in (400, 404)
        # A client cannot escape its own count by naming itself in X-Forwarded-For from an
        # untrusted peer: here the peer is trusted, so the right-most untrusted hop is the client.
        spoofed = {"Authorization": "Bearer bad-y", "X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
        assert get(spoofed).status == 401  # counted for 203.0.113.7, its 2nd failure
    finally:
        s.stop()


# ---- the live feed -----------------------------------------------------------------------------

def sse_events(server, token, path, headers=None, timeout=10):
    """Opens an event stream and yields its events as (id, type, data), as they arrive."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    h = {"Authorization": "Bearer " + token, "Accept": "text/event-stream"}
    h.update(headers or {})
    conn.request("GET", path, headers=h)
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Content-Type") == "text/event-stream"
    frame = {}
    try:
        while True:
            line = r.fp.readline().decode()
            if not line:
                return
            line = line.rstrip("\r\n")
            if line == "":
                if "id" in frame:
                    yield int(frame["id"]), frame["event"], json.loads(frame["data"])
                frame = {}
            elif not line.startswith(":") and ": " in line:
                k, v = line.split(": ", 1)
                if k in ("id", "event", "data"):
                    frame[k] = v
            # chunk-size lines of the chunked encoding are hex numbers; they have no ": ".
    finally:
        conn.close()


def read_sse(server, token, path, count, headers=None, timeout=10):
    """The first `count` events of an event stream."""
    events = []
    for e in sse_events(server, token, path, headers, timeout):
        events.append(e)
        if len(events) == count:
            break
    return events


def test_sse_catch_up_live_and_resume(server):
    op = server.as_("operator", FORLI, "op6")
    stream = "case-comune-forli-105"
    start = op.command(stream, "start_case", case_payload("FC-105")).json()["position"]
    admin = server.token("admin", "")
    first = read_sse(server, admin, f"/v1/events?from={start}", 1)
    assert first[0][0] == start and first[0][1] == "case.started"
    for i in range(3):
        op.command(stream, "add_note", {"text": f"n{i}"})
    # Resume after the first event: the case's number (written with it), then the three notes,
    # in order, nothing repeated.
    resumed = read_sse(server, admin, "/v1/events?from=1", 4, headers={"Last-Event-ID": str(start)})
    assert [e[0] for e in resumed] == [start + 1, start + 2, start + 3, start + 4]
    assert [e[1] for e in resumed] == ["number.assigned"] + ["case.note_added"] * 3
    assert_problem(server.request("GET", "/v1/events", token=admin, headers={"Last-Event-ID": "x"}), 400)


def read_sse_until(server, token, path, last, timeout=10):
    """The events of a stream up to the one at log position `last` (which the reader must be
    able to see: the read fails by timeout otherwise)."""
    events = []
    for e in sse_events(server, token, path, timeout=timeout):
        events.append(e)
        if e[0] >= last:
            break
    return events


def test_the_live_feed_shows_each_reader_what_it_may_read(server):
    """One rule for every read: the live feed shows a Comune its own events only, and the Region
    the streams forwarded to it (their whole history, as GET /v1/streams/{id}/events does)."""
    op = server.as_("operator", AOSTA, "op-feed")
    val = server.as_("validator", AOSTA, "val-feed")
    forwarded, kept = "voucher-comune-aosta-30", "voucher-comune-aosta-31"
    assert op.command(forwarded, "enter_application", voucher_payload()).status == 201
    assert op.command(kept, "enter_application", voucher_payload()).status == 201
    assert val.command(forwarded, "validate_application", {}).status == 201
    assert server.as_("operator", FORLI, "op-feed").command(
        "case-comune-forli-130", "start_case", case_payload("FC-130")).status == 201
    last = val.command(forwarded, "forward_to_region", {}).json()["position"]

    region = server.as_("region", REGION, "reg-feed")
    seen = read_sse_until(server, region.token, "/v1/events?from=1", last)
    streams = {e[2]["stream"] for e in seen}
    assert forwarded in streams, streams
    assert [e[1] for e in seen if e[2]["stream"] == forwarded] == [
        "voucher.entered", "voucher.validated", "voucher.forwarded"]
    assert kept not in streams and not any(s.startswith("case-") for s in streams), streams
    # Every stream the Region sees was forwarded to it.
    for s in streams:
        assert region.get(f"/v1/streams/{s}/events").status == 200, s

    # Aosta's operator sees every Aosta event, and nothing of Forlì's or the Region's own.
    mine = read_sse_until(server, op.token, "/v1/events?from=1", last)
    assert mine and all(e[2]["tenant"] == AOSTA for e in mine)
    assert {forwarded, kept} <= {e[2]["stream"] for e in mine}
    # Another Region, to which nothing was forwarded, sees nothing at all.
    other = server.as_("region", "regione-piemonte", "reg-x")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=1.5)
    conn.request("GET", "/v1/events?from=1", headers={"Authorization": "Bearer " + other.token})
    r = conn.getresponse()
    assert r.status == 200
    shown = []
    try:
        while True:
            line = r.fp.readline().decode()
            if line.startswith("data: "):
                shown.append(line)
    except (TimeoutError, OSError):
        pass
    conn.close()
    assert shown == []


# ---- the authorization matrix ----------------------------------------------------------------

ROLES = ["operator", "validator", "operator_validator", "region", "helpdesk_l1", "helpdesk_l2",
         "citizen", "integrator", "admin"]


def expected(role, own_tenant, route):
    """The rules of adapters/http and the case workflow, written out independently."""
    if role == "admin":
        return {"events": 200, "state": 200, "feed": 200, "note": 201}[route]
    if route == "feed":
        return 403 if role == "citizen" else 200  # everyone else gets a tenant-filtered feed
    if route in ("events", "state"):
        return 200 if own_tenant and role != "citizen" else 404
    # add_note: a stream of another tenant does not exist for the caller (the id names Forli);
    # then the workflow checks the role (operators and admins).
    if not own_tenant:
        return 404
    return 201 if role in ("operator", "operator_validator") else 403


def feed_status(server, token):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", "/v1/events?from=1", headers={"Authorization": "Bearer " + token})
    status = conn.getresponse().status
    conn.close()
    return status


def test_authorization_matrix_every_role_route_and_tenant(server):
    stream = "case-comune-forli-900"
    assert server.as_("operator", FORLI, "op-m").command(stream, "start_case", case_payload("FC-900")).status == 201
    failures = []
    for role in ROLES:
        for tenant in (FORLI, AOSTA):
            own = tenant == FORLI
            t = server.token(role, "" if role == "admin" else tenant, f"{role}-{tenant}")
            got = {
                "events": server.request("GET", f"/v1/streams/{stream}/events", token=t).status,
                "state": server.request("GET", f"/v1/streams/{stream}/state", token=t).status,
                "feed": feed_status(server, t),
                "note": server.request("POST", f"/v1/streams/{stream}/commands/add_note",
                                       body={"text": "matrice"}, token=t).status,
            }
            for route, status in got.items():
                want = expected(role, own, route)
                if status != want:
                    failures.append(f"{role}@{tenant} {route}: got {status}, want {want}")
    assert not failures, "\n".join(failures)
