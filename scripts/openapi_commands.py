#!/usr/bin/env python3
"""Writes into schemas/openapi.json one operation per workflow command a credential may send
(POST /v1/streams/{id}/commands/<command>), its request body the command's payload schema from
domain/workflows/, so that the document states what each command accepts. Commands only the
system runs (role "system") are left out: every credential gets 403 for them. The routes that
create a stream under a name and number the server gives (POST /v1/tickets) take the payload
of their creating command, and are written the same way.

    scripts/openapi_commands.py          rewrite the document's command operations
    scripts/openapi_commands.py --check  exit 1 if the document differs from the workflows

tests/integration/openapi_test.py runs the check, so a workflow change that is not carried into
the document fails the tests.
"""
import copy
import json
import pathlib
import sys

SRC = pathlib.Path(__file__).resolve().parents[1]
DOCUMENT = SRC / "schemas" / "openapi.json"
PREFIX = "/v1/streams/{id}/commands/"

# What every command answers besides 200/201 (components/responses of the document).
ANSWERS = {
    "400": "BadRequest",
    "401": "Unauthenticated",
    "403": "Forbidden",
    "404": "CommandNotFound",
    "409": "CommandConflict",
    "413": "TooLarge",
    "422": "CommandRefused",
    "429": "TooManyFailedAuthentications",
    "503": "Unavailable",
}


# Routes that create a stream the server names: path -> (workflow id, creating command).
CREATES = {"/v1/tickets": ("helpdesk_ticket", "open_ticket")}


def workflows():
    for path in sorted((SRC / "domain" / "workflows").glob("*.json")):
        yield json.loads(path.read_text())


def links():
    """From a command's answer to the reads of its stream, so that a client (and schemathesis'
    stateful phase) goes from creating a stream to reading it. Links to the stream's next
    commands would be as true, but drown these in a bounded stateful run."""
    return {
        "events": {"operationId": "getStreamEvents",
                   "parameters": {"id": "$response.body#/stream"},
                   "description": "The stream's events, this command's among them"},
        "state": {"operationId": "getStreamState",
                  "parameters": {"id": "$response.body#/stream"},
                  "description": "The stream's state after this command"},
        "view": {"operationId": "getCaseView",
                 "parameters": {"id": "$response.body#/stream",
                                "min_position": "$response.body#/position"},
                 "description": "The stream's view, once the views have applied this command"},
    }


def answers(kind):
    """The answers of a kind's commands, with the links from each to its stream's reads."""
    answered = {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/CommandResult"}}},
                "headers": {"ETag": {"$ref": "#/components/headers/ETag"},
                            "Location": {"$ref": "#/components/headers/Location"}},
                "links": links()}
    return {
        f"Appended.{kind}": dict(
            answered, description="Appended: the events, the stream version, the log position"),
        f"Deduplicated.{kind}": dict(
            answered, description="A retry with the same Idempotency-Key, answered from its record"),
    }


def operation(definition, name, command):
    kind = definition["stream_kind"]
    payload = copy.deepcopy(command.get("payload") or {"type": "object"})
    roles = ", ".join(command.get("roles", []))
    what = command.get("description") or f"{name.replace('_', ' ').capitalize()}."
    creates = "Creates the stream. " if command.get("initial") else ""
    states = "" if command.get("initial") or "from" not in command else \
        f"Allowed in the states: {', '.join(command['from'])}. "
    guards = command.get("guards", [])
    rules = f"Rules of the procedure (422 guard-refused): {', '.join(guards)}. " if guards else ""
    body = {"content": {"application/json": {"schema": payload}},
            # An empty body is the payload {}: required only when the payload has fields to give.
            "required": bool(payload.get("required"))}
    responses = {"201": {"$ref": f"#/components/responses/Appended.{kind}"},
                 "200": {"$ref": f"#/components/responses/Deduplicated.{kind}"}}
    responses.update({code: {"$ref": f"#/components/responses/{ref}"} for code, ref in ANSWERS.items()})
    return {
        "operationId": f"{kind}.{name}",
        "tags": [f"{definition['id']} commands"],
        "summary": what,
        "description": (f"Workflow {definition['id']}, streams {kind}-<tenant>-<id>. {creates}{states}"
                        f"Roles: {roles}. {rules}The body is the command's payload, as the workflow "
                        "defines it (domain/workflows/)."),
        "parameters": [
            {"$ref": f"#/components/parameters/StreamId.{kind}"},
            {"$ref": "#/components/parameters/IfMatch"},
            {"$ref": "#/components/parameters/IdempotencyKey"},
            {"$ref": "#/components/parameters/CorrelationId"},
        ],
        "requestBody": body,
        "responses": responses,
    }


