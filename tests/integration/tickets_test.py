"""Tickets under server-issued numbers against a real `procedo serve` on a driven clock:
POST /v1/tickets answers 201 with the number and its Location, GET /v1/tickets/{number} finds the
ticket again (another Comune's number answers 404), parallel openings get gap-free numbers per
tenant, a retry is answered from the first attempt, and a new year starts a new series at
midnight in Rome.
"""
import concurrent.futures
import re

import pytest

from procedo_server import Server

FORLI, AOSTA = "comune-forli", "comune-aosta"
TICKET = {"channel": "portal", "priority": "normal", "subject": "Stampante guasta"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("tickets"), testing_driven_clock="true",
               testing_clock_start="2026-12-31T18:00:00+01:00").start()
    yield s
    s.stop()


def open_ticket(server, tenant, key=None, sub="hd1"):
    headers = {"Idempotency-Key": key} if key else None
    return server.request("POST", "/v1/tickets", TICKET, headers=headers,
                          token=server.token("helpdesk_l1", tenant, sub))


def test_created_with_its_number_and_location(server):
    r = open_ticket(server, FORLI)
    assert r.status == 201, r
    body = r.json()
    assert re.fullmatch(r"TCK-2026-\d{6}", body["number"])
    assert r.headers["location"] == f"/v1/tickets/{body['number']}"
    assert body["stream"].startswith(f"ticket-{FORLI}-")
    assert body["events"][0]["data"]["number"] == body["number"]
    got = server.request("GET", r.headers["location"], token=server.token("helpdesk_l1", FORLI))
    assert got.status == 200, got
    assert got.json()["stream"] == body["stream"] and got.json()["state"] == "open"
    # The same number in another Comune is another ticket, or none: never this one.
    other = server.request("GET", r.headers["location"], token=server.token("helpdesk_l1", AOSTA))
    assert other.status == 404 or other.json()["stream"] != body["stream"]
    assert server.request("GET", "/v1/tickets/TCK-2026-999999",
                          token=server.token("helpdesk_l1", FORLI)).status == 404
    assert server.request("GET", "/v1/tickets/not-a-number",
                          token=server.token("helpdesk_l1", FORLI)).status == 400


def test_a_retry_is_answered_from_the_first_attempt(server):
    first = open_ticket(server, FORLI, key="open-once")
    again = open_ticket(server, FORLI, key="open-once")
    assert first.status == 201 and again.status == 200, (first, again)
    assert again.json()["number"] == first.json()["number"]
    assert again.json()["stream"] == first.json()["stream"]
    assert again.headers["location"] == first.headers["location"]


def test_parallel_openings_get_gap_free_numbers_per_tenant(server):
    def numbers(tenant):
        admin = server.token("admin", "")
        r = server.request("GET", f"/v1/streams/number-{tenant}-tck-2026/events?limit=1000", token=admin)
        return [e["data"]["number"] for e in r.json()["events"]] if r.status == 200 else []

    before = {t: len(numbers(t)) for t in (FORLI, AOSTA)}
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(lambda i: open_ticket(server, (FORLI, AOSTA)[i % 2], sub=f"hd{i % 5}"),
                                range(60)))
    assert all(r.status == 201 for r in replies), [r for r in replies if r.status != 201][:3]
    for tenant in (FORLI, AOSTA):
        got = sorted(int(r.json()["number"][-6:]) for r in replies if r.json()["stream"].startswith(f"ticket-{tenant}-"))
        assert got == list(range(before[tenant] + 1, before[tenant] + 31)), (tenant, got)
        assert len(numbers(tenant)) == before[tenant] + 30


def test_a_new_year_starts_a_new_series_at_midnight_in_rome(server):
    admin = server.token("admin", "")
    assert server.request("POST", "/v1/testing/clock", {"to": "2026-12-31T23:59:00+01:00"},
                          token=admin).status == 200
    assert open_ticket(server, FORLI).json()["number"].startswith("TCK-2026-")
    # 23:00 UTC is midnight in Rome: the first ticket of 2027.
    assert server.request("POST", "/v1/testing/clock", {"to": "2026-12-31T23:00:30Z"},
                          token=admin).status == 200
    assert open_ticket(server, FORLI).json()["number"] == "TCK-2027-000001"
    assert open_ticket(server, FORLI).json()["number"] == "TCK-2027-000002"
    assert open_ticket(server, AOSTA).json()["number"] == "TCK-2027-000001"
