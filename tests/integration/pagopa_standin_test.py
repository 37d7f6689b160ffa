"""The GPD stand-in proven over real HTTP: the contract of domain/PAYMENTS.md sections 1, 2 and
5.1, the published schemas (pagopa/gpd.json, gpd_payments.json), the clock, payments, receipts and
every fault the engine's tests will lean on. The clock is driven; nothing sleeps to wait for time.
"""
import http.client
import pathlib
import json
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pagopa_standin_rules import GPD_DOC, load_doc, schema_validator
from pagopa_support import ControlError, GpdStandIn

ORG, OTHER_ORG = "80012345678", "80087654321"
KEY = "gpd-test-key"
START = "2026-09-01T08:00:00"
NS = "{http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd}"
PAY_DOC = load_doc("gpd_payments.json")
SCHEMAS = {name: schema_validator(GPD_DOC, name) for name in
           ("PaymentPositionModel", "PaymentPositionModelBaseResponse", "PaymentPositionsInfo", "ProblemJson")}
RECEIPTS_SCHEMA = schema_validator(PAY_DOC, "PaymentsResult")


def iuv_of(base13, seg="01"):
    return seg + base13 + "%02d" % (int("3" + seg + base13) % 93)


def position(iupd, iuv, amount=12000, due="2026-12-31T22:59:59", **extra):
    body = {"iupd": iupd, "type": "F", "fiscalCode": "RSSMRA80A01H501U", "fullName": "Mario Rossi",
            "companyName": "Comune di Esempio", "officeName": "Servizi scolastici", "switchToExpired": False,
            "paymentOption": [{"iuv": iuv, "amount": amount, "description": "Retta nido 2026/27",
                               "isPartialPayment": False, "dueDate": due, "retentionDate": "2027-06-30T21:59:59",
                               "transfer": [{"idTransfer": "1", "amount": amount, "category": "9/0101100IM/",
                                             "remittanceInformation": "Retta nido 2026/27",
                                             "iban": "IT60X0542811101000000123456"}]}]}
    body.update(extra)
    return body


E1 = iuv_of("0000000000042")
assert E1 == "01000000000004285"  # domain/PAYMENTS.md section 3, example E1


@pytest.fixture(scope="module")
def gpd():
    with GpdStandIn(key=KEY, now=START) as g:
        yield g


@pytest.fixture(autouse=True)
def fresh(gpd):
    gpd.reset()


class Api:
    def __init__(self, gpd):
        self.gpd = gpd

    def call(self, method, url, body=None, key=KEY, headers=None, timeout=10):
        u = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
        h = {"Content-Type": "application/json", **(headers or {})}
        if key is not None:
            h["Ocp-Apim-Subscription-Key"] = key
        data = None if body is None else json.dumps(body)
        try:
            conn.request(method, u.path + ("?" + u.query if u.query else ""), data, h)
            r = conn.getresponse()
            raw = r.read()
        finally:
            conn.close()
        ctype = r.getheader("Content-Type") or ""
        payload = json.loads(raw) if raw and "json" in ctype else raw.decode()
        return r.status, payload, r

    def pos(self, method, rest, body=None, org=ORG, **kw):
        return self.call(method, f"{self.gpd.positions_url}/organizations/{org}/debtpositions{rest}", body, **kw)

    def receipts(self, rest="", org=ORG, **kw):
        return self.call("GET", f"{self.gpd.receipts_url}/payments/{org}/receipts{rest}", **kw)

    def create(self, body, publish=True, org=ORG, **kw):
        return self.pos("POST", f"?toPublish={'true' if publish else 'false'}", body, org=org, **kw)


@pytest.fixture
def api(gpd):
    return Api(gpd)


def valid(schema, instance):
    errors = [e.message for e in SCHEMAS[schema].iter_errors(instance)]
    assert not errors, errors


