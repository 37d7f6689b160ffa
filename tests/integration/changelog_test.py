"""The log's copy in Kafka: every append a transaction on the changelog, committed before the log
writes it, and a former owner fenced by the next (a real broker from scripts/kafka).

kafka_driver --changelog opens the log with the changelog producer (topic <prefix>.changelog,
partition 0, transactional id <prefix>.changelog.p0). A read_committed consumer reads the copy
back; the test decodes each record itself (the log's format 1: position at bytes 1-8, the
previous event's hash and the event's own SHA-256 in the last 64 bytes) and checks the hash chain
independently of the engine.
"""
import hashlib
import os
import pathlib
import shutil
import subprocess
import time
import uuid

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

SRC = pathlib.Path(os.environ.get("PROCEDO_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
BIN = pathlib.Path(os.environ.get("PROCEDO_BIN", SRC / "build" / "bin"))
PORT = int(os.environ.get("PROCEDO_TEST_KAFKA_PORT", "19192"))
BOOTSTRAP = f"127.0.0.1:{PORT}"


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("kafka"))

    def run(*args):
        subprocess.run([str(SRC / "scripts" / "kafka"), *args, "--port", str(PORT), "--dir", d],
                       check=True, stdout=subprocess.DEVNULL)
    run("start", "--fresh")
    try:
        yield
    finally:
        run("stop")


class Driver:
    def __init__(self, data_dir, prefix, mode="--changelog"):
        env = dict(os.environ, PROCEDO_DATA_DIR=str(data_dir), PROCEDO_LOG_SYNC="true",
                   PROCEDO_KAFKA_BOOTSTRAP=BOOTSTRAP, PROCEDO_KAFKA_TOPIC_PREFIX=prefix)
        args = [str(BIN / "kafka_driver")] + ([mode] if mode else [])
        self.p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                  env=env)
        first = self.p.stdout.readline()
        if not first.startswith("ready"):
            self.p.wait(timeout=30)
            raise AssertionError(first)
        self.ready = int(first.split()[1])

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def append(self, stream, count):
        """One append of `count` events: ("ok", last position) or ("refused", code, subcode)."""
        reply = self.cmd(f"try {stream} {count}").split(" ", 3)
        return (reply[0], int(reply[1])) if reply[0] == "ok" else tuple(reply[:3])

    def head(self):
        return int(self.cmd("head").split()[1])

    def catch_up(self):
        reply = self.cmd("catchup")
        assert reply.startswith("head "), reply
        return int(reply.split()[1])

    def quit(self):
        self.p.stdin.write("quit\n")
        self.p.stdin.close()
        assert self.p.wait(timeout=30) == 0


def changelog(prefix, expect, isolation="read_committed"):
    """The changelog's `expect` records (partition 0) as (key, position, prev hash, hash, value),
    and any beyond them that arrive within a moment."""
    c = Consumer({"bootstrap.servers": BOOTSTRAP, "group.id": f"test-{uuid.uuid4()}",
                  "enable.auto.commit": False, "isolation.level": isolation,
                  "enable.partition.eof": True})
    try:
        c.assign([TopicPartition(f"{prefix}.changelog", 0, OFFSET_BEGINNING)])
        out, deadline = [], time.monotonic() + 30
        # A commit's markers may land a moment after the producer's commit returned: read until
        # the records expected are there, then to the end of what is stable.
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
                if len(out) >= expect:
                    return out
                continue
            v = m.value()
            out.append((m.key().decode(), int.from_bytes(v[1:9], "little"), v[-64:-32], v[-32:], v))
        raise AssertionError(f"{len(out)} records in the changelog after 30 s, {expect} expected")
    finally:
        c.close()


def check_chain(records):
    """Positions 1.. without a gap, each hash the SHA-256 of its record, each linked to the last."""
    prev = bytes(32)
    for i, (_, position, prev_hash, own, value) in enumerate(records):
        assert position == i + 1, (i, position)
        assert own == hashlib.sha256(value[:-32]).digest(), position
        assert prev_hash == prev, position
        prev = own


