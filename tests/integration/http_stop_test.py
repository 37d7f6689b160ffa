"""Stopping `procedo serve` under load: what the server accepted is answered before it exits.

A SIGTERM first lets every open connection finish: a request being answered gets its answer
(with "Connection: close"), a connection waiting for its next request is closed. So a client
never loses the answer to a command the log holds, and the exit is clean.
"""
import http.client
import json
import threading

from procedo_server import Server, wait_for

from http_helpers import FORLI, case_payload

CALLERS = 8


def _notes_until_refused(port, token, stream, outcome):
    """Adds notes on one keep-alive connection until the server stops answering; records how many
    were acknowledged and whether the last one went unanswered."""
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    n = 0
    while True:
        n += 1
        try:
            conn.request("POST", f"/v1/streams/{stream}/commands/add_note",
                         body=json.dumps({"text": f"nota {n}"}), headers=headers)
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException):
            outcome["unanswered"] += 1
            return
        if r.status == 201:
            outcome["acknowledged"] += 1
        else:
            outcome["refused"].append(r.status)
        if r.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)


def test_a_stop_under_load_answers_every_command_it_applied(tmp_path):
    server = Server(tmp_path / "data", log_sync="true").start()
    op = server.as_("operator", FORLI, "op1")
    streams = [f"case-comune-forli-stop-{i}" for i in range(CALLERS)]
    for i, stream in enumerate(streams):
        assert op.command(stream, "start_case", case_payload(f"FC-S{i}")).status == 201
    outcomes = {s: {"acknowledged": 0, "unanswered": 0, "refused": []} for s in streams}
    callers = [threading.Thread(target=_notes_until_refused,
                                args=(server.port, op.token, s, outcomes[s])) for s in streams]
    for c in callers:
        c.start()
    wait_for(lambda: all(o["acknowledged"] >= 20 for o in outcomes.values()), 120,
             "every caller to have 20 notes acknowledged")

    server.stop()  # SIGTERM; the exit must be clean
    for c in callers:
        c.join(60)
        assert not c.is_alive()
    # The drain ended because every connection had finished, not at its time limit.
    assert "every connection drained" in (server.data_dir / "serve.log").read_text()

    server.start()
    try:
        for stream, o in outcomes.items():
            assert o["refused"] == [], (stream, o)
            version = op.get(f"/v1/streams/{stream}/state").json()["version"]
            # One case.started, then exactly the notes whose answer reached the caller: none
            # acknowledged was lost, and none was applied with its answer dropped.
            assert version - 1 == o["acknowledged"], (stream, version, o)
    finally:
        server.stop()