def test_lifecycle_create_publish_get_update_invalidate_delete(api):
    s, body, _ = api.create(position("P1", E1), publish=False)
    assert s == 201 and body["status"] == "DRAFT" and body["paymentOption"][0]["nav"] == "3" + E1
    valid("PaymentPositionModel", body)
    s, got, _ = api.pos("GET", "/P1")
    assert s == 200 and got["status"] == "DRAFT"
    valid("PaymentPositionModelBaseResponse", got)
    assert api.pos("POST", "/P1/publish")[1]["status"] == "VALID"
    s, p, _ = api.pos("POST", "/P1/publish")
    assert s == 409 and "publishable" in p["detail"]
    valid("ProblemJson", p)
    # a PUT without toPublish puts a VALID position back to DRAFT (PAYMENTS.md 1.2)
    s, upd, _ = api.pos("PUT", "/P1", position("P1", E1, amount=15000))
    assert s == 200 and upd["status"] == "DRAFT"
    s, upd, _ = api.pos("PUT", "/P1?toPublish=true", position("P1", E1, amount=15000))
    assert s == 200 and upd["status"] == "VALID"
    got = api.pos("GET", "/P1")[1]
    assert got["paymentOption"][0]["amount"] == 15000 and got["publishDate"] == START
    assert api.pos("POST", "/P1/invalidate")[1]["status"] == "INVALID"
    assert api.pos("POST", "/P1/invalidate")[0] == 409
    assert api.pos("PUT", "/P1?toPublish=true", position("P1", E1))[0] == 409
    s, d, _ = api.pos("DELETE", "/P1")
    assert (s, d) == (200, "OK")
    assert api.pos("GET", "/P1")[0] == 404
    assert api.pos("DELETE", "/P1")[0] == 404


def test_key_is_required_and_request_id_is_echoed(api, gpd):
    for s, body, r in (api.pos("POST", "?toPublish=true", position("P1", E1), key=None),
                       api.pos("GET", "", key="wrong")):
        assert s == 401 and body == "" and r.getheader("X-Request-Id")
    s, _, r = api.pos("GET", "", headers={"X-Request-Id": "req-42"})
    assert s == 200 and r.getheader("X-Request-Id") == "req-42"
    assert api.receipts(key="wrong")[0] == 401
    logged = gpd.calls()
    assert [c["headers"].get("Ocp-Apim-Subscription-Key") for c in logged] == \
        [None, "*** (not the configured key)", "***", "*** (not the configured key)"]
    assert KEY not in json.dumps(logged)
    assert logged[2]["request_id"] == "req-42" and logged[2]["status"] == 200


def test_identifiers_are_unique_per_organization_forever(api):
    assert api.create(position("P1", E1))[0] == 201
    s, p, _ = api.create(position("P1", iuv_of("0000000000043")))
    assert s == 409 and "iupd P1" in p["detail"]
    s, p, _ = api.create(position("P2", E1))
    assert s == 409 and "iuv " + E1 in p["detail"]
    other = position("P3", iuv_of("0000000000044"))
    other["paymentOption"][0]["nav"] = "3" + E1
    assert api.create(other)[0] == 400  # the nav must carry the option's own iuv
    assert api.create(position("P1", E1), org=OTHER_ORG)[0] == 201  # another Ente: no clash
    api.pos("POST", "/P1/invalidate")
    assert api.pos("DELETE", "/P1")[0] == 200
    # deleted, yet its iupd, iuv and nav stay taken
    assert api.create(position("P1", iuv_of("0000000000045")))[0] == 409
    s, p, _ = api.create(position("P4", E1))
    assert s == 409 and "belongs to P1" in p["detail"]


