"""What the HTTP API's test modules share: the tenants they use, the payloads of a case and a
voucher, the check of an RFC 9457 problem answer, and the server they test.
"""
from procedo_server import Server

FORLI, AOSTA, REGION = "comune-forli", "comune-aosta", "regione-vda"


def case_payload(code):
    return {"procedure_id": "building_permit", "case_code": code,
            "applicant": {"name": "Mario Bianchi", "email": "mario@example.it"},
            "consent": {"sms": False, "email": True}}


def voucher_payload():
    return {"applicant": {"name": "Anna Verdi", "tax_code": "VRDNNA80A41A326X"},
            "address": "Via Roma 1, Aosta", "household_members": 3, "fuel": "pellet"}


def assert_problem(reply, status, type_suffix=None):
    assert reply.status == status, reply
    assert reply.headers["content-type"] == "application/problem+json", reply
    p = reply.json()
    assert p["status"] == status and p["title"] and p["detail"], p
    if type_suffix:
        assert p["type"].endswith("/" + type_suffix), p
    return p


def http_server(tmp_path_factory):
    """A `procedo serve` with short read and idle timeouts and a small body limit, for a module's
    tests; stopped when the module is done."""
    s = Server(tmp_path_factory.mktemp("http"), http_read_timeout=1, http_idle_timeout=2,
               http_body_limit=65536).start()
    yield s
    s.stop()