def test_every_acknowledged_append_is_in_the_changelog_first(broker, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    d = Driver(tmp_path / "a", prefix)
    last = 0
    for i in range(60):
        reply = d.append(f"case-comune-forli-{i % 7}", 1 + i % 4)
        assert reply[0] == "ok", reply
        assert reply[1] > last
        last = reply[1]
    d.quit()
    records = changelog(prefix, last)
    assert len(records) == last
    check_chain(records)
    assert [r[0] for r in records[:4]] == ["case-comune-forli-0", "case-comune-forli-1",
                                            "case-comune-forli-1", "case-comune-forli-2"]
    # The local log holds the same events, hash for hash: `procedo verify` walks its chain.
    assert records[-1][3].hex() in verified_head(tmp_path / "a")


def test_a_fenced_owner_appends_nothing_more(broker, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    first = Driver(tmp_path / "first", prefix)
    assert first.append("case-comune-forli-1", 3) == ("ok", 3)
    # A second process on a copy of the log (as the first left it: synced, idle) takes it over:
    # opening its producer fences the first.
    shutil.copytree(tmp_path / "first", tmp_path / "second")
    second = Driver(tmp_path / "second", prefix)
    refused = first.append("case-comune-forli-1", 2)
    assert refused == ("refused", "unavailable", "not-owner"), refused
    assert first.head() == 3
    # For good: the first process never appends again, even once the second is gone.
    assert first.append("case-comune-forli-2", 1)[0] == "refused"
    assert second.append("case-comune-forli-9", 1) == ("ok", 4)
    second.quit()
    # A log with another history may not follow the copy, nor append to it: it would fork it.
    other = Driver(tmp_path / "other", prefix, mode=None)
    assert other.append("case-comune-forli-5", 2) == ("ok", 2)
    other.quit()
    with pytest.raises(AssertionError, match="does not continue this log"):
        Driver(tmp_path / "other", prefix)
    assert first.append("case-comune-forli-2", 1)[0] == "refused"
    assert first.head() == 3
    first.quit()
    # Nothing of the refused appends reached the copy, committed or not; the chain runs on
    # unbroken from the first owner's events to the second's.
    for isolation in ("read_committed", "read_uncommitted"):
        records = changelog(prefix, 4, isolation)
        assert [r[0] for r in records] == ["case-comune-forli-1"] * 3 + ["case-comune-forli-9"]
        check_chain(records)


def verified_head(data_dir):
    """`procedo verify`'s output for the log in `data_dir`, which must pass."""
    env = dict(os.environ, PROCEDO_DATA_DIR=str(data_dir))
    verify = subprocess.run([str(BIN / "procedo"), "verify"], env=env, capture_output=True,
                            text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    return verify.stdout + verify.stderr


def test_a_standby_follows_the_copy_and_a_new_owner_catches_up_first(broker, tmp_path):
    prefix = f"t{uuid.uuid4().hex[:8]}"
    owner = Driver(tmp_path / "owner", prefix)
    for i in range(12):
        assert owner.append(f"case-comune-forli-{i % 5}", 1 + i % 3)[0] == "ok"
    last = owner.head()
    # A standby on an empty directory applies the owner's events from the changelog, chain
    # checked; again after more appends, and once more with nothing new (it must not wait).
    standby = Driver(tmp_path / "standby", prefix, mode="--standby")
    assert standby.ready == 0
    assert standby.catch_up() == last
    assert owner.append("case-comune-forli-0", 4)[0] == "ok"
    last = owner.head()
    assert standby.catch_up() == last
    assert standby.catch_up() == last
    standby.quit()
    # The owner dies (SIGKILL): a new owner on an empty directory catches up with everything it
    # acknowledged before taking its first command, and fences it should it come back.
    owner.p.kill()
    owner.p.wait(timeout=30)
    taker = Driver(tmp_path / "taker", prefix)
    assert taker.ready == last
    assert taker.append("case-comune-forli-3", 2) == ("ok", last + 2)
    taker.quit()
    records = changelog(prefix, last + 2)
    assert len(records) == last + 2
    check_chain(records)
    # Each copy's chain is whole and ends where the changelog did when it was last read.
    assert records[last - 1][3].hex() in verified_head(tmp_path / "standby")
    assert records[-1][3].hex() in verified_head(tmp_path / "taker")