def test_wrong_check_digit_and_amounts_are_refused(api):
    s, p, _ = api.create(position("P1", E1[:-2] + "86"))
    assert s == 400 and "check digit" in p["detail"] and "expected 85" in p["detail"]
    body = position("P1", E1)
    body["paymentOption"][0]["transfer"][0]["amount"] = 11999
    s, p, _ = api.create(body)
    assert s == 400 and "sum of the transfers" in p["detail"]
    assert api.create(position("P1", "0" + E1))[0] == 400  # 18 digits: not an aux-3 IUV


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.text("0123456789", min_size=13, max_size=13), seg=st.sampled_from(["00", "01", "47", "49"]),
       wrong=st.integers(1, 92))
def test_any_correct_check_digit_is_accepted_and_any_wrong_one_refused(api, gpd, base, seg, wrong):
    gpd.reset()
    good = iuv_of(base, seg)
    bad = good[:-2] + "%02d" % ((int(good[-2:]) + wrong) % 93)
    assert api.create(position("GOOD", good))[0] == 201
    s, p, _ = api.create(position("BAD", bad))
    assert s == 400 and "check digit" in p["detail"]


def test_bodies_the_schema_refuses_are_400_and_the_schema_agrees(api):
    def broken(change):
        b = position("P1", E1)
        change(b)
        return b
    cases = [lambda b: b.pop("iupd"), lambda b: b.update(type="X"), lambda b: b.pop("switchToExpired"),
             lambda b: b.update(country="it"), lambda b: b.update(companyName="x" * 141),
             lambda b: b["paymentOption"][0].update(amount=0),
             lambda b: b["paymentOption"][0].pop("dueDate"),
             lambda b: b["paymentOption"][0]["transfer"][0].update(idTransfer="6"),
             lambda b: b["paymentOption"][0]["transfer"][0].update(iban="IT60 X054"),
             lambda b: b["paymentOption"][0].update(isPartialPayment="no")]
    assert SCHEMAS["PaymentPositionModel"].is_valid(position("P1", E1))
    for i, change in enumerate(cases):
        b = broken(change)
        assert not SCHEMAS["PaymentPositionModel"].is_valid(b), i
        s, p, _ = api.create(b)
        assert s == 400, (i, p)
    assert api.create(position("P1", E1))[0] == 201


def test_date_rules_use_the_stand_in_clock(api):
    past = position("P1", E1, validityDate="2026-08-31T00:00:00")
    assert "validity_date" in api.create(past)[1]["detail"]
    assert api.create(position("P1", E1, due="2026-09-01T07:59:59"))[0] == 400
    late = position("P1", E1)
    late["paymentOption"][0]["retentionDate"] = "2026-12-01T00:00:00"
    assert api.create(late)[0] == 400
    assert api.create(position("P1", E1, due="2026-12-31T22:59:59+01:00"))[0] == 400


def test_the_clock_moves_published_to_valid_and_valid_to_expired(api, gpd):
    assert api.create(position("P1", E1, validityDate="2026-10-01T00:00:00"))[1]["status"] == "PUBLISHED"
    with pytest.raises(ControlError) as e:
        gpd.pay(ORG, nav="3" + E1)
    assert e.value.status == 422
    gpd.clock("2026-10-01T00:00:00")
    assert api.pos("GET", "/P1")[1]["status"] == "VALID"
    e2 = iuv_of("0000000000050")
    api.create(position("P2", e2, due="2026-12-31T22:59:59", switchToExpired=True))
    e3 = iuv_of("0000000000051")
    api.create(position("P3", e3, due="2026-12-31T22:59:59"))
    gpd.clock("2026-12-31T22:59:59")
    assert api.pos("GET", "/P2")[1]["status"] == "VALID"  # expires after the due date, not at it
    gpd.clock(advance_seconds=1)
    assert api.pos("GET", "/P2")[1]["status"] == "EXPIRED"
    assert api.pos("GET", "/P3")[1]["status"] == "VALID"  # switchToExpired=false: still payable
    with pytest.raises(ControlError) as e:
        gpd.pay(ORG, iuv=e2)
    assert e.value.status == 422
    assert api.pos("POST", "/P2/invalidate")[0] == 409
    assert gpd.pay(ORG, iuv=e3)["iuv"] == e3
    s, listed, _ = api.pos("GET", "?status=EXPIRED")
    assert [p["iupd"] for p in listed["payment_position_list"]] == ["P2"]


