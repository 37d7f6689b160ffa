"""For tests that need pagoPA's GPD: the stand-in (pagopa_standin.py) as a subprocess on a free
loopback port, and small wrappers over its control API.

    with GpdStandIn(key="k", now="2026-09-01T08:00:00") as gpd:
        ... point the adapter at gpd.positions_url and gpd.receipts_url with key gpd.key ...
        gpd.pay(org=ORG, nav=nav)
"""
import json
import pathlib
import subprocess
import sys
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
VENV_PYTHON = HERE.parent.parent / ".cache" / "venv" / "bin" / "python"


class ControlError(Exception):
    def __init__(self, status, body):
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body


class GpdStandIn:
    def __init__(self, key="gpd-test-key", now=None, host="127.0.0.1"):
        self.key = key
        self.now = now
        self.host = host
        self.proc = None
        self.base = None

    def start(self):
        python = str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable
        cmd = [python, str(HERE / "pagopa_standin.py"), "--key", self.key, "--port", "0", "--host", self.host]
        if self.now:
            cmd += ["--now", self.now]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=HERE)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            self.proc.kill()
            raise RuntimeError(f"the GPD stand-in did not start: {line!r}")
        self.base = "http://" + line[len("listening on "):]
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def positions_url(self):
        return self.base + "/gpd/debt-positions-service/v1"

    @property
    def receipts_url(self):
        return self.base + "/gpd/payments-receipts-service/v1"

    # ---- the control API ----

    def control(self, method, name, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}/_control/{name}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise ControlError(e.code, json.loads(e.read() or b"null")) from None

    def pay(self, org, nav=None, iuv=None, **fields):
        """fields: receiptId, amount ("120.00"), paymentDateTime, paymentMethod, pspCompany, fee,
        idPSP, idBrokerPA, idStation, xml_style ("jaxb" | "qualified")."""
        body = {"org": org, "outcome": "OK", **fields}
        body.update({k: v for k, v in (("nav", nav), ("iuv", iuv)) if v})
        return self.control("POST", "pay", body)

    def fault(self, match, mode=None, status=None, times=1, delay_ms=None):
        spec = {"match": match, "times": times}
        spec.update({k: v for k, v in (("mode", mode), ("status", status), ("delay_ms", delay_ms)) if v is not None})
        return self.control("POST", "faults", spec)["faults"][0]

    def clear_faults(self):
        return self.control("POST", "faults", {"clear": True})

    def clock(self, now=None, advance_seconds=None):
        body = {"now": now} if now else {"advance_seconds": advance_seconds}
        return self.control("POST", "clock", body)["now"]

    def state(self):
        return self.control("GET", "state")

    def calls(self, path_part=None, method=None):
        return [c for c in self.control("GET", "calls")
                if (path_part is None or path_part in c["path"]) and (method is None or c["method"] == method)]

    def duplicate_receipt(self, org, iuv, times=1, mode="same", **fields):
        return self.control("POST", "duplicate_receipt", {"org": org, "iuv": iuv, "times": times,
                                                          "mode": mode, **fields})

    def report(self, org, iuv, **fields):
        return self.control("POST", "report", {"org": org, "iuv": iuv, **fields})

    def reorder(self, on=True, mode="reverse", seed=1):
        return self.control("POST", "reorder", {"on": on, "mode": mode, "seed": seed})

    def create_position(self, org, position, to_publish=True):
        """A position created at the platform by someone else (not through the engine)."""
        return self.control("POST", "position", {"org": org, "position": position, "toPublish": to_publish})

    def reset(self):
        return self.control("POST", "reset", {})
