"""Commands from Kafka against a real broker and a real `procedo serve` (kafka.commands_enabled).

Command messages are produced with confluent-kafka to `<prefix>.commands`; results are read back
from `<prefix>.command-results` and checked against what the HTTP API answers for the same
command: accepted (events, version, position; the event visible over HTTP), refused with HTTP's
problem types, deduplicated on a repeated idempotency key, malformed messages answered without
stopping the consumer, and a SIGKILL of the server mid-way that re-applies nothing.
Nothing here sleeps to wait: every wait polls a condition with a deadline.
"""
import json
import os
import uuid

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

from kafka_test import BOOTSTRAP, broker  # noqa: F401  (the module's broker fixture, shared)
from procedo_server import Server, wait_for

FORLI = "comune-forli"
TICKET = {"channel": "portal", "priority": "high", "subject": "Stampante guasta"}
CASE = {"procedure_id": "building_permit", "case_code": "FC-2",
        "applicant": {"name": "Mario Bianchi", "email": "mario@example.it"},
        "consent": {"sms": False, "email": True}}


class Commands:
    """A serve with the command consumer on its own topic prefix, a producer of command messages
    and a reader of every result."""

    def __init__(self, data_dir):
        self.prefix = f"c{uuid.uuid4().hex[:8]}"
        self.server = Server(data_dir, kafka_enabled="true", kafka_commands_enabled="true",
                             kafka_bootstrap=BOOTSTRAP, kafka_topic_prefix=self.prefix)
        self.key = self.server.cli("apikey", "create", "--tenant", FORLI, "--name", "protocollo").stdout.strip()
        self.producer = Producer({"bootstrap.servers": BOOTSTRAP, "enable.idempotence": True})
        self.results = []  # (key, value dict, headers dict, message) in the order read
        self.reader = None

    def start(self):
        self.server.start()
        if self.reader is None:
            # serve creates both topics; read the results topic from its beginning.
            topic = f"{self.prefix}.command-results"
            self.reader = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"r-{uuid.uuid4()}",
                                    "enable.auto.commit": False})
            md = wait_for(lambda: self._metadata(topic), 30, f"serve to create {topic}", interval=0.1)
            self.reader.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in md.topics[topic].partitions])
        return self

    def _metadata(self, topic):
        try:
            md = self.reader.list_topics(topic, timeout=5)
        except KafkaException:
            return None
        t = md.topics.get(topic)
        return md if t is not None and t.error is None and t.partitions else None

    def send(self, value, key=None):
        """Produces one command message (a dict is sent as JSON); returns (partition, offset)."""
        delivered = []
        data = json.dumps(value).encode() if isinstance(value, dict) else value
        self.producer.produce(f"{self.prefix}.commands", value=data, key=key,
                              on_delivery=lambda err, m: delivered.append((err, m)))
        self.producer.flush(30)
        err, m = delivered[0]
        assert err is None, err
        return m.partition(), m.offset()

    def command(self, stream, name, payload, idem, **extra):
        msg = {"stream": stream, "command": name, "payload": payload, "idempotency_key": idem,
               "api_key": self.key, **extra}
        return self.send(msg, key=stream.encode())

    def drain(self, limit=None):
        """Reads the results available now (at most `limit`)."""
        while limit is None or limit > 0:
            m = self.reader.poll(0.1)
            if m is None:
                return
            limit = None if limit is None else limit - 1
            assert not m.error(), m.error()
            key = m.key().decode() if m.key() is not None else None
            self.results.append((key, json.loads(m.value()), dict(m.headers() or []), m))

    def wait(self, key, count=1, timeout=60):
        """The first `count` results keyed `key`."""
        def ready():
            self.drain()
            found = [r for r in self.results if r[0] == key]
            return found[:count] if len(found) >= count else None
        return wait_for(ready, timeout, f"{count} result(s) keyed {key!r}")

    def wait_origin(self, partition, offset, timeout=60):
        def ready():
            self.drain()
            return next((r for r in self.results if r[1].get("origin", {}).get("partition") == partition
                         and r[1]["origin"]["offset"] == offset), None)
        return wait_for(ready, timeout, f"the result of the message at {partition}/{offset}")

    def http(self, stream, name, payload, api_key=None):
        return self.server.request("POST", f"/v1/streams/{stream}/commands/{name}", body=payload,
                                   headers={"X-API-Key": api_key or self.key})

    def close(self):
        self.server.stop()
        if self.reader is not None:
            self.reader.close()


@pytest.fixture(scope="module")
def env(broker, tmp_path_factory):
    c = Commands(tmp_path_factory.mktemp("serve")).start()
    yield c
    c.close()


