"""A stateful stand-in of pagoPA's GPD over real HTTP on loopback, for the engine's pagoPA adapter
tests. It serves the debt-positions API (openapi gpd.json, v1) and the receipts API
(gpd_payments.json) of the documents in ./pagopa, plus a test-only control API under /_control.
What it implements and what not: pagopa/SOURCE.md; the plan: domain/PAYMENTS.md 5.1.

    python pagopa_standin.py --key KEY [--port 0] [--host 127.0.0.1] [--now 2026-09-01T08:00:00]

Prints `listening on HOST:PORT` once ready; SIGTERM stops it.
"""
import argparse
import datetime
import hmac
import http.server
import json
import re
import signal
import socket
import sys
import threading
import time
import traceback
import urllib.parse
import uuid

from pagopa_standin_payments import GpdState
from pagopa_standin_rules import Problem, fmt_dt, parse_day, parse_dt
from pagopa_standin_state import Clock

POSITIONS_ROOT = "/gpd/debt-positions-service/v1"
RECEIPTS_ROOT = "/gpd/payments-receipts-service/v1"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
STATUSES = {"DRAFT", "PUBLISHED", "VALID", "INVALID", "EXPIRED", "PARTIALLY_PAID", "PAID", "REPORTED"}


def glob_regex(glob):
    """`*` stays within one path segment, `**` crosses them: `/organizations/*/debtpositions`
    must not also catch `.../debtpositions/{iupd}/publish`."""
    out = []
    for part in re.split(r"(\*\*|\*|\?)", glob):
        out.append({"**": ".*", "*": "[^/]*", "?": "[^/]"}.get(part, re.escape(part)))
    return re.compile("".join(out))


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, spec):
        match = str(spec.get("match", ""))
        method, _, glob = match.partition(" ")
        if not glob.startswith("/"):
            raise Problem(400, "match is 'METHOD /path-glob', e.g. 'POST /organizations/*/debtpositions'")
        mode = spec.get("mode")
        if mode not in (None, "status", "timeout", "drop_after_commit"):
            raise Problem(400, f"mode {mode}: status, timeout or drop_after_commit")
        if mode is None and "delay_ms" not in spec:
            raise Problem(400, "a fault needs a mode, or delay_ms alone for latency")
        times = int(spec.get("times", 1))
        if times < 1:
            raise Problem(400, "times >= 1")
        delay = spec.get("delay_ms", 30000 if mode == "timeout" else 0)
        status = spec.get("status", 500 if mode == "status" else None)
        rule = {"match": match, "method": method.upper(), "re": glob_regex(glob), "mode": mode,
                "status": status, "times": times, "delay_ms": int(delay)}
        with self.lock:
            self.rules.append(rule)
        return self.public(rule)

    @staticmethod
    def public(rule):
        return {k: rule[k] for k in ("match", "mode", "status", "times", "delay_ms")}

    def take(self, method, rel, full):
        with self.lock:
            for rule in self.rules:
                if rule["method"] in ("*", method) and (rule["re"].fullmatch(rel) or rule["re"].fullmatch(full)):
                    rule["times"] -= 1
                    if rule["times"] == 0:
                        self.rules.remove(rule)
                    return dict(rule)
        return None

    def clear(self):
        with self.lock:
            self.rules = []


