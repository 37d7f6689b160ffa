"""Starts a real `procedo serve` on a free port with its own data directory, for HTTP tests.

Tokens come from `procedo token` (the development key of that data directory); requests use the
standard library only, so the tests need nothing beyond pytest.
"""
import http.client
import json
import os
import pathlib
import select
import signal
import socket
import subprocess
import time
import urllib.parse

SRC = pathlib.Path(os.environ.get("PROCEDO_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
BIN = pathlib.Path(os.environ.get("PROCEDO_BIN", SRC / "build" / "bin")) / "procedo"


# What a sanitizer writes when it finds something: any of these in a server's output fails the
# test that ran it (the server's exit code alone would miss a report printed during a clean stop).
SANITIZER_REPORTS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "UndefinedBehaviorSanitizer", "ThreadSanitizer")


def sanitizer_report(text):
    """The first sanitizer report in a server's output, whole (a leak report lists every leaked
    object's allocation, and the cause is rarely in the first one), or "" when there is none."""
    found = [at for at in (text.find(m) for m in SANITIZER_REPORTS) if at >= 0]
    if not found:
        return ""
    at = min(found)
    return text[max(0, at - 200):at + 60000]


def assert_no_sanitizer_report(log_path):
    text = pathlib.Path(log_path).read_text(errors="replace") if pathlib.Path(log_path).exists() else ""
    report = sanitizer_report(text)
    assert not report, f"{log_path}: a sanitizer reported a problem:\n{report}"


def assert_clean_exit(proc, log_path, expect_killed=False):
    """A server stopped with SIGTERM must exit 0 with nothing reported; one the test killed with
    SIGKILL (on purpose) may only have died of that signal."""
    code = proc.returncode
    text = pathlib.Path(log_path).read_text(errors="replace") if pathlib.Path(log_path).exists() else ""
    tail = sanitizer_report(text) or text[-3000:]
    if expect_killed:
        assert code == -signal.SIGKILL, f"procedo serve exited with {code}, not SIGKILL:\n{tail}"
    else:
        assert code == 0, f"procedo serve exited with {code} after SIGTERM:\n{tail}"
    assert_no_sanitizer_report(log_path)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout, what, interval=0.02):
    """Polls `condition` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def await_ready(proc, log_path, what, timeout=60):
    """The first line a stand-in prints (its stdout a text pipe) must be "ready", within
    `timeout` seconds: one that says nothing fails the test with its log and what the kernel says
    it waits on, instead of hanging the test until ctest's own limit."""
    line = proc.stdout.readline() if select.select([proc.stdout], [], [], timeout)[0] else None
    if line is not None and line.strip() == "ready":
        return
    if proc.poll() is None:
        try:
            waits = pathlib.Path(f"/proc/{proc.pid}/wchan").read_text()
        except OSError:
            waits = "?"
        state = f"still running, waiting in {waits}; killed"
        proc.kill()
        proc.wait()
    else:
        state = f"exited with {proc.returncode}"
    log = pathlib.Path(log_path).read_text(errors="replace")[-2000:]
    raise AssertionError(f"{what} printed {line!r} instead of \"ready\" within {timeout} s "
                         f"({state}); its log:\n{log}")


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    # The servers running now, for a failing test's report.
    running = set()

    def __init__(self, data_dir, **settings):
        self.data_dir = pathlib.Path(data_dir)
        self.port = free_port()
        self.env = dict(os.environ)
        self.env.update({
            "PROCEDO_DATA_DIR": str(self.data_dir),
            "PROCEDO_DOMAIN_DIR": str(SRC / "domain"),
            "PROCEDO_SCHEMAS_DIR": str(SRC / "schemas"),
            "PROCEDO_WEB_DIR": str(SRC / "adapters" / "web"),
            "PROCEDO_HTTP_LISTEN": f"127.0.0.1:{self.port}",
            "PROCEDO_LOG_SYNC": "false",
            # Each connection's steps in serve.log: a failing test shows where a request stopped.
            "PROCEDO_HTTP_ACCESS_LOG": "true",
        })
        for k, v in settings.items():
            self.env["PROCEDO_" + k.upper()] = str(v)
        self.proc = None
        self.config = None  # a procedo.toml to serve with, for what the environment cannot set
        self._tokens = {}
        # The development key must exist before serve starts, so that serve trusts it.
        self.token("admin", "", "bootstrap")

    def cli(self, *args, check=True):
        return subprocess.run([str(BIN), *args], env=self.env, check=check, capture_output=True, text=True)

    def log_tail(self, lines):
        path = self.data_dir / "serve.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def start(self):
        self.log = open(self.data_dir / "serve.log", "ab")
        Server.running.add(self)
        args = [str(BIN)] + (["--config", str(self.config)] if self.config else []) + ["serve"]
        self.proc = subprocess.Popen(args, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: self._healthy(), 20, "procedo serve to answer /healthz")
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"procedo serve exited with {self.proc.returncode}: "
                                 + self.log_tail(40))
        try:
            return self.request("GET", "/healthz").status == 200
        except OSError:
            return False

    def stop(self):
        """SIGTERM, then the exit must be clean: code 0 within the time limit, no sanitizer
        report. A server that died already may only have died of a SIGKILL a test sent (or a
        fault point armed to raise one)."""
        if not self.proc:
            return
        log_path = self.data_dir / "serve.log"
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(60)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    raise AssertionError("procedo serve hung at shutdown (killed after 60 s):\n"
                                         + self.log_tail(60))
                assert_clean_exit(self.proc, log_path)
            else:
                assert_clean_exit(self.proc, log_path, expect_killed=True)
        finally:
            Server.running.discard(self)
            self.log.close()
            self.proc = None

    def kill(self):
        """SIGKILL, as a crash: nothing runs at exit."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(20)

    def token(self, role, tenant, sub="u1", ttl=None):
        # Staff tokens expire on the server's one clock: a driven clock that jumps weeks ahead
        # needs tokens that last as long.
        if ttl is None and self.env.get("PROCEDO_TESTING_DRIVEN_CLOCK") == "true":
            ttl = 365 * 24 * 60
        key = (role, tenant, sub, ttl)
        if key not in self._tokens:
            args = ["token", "--role", role, "--sub", sub]
            if tenant:
                args += ["--tenant", tenant]
            if ttl is not None:
                args += ["--ttl", str(ttl)]
            self._tokens[key] = self.cli(*args).stdout.strip()
        return self._tokens[key]

    def request(self, method, path, body=None, headers=None, token=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=h)
        r = conn.getresponse()
        reply = Reply(r.status, r.getheaders(), r.read().decode("utf-8", "replace"))
        conn.close()
        return reply

    def as_(self, role, tenant, sub="u1"):
        return Client(self, self.token(role, tenant, sub))


class Client:
    def __init__(self, server, token):
        self.server = server
        self.token = token

    def get(self, path, **kw):
        return self.server.request("GET", path, token=self.token, **kw)

    def command(self, stream, command, payload=None, headers=None):
        return self.server.request("POST", f"/v1/streams/{urllib.parse.quote(stream)}/commands/{command}",
                                   body=payload if payload is not None else {}, headers=headers, token=self.token)
