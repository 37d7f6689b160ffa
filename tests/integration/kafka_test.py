"""The Kafka relay against a real broker (scripts/kafka on its own port and directory).

Events appended through the engine (kafka_driver, or `procedo serve` for the SIGKILL case) are
read back with kcat and with confluent-kafka + the CloudEvents SDK's Kafka binding, and compared
with `procedo log read`: every event present, per-key order kept, headers right, and any
duplicate a repeat of the same ce_id. Nothing here sleeps to wait: every wait polls a condition
with a deadline.
"""
import calendar
import datetime
import json
import os
import pathlib
import signal
import subprocess
import time
import uuid

import pytest
from cloudevents.v1.kafka import KafkaMessage, from_binary
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

from procedo_server import assert_clean_exit, wait_for

SRC = pathlib.Path(os.environ.get("PROCEDO_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
BIN = pathlib.Path(os.environ.get("PROCEDO_BIN", SRC / "build" / "bin"))
PORT = int(os.environ.get("PROCEDO_TEST_KAFKA_PORT", "19192"))
BOOTSTRAP = f"127.0.0.1:{PORT}"
SOURCE = "urn:procedo:test"
SCHEMAS = "https://example.org/procedo/schemas/events/"
# Under the sanitizers (scripts/test sets 0.1) the loads shrink; what is checked does not.
SCALE = float(os.environ.get("PROCEDO_TEST_SCALE", "1"))


class Broker:
    def __init__(self, directory):
        self.dir = str(directory)

    def run(self, *args):
        subprocess.run([str(SRC / "scripts" / "kafka"), *args, "--port", str(PORT), "--dir", self.dir],
                       check=True, stdout=subprocess.DEVNULL)

    def start(self, fresh=False):
        self.run("start", *(["--fresh"] if fresh else []))

    def stop(self):
        self.run("stop")


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = Broker(tmp_path_factory.mktemp("kafka"))
    b.start(fresh=True)
    try:
        yield b
    finally:
        b.stop()


def engine_env(data_dir, prefix):
    return dict(os.environ, PROCEDO_DATA_DIR=str(data_dir), PROCEDO_LOG_SYNC="false",
                PROCEDO_KAFKA_BOOTSTRAP=BOOTSTRAP, PROCEDO_KAFKA_TOPIC_PREFIX=prefix,
                PROCEDO_KAFKA_SOURCE=SOURCE, PROCEDO_KAFKA_DATASCHEMA_BASE=SCHEMAS,
                PROCEDO_HTTP_LISTEN="127.0.0.1:0")


class Driver:
    """kafka_driver: the log, optionally with the relay in the same process."""

    def __init__(self, data_dir, prefix, relay=True):
        self.p = subprocess.Popen([str(BIN / "kafka_driver"), *(["--relay"] if relay else [])],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  env=engine_env(data_dir, prefix))
        assert self.p.stdout.readline().startswith("ready")

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        reply = self.p.stdout.readline().strip()
        assert reply and not reply.startswith("error"), f"{line}: {reply!r}"
        return reply

    def append(self, stream_prefix, streams, count, fill=False):
        _, last, max_ms = self.cmd(f"{'fill' if fill else 'append'} {stream_prefix} {streams} {count}").split()
        return int(last), float(max_ms)

    def lag(self):
        return json.loads(self.cmd("lag"))

    def wait_published(self, timeout=60):
        return wait_for(lambda: (lambda l: l if l["positions"] == 0 else None)(self.lag()), timeout,
                        "the relay to confirm every event")

    def quit(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.close()
        assert self.p.wait(timeout=30) == 0


def log_events(data_dir):
    out = subprocess.run([str(BIN / "procedo"), "log", "read", "--limit", "100000000"],
                         env=engine_env(data_dir, "unused"), check=True, capture_output=True,
                         text=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def consume_all(prefix, timeout=60):
    """Every message of every `<prefix>.*` topic, up to the high watermarks."""
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"test-{uuid.uuid4()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        md = c.list_topics(timeout=10)
        tps = [TopicPartition(t, p, OFFSET_BEGINNING) for t in md.topics if t.startswith(prefix + ".")
               for p in md.topics[t].partitions]
        high = {(tp.topic, tp.partition): c.get_watermark_offsets(tp, timeout=10)[1] for tp in tps}
        remaining = {k for k, v in high.items() if v > 0}
        c.assign(tps)
        msgs, deadline = [], time.monotonic() + timeout
        while remaining:
            assert time.monotonic() < deadline, f"consumer stuck, partitions left: {remaining}"
            m = c.poll(0.5)
            if m is None:
                continue
            assert not m.error(), m.error()
            msgs.append(m)
            if m.offset() + 1 >= high[(m.topic(), m.partition())]:
                remaining.discard((m.topic(), m.partition()))
        return msgs
    finally:
        c.close()


def check_published(prefix, events, msgs):
    """All events present, headers right, per-key order kept, duplicates only with a repeated ce_id.
    Returns the number of duplicates."""
    by_id = {e["id"]: e for e in events}
    seen = {}
    per_key = {}
    for m in msgs:
        headers = {k: v for k, v in (m.headers() or [])}
        ce = from_binary(KafkaMessage(headers, m.key(), m.value()), data_unmarshaller=json.loads)
        e = by_id.get(ce["id"])
        assert e is not None, f"message with unknown ce_id {ce['id']}"
        assert m.topic() == f"{prefix}.{e['stream'].split('-')[0]}"
        assert m.key().decode() == e["stream"]
        assert ce["specversion"] == "1.0"
        assert ce["source"] == SOURCE
        assert ce["type"] == e["type"]
        assert ce["subject"] == e["stream"]
        assert ce["time"] == e["time"]
        assert ce["datacontenttype"] == "application/json"
        assert ce["dataschema"] == f"{SCHEMAS}{e['type']}.json"
        assert int(ce["position"]) == e["position"]
        assert int(ce["streamversion"]) == e["version"]
        assert ce["tenant"] == e["tenant"]
        for attr, field in (("correlationid", "correlation_id"), ("causationid", "causation_id")):
            if e[field]:
                assert ce[attr] == e[field]
            else:
                assert attr not in ce.get_attributes()
        assert ce.data == e["data"]
        seen[ce["id"]] = seen.get(ce["id"], 0) + 1
        per_key.setdefault(m.key(), []).append((m.partition(), m.offset(), e["version"]))
    missing = set(by_id) - set(seen)
    assert not missing, f"{len(missing)} events never reached Kafka, e.g. {sorted(missing)[:3]}"
    for key, entries in per_key.items():
        assert len({p for p, _, _ in entries}) == 1, f"{key} spread over partitions"
        versions = [v for _, _, v in sorted(entries)]
        firsts, seen_v = [], set()
        for v in versions:
            if v not in seen_v:
                seen_v.add(v)
                firsts.append(v)
        # First occurrences in offset order are the stream's versions 1..n, in order: a
        # duplicate may repeat an earlier event, never overtake one.
        assert firsts == list(range(1, len(firsts) + 1)), f"{key}: order broken: {versions[:20]}"
    return sum(seen.values()) - len(seen)


def test_events_reach_kafka_with_cloudevents_headers(broker, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    d = Driver(tmp_path, prefix)
    d.append("case-forli", 4, 120)
    d.append("ticket", 3, 60)
    lag = d.wait_published()
    assert lag["head"] == 180 and lag["confirmed"] == 180 and lag["seconds"] == 0
    d.quit()
    events = log_events(tmp_path)
    assert len(events) == 180

    # kcat, the reference consumer: every case event, in order per key, with the headers.
    out = subprocess.run(["kcat", "-b", BOOTSTRAP, "-C", "-t", f"{prefix}.case", "-e", "-q", "-J"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    kmsgs = [json.loads(line) for line in out.splitlines()]
    cases = [e for e in events if e["stream"].startswith("case-")]
    assert len(kmsgs) == len(cases) == 120
    by_id = {e["id"]: e for e in cases}
    last_version = {}
    for km in sorted(kmsgs, key=lambda k: (k["partition"], k["offset"])):
        h = dict(zip(km["headers"][::2], km["headers"][1::2]))
        e = by_id[h["ce_id"]]
        assert km["key"] == e["stream"] and json.loads(km["payload"]) == e["data"]
        assert h["ce_type"] == e["type"] and h["ce_position"] == str(e["position"])
        assert h["content-type"] == "application/json" and h["ce_specversion"] == "1.0"
        assert e["version"] == last_version.get(km["key"], 0) + 1
        last_version[km["key"]] = e["version"]
        # The message timestamp is the event's time, in milliseconds.
        t = datetime.datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
        assert km["ts"] == calendar.timegm(t.utctimetuple()) * 1000 + t.microsecond // 1000

    # confluent-kafka + the CloudEvents SDK, over every topic.
    assert check_published(prefix, events, consume_all(prefix)) == 0


def test_broker_down_never_blocks_appends_and_nothing_is_lost(broker, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    d = Driver(tmp_path, prefix)
    d.append("case-cesena", 5, 200)
    d.wait_published()
    broker.stop()
    try:
        # Appends while the broker is down: each one still succeeds, and quickly.
        last, max_ms = d.append("case-cesena", 5, 300)
        assert last == 500
        assert max_ms < 1000, f"an append took {max_ms} ms with the broker down"
        lag = wait_for(lambda: (lambda l: l if l["positions"] >= 300 else None)(d.lag()), 10,
                       "the lag to show the unpublished events")
        assert lag["confirmed"] <= 200
    finally:
        broker.start()
    d.append("case-cesena", 5, 200)  # more while the relay reconnects
    d.wait_published(timeout=90)
    d.quit()
    events = log_events(tmp_path)
    assert len(events) == 700
    dups = check_published(prefix, events, consume_all(prefix))
    print(f"broker restart: {dups} duplicates")


def test_serve_killed_mid_stream_resumes_from_its_checkpoint(broker, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    total = int(150_000 * SCALE)
    d = Driver(tmp_path, prefix, relay=False)
    d.append("case-rimini", 50, total, fill=True)
    d.quit()
    env = engine_env(tmp_path, prefix) | {"PROCEDO_KAFKA_ENABLED": "true",
                                          "PROCEDO_DOMAIN_DIR": str(SRC / "domain")}
    checkpoint = tmp_path / "kafka-relay" / "checkpoint"

    def published():
        c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": "watermarks"})
        try:
            md = c.list_topics(timeout=5)
            return sum(c.get_watermark_offsets(TopicPartition(t, p), timeout=5)[1]
                       for t in md.topics if t.startswith(prefix + ".") for p in md.topics[t].partitions)
        except KafkaException:  # "Not leader" for a moment after the relay creates the topic
            return 0
        finally:
            c.close()

    def serve():
        out = open(tmp_path / "serve.log", "a")
        return subprocess.Popen([str(BIN / "procedo"), "serve"], env=env, cwd=SRC, stdout=out,
                                stderr=subprocess.STDOUT)

    def alive(p):
        assert p.poll() is None, f"procedo serve exited: {(tmp_path / 'serve.log').read_text()}"
        return True

    proc = serve()
    try:
        n = wait_for(lambda: alive(proc) and (lambda k: k if k >= total // 8 else None)(published()), 60,
                     "an eighth of the events in Kafka", interval=0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    print(f"SIGKILL after {n} of {total} events were in Kafka")
    assert n < total, "the relay finished before the kill; make `total` larger"
    cp_at_kill = int(checkpoint.read_text().split()[2]) if checkpoint.exists() else 0
    assert cp_at_kill < total

    proc = serve()
    try:
        wait_for(lambda: alive(proc) and checkpoint.exists()
                 and int(checkpoint.read_text().split()[2]) == total, 120,
                 "the restarted relay to confirm every event", interval=0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        assert_clean_exit(proc, tmp_path / "serve.log")
    events = log_events(tmp_path)
    assert len(events) == total
    dups = check_published(prefix, events, consume_all(prefix, timeout=120))
    print(f"SIGKILL: checkpoint {cp_at_kill} at the kill, {dups} duplicates after the restart")


def test_personal_values_reach_kafka_sealed(broker, tmp_path):
    """With personal data sealed, the relay carries the values as the log stores them: a consumer
    reading the topics (kcat) finds the applicant's subject but never their name, e-mail or mobile,
    before or after the erasure, whose own event holds no personal data."""
    from procedo_server import Server
    prefix = f"t{uuid.uuid4().hex[:8]}"
    key = tmp_path / "master.key"
    key.write_text(os.urandom(32).hex())
    s = Server(tmp_path / "data", kafka_enabled="true", kafka_bootstrap=BOOTSTRAP,
               kafka_topic_prefix=prefix, personal_master_key_file=key)
    s.start()
    secrets = ["Ottavia Quaglieri", "ottavia.quaglieri@example.it", "+39 347 5551234"]
    try:
        op = s.as_("operator", "comune-aosta", "op1")
        dpo = s.as_("privacy_officer", "comune-aosta", "dpo1")
        r = op.command("case-comune-aosta-1", "start_case", {
            "procedure_id": "access_to_records", "case_code": "K-1",
            "applicant": {"name": secrets[0], "email": secrets[1], "mobile": secrets[2]},
            "consent": {"sms": False, "email": False}})
        assert r.status == 201, r
        subject = op.get("/v1/streams/case-comune-aosta-1/events").json()["events"][0]["data"][
            "applicant"]["subject"]
        r = dpo.command(f"subject-comune-aosta-{subject}", "erase_personal_data",
                        {"subject": subject, "reason": "request"})
        assert r.status == 201, r

        def topic(kind, count):
            out = subprocess.run(["kcat", "-b", BOOTSTRAP, "-C", "-t", f"{prefix}.{kind}", "-e", "-q",
                                  "-J"], capture_output=True, text=True, timeout=60).stdout
            msgs = [json.loads(line) for line in out.splitlines()]
            return msgs if len(msgs) >= count else None
        cases = wait_for(lambda: topic("case", 1), 60, "the case's event in Kafka", interval=0.2)
        erasures = wait_for(lambda: topic("subject", 1), 60, "the erasure in Kafka", interval=0.2)
    finally:
        s.stop()
    payload = json.loads(cases[0]["payload"])
    assert payload["applicant"]["subject"] == subject
    assert all(payload["applicant"][f].startswith("pd1.") for f in ("name", "email", "mobile"))
    raw = json.dumps(cases) + json.dumps(erasures)
    assert not [t for t in secrets if t in raw]
    assert json.loads(erasures[0]["payload"])["subject"] == subject
