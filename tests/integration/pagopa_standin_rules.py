"""The GPD stand-in's validation: the OpenAPI schema, CORE's date and amount rules and the notice
number rules (domain/PAYMENTS.md 1.3, 1.4 and 3). Pure functions; the state lives elsewhere.
"""
import datetime
import json
import pathlib
import re

import jsonschema_rs

DOC_DIR = pathlib.Path(__file__).resolve().parent / "pagopa"


class Problem(Exception):
    """An answer other than success, carried as ProblemJson {title, status, detail}."""

    TITLES = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 409: "Conflict",
              422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
              502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}

    def __init__(self, status, detail, title=None):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or self.TITLES.get(status, "Error")

    def body(self):
        return {"title": self.title, "status": self.status, "detail": self.detail}


def load_doc(name):
    return json.loads((DOC_DIR / name).read_text(encoding="utf-8"))


def schema_validator(doc, schema_name):
    """A validator for one of the document's own component schemas. Formats are not checked:
    CORE's date-times are zone-less LocalDateTime ("2026-12-31T22:59:59"), which RFC 3339's
    date-time refuses, so the document's `format: date-time` cannot be taken literally."""
    root = {"allOf": [{"$ref": f"#/components/schemas/{schema_name}"}],
            "components": doc["components"]}
    return jsonschema_rs.Draft7Validator(root, validate_formats=False)


GPD_DOC = load_doc("gpd.json")
POSITION_SCHEMA = schema_validator(GPD_DOC, "PaymentPositionModel")

# ---- dates: UTC, no zone, as CORE's LocalDateTime.now(ZoneOffset.UTC) ----

_DT = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_dt(value, field):
    m = _DT.match(value) if isinstance(value, str) else None
    if not m:
        raise Problem(400, f"{field}: '{value}' is not a UTC date-time YYYY-MM-DDThh:mm:ss")
    try:
        return datetime.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}")
    except ValueError:
        raise Problem(400, f"{field}: '{value}' is not a valid date-time") from None


def parse_day(value, field):
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _DATE.match(value):
        raise Problem(400, f"{field}: '{value}' is not a date yyyy-MM-dd")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Problem(400, f"{field}: '{value}' is not a valid date") from None


