"""The GPD stand-in's state: debt positions under CORE's state machine (domain/PAYMENTS.md 1.2),
the identifiers an Ente has ever used, the receipts GPD-payments would store (section 2), and a
settable clock. Every method runs under one lock; transitions that depend on time are applied
lazily whenever a position is read or written, as CORE's ValidityHandler does.
"""
import copy
import datetime
import math
import random
import threading

from pagopa_standin_rules import Problem, check_position, fmt_dt, parse_dt

NOT_UPDATABLE = {"INVALID", "PARTIALLY_PAID", "PAID", "REPORTED"}
ALREADY_PAID = {"PARTIALLY_PAID", "PAID", "REPORTED"}
INVALIDABLE = {"PUBLISHED", "VALID"}
PAYABLE = {"VALID", "PARTIALLY_PAID"}


class Clock:
    """Real UTC time until set; once set it stands still and moves only when told to."""

    def __init__(self, fixed=None):
        self.fixed = fixed

    def now(self):
        if self.fixed is not None:
            return self.fixed
        return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)

    def set(self, now=None, advance_seconds=None):
        if now is not None:
            self.fixed = parse_dt(now, "now")
        elif advance_seconds is not None:
            self.fixed = self.now() + datetime.timedelta(seconds=float(advance_seconds))
        return fmt_dt(self.now())


def _strip(d):
    return {k: v for k, v in d.items() if v is not None}


