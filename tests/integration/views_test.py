"""The view routes (adapters/http/routes_views*.cpp) against a real `procedo serve`: the case view
now and as of an instant, worklists, ticket queues, the SLA dashboard, KPIs and the audit trail;
read-your-writes with min_position; cursor pagination; 400s naming the parameter; and the
authorization matrix: every role of two Comuni (and the Region) against every route.
"""
import datetime
import time
import urllib.parse
import zoneinfo

import pytest

from procedo_server import Server

FORLI, AOSTA, REGION = "comune-forli", "comune-aosta", "regione-vda"
ROLES = ["operator", "validator", "operator_validator", "region", "helpdesk_l1", "helpdesk_l2",
         "citizen", "integrator", "admin"]


def case_payload(code, procedure="access_to_records"):
    return {"procedure_id": procedure, "case_code": code,
            "applicant": {"name": "Mario Bianchi", "email": "mario@example.it"},
            "consent": {"sms": False, "email": True}}


def voucher_payload():
    return {"applicant": {"name": "Anna Verdi", "tax_code": "VRDNNA80A41A326X"},
            "address": "Via Roma 1, Aosta", "household_members": 3, "fuel": "pellet"}


def ok(reply, status=(200, 201)):
    assert reply.status in ((status,) if isinstance(status, int) else status), reply
    return reply.json()


def assert_problem(reply, status, parameter=None):
    assert reply.status == status, reply
    assert reply.headers["content-type"] == "application/problem+json", reply
    p = reply.json()
    assert p["status"] == status and p["title"] and p["detail"], p
    if parameter:
        assert p.get("parameter") == parameter and parameter in p["detail"], p
    return p


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("views")).start()
    op_a = s.as_("operator", AOSTA, "op1")
    val_a = s.as_("validator", AOSTA, "val1")
    last = 0
    last = ok(op_a.command("case-comune-aosta-1", "start_case", case_payload("AO-1")))["position"]
    ok(op_a.command("case-comune-aosta-1", "suspend_case", {"reason": "Parere ASL"}))
    for i in range(1, 6):
        ok(op_a.command(f"voucher-comune-aosta-{i}", "enter_application", voucher_payload()))
    ok(val_a.command("voucher-comune-aosta-1", "validate_application", {}))
    ok(val_a.command("voucher-comune-aosta-1", "forward_to_region", {}))
    op_f = s.as_("operator", FORLI, "op2")
    ok(op_f.command("case-comune-forli-1", "start_case", case_payload("FO-1")))
    ok(op_f.command("voucher-comune-forli-1", "enter_application", voucher_payload()))
    cit_f = s.as_("citizen", FORLI, "cit1")
    ok(cit_f.command("ticket-comune-forli-1", "open_ticket",
                     {"channel": "portal", "priority": "high", "subject": "Non funziona"}))
    last = ok(s.as_("helpdesk_l1", AOSTA, "hd1").command(
        "ticket-comune-aosta-1", "open_ticket", {"channel": "email", "priority": "urgent", "subject": "Errore"}))["position"]
    s.last_position = last
    yield s
    s.stop()


def test_case_view_with_read_your_writes_and_as_of(world):
    op = world.as_("operator", AOSTA, "op1")
    first = op.get("/v1/cases/case-comune-aosta-1?min_position=1").json()
    started_at = first["started_at"]
    r = ok(op.command("case-comune-aosta-1", "resume_case", {"reason": "Parere ricevuto"}))
    # Read your writes: the view answered after the runner reached the command's position.
    v = ok(op.get(f"/v1/cases/case-comune-aosta-1?min_position={r['position']}"))
    assert v["state"] == "resumed" and v["state_label"] == "riattivata"
    assert v["office"]["name"] == "Ufficio Relazioni con il Pubblico"
    assert v["deadline"] and v["suspensions"][0]["reason"] == "Parere ASL"
    assert [e["type"] for e in v["timeline"]] == ["case.started", "case.suspended", "case.resumed"]
    v = ok(op.get("/v1/cases/case-comune-aosta-1",
                  headers={"X-Min-Position": str(r["position"])}))
    assert v["state"] == "resumed"
    # As of the start: what the view showed then.
    old = ok(op.get("/v1/cases/case-comune-aosta-1?as_of=" + urllib.parse.quote(started_at)))
    assert old["state"] == "in_progress" and len(old["timeline"]) == 1
    assert old["as_of"]
    # Before the first event there was nothing to see.
    assert_problem(op.get("/v1/cases/case-comune-aosta-1?as_of=2000-01-01T00:00:00Z"), 404)
    # Far in the future (past what nanoseconds since 1970 hold) the view is today's, and says so.
    later = ok(op.get("/v1/cases/case-comune-aosta-1?as_of=2561-07-22T14%3A28%3A04.72284-11%3A25"))
    assert later["state"] == "resumed" and later["as_of"] == "2561-07-23T01:53:04.722840Z"