class StandIn:
    def __init__(self, key, start=None):
        self.key = key
        self.start = start
        self.clock = Clock(start)
        self.state = GpdState(self.clock)
        self.faults = Faults()
        self.calls_lock = threading.Lock()
        self.calls = []

    def reset(self):
        self.clock.fixed = self.start
        self.state.reset()
        self.faults.clear()
        with self.calls_lock:
            self.calls = []

    # ---- the two APIs ----

    def positions_api(self, method, rel, query, body):
        m = re.fullmatch(r"/organizations/([^/]+)/debtpositions(?:/([^/]+)(?:/(publish|invalidate))?)?", rel)
        if not m:
            raise Problem(404, f"no such resource {rel}")
        org, iupd, action = (urllib.parse.unquote(g) if g else g for g in m.groups())
        st = self.state
        if iupd is None and method == "POST":
            return 201, st.create(org, body, _bool(query, "toPublish"))
        if iupd is None and method == "GET":
            return 200, st.list(org, _list_query(query))
        if action and method == "POST":
            return 200, (st.publish if action == "publish" else st.invalidate)(org, iupd)
        if iupd and not action and method == "GET":
            return 200, st.get(org, iupd)
        if iupd and not action and method == "PUT":
            return 200, st.update(org, iupd, body, _bool(query, "toPublish"))
        if iupd and not action and method == "DELETE":
            return 200, st.delete(org, iupd)
        raise Problem(405, f"{method} not allowed on {rel}", "Method Not Allowed")

    def receipts_api(self, method, rel, query, body):
        m = re.fullmatch(r"/payments/([^/]+)/receipts(?:/([^/]+))?", rel)
        if not m or method != "GET":
            raise Problem(404, f"no such resource {method} {rel}")
        org, iuv = (urllib.parse.unquote(g) if g else g for g in m.groups())
        if iuv:
            return 200, self.state.receipt_document(org, iuv), "application/xml"
        return 200, self.state.receipts_page(org, _receipts_query(query))

    # ---- control ----

    def control(self, method, name, body):
        st = self.state
        if method == "GET" and name == "state":
            out = st.dump()
            out["faults"] = [Faults.public(r) for r in self.faults.rules]
            return out
        if method == "GET" and name == "calls":
            with self.calls_lock:
                return list(self.calls)
        if method == "GET" and name == "faults":
            return [Faults.public(r) for r in self.faults.rules]
        if method != "POST":
            raise Problem(404, f"no control {method} {name}")
        body = body if isinstance(body, dict) else {}
        if name == "reset":
            self.reset()
            return {"reset": True}
        if name == "clock":
            if body.get("real"):
                self.clock.fixed = None
                return {"now": fmt_dt(self.clock.now())}
            return {"now": self.clock.set(body.get("now"), body.get("advance_seconds"))}
        if name == "faults":
            if body.get("clear"):
                self.faults.clear()
                return {"faults": []}
            specs = body["faults"] if isinstance(body.get("faults"), list) else [body]
            return {"faults": [self.faults.add(s) for s in specs]}
        if name == "reorder":
            on, mode = bool(body.get("on")), body.get("mode", "reverse")
            st.reorder = None if not on else ("shuffle", int(body.get("seed", 1))) if mode == "shuffle" else "reverse"
            return {"on": on, "mode": mode if on else None}
        if name == "position":
            if not body.get("org") or not isinstance(body.get("position"), dict):
                raise Problem(400, "position needs org and position (a PaymentPositionModel)")
            return st.create(body["org"], body["position"], bool(body.get("toPublish", True)))
        handlers = {"pay": st.pay, "report": st.report, "duplicate_receipt": st.duplicate_receipt}
        if name in handlers:
            return handlers[name](body)
        raise Problem(404, f"no control {name}")

    def log_call(self, entry):
        with self.calls_lock:
            entry["seq"] = len(self.calls) + 1
            self.calls.append(entry)


def _bool(query, name):
    v = query.get(name, "false").lower()
    if v not in ("true", "false"):
        raise Problem(400, f"{name}: true or false")
    return v == "true"


def _int(query, name, default, lo, hi):
    try:
        v = int(query.get(name, default))
    except ValueError:
        raise Problem(400, f"{name}: an integer") from None
    if not lo <= v <= hi:
        raise Problem(400, f"{name}: between {lo} and {hi}")
    return v


def _range(query, prefix):
    lo, hi = parse_day(query.get(prefix + "_from"), prefix + "_from"), parse_day(query.get(prefix + "_to"), prefix + "_to")
    if lo is None and hi is None:
        return None
    # CORE completes a half-open interval with 30 days (gpd.json, the parameters' descriptions)
    lo = lo or hi - datetime.timedelta(days=30)
    hi = hi or lo + datetime.timedelta(days=30)
    if lo > hi:
        raise Problem(400, f"{prefix}_from is after {prefix}_to")
    return lo, hi


def _list_query(query):
    q = {"limit": _int(query, "limit", 10, 1, 50), "page": _int(query, "page", 0, 0, 10 ** 6),
         "orderby": query.get("orderby", "INSERTED_DATE"), "ordering": query.get("ordering", "DESC"),
         "status": query.get("status"), "payment_date": _range(query, "payment_date"),
         "due_date": _range(query, "due_date")}
    if q["payment_date"] and q["due_date"]:
        raise Problem(400, "the due dates interval is mutually exclusive with the payment dates interval")
    if q["status"] and q["status"] not in STATUSES:
        raise Problem(400, f"status {q['status']} is not a debt position status")
    if q["orderby"] not in ("INSERTED_DATE", "IUPD", "STATUS", "COMPANY_NAME") or q["ordering"] not in ("ASC", "DESC"):
        raise Problem(400, "orderby or ordering not recognised")
    return q


