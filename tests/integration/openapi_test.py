"""Schemathesis against a real `procedo serve`: every request the OpenAPI document allows must be
accepted, every one it forbids refused, and every answer (status, headers, body) must be one the
document lists. The stateful phase follows the document's links from the command that creates a
stream to the routes that read it.
"""
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from procedo_server import SRC, Server

sys.path.insert(0, str(SRC / "scripts"))
import openapi_commands  # noqa: E402

ST = pathlib.Path(sys.executable).parent / "st"
FORLI = "comune-forli"

# Bounded so that the whole file takes a few minutes on two slow cores; generation is
# derandomized, so that the next run finds a failure again.
MAX_EXAMPLES = int(os.environ.get("PROCEDO_OPENAPI_EXAMPLES", "25"))
STATEFUL_EXAMPLES = 30 * MAX_EXAMPLES
# schemathesis' own defaults for positive_data_acceptance.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # Schemathesis sends requests without credentials and with wrong ones to see them refused
    # (401): the throttle for failing authentications must not turn those into 429s in the middle
    # of a run. test_throttled_authentication_is_documented checks the 429 itself.
    s = Server(tmp_path_factory.mktemp("openapi"), auth_max_failures=1_000_000,
               auth_max_failures_per_credential=1_000_000).start()
    # Something to read from the start, and for the live feed to send.
    op = s.as_("operator", FORLI, "seed")
    assert op.command("case-comune-forli-seed", "start_case", {
        "procedure_id": "building_permit", "case_code": "FC-SEED",
        "applicant": {"name": "Mario Bianchi"}, "consent": {"sms": False, "email": False}}).status == 201
    yield s
    s.stop()


def guarded_commands():
    """Commands with rules of the procedure that no schema states (a known procedure, the
    channel of the caller's role, the details of the services chosen before, an anomaly that is
    open, ...): the document lists their 422 guard-refused, and a schema-valid payload may get
    it."""
    for definition in openapi_commands.workflows():
        for name, command in definition["commands"].items():
            if (command.get("guards") or command.get("decider")) and command.get("roles") != ["system"]:
                yield f"{definition['stream_kind']}.{name}"


def config(streams, kind):
    """schemathesis.toml: credentials from the environment; half of the time stream ids that name
    the caller's tenant (random ones name none, and get 404) and catalogued procedures (random
    ones get 422 from the guard known_procedure); 422 as an accepted answer to a valid payload
    where a guard may refuse it."""
    catalogue = [json.loads(p.read_text()) for p in (SRC / "domain" / "catalogue").glob("*.json")]
    procedures = sorted(e["id"] for e in catalogue if e["workflow"] == "admin_case")
    lines = [
        '[auth.openapi.bearer]', 'bearer = "${PROCEDO_TOKEN}"', '',
        '[dictionaries.streams]', f'values = {json.dumps(streams)}',
        '[dictionaries.procedures]', f'values = {json.dumps(procedures)}',
        '[parameters]',
        '"path.id" = { dictionary = "streams", probability = 0.5 }',
        '"body.procedure_id" = { dictionary = "procedures", probability = 0.5 }',
        '',
        # Scenarios from creating a stream on, along the links.
        '[phases.stateful]', f'generation.max-examples = {STATEFUL_EXAMPLES}', '',
        # The document's links and the Location headers, not links guessed from how response
        # fields are named: those make every command a link target (a ticket's state names its
        # stream), and a scenario then has no operation to start from.
        '[phases.stateful.inference]', 'algorithms = ["location-headers"]', '',
        # The live feed never ends: one event, or two seconds, are enough to check an answer.
        '[[operations]]', 'include-path = "/v1/events"', 'max-stream-events = 1',
        'request-timeout = 2', '',
    ]
    # The stateful phase follows one kind of stream, from the command that creates it to the
    # reads (with every operation in it, a run of bounded length seldom creates anything).
    lines += ['[[operations]]', f'exclude-operation-id-regex = "^({kind}\\\\.|getStream|getCaseView|getTicket)"',
              'phases.stateful.enabled = false', '']
    # The event schemas are files served as they are (http_test checks them). Left in, the list
    # and the item it links to would be the stateful phase's only likely start, so that no
    # scenario would start from a command at all.
    lines += ['[[operations]]', 'include-path-regex = "^/schemas/"', 'enabled = false', '']
    # An import's body is an XML document whose layout is an XSD, which the OpenAPI schema (a
    # string) cannot state: a generated string is a document the import refuses whole, with 400.
    lines += ['[[operations]]', 'include-operation-id = "importExchange"',
              f'checks.positive_data_acceptance.expected-statuses = {json.dumps(ACCEPTED + ["400"])}',
              '']
    for operation_id in guarded_commands():
        lines += ['[[operations]]', f'include-operation-id = "{operation_id}"',
                  f'checks.positive_data_acceptance.expected-statuses = {json.dumps(ACCEPTED + ["422"])}',
                  '']
    return "\n".join(lines)