def create_operation(definition, name, command):
    """POST /v1/tickets: the creating command's payload, answered with the new stream, its
    number and where to find it by that number."""
    kind = definition["stream_kind"]
    payload = copy.deepcopy(command.get("payload") or {"type": "object"})
    result = {"allOf": [{"$ref": "#/components/schemas/CommandResult"},
                        {"type": "object", "required": ["number"],
                         "properties": {"number": {"type": "string",
                                                   "description": "The number people quote, "
                                                                  "per tenant and year"}}}]}
    answered = {"content": {"application/json": {"schema": result}},
                "headers": {"ETag": {"$ref": "#/components/headers/ETag"},
                            "Location": {"description": "The new stream, by its number",
                                         "schema": {"type": "string"}}},
                "links": {"byNumber": {"operationId": "getTicketByNumber",
                                       "parameters": {"number": "$response.body#/number"},
                                       "description": "The new ticket, by its number"}}}
    responses = {"201": dict(answered, description="Created, with its number"),
                 "200": dict(answered, description="A retry with the same Idempotency-Key, "
                                                   "answered from its record")}
    responses.update({code: {"$ref": f"#/components/responses/{ref}"}
                      for code, ref in ANSWERS.items() if code != "404"})
    return {
        "operationId": f"create{kind.capitalize()}",
        "tags": [f"{definition['id']} commands"],
        "summary": f"Opens a {kind} under a name and a number the server gives",
        "description": (f"Runs {name} (workflow {definition['id']}) on a new stream "
                        f"{kind}-<your tenant>-<id> and gives it the next number of your "
                        "organisation's year (TCK-2026-000123), gap-free. With an Idempotency-Key "
                        "a retry is answered from the first attempt (200). Roles: "
                        f"{', '.join(command.get('roles', []))}."),
        "parameters": [{"$ref": "#/components/parameters/IdempotencyKey"},
                       {"$ref": "#/components/parameters/CorrelationId"}],
        "requestBody": {"content": {"application/json": {"schema": payload}},
                        "required": bool(payload.get("required"))},
        "responses": responses,
    }


def stream_id(kind):
    return {"name": "id", "in": "path", "required": True,
            "description": f"A {kind} stream: {kind}-<tenant>-<id>, e.g. {kind}-comune-forli-42 (a "
                           "stream of another tenant, or one naming none, answers 404 or 422)",
            "schema": {"type": "string", "maxLength": 200,
                       "pattern": f"^{kind}-[A-Za-z0-9_.:@-]+$"}}


def generate(document):
    doc = copy.deepcopy(document)
    paths = {p: v for p, v in doc["paths"].items()
             if not p.startswith(PREFIX) and p not in CREATES}
    params = doc["components"]["parameters"]
    answered = doc["components"]["responses"]
    generated = ("StreamId.", "Appended.", "Deduplicated.")
    for table in (params, answered):
        for key in [k for k in table if k.startswith(generated)]:
            del table[key]
    commands = {}
    for definition in workflows():
        kind = definition["stream_kind"]
        sendable = [n for n, c in definition["commands"].items() if c.get("roles") != ["system"]]
        if not sendable:
            continue
        params[f"StreamId.{kind}"] = stream_id(kind)
        answered.update(answers(kind))
        for name in sendable:
            commands[PREFIX + name] = {"post": operation(definition, name, definition["commands"][name])}
    by_id = {d["id"]: d for d in workflows()}
    for path, (workflow, name) in CREATES.items():
        definition = by_id[workflow]
        commands[path] = {"post": create_operation(definition, name, definition["commands"][name])}
    # Commands come right after the stream routes, in workflow order.
    ordered = {}
    for p, v in paths.items():
        ordered[p] = v
        if p == "/v1/streams/{id}/state":
            ordered.update(commands)
    doc["paths"] = ordered
    return doc


def dump(document):
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv):
    current = DOCUMENT.read_text()
    wanted = dump(generate(json.loads(current)))
    if "--check" in argv:
        if wanted != current:
            print(f"{DOCUMENT} does not state the workflows' commands: run {sys.argv[0]}")
            return 1
        return 0
    DOCUMENT.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