def _receipts_query(query):
    def bound(name, end):
        v = query.get(name)
        if not v:
            return None
        if "T" in v:
            return parse_dt(v, name)
        day = parse_day(v, name)
        return datetime.datetime.combine(day, datetime.time(23, 59, 59) if end else datetime.time(0))
    q = {"pageNum": _int(query, "pageNum", 0, 0, 10 ** 6), "pageSize": _int(query, "pageSize", 20, 1, 100),
         "from": bound("from", False), "to": bound("to", True),
         "debtor": query.get("debtor"), "debtorOrIuv": query.get("debtorOrIuv")}
    if q["from"] and q["to"] and q["from"] > q["to"]:
        raise Problem(400, "from is after to")
    return q


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GpdStandIn/1"
    app = None  # set by main

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PUT(self):
        self.serve("PUT")

    def do_DELETE(self):
        self.serve("DELETE")

    def send(self, status, payload=None, ctype="application/json", request_id=None):
        if isinstance(payload, str) and ctype == "application/json":
            data = json.dumps(payload).encode()
        elif isinstance(payload, str):
            data = payload.encode("utf-8")
        elif payload is None:
            data = b""
        else:
            data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            if data:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            if request_id:
                self.send_header("X-Request-Id", request_id)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (a timeout fault); nothing to do

    def cut(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def serve(self, method):
        app = self.app
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        text = raw.decode("utf-8", "replace")
        try:
            body = json.loads(text) if text.strip() else None
        except ValueError:
            body = ValueError
        request_id = self.headers.get("X-Request-Id") or str(uuid.uuid4())
        if path.startswith("/_control/"):
            try:
                if body is ValueError:
                    raise Problem(400, "the body is not JSON")
                self.send(200, app.control(method, path[len("/_control/"):], body), request_id=request_id)
            except Problem as p:
                self.send(p.status, p.body(), request_id=request_id)
            except (KeyError, TypeError, ValueError) as e:
                self.send(400, Problem(400, f"control {path}: {e!r}").body(), request_id=request_id)
            return
        for root, api in ((POSITIONS_ROOT, app.positions_api), (RECEIPTS_ROOT, app.receipts_api)):
            if path.startswith(root + "/"):
                self.api_call(method, path, path[len(root):], query, text, body, api, request_id)
                return
        self.send(404, Problem(404, f"no API at {path}").body(), request_id=request_id)

    def api_call(self, method, path, rel, query, text, body, api, request_id):
        app = self.app
        headers = {}
        given_key = self.headers.get(KEY_HEADER)
        for k, v in self.headers.items():
            if k.lower() == KEY_HEADER.lower():
                v = "***" if hmac.compare_digest(v.encode(), app.key.encode()) else "*** (not the configured key)"
            headers[k] = v
        entry = {"at": fmt_dt(app.clock.now()), "method": method, "path": path, "query": query,
                 "headers": headers, "body": text if body is ValueError else body,
                 "request_id": request_id, "status": None, "fault": None}
        app.log_call(entry)
        fault = app.faults.take(method, rel, path)
        if fault:
            entry["fault"] = fault["mode"] or "delay"
            if fault["delay_ms"]:
                time.sleep(fault["delay_ms"] / 1000)
            if fault["mode"] == "status":
                entry["status"] = fault["status"]
                self.send(fault["status"], Problem(fault["status"], "fault injected by the test").body(),
                          request_id=request_id)
                return
        if given_key is None or not hmac.compare_digest(given_key.encode(), app.key.encode()):
            entry["status"] = 401
            self.send(401, None, request_id=request_id)
            return
        ctype = "application/json"
        try:
            if body is ValueError:
                raise Problem(400, "the body is not JSON")
            status, payload, *rest = api(method, rel, query, body)
            ctype = rest[0] if rest else ctype
        except Problem as p:
            status, payload = p.status, p.body()
        except (KeyError, TypeError) as e:
            status, payload = 400, Problem(400, f"malformed request: {e!r}").body()
        except Exception as e:  # a bug in the stand-in: say so rather than drop the connection
            traceback.print_exc()
            status, payload = 500, Problem(500, f"stand-in error: {e!r}").body()
        if fault and fault["mode"] == "drop_after_commit":
            if fault["status"]:
                entry["status"] = fault["status"]
                self.send(fault["status"], Problem(fault["status"], "fault injected after commit").body(),
                          request_id=request_id)
            else:
                entry["status"] = "dropped"
                self.cut()
            return
        entry["status"] = status
        self.send(status, payload, ctype, request_id)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--key", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--now", help="start the clock fixed at this UTC date-time")
    args = ap.parse_args(argv)
    Handler.app = StandIn(args.key, parse_dt(args.now, "--now") if args.now else None)
    server = http.server.ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True  # a handler asleep in a timeout fault must not hold up the exit

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    host, port = server.server_address[:2]
    print(f"listening on {host}:{port}", flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