def test_pay_then_read_the_position_the_receipts_and_the_xml(api, gpd):
    api.create(position("P1", E1))
    gpd.clock("2026-09-15T10:20:30")
    paid = gpd.pay(ORG, nav="3" + E1, receiptId="r-001", paymentMethod="PPAL", pspCompany="Banca X", fee="1.50")
    assert paid["receiptId"] == "r-001" and paid["iuv"] == E1
    got = api.pos("GET", "/P1")[1]
    valid("PaymentPositionModelBaseResponse", got)
    opt = got["paymentOption"][0]
    assert got["status"] == "PAID" and got["paymentDate"] == "2026-09-15T10:20:30"
    assert (opt["status"], opt["idReceipt"], opt["paymentMethod"], opt["pspCompany"], opt["fee"]) == \
        ("PO_PAID", "r-001", "PPAL", "Banca X", 150)
    with pytest.raises(ControlError) as e:
        gpd.pay(ORG, nav="3" + E1)
    assert e.value.status == 409
    with pytest.raises(ControlError) as e:
        gpd.pay(ORG, nav="399999999999999999")
    assert e.value.status == 404
    assert api.pos("PUT", "/P1?toPublish=true", position("P1", E1))[0] == 409
    assert api.pos("DELETE", "/P1")[0] == 409
    s, page, _ = api.receipts("?from=2026-09-15&to=2026-09-15&pageNum=0&pageSize=20")
    assert s == 200 and not list(RECEIPTS_SCHEMA.iter_errors(page))
    assert page == {"currentPageNumber": 0, "length": 1, "totalPages": 1, "results": [
        {"organizationFiscalCode": ORG, "iuv": E1, "debtor": "RSSMRA80A01H501U",
         "paymentDateTime": "2026-09-15T10:20:30", "status": "PAID"}]}
    s, p, _ = api.receipts("?from=2026-09-16&to=2026-09-20")
    assert s == 404 and p["status"] == 404
    assert api.receipts("?from=2026-09-16&to=2026-09-15")[0] == 400
    s, listed, _ = api.pos("GET", "?status=PAID&payment_date_from=2026-09-15&payment_date_to=2026-09-15")
    assert [p["iupd"] for p in listed["payment_position_list"]] == ["P1"]
    valid("PaymentPositionsInfo", listed)
    s, doc, r = api.receipts("/" + E1)
    assert s == 200 and r.getheader("Content-Type") == "application/xml"
    root = ET.fromstring(doc.encode())
    assert root.tag == "PaSendRTV2Request" and root.findtext("idPA") == ORG
    rec = root.find("receipt")
    assert [c.tag for c in rec][:9] == ["receiptId", "noticeNumber", "fiscalCode", "outcome", "creditorReferenceId",
                                       "paymentAmount", "description", "companyName", "officeName"]
    assert (rec.findtext("receiptId"), rec.findtext("noticeNumber"), rec.findtext("creditorReferenceId"),
            rec.findtext("paymentAmount"), rec.findtext("outcome"), rec.findtext("fee")) == \
        ("r-001", "3" + E1, E1, "120.00", "OK", "1.50")
    assert rec.findtext("debtor/uniqueIdentifier/entityUniqueIdentifierValue") == "RSSMRA80A01H501U"
    assert rec.findtext("transferList/transfer/transferAmount") == "120.00"
    assert rec.findtext("transferList/transfer/IBAN") == "IT60X0542811101000000123456"
    assert rec.findtext("paymentDateTime") == "2026-09-15T10:20:30"
    assert api.receipts("/" + iuv_of("0000000000099"))[0] == 404