def test_a_position_past_the_end_of_the_log_waits_for_the_whole_log_only(world):
    # No command answered with it: the views cannot be newer than the whole log.
    op = world.as_("operator", AOSTA, "op1")
    started = time.monotonic()
    assert ok(op.get("/v1/cases/case-comune-aosta-1?min_position=999999999"))["stream"]
    assert ok(op.get("/v1/cases/case-comune-aosta-1", headers={"X-Min-Position": "999999999"}))
    assert time.monotonic() - started < 2
    # A malformed header is refused even when the query parameter, which wins, is fine.
    assert_problem(op.get("/v1/cases/case-comune-aosta-1?min_position=1",
                          headers={"X-Min-Position": "m"}), 400, "X-Min-Position")


def test_bad_parameters_name_the_parameter(world):
    admin = world.as_("admin", "", "root")
    hd = world.as_("helpdesk_l1", AOSTA, "hd1")
    val = world.as_("validator", AOSTA, "val1")
    assert_problem(hd.get("/v1/kpis/helpdesk?month=2026-13"), 400, "month")
    assert_problem(hd.get("/v1/kpis/helpdesk"), 400, "month")
    assert_problem(val.get("/v1/worklists/awaiting_validation?limit=0"), 400, "limit")
    assert_problem(val.get("/v1/worklists/awaiting_validation?cursor=%21%21"), 400, "cursor")
    assert_problem(val.get("/v1/worklists/awaiting_validation?min_position=x"), 400, "min_position")
    assert_problem(val.get("/v1/cases/case-comune-aosta-1?as_of=yesterday"), 400, "as_of")
    assert_problem(hd.get("/v1/queues/tickets?priority=asap"), 400, "priority")
    assert_problem(admin.get("/v1/worklists/awaiting_validation"), 400, "tenant")
    assert_problem(val.get("/v1/worklists/no_such_list"), 404)
    assert_problem(world.request("GET", "/v1/worklists/awaiting_validation"), 401)


def test_empty_parameters_are_not_given_and_cursors_only_place_a_page(world):
    val = world.as_("validator", AOSTA, "val1")
    admin = world.as_("admin", "", "root")
    first = ok(val.get("/v1/worklists/awaiting_validation?limit=2"))
    # An empty cursor or tenant, as a client filling a template sends them, is not given.
    assert ok(val.get("/v1/worklists/awaiting_validation?limit=2&cursor=&tenant=")) == first
    assert_problem(admin.get("/v1/worklists/awaiting_validation?tenant="), 400, "tenant")
    assert_problem(admin.get("/v1/worklists/awaiting_validation?tenant=comune%20aosta"), 400, "tenant")
    assert ok(admin.get(f"/v1/worklists/awaiting_validation?limit=2&tenant={AOSTA}")) == first
    # Another list's cursor reads no row of that list: this one from its start, or nothing.
    other = ok(world.as_("operator", AOSTA, "op1").get("/v1/audit/actors/op1?limit=1"))["next_cursor"]
    page = ok(val.get(f"/v1/worklists/awaiting_validation?limit=2&cursor={other}"))
    assert page["items"] in ([], first["items"]), page
    assert ok(val.get("/v1/worklists/awaiting_validation?limit=2&cursor=AAAA"))["items"] == first["items"]
    assert ok(val.get("/v1/worklists/awaiting_validation?cursor=____"))["items"] == []