class Store:
    def __init__(self, clock):
        self.lock = threading.RLock()
        self.clock = clock
        self.reset()

    def reset(self):
        with self.lock:
            self.positions = {}      # (org, iupd) -> position record
            self.used_iupd = set()   # (org, iupd), kept after delete: never reused
            self.used_iuv = {}       # (org, iuv) -> iupd, kept forever
            self.used_nav = {}       # (org, nav) -> iupd, kept forever
            self.receipts = {}       # (org, iuv) -> receipt record
            self.dup_same = {}       # (org, iuv) -> list polls still to double the entry
            self.reorder = None      # None | "reverse" | ("shuffle", seed)
            self.seq = 0

    # ---- positions ----

    def _record(self, org, body, dates, previous=None):
        now = self.clock.now()
        options = []
        for i, opt in enumerate(body["paymentOption"]):
            old = None
            if previous:
                old = next((o for o in previous["options"] if o["iuv"] == opt["iuv"]), None)
            options.append({
                "body": copy.deepcopy(opt), "iuv": opt["iuv"], "nav": opt.get("nav") or "3" + opt["iuv"],
                "due": dates["due"][i], "status": "PO_UNPAID",
                "inserted": old["inserted"] if old else now, "updated": now,
                "paymentDate": None, "reportingDate": None, "idReceipt": None,
                "idFlowReporting": None, "paymentMethod": None, "pspCompany": None,
                "fee": opt.get("fee"), "transferStatus": "T_UNREPORTED"})
        self.seq += 1
        return {"org": org, "iupd": body["iupd"], "body": copy.deepcopy(body), "status": "DRAFT",
                "validity": dates["validity"], "switchToExpired": bool(body.get("switchToExpired")),
                "inserted": previous["inserted"] if previous else now,
                "insertOrder": previous["insertOrder"] if previous else self.seq,
                "published": None, "updated": now, "paymentDate": None, "options": options}

    def _reserve(self, org, body, iupd_taken_ok):
        iupd = body["iupd"]
        if not iupd_taken_ok and (org, iupd) in self.used_iupd:
            raise Problem(409, f"Already exists a debt position for the Organization Fiscal Code "
                               f"{org} or one of its payment options is not unique (iupd {iupd})")
        for opt in body["paymentOption"]:
            nav = opt.get("nav") or "3" + opt["iuv"]
            for kind, index, key in (("iuv", self.used_iuv, opt["iuv"]), ("nav", self.used_nav, nav)):
                owner = index.get((org, key))
                if owner is not None and owner != iupd:
                    raise Problem(409, f"Already exists a debt position for the Organization Fiscal "
                                       f"Code {org} or one of its payment options is not unique "
                                       f"({kind} {key} belongs to {owner})")
        self.used_iupd.add((org, iupd))
        for opt in body["paymentOption"]:
            self.used_iuv[(org, opt["iuv"])] = iupd
            self.used_nav[(org, opt.get("nav") or "3" + opt["iuv"])] = iupd

    def _publish(self, p):
        now = self.clock.now()
        if p["validity"] is None:
            p["validity"] = now
        p["status"] = "VALID" if p["validity"] <= now else "PUBLISHED"
        p["published"] = now
        p["updated"] = now

    def _refresh(self, p):
        now = self.clock.now()
        if p["status"] == "PUBLISHED" and p["validity"] is not None and now >= p["validity"]:
            p["status"] = "VALID"
        if (p["status"] == "VALID" and p["switchToExpired"]
                and now > max(o["due"] for o in p["options"])):
            p["status"] = "EXPIRED"

    def _get(self, org, iupd):
        p = self.positions.get((org, iupd))
        if p is None:
            raise Problem(404, f"No debt position found for organization {org} and iupd {iupd}")
        self._refresh(p)
        return p

    def create(self, org, body, to_publish):
        with self.lock:
            dates = check_position(body, self.clock.now(), creating=True)
            self._reserve(org, body, iupd_taken_ok=False)
            p = self._record(org, body, dates)
            if to_publish:
                self._publish(p)
            self.positions[(org, p["iupd"])] = p
            return self.model(p)

    def update(self, org, iupd, body, to_publish):
        with self.lock:
            p = self._get(org, iupd)
            if isinstance(body, dict) and body.get("iupd") not in (None, iupd):
                raise Problem(400, f"the body's iupd {body.get('iupd')} is not the path's {iupd}")
            if p["status"] in NOT_UPDATABLE:
                reason = "existing related payment found" if p["status"] in ALREADY_PAID else "not updatable"
                raise Problem(409, f"debt position {iupd} is {p['status']}: {reason}")
            dates = check_position(body, self.clock.now(), creating=False)
            self._reserve(org, body, iupd_taken_ok=True)
            q = self._record(org, body, dates, previous=p)
            if to_publish:
                self._publish(q)
            self.positions[(org, iupd)] = q
            return self.model(q)

    def publish(self, org, iupd):
        with self.lock:
            p = self._get(org, iupd)
            now = self.clock.now()
            if p["status"] != "DRAFT":
                raise Problem(409, f"debt position {iupd} is {p['status']}: not in publishable state")
            if p["validity"] is not None and p["validity"] < now:
                raise Problem(409, f"debt position {iupd}: the validity date has already begun")
            if any(o["due"] < now for o in p["options"]):
                raise Problem(409, f"debt position {iupd}: a due date has already passed")
            self._publish(p)
            return self.model(p)

    def invalidate(self, org, iupd):
        with self.lock:
            p = self._get(org, iupd)
            if p["status"] not in INVALIDABLE:
                raise Problem(409, f"debt position {iupd} is {p['status']}: not in invalidable state")
            p["status"] = "INVALID"
            p["updated"] = self.clock.now()
            return self.model(p)

    def delete(self, org, iupd):
        with self.lock:
            p = self._get(org, iupd)
            if p["status"] in ALREADY_PAID:
                raise Problem(409, f"debt position {iupd} is {p['status']}: existing related payment found")
            del self.positions[(org, iupd)]
            return "OK"

    def get(self, org, iupd):
        with self.lock:
            return self.base_response(self._get(org, iupd))

    def list(self, org, q):
        with self.lock:
            ps = [self._get(org, iupd) for (o, iupd) in list(self.positions) if o == org]
            if q.get("status"):
                ps = [p for p in ps if p["status"] == q["status"]]
            pay, due = q.get("payment_date"), q.get("due_date")
            if pay:
                ps = [p for p in ps if p["paymentDate"] and pay[0] <= p["paymentDate"].date() <= pay[1]]
            if due:
                ps = [p for p in ps if any(due[0] <= o["due"].date() <= due[1] for o in p["options"])]
            key = {"INSERTED_DATE": lambda p: (p["inserted"], p["insertOrder"]),
                   "IUPD": lambda p: p["iupd"], "STATUS": lambda p: p["status"],
                   "COMPANY_NAME": lambda p: p["body"]["companyName"]}[q["orderby"]]
            ps.sort(key=key, reverse=q["ordering"] == "DESC")
            ps = self._reordered(ps)
            limit, page = q["limit"], q["page"]
            chunk = ps[page * limit:(page + 1) * limit]
            return {"payment_position_list": [self.base_response(p) for p in chunk],
                    "page_info": {"page": page, "limit": limit, "items_found": len(chunk),
                                  "total_pages": math.ceil(len(ps) / limit)}}

    def _reordered(self, items):
        if self.reorder == "reverse":
            return list(reversed(items))
        if isinstance(self.reorder, tuple):
            items = list(items)
            random.Random(self.reorder[1]).shuffle(items)
        return items

    # ---- answers in the document's shapes ----

    def model(self, p):
        """PaymentPositionModel: the body as sent, with the read-only fields filled in."""
        out = copy.deepcopy(p["body"])
        out.update(_strip({"status": p["status"], "validityDate": fmt_dt(p["validity"]),
                           "paymentDate": fmt_dt(p["paymentDate"])}))
        for opt, o in zip(out["paymentOption"], p["options"]):
            opt["nav"] = o["nav"]
        return out

    def base_response(self, p):
        """PaymentPositionModelBaseResponse, as GET by iupd and the list answer it."""
        org, b = p["org"], p["body"]
        options = []
        for o in p["options"]:
            ob = o["body"]
            transfers = [_strip({
                "organizationFiscalCode": t.get("organizationFiscalCode") or org,
                "companyName": t.get("companyName"), "idTransfer": t["idTransfer"],
                "amount": t["amount"], "remittanceInformation": t["remittanceInformation"],
                "category": t["category"], "iban": t.get("iban"), "postalIban": t.get("postalIban"),
                "stamp": t.get("stamp"), "insertedDate": fmt_dt(o["inserted"]),
                "status": o["transferStatus"], "lastUpdatedDate": fmt_dt(o["updated"]),
                "transferMetadata": t.get("transferMetadata")}) for t in ob["transfer"]]
            options.append(_strip({
                "nav": o["nav"], "iuv": o["iuv"], "organizationFiscalCode": org,
                "amount": ob["amount"], "description": ob["description"],
                "isPartialPayment": ob["isPartialPayment"], "dueDate": fmt_dt(o["due"]),
                "retentionDate": ob.get("retentionDate"), "paymentDate": fmt_dt(o["paymentDate"]),
                "reportingDate": fmt_dt(o["reportingDate"]), "insertedDate": fmt_dt(o["inserted"]),
                "paymentMethod": o["paymentMethod"], "fee": o["fee"], "notificationFee": 0,
                "pspCompany": o["pspCompany"], "idReceipt": o["idReceipt"],
                "idFlowReporting": o["idFlowReporting"], "status": o["status"],
                "lastUpdatedDate": fmt_dt(o["updated"]),
                "paymentOptionMetadata": ob.get("paymentOptionMetadata"), "transfer": transfers}))
        return _strip({
            "iupd": p["iupd"], "organizationFiscalCode": org, "type": b["type"],
            "companyName": b["companyName"], "officeName": b.get("officeName"),
            "insertedDate": fmt_dt(p["inserted"]), "publishDate": fmt_dt(p["published"]),
            "validityDate": fmt_dt(p["validity"]), "paymentDate": fmt_dt(p["paymentDate"]),
            "status": p["status"], "lastUpdatedDate": fmt_dt(p["updated"]), "paymentOption": options})

    def dump(self):
        with self.lock:
            for p in self.positions.values():
                self._refresh(p)
            return {"now": fmt_dt(self.clock.now()),
                    "positions": [self.base_response(p) for p in self.positions.values()],
                    "receipts": [{k: r[k] for k in ("org", "iuv", "receiptId", "paymentDateTime",
                                                    "paymentAmount", "debtor_cf", "noticeNumber")}
                                 for r in self.receipts.values()],
                    "used": {"iupd": len(self.used_iupd), "iuv": len(self.used_iuv),
                             "nav": len(self.used_nav)}}