def test_pay_with_another_amount_or_on_an_invalid_position(api, gpd):
    api.create(position("P1", E1))
    gpd.pay(ORG, iuv=E1, amount="119.99", xml_style="qualified")
    root = ET.fromstring(api.receipts("/" + E1)[1].encode())
    assert root.tag == NS + "paSendRTV2Request" and root.findtext("receipt/paymentAmount") == "119.99"
    e2 = iuv_of("0000000000060")
    api.create(position("P2", e2))
    api.pos("POST", "/P2/invalidate")
    with pytest.raises(ControlError) as e:
        gpd.pay(ORG, iuv=e2)
    assert e.value.status == 422


def test_report_moves_paid_to_reported(api, gpd):
    api.create(position("P1", E1))
    gpd.pay(ORG, iuv=E1)
    out = gpd.report(ORG, E1, idFlowReporting="2026-09-02BCITITMM-0001")
    assert out["status"] == "REPORTED"
    got = api.pos("GET", "/P1")[1]
    opt = got["paymentOption"][0]
    assert (got["status"], opt["status"], opt["idFlowReporting"], opt["reportingDate"]) == \
        ("REPORTED", "PO_REPORTED", "2026-09-02BCITITMM-0001", START)
    assert opt["transfer"][0]["status"] == "T_REPORTED"


def test_status_faults_answer_n_times_then_the_call_succeeds(api, gpd):
    gpd.fault("POST /organizations/*/debtpositions", mode="status", status=503, times=2)
    assert api.pos("POST", "/P0/publish")[0] == 404  # `*` stays within one segment
    assert api.create(position("P1", E1))[0] == 503
    assert api.create(position("P1", E1))[0] == 503
    assert api.create(position("P1", E1))[0] == 201
    creates = gpd.calls("/debtpositions", method="POST")
    assert [(c["status"], c["fault"]) for c in creates] == [(404, None), (503, "status"), (503, "status"), (201, None)]
    assert creates[1]["query"] == {"toPublish": "true"} and creates[1]["body"]["iupd"] == "P1"


def test_drop_after_commit_applies_the_change_and_loses_the_answer(api, gpd):
    gpd.fault("POST /organizations/*/debtpositions", mode="drop_after_commit")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine)):
        api.create(position("P1", E1))
    assert api.pos("GET", "/P1")[1]["status"] == "VALID"
    assert api.create(position("P1", E1))[0] == 409  # the retry meets the committed create
    gpd.fault("POST /organizations/*/debtpositions/*/invalidate", mode="drop_after_commit", status=500)
    assert api.pos("POST", "/P1/invalidate")[0] == 500
    assert api.pos("GET", "/P1")[1]["status"] == "INVALID"
    assert [c["status"] for c in gpd.calls()][0] == "dropped"


def test_timeout_and_latency_faults(api, gpd):
    gpd.fault("POST /organizations/*/debtpositions", delay_ms=200)
    t0 = time.monotonic()
    assert api.create(position("P1", E1))[0] == 201
    assert time.monotonic() - t0 >= 0.2
    gpd.fault("GET /organizations/*/debtpositions/*", mode="timeout", delay_ms=400)
    with pytest.raises((socket.timeout, TimeoutError)):
        api.pos("GET", "/P1", timeout=0.1)
    assert api.pos("GET", "/P1")[0] == 200  # the fault was used up
    assert gpd.fault("GET /organizations/*/debtpositions", mode="timeout")["delay_ms"] == 30000
    gpd.clear_faults()
    # a timed-out create is still applied once the stand-in wakes: the client cannot tell
    gpd.fault("POST /organizations/*/debtpositions", mode="timeout", delay_ms=300)
    with pytest.raises((socket.timeout, TimeoutError)):
        api.create(position("P2", iuv_of("0000000000070")), timeout=0.1)
    deadline = time.monotonic() + 10
    while api.pos("GET", "/P2")[0] == 404 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert api.pos("GET", "/P2")[1]["status"] == "VALID"


