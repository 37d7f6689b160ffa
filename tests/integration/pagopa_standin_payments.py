"""Payments at the GPD stand-in: what the Node's paSendRTV2 does through GPD-payments (store the
receipt, mark the option paid: domain/PAYMENTS.md section 2), reporting, the receipts API, and the
test-only distortions of it (a receipt listed twice, a second receipt for a paid IUV, reordering).
"""
import datetime
import math
import uuid

from pagopa_standin_receipt import receipt_xml
from pagopa_standin_rules import Problem, cents_of, euro, fmt_dt, parse_dt
from pagopa_standin_state import PAYABLE, Store

PSP = {"idPSP": "BCITITMM", "pspFiscalCode": "00799960158", "PSPCompanyName": "Banca di Esempio",
       "idChannel": "00799960158_01", "channelDescription": "app"}


class GpdState(Store):
    def _find_option(self, org, nav=None, iuv=None):
        for (o, _), p in self.positions.items():
            if o != org:
                continue
            for opt in p["options"]:
                if (nav and opt["nav"] == nav) or (iuv and opt["iuv"] == iuv):
                    self._refresh(p)
                    return p, opt
        raise Problem(404, f"no payment option {nav or iuv} for organization {org}")

    def _receipt(self, p, opt, a, receipt_id, when):
        b, ob = p["body"], opt["body"]
        fields = dict(PSP)
        fields.update({k: a[k] for k in ("idPSP", "pspFiscalCode", "PSPCompanyName", "idChannel",
                                         "channelDescription") if a.get(k)})
        if a.get("pspCompany"):
            fields["PSPCompanyName"] = a["pspCompany"]
        amount = a.get("amount") or euro(ob["amount"])
        cents_of(amount, "amount")
        fee = a.get("fee") or "1.00"
        cents_of(fee, "fee")
        day = when.date()
        transfers = [{"idTransfer": t["idTransfer"], "transferAmount": euro(t["amount"]),
                      "fiscalCodePA": t.get("organizationFiscalCode") or p["org"],
                      "companyName": t.get("companyName"), "IBAN": t.get("iban"),
                      "MBDAttachment": (t.get("stamp") or {}).get("hashDocument"),
                      "remittanceInformation": t["remittanceInformation"],
                      "transferCategory": t["category"]} for t in ob["transfer"]]
        fields.update({
            "idPA": p["org"], "idBrokerPA": a.get("idBrokerPA") or p["org"],
            "idStation": a.get("idStation") or f"{p['org']}_01", "receiptId": receipt_id,
            "noticeNumber": opt["nav"], "fiscalCode": p["org"], "outcome": "OK",
            "creditorReferenceId": opt["iuv"], "paymentAmount": amount,
            "description": ob["description"], "companyName": b["companyName"],
            "officeName": b.get("officeName"), "debtor": b, "transfers": transfers,
            "paymentMethod": a.get("paymentMethod") or "CP", "fee": fee,
            "paymentDateTime": fmt_dt(when), "applicationDate": day.isoformat(),
            "transferDate": (day + datetime.timedelta(days=1)).isoformat()})
        return {"org": p["org"], "iuv": opt["iuv"], "receiptId": receipt_id,
                "paymentDateTime": fmt_dt(when), "paymentAmount": amount,
                "debtor_cf": b["fiscalCode"], "noticeNumber": opt["nav"], "fields": fields,
                "xml": receipt_xml(fields, a.get("xml_style") or "jaxb")}

    def pay(self, a):
        with self.lock:
            org = a.get("org")
            if not org or not (a.get("nav") or a.get("iuv")):
                raise Problem(400, "pay needs org and nav (or iuv)")
            if a.get("outcome", "OK") != "OK":
                raise Problem(400, "GPD-payments is sent receipts of successful payments only: outcome OK")
            p, opt = self._find_option(org, a.get("nav"), a.get("iuv"))
            if opt["status"] != "PO_UNPAID":
                raise Problem(409, f"payment option {opt['nav']} is already paid ({opt['status']})")
            if p["status"] not in PAYABLE:
                raise Problem(422, f"debt position {p['iupd']} is {p['status']}: not payable")
            when = parse_dt(a["paymentDateTime"], "paymentDateTime") if a.get("paymentDateTime") \
                else self.clock.now()
            receipt_id = a.get("receiptId") or uuid.uuid4().hex
            r = self._receipt(p, opt, a, receipt_id, when)
            now = self.clock.now()
            opt.update({"status": "PO_PAID", "paymentDate": when, "idReceipt": receipt_id,
                        "paymentMethod": r["fields"]["paymentMethod"], "updated": now,
                        "pspCompany": r["fields"]["PSPCompanyName"],
                        "fee": cents_of(r["fields"]["fee"], "fee")})
            partial = [o for o in p["options"] if o["body"]["isPartialPayment"]]
            if opt["body"]["isPartialPayment"] and any(o["status"] == "PO_UNPAID" for o in partial):
                p["status"] = "PARTIALLY_PAID"
            else:
                p["status"] = "PAID"
            p["paymentDate"], p["updated"] = when, now
            self.receipts[(org, opt["iuv"])] = r
            return {"receiptId": receipt_id, "iuv": opt["iuv"], "nav": opt["nav"],
                    "iupd": p["iupd"], "paymentAmount": r["paymentAmount"]}

    def report(self, a):
        with self.lock:
            p, opt = self._find_option(a.get("org"), a.get("nav"), a.get("iuv"))
            if opt["status"] == "PO_UNPAID":
                raise Problem(422, f"payment option {opt['nav']} is not paid")
            if opt["status"] == "PO_REPORTED":
                raise Problem(409, f"payment option {opt['nav']} is already reported")
            now = self.clock.now()
            flow = a.get("idFlowReporting") or f"{now.date().isoformat()}{PSP['idPSP']}-{opt['iuv'][-6:]}"
            opt.update({"status": "PO_REPORTED", "transferStatus": "T_REPORTED",
                        "reportingDate": now, "idFlowReporting": flow, "updated": now})
            if p["status"] == "PAID" and not any(o["status"] == "PO_PAID" for o in p["options"]):
                p["status"], p["updated"] = "REPORTED", now
            return {"iupd": p["iupd"], "status": p["status"], "idFlowReporting": flow}

    def duplicate_receipt(self, a):
        with self.lock:
            key = (a.get("org"), a.get("iuv"))
            r = self.receipts.get(key)
            if r is None:
                raise Problem(404, f"no receipt for {key[0]} / {key[1]}")
            mode = a.get("mode", "same")
            if mode == "same":
                self.dup_same[key] = int(a.get("times", 1))
                return {"receiptId": r["receiptId"], "times": self.dup_same[key]}
            if mode != "different_receipt_id":
                raise Problem(400, f"mode {mode}: same or different_receipt_id")
            p, opt = self._find_option(key[0], iuv=key[1])
            when = parse_dt(a["paymentDateTime"], "paymentDateTime") if a.get("paymentDateTime") \
                else self.clock.now()
            fields = r["fields"]
            again = {"amount": fields["paymentAmount"], "fee": fields["fee"],
                     "paymentMethod": fields["paymentMethod"], "pspCompany": fields["PSPCompanyName"],
                     "xml_style": a.get("xml_style")}
            new = self._receipt(p, opt, again, a.get("receiptId") or uuid.uuid4().hex, when)
            self.receipts[key] = new
            return {"receiptId": new["receiptId"], "previousReceiptId": r["receiptId"]}

    # ---- the receipts API ----

    def receipt_document(self, org, iuv):
        with self.lock:
            r = self.receipts.get((org, iuv))
            if r is None:
                raise Problem(404, f"No receipt found for organization {org} and iuv {iuv}")
            return r["xml"]

    def receipts_page(self, org, q):
        with self.lock:
            page_num, page_size = q["pageNum"], q["pageSize"]
            lo, hi = q["from"], q["to"]
            rows = []
            for (o, iuv), r in sorted(self.receipts.items()):
                when = parse_dt(r["paymentDateTime"], "paymentDateTime")
                if o != org or (lo and when < lo) or (hi and when > hi):
                    continue
                if q.get("debtor") and r["debtor_cf"] != q["debtor"]:
                    continue
                prefix = q.get("debtorOrIuv")
                if prefix and not (r["debtor_cf"].startswith(prefix) or iuv.startswith(prefix)):
                    continue
                row = {"organizationFiscalCode": org, "iuv": iuv, "debtor": r["debtor_cf"],
                       "paymentDateTime": r["paymentDateTime"], "status": "PAID"}
                rows.append(row)
                if self.dup_same.get((o, iuv), 0) > 0:
                    self.dup_same[(o, iuv)] -= 1
                    rows.append(dict(row))
            rows = self._reordered(rows)
            chunk = rows[page_num * page_size:(page_num + 1) * page_size]
            if not chunk:
                raise Problem(404, f"No receipts found for organization {org}")
            return {"currentPageNumber": page_num, "length": len(chunk),
                    "totalPages": math.ceil(len(rows) / page_size), "results": chunk}