def test_worklist_pages_with_cursor_and_tenant_isolation(world):
    val = world.as_("validator", AOSTA, "val1")
    seen, cursor = [], None
    while True:
        q = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = ok(val.get(f"/v1/worklists/awaiting_validation{q}&min_position={world.last_position}"))
        assert len(page["items"]) <= 2
        seen += [i["stream"] for i in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert seen == [f"voucher-comune-aosta-{i}" for i in range(2, 6)]  # oldest first; 1 was validated
    forli = ok(world.as_("validator", FORLI, "val2").get("/v1/worklists/awaiting_validation"))
    assert [i["stream"] for i in forli["items"]] == ["voucher-comune-forli-1"]
    region = ok(world.as_("region", REGION, "reg1").get("/v1/worklists/forwarded_to_region"))
    assert [i["stream"] for i in region["items"]] == ["voucher-comune-aosta-1"]
    # The Region reads what was forwarded to it, and nothing else of the Comune.
    reg = world.as_("region", REGION, "reg1")
    assert ok(reg.get("/v1/cases/voucher-comune-aosta-1"))["state"] == "forwarded"
    assert_problem(reg.get("/v1/cases/voucher-comune-aosta-2"), 404)
    assert_problem(reg.get("/v1/cases/case-comune-aosta-1"), 404)


def test_queues_dashboard_kpis_and_audit(world):
    hd = world.as_("helpdesk_l1", AOSTA, "hd1")
    q = ok(hd.get(f"/v1/queues/tickets?min_position={world.last_position}"))
    assert [i["stream"] for i in q["items"]] == ["ticket-comune-aosta-1"]
    assert q["open_by"]["priority"] == {"urgent": 1}
    assert ok(hd.get("/v1/queues/tickets?priority=high"))["items"] == []
    d = ok(hd.get("/v1/sla/dashboard"))
    assert d["tenant"] == AOSTA and "open" in d and isinstance(d["monthly"], list)
    # A ticket measured from end to end: the month of its events holds its take-in-charge and
    # its resolution, one each (the other ticket is open: counted as opened only).
    t = "ticket-comune-aosta-kpi"
    opened = ok(hd.command(t, "open_ticket", {"channel": "portal", "priority": "normal",
                                              "subject": "Misura"}))["events"][0]["time"]
    ok(hd.command(t, "take_in_charge", {"technician": "tec-1", "technician_name": "Tecnico Uno"}))
    pos = ok(hd.command(t, "resolve_ticket", {"solution": "Fatto", "answered_by": "email"}))["position"]
    when = datetime.datetime.fromisoformat(opened.replace("Z", "+00:00")).astimezone(
        zoneinfo.ZoneInfo("Europe/Rome"))
    month = f"{when.year:04d}-{when.month:02d}"
    k = ok(hd.get(f"/v1/kpis/helpdesk?month={month}&min_position={pos}"))
    assert k["month"] == month
    assert k["opened"] == 2 and k["resolved"] == 1, k
    assert k["take_in_charge"]["count"] == 1 and k["resolution"]["count"] == 1, k
    other = f"{when.year - 1:04d}-{when.month:02d}"
    empty = ok(hd.get(f"/v1/kpis/helpdesk?month={other}"))
    assert empty["opened"] == 0 and empty["take_in_charge"]["count"] == 0
    a = ok(world.as_("operator", AOSTA, "op1").get("/v1/audit/actors/op1?limit=3"))
    assert len(a["items"]) == 3 and a["next_cursor"]
    positions = [i["position"] for i in a["items"]]
    assert positions == sorted(positions)
    more = ok(world.as_("operator", AOSTA, "op1").get(f"/v1/audit/actors/op1?limit=100&cursor={a['next_cursor']}"))
    assert more["items"][0]["position"] > positions[-1]
    # Another Comune's staff see none of op1's events.
    assert ok(world.as_("operator", FORLI, "op2").get("/v1/audit/actors/op1"))["items"] == []


def expected(role, tenant, route):
    """The rule each route states, written independently of the server."""
    staff = role not in ("citizen", "integrator")
    if route == "case":  # case-comune-aosta-1
        return 200 if role == "admin" or (tenant == AOSTA and role != "citizen") else 404
    if route == "ticket":  # ticket-comune-forli-1, opened by citizen cit1 of Forli
        if role == "admin" or (tenant == FORLI and role != "citizen"):
            return 200
        return 200 if (role == "citizen" and tenant == FORLI) else 404
    if route == "worklist":
        return 200 if role in ("validator", "operator_validator", "admin") else 403
    if route in ("queues", "kpis"):
        return 200 if role in ("helpdesk_l1", "helpdesk_l2", "admin") else 403
    if route == "dashboard":
        return 200 if staff else 403
    if route == "audit":  # op1's trail
        return 200 if staff else 403
    raise AssertionError(route)


ROUTES = {
    "case": "/v1/cases/case-comune-aosta-1",
    "ticket": "/v1/cases/ticket-comune-forli-1",
    "worklist": "/v1/worklists/awaiting_validation",
    "queues": "/v1/queues/tickets",
    "dashboard": "/v1/sla/dashboard",
    "kpis": "/v1/kpis/helpdesk?month=2026-11",
    "audit": "/v1/audit/actors/op1",
}


@pytest.mark.parametrize("tenant", [AOSTA, FORLI])
@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(world, role, tenant):
    who = world.as_(role, "" if role == "admin" else tenant, "cit1" if role == "citizen" else "u-" + role)
    for name, path in ROUTES.items():
        if role == "admin" and name in ("worklist", "queues", "dashboard"):
            path += ("&" if "?" in path else "?") + "tenant=" + AOSTA
        reply = who.get(path)
        assert reply.status == expected(role, tenant, name), (role, tenant, name, reply)
        if reply.status == 200 and name in ("worklist", "queues", "dashboard") and role != "admin":
            assert reply.json()["tenant"] == tenant
        if reply.status == 200 and name == "audit" and role != "admin":
            assert all(i["tenant"] == tenant for i in reply.json()["items"])