def test_a_receipt_listed_twice_and_a_second_receipt_for_a_paid_iuv(api, gpd):
    api.create(position("P1", E1))
    first = gpd.pay(ORG, iuv=E1, receiptId="r-1")["receiptId"]
    gpd.duplicate_receipt(ORG, E1, times=2)
    for _ in range(2):
        assert [r["iuv"] for r in api.receipts()[1]["results"]] == [E1, E1]
    assert [r["iuv"] for r in api.receipts()[1]["results"]] == [E1]
    gpd.clock("2026-09-03T09:00:00")
    second = gpd.duplicate_receipt(ORG, E1, mode="different_receipt_id")
    assert second["previousReceiptId"] == first and second["receiptId"] != first
    rec = ET.fromstring(api.receipts("/" + E1)[1].encode()).find("receipt")
    assert rec.findtext("receiptId") == second["receiptId"] and rec.findtext("paymentAmount") == "120.00"
    assert api.receipts("?from=2026-09-03&to=2026-09-03")[1]["results"][0]["paymentDateTime"] == "2026-09-03T09:00:00"
    assert api.pos("GET", "/P1")[1]["paymentOption"][0]["idReceipt"] == first


def test_reorder_and_pages(api, gpd):
    iuvs = [iuv_of("00000000001%02d" % i) for i in range(3)]
    for i, iuv in enumerate(iuvs):
        api.create(position(f"P{i}", iuv))
        gpd.pay(ORG, iuv=iuv)
    assert [r["iuv"] for r in api.receipts()[1]["results"]] == iuvs
    s, page, _ = api.receipts("?pageNum=1&pageSize=2")
    assert (page["currentPageNumber"], page["length"], page["totalPages"]) == (1, 1, 2)
    assert api.receipts("?pageNum=2&pageSize=2")[0] == 404
    gpd.reorder(True)
    assert [r["iuv"] for r in api.receipts()[1]["results"]] == iuvs[::-1]
    gpd.reorder(False)
    s, listed, _ = api.pos("GET", "?limit=2&page=0&orderby=IUPD&ordering=ASC")
    assert [p["iupd"] for p in listed["payment_position_list"]] == ["P0", "P1"]
    assert listed["page_info"] == {"page": 0, "limit": 2, "items_found": 2, "total_pages": 2}
    assert api.pos("GET", "?limit=51")[0] == 400
    assert api.pos("GET", "?due_date_from=2026-09-01&payment_date_from=2026-09-01")[0] == 400


def test_a_position_created_by_someone_else_and_the_state_dump(api, gpd):
    gpd.create_position(ORG, position("ELSEWHERE", E1))
    assert api.pos("GET", "/ELSEWHERE")[1]["status"] == "VALID"
    assert gpd.calls() == [gpd.calls()[0]] and gpd.calls()[0]["path"].endswith("/ELSEWHERE")
    state = gpd.state()
    assert state["now"] == START and state["positions"][0]["iupd"] == "ELSEWHERE"
    assert state["used"] == {"iupd": 1, "iuv": 1, "nav": 1}


def test_sigterm_stops_the_process_cleanly():
    g = GpdStandIn(key="k").start()
    g.stop()
    assert g.proc.returncode == 0


def test_the_xml_example_in_source_md_is_what_the_stand_in_serves(api, gpd):
    """The C++ receipt parser is written from that example: keep it true."""
    text = (pathlib.Path(__file__).parent / "pagopa" / "SOURCE.md").read_text(encoding="utf-8")
    example = text.split("```xml\n", 1)[1].split("```", 1)[0]
    api.create(position("80012345678-3b1f", E1))
    gpd.clock("2026-09-15T10:20:30")
    gpd.pay(ORG, nav="3" + E1, receiptId="c3f1e2a4b5d64e7f8a9b0c1d2e3f4a5b")
    assert api.receipts("/" + E1)[1] == example