def schemathesis(server, tmp_path, token, streams, kind, *extra):
    (tmp_path / "schemathesis.toml").write_text(config(streams, kind))
    args = [str(ST), "--config-file", str(tmp_path / "schemathesis.toml"), "--no-color", "run",
            f"http://127.0.0.1:{server.port}/openapi.json",
            "--checks", "all", "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
            "--workers", "1", "--request-timeout", "5", "--max-failures", "50", *extra]
    started = time.monotonic()
    run = subprocess.run(args, env=dict(os.environ, PROCEDO_TOKEN=token), cwd=tmp_path,
                         capture_output=True, text=True, timeout=900)
    print(f"schemathesis took {time.monotonic() - started:.0f} s")
    print(run.stdout[-30000:])
    print(run.stderr[-5000:])
    return run


def test_the_document_states_every_command_of_the_workflows():
    assert openapi_commands.main(["--check"]) == 0


# The office's staff and the help desk between them reach every route and most commands: the
# cases, applications and enrolments of the one, the tickets, queues and KPIs of the other (what a
# role may not do answers 403, which the document lists too).
@pytest.mark.parametrize("role, kind", [("operator", "case"), ("helpdesk_l1", "ticket")])
def test_schemathesis_finds_nothing(server, tmp_path, role, kind):
    streams = [f"{k}-{FORLI}-{i}" for k in ("case", "voucher", "ticket", "enrolment")
               for i in range(1, 11)]
    run = schemathesis(server, tmp_path, server.token(role, FORLI, f"st-{role}"), streams, kind)
    assert run.returncode == 0, "schemathesis found failures (output above)"
    assert "Test cases:" in run.stdout and " 0 covered " not in run.stdout, "no link was followed"


def test_throttled_authentication_is_documented(tmp_path):
    """Past auth.max_failures failing attempts from one address, every authenticated route
    answers 429 with Retry-After: each such answer must be one its operation documents."""
    import schemathesis
    from schemathesis.specs.openapi.checks import (content_type_conformance, response_headers_conformance,
                                                   response_schema_conformance, status_code_conformance)
    s = Server(tmp_path, auth_max_failures=2, auth_max_failures_per_credential=1000).start()
    try:
        schema = schemathesis.openapi.from_path(SRC / "schemas" / "openapi.json")
        checks = [status_code_conformance, content_type_conformance, response_headers_conformance,
                  response_schema_conformance]
        bad = {"Authorization": "Bearer not-a-token"}
        first = [s.request("GET", "/v1/events", headers=bad).status for _ in range(3)]
        assert first == [401, 401, 429], first
        throttled = 0
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.definition.raw.get("security") == [] or operation.path.startswith("/v1/citizen/") \
                    and operation.path != "/v1/citizen/cases/{id}/credentials":
                continue  # open routes, and the citizen's own session (their lockout is their own)
            path = {p.name: {"id": "case-comune-forli-1", "name": "open_cases",
                              "number": "TCK-2026-000001", "ticket": "TCK-2026-000001",
                              "service": "canteen", "site": "primaria_saint_roch",
                                  "stream": "payment-comune-forli-1",
                                  "subject": "subj-AAAAAAAAAAAAAAAAAAAAAA"}[p.name]
                    for p in operation.path_parameters}
            query = {"/v1/kpis/helpdesk": {"month": "2026-11"},
                     "/v1/kb": {"q": "stampante"}}.get(operation.path, {})
            body = {}
            if operation.method == "post":
                content = operation.definition.raw.get("requestBody", {}).get("content", {})
                body = ({"body": "<exchange/>", "media_type": "application/xml"}
                        if "application/xml" in content else
                        {"body": {}, "media_type": "application/json"})
            case = operation.Case(path_parameters=path, query=query,
                                  headers=bad, **body)
            response = case.call(base_url=f"http://127.0.0.1:{s.port}", timeout=10)
            assert response.status_code == 429, (operation.label, response.text)
            assert int(response.headers["retry-after"][0]) > 0
            case.validate_response(response, checks=checks)
            throttled += 1
        assert throttled >= 30, throttled
    finally:
        s.stop()