def test_an_accepted_command_gets_its_events_and_position(env):
    env.command("ticket-comune-forli-1", "open_ticket", TICKET, "acc-1", correlation_id="prot-2026-77")
    [(key, r, headers, _)] = env.wait("acc-1")
    assert headers["content-type"] == b"application/json"
    assert r["status"] == 201 and r["deduplicated"] is False
    assert r["stream"] == "ticket-comune-forli-1" and r["command"] == "open_ticket"
    assert r["idempotency_key"] == "acc-1" and r["correlation_id"] == "prot-2026-77"
    assert r["version"] == 1 and r["position"] == r["first_position"] >= 1
    [event] = r["events"]
    assert event["type"] == "ticket.opened" and event["tenant"] == FORLI
    assert event["actor"]["role"] == "integrator" and event["correlation_id"] == "prot-2026-77"
    assert "api_key" not in r

    # The same event over HTTP, at the position the result gave.
    hd = env.server.as_("helpdesk_l1", FORLI, "hd1")
    events = hd.get("/v1/streams/ticket-comune-forli-1/events").json()["events"]
    assert [e["id"] for e in events] == [event["id"]]
    assert events[0]["position"] == r["position"]


def test_refusals_carry_the_problem_http_gives(env):
    cases = [
        # bad payload: the workflow's schema refuses it, every violation listed
        ("ticket-comune-forli-2", "open_ticket", {"channel": "fax"}, "ref-payload", None, 422, "payload-invalid"),
        # integrators may open tickets, not start cases
        ("case-comune-forli-2", "start_case", CASE, "ref-role", None, 403, "role-not-allowed"),
        # an API key nobody issued
        ("ticket-comune-forli-3", "open_ticket", TICKET, "ref-key", "pk_" + "0" * 64, 401, "unauthenticated"),
    ]
    for stream, name, payload, idem, api_key, status, kind in cases:
        extra = {"api_key": api_key} if api_key else {}
        msg = {"stream": stream, "command": name, "payload": payload, "idempotency_key": idem,
               "api_key": env.key, **extra}
        env.send(msg, key=stream.encode())
        [(_, r, headers, _)] = env.wait(idem)
        assert headers["content-type"] == b"application/problem+json"
        assert r["status"] == status and r["type"] == f"https://procedo.dev/problems/{kind}", r
        assert r["detail"] and r["stream"] == stream and r["idempotency_key"] == idem
        over_http = env.http(stream, name, payload, api_key).json()
        for field in ("type", "title", "status", "detail", "violations"):
            assert r.get(field) == over_http.get(field), (field, r, over_http)
    payload_problem = env.wait("ref-payload")[0][1]
    paths = {v["path"] for v in payload_problem["violations"]}
    assert paths >= {"/channel"} and len(payload_problem["violations"]) >= 2
    # Nothing was appended for any of them.
    admin = env.server.as_("admin", "")
    for stream in ("ticket-comune-forli-2", "case-comune-forli-2", "ticket-comune-forli-3"):
        assert admin.get(f"/v1/streams/{stream}/events").json()["events"] == []


def test_a_repeated_idempotency_key_is_answered_from_its_first_result(env):
    env.command("ticket-comune-forli-4", "open_ticket", TICKET, "dup-1")
    env.command("ticket-comune-forli-4", "open_ticket", TICKET, "dup-1")
    (_, first, _, _), (_, second, _, _) = env.wait("dup-1", count=2)
    assert first["status"] == 201 and first["deduplicated"] is False
    assert second["status"] == 200 and second["deduplicated"] is True
    for field in ("version", "position", "first_position", "events"):
        assert second[field] == first[field], field
    hd = env.server.as_("helpdesk_l1", FORLI, "hd1")
    assert len(hd.get("/v1/streams/ticket-comune-forli-4/events").json()["events"]) == 1


def test_malformed_messages_get_problems_and_the_consumer_goes_on(env):
    env.send(b"this is not JSON {", key=b"m-1")
    [(_, r, _, _)] = env.wait("m-1")
    assert r["status"] == 400 and r["type"].endswith("/malformed-json")
    assert "schemas/kafka/command.json" in r["detail"]

    # Valid JSON, no idempotency key and a misspelt field: keyed by the Kafka message key.
    env.send({"stream": "ticket-comune-forli-5", "command": "open_ticket", "payload": TICKET,
              "api_key": env.key, "expectedVersion": 0}, key=b"m-2")
    [(_, r, _, _)] = env.wait("m-2")
    assert r["status"] == 400 and r["type"].endswith("/invalid-command-message")
    assert {v["path"] for v in r["violations"]} == {"/idempotency_key", "/expectedVersion"}

    # No key at all: the result echoes where the message was.
    partition, offset = env.send(b"\xff\xfe binary")
    _, r, _, m = env.wait_origin(partition, offset)
    assert m.key() is None and r["status"] == 400
    assert r["origin"]["topic"] == f"{env.prefix}.commands"

    # No API key: 401, as over HTTP without credentials.
    env.send({"stream": "ticket-comune-forli-5", "command": "open_ticket", "payload": TICKET,
              "idempotency_key": "m-3"}, key=b"ticket-comune-forli-5")
    assert env.wait("m-3")[0][1]["status"] == 401

    # The consumer is still there.
    env.command("ticket-comune-forli-5", "open_ticket", TICKET, "m-ok")
    assert env.wait("m-ok")[0][1]["status"] == 201