def fmt_dt(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S") if value else None


def euro(cents):
    return f"{cents // 100}.{cents % 100:02d}"


def cents_of(amount, field):
    """Euro string with exactly two decimals ("120.00") to integer cents, never through a float."""
    if not isinstance(amount, str) or not re.fullmatch(r"\d{1,9}\.\d{2}", amount):
        raise Problem(400, f"{field}: '{amount}' is not an amount like 120.00")
    whole, dec = amount.split(".")
    return int(whole) * 100 + int(dec)


# ---- notice numbers (SACI Tabella 2) ----

def check_digit(digits):
    return "%02d" % (int(digits) % 93)


def notice_number(iuv, nav):
    """The NAV for an option, or Problem(400). nav defaults to "3"+iuv as CORE does."""
    if not isinstance(iuv, str) or not iuv.isdigit():
        raise Problem(400, f"iuv '{iuv}': the stand-in takes numeric IUVs only")
    nav = nav if nav not in (None, "") else "3" + iuv
    if not (isinstance(nav, str) and len(nav) == 18 and nav.isdigit()):
        raise Problem(400, f"nav '{nav}': a notice number is 18 digits")
    aux = nav[0]
    if aux == "3" or aux == "2":
        expected_len, body, covered = 17, nav[1:], aux + iuv[:15]
    elif aux == "0":
        expected_len, body, covered = 15, nav[3:], "0" + nav[1:3] + iuv[:13]
    elif aux == "1":
        expected_len, body, covered = 17, nav[1:], None
    else:
        raise Problem(400, f"nav '{nav}': aux digit {aux} is not 0, 1, 2 or 3")
    if len(iuv) != expected_len:
        raise Problem(400, f"iuv '{iuv}': with aux digit {aux} an IUV has {expected_len} digits")
    if body != iuv:
        raise Problem(400, f"nav '{nav}' does not carry iuv '{iuv}'")
    if covered is not None:
        want = check_digit(covered)
        if iuv[-2:] != want:
            raise Problem(400, f"iuv '{iuv}': wrong check digit {iuv[-2:]}, expected {want} "
                               f"({covered} mod 93)")
    return nav


# ---- the body: schema first, then CORE's semantic rules ----

def check_schema(body):
    if not isinstance(body, dict):
        raise Problem(400, "the body is not a JSON object")
    errors = [f"{'/'.join(str(p) for p in e.instance_path) or '(root)'}: {e.message}"
              for e in POSITION_SCHEMA.iter_errors(body)]
    if errors:
        raise Problem(400, "; ".join(errors[:5]))


def check_position(body, now, creating):
    """Raises Problem(400) as DebtPositionValidation does; returns the parsed dates
    {"validity": dt|None, "due": [dt per option], "retention": [dt|None per option]}."""
    check_schema(body)
    options = body.get("paymentOption") or []
    if not options:
        raise Problem(400, "paymentOption: at least one payment option is required")
    validity = parse_dt(body["validityDate"], "validityDate") if body.get("validityDate") else None
    if creating and validity is not None and validity < now:
        raise Problem(400, f"validity_date must be >= current_date ({fmt_dt(now)})")
    dues, retentions, seen = [], [], set()
    for i, opt in enumerate(options):
        where = f"paymentOption[{i}]"
        due = parse_dt(opt["dueDate"], f"{where}.dueDate")
        floor = validity or now
        if due < floor:
            raise Problem(400, f"{where}.dueDate must be >= {'validity_date' if validity else 'current_date'}")
        if (creating or body.get("switchToExpired")) and due < now:
            raise Problem(400, f"{where}.dueDate must be >= current_date ({fmt_dt(now)})")
        retention = parse_dt(opt["retentionDate"], f"{where}.retentionDate") if opt.get("retentionDate") else None
        if retention is not None and retention < due:
            raise Problem(400, f"{where}.retentionDate must be >= due_date")
        transfers = opt.get("transfer") or []
        if not 1 <= len(transfers) <= 5:
            raise Problem(400, f"{where}.transfer: 1 to 5 transfers")
        ids = [t["idTransfer"] for t in transfers]
        if len(set(ids)) != len(ids):
            raise Problem(400, f"{where}.transfer: idTransfer repeated")
        for j, t in enumerate(transfers):
            if bool(t.get("iban")) == bool(t.get("stamp")):
                raise Problem(400, f"{where}.transfer[{j}]: exactly one of iban and stamp")
            if t.get("postalIban") and not t.get("iban"):
                raise Problem(400, f"{where}.transfer[{j}]: postalIban goes with an iban only")
        total = sum(t["amount"] for t in transfers)
        if total != opt["amount"]:
            raise Problem(400, f"{where}: amount {opt['amount']} is not the sum of the transfers' "
                               f"amounts {total}")
        keys = [m["key"] for m in opt.get("paymentOptionMetadata") or []]
        if len(set(keys)) != len(keys):
            raise Problem(400, f"{where}.paymentOptionMetadata: keys repeated")
        if "NOTIFICATION_FEE" in keys:
            raise Problem(409, f"{where}.paymentOptionMetadata: NOTIFICATION_FEE is reserved")
        nav = notice_number(opt["iuv"], opt.get("nav"))
        for key in (("iuv", opt["iuv"]), ("nav", nav)):
            if key in seen:
                raise Problem(409, f"{key[0]} {key[1]} appears twice in the position")
            seen.add(key)
        dues.append(due)
        retentions.append(retention)
    return {"validity": validity, "due": dues, "retention": retentions}