def test_metrics_and_readiness_show_the_consumer(env):
    env.command("ticket-comune-forli-6", "open_ticket", TICKET, "met-1")
    env.wait("met-1")
    def caught_up():
        ready = env.server.request("GET", "/readyz").json()
        return ready if ready["consumers"]["kafka_commands"]["lag"] == 0 else None
    ready = wait_for(caught_up, 30, "the consumer's lag to reach 0")
    consumers = ready["consumers"]
    assert consumers["kafka_commands"]["counters"]["received"] >= 1
    assert consumers["kafka_commands"]["counters"]["accepted"] >= 1
    assert "kafka_relay" in consumers and consumers["kafka_relay"]["healthy"]
    metrics = env.server.request("GET", "/metrics").body
    assert 'procedo_consumer_events_total{consumer="kafka_commands",counter="accepted"}' in metrics
    assert 'procedo_consumer_lag{consumer="kafka_commands"} 0' in metrics
    assert 'procedo_consumer_events_total{consumer="kafka_commands",counter="results_delivered"}' in metrics


def test_a_killed_server_reapplies_nothing(broker, tmp_path):
    c = Commands(tmp_path).start()
    total = int(10_000 * float(os.environ.get("PROCEDO_TEST_SCALE", "1")))
    try:
        for i in range(total):
            c.producer.produce(f"{c.prefix}.commands", key=f"ticket-comune-forli-kill-{i}".encode(),
                               value=json.dumps({"stream": f"ticket-comune-forli-kill-{i}", "command": "open_ticket",
                                                 "payload": TICKET, "idempotency_key": f"kill-{i}",
                                                 "api_key": c.key}).encode())
            c.producer.poll(0)
        c.producer.flush(30)

        def some_answered():
            c.drain(limit=1)  # one at a time: kill as soon as 100 are out, well before the end
            return len(c.results) if len(c.results) >= 100 else None
        at_kill = wait_for(some_answered, 60, "100 results")
        c.server.kill()
        c.server.proc.wait(10)
        c.server.log.close()
        c.drain()
        print(f"SIGKILL after {len(c.results)} of {total} results")
        assert len(c.results) < total, "every command was answered before the kill; raise `total`"

        c.start()
        def all_answered():
            c.drain()
            return len({k for k, _, _, _ in c.results}) == total
        wait_for(all_answered, 120, f"results for all {total} commands", interval=0.1)
        answers = {}
        for key, r, _, _ in c.results:
            answers.setdefault(key, []).append(r)
        again = 0
        for key, rs in answers.items():
            assert rs[0]["status"] in (200, 201), rs[0]
            for r in rs[1:]:  # redelivered after the kill: answered from the idempotency record
                again += 1
                assert r["status"] == 200 and r["deduplicated"] is True, r
                assert r["position"] == rs[0]["position"] and r["events"] == rs[0]["events"]
        print(f"{again} commands answered again after the restart (at kill: {at_kill} results)")

        # A clean stop commits every answered command: the group's offsets reach the end of the
        # commands topic, so a third start reads only what is new.
        c.server.stop()
        topic = f"{c.prefix}.commands"
        group = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"{c.prefix}-commands"})
        try:
            parts = [TopicPartition(topic, p) for p in group.list_topics(topic, timeout=10).topics[topic].partitions]
            committed = {tp.partition: tp.offset for tp in group.committed(parts, timeout=10)}
            high = {tp.partition: group.get_watermark_offsets(tp, timeout=10)[1] for tp in parts}
        finally:
            group.close()
        assert committed == high, (committed, high)
        c.start()
        c.command("ticket-comune-forli-kill-new", "open_ticket", TICKET, "kill-new")
        assert c.wait("kill-new")[0][1]["status"] == 201
        ready = c.server.request("GET", "/readyz").json()["consumers"]["kafka_commands"]
        assert ready["counters"]["received"] == 1, ready
    finally:
        c.close()
    out = c.server.cli("log", "read", "--limit", "1000000").stdout.splitlines()
    events = [json.loads(line) for line in out]
    opened = [e for e in events if e["type"] == "ticket.opened"]
    assert len(opened) == total + 1
    assert len({e["stream"] for e in opened}) == total + 1  # each command applied exactly once
