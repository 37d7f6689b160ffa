"""The receipt document the stand-in stores and serves at GET /payments/{org}/receipts/{iuv}.

GPD-payments stores the Node's paSendRTV2 request marshalled by JAXB with the root QName
("", "PaSendRTV2Request") and formatted output (pagopa/pagopa-gpd-payments@5d3837c:
src/main/java/it/gov/pagopa/payments/service/PartnerService.java `marshalV2`), and the receipts
API answers that string as is. paForNode.xsd has no elementFormDefault, so the children are
unqualified. The root therefore carries no namespace of its own; JAXB declares the package's
namespace on it with a generated prefix. Element names and order follow ctReceiptV2
(pagopa/pagopa-api:wsdl/xsd/paForNode.xsd). style="qualified" gives the same content under a
prefixed root in the paForNode namespace, as the Node's SOAP body carries it, so a parser can be
shown not to depend on the prefix or the root's namespace.
"""
from xml.sax.saxutils import escape

NS = "http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd"


def _el(out, depth, name, value):
    if value is None or value == "":
        return
    out.append(f"{'    ' * depth}<{name}>{escape(str(value))}</{name}>")


def _open(out, depth, name):
    out.append(f"{'    ' * depth}<{name}>")


def _close(out, depth, name):
    out.append(f"{'    ' * depth}</{name}>")


def receipt_xml(r, style="jaxb"):
    """r: the receipt's fields (see Store.pay); every amount already a euro string."""
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']
    if style == "qualified":
        root, close_root = f'<pafn:paSendRTV2Request xmlns:pafn="{NS}">', "</pafn:paSendRTV2Request>"
    else:
        root, close_root = f'<PaSendRTV2Request xmlns:ns2="{NS}">', "</PaSendRTV2Request>"
    out.append(root)
    _el(out, 1, "idPA", r["idPA"])
    _el(out, 1, "idBrokerPA", r["idBrokerPA"])
    _el(out, 1, "idStation", r["idStation"])
    _open(out, 1, "receipt")
    for name in ("receiptId", "noticeNumber", "fiscalCode", "outcome", "creditorReferenceId",
                 "paymentAmount", "description", "companyName", "officeName"):
        _el(out, 2, name, r.get(name))
    d = r["debtor"]
    _open(out, 2, "debtor")
    _open(out, 3, "uniqueIdentifier")
    _el(out, 4, "entityUniqueIdentifierType", d["type"])
    _el(out, 4, "entityUniqueIdentifierValue", d["fiscalCode"])
    _close(out, 3, "uniqueIdentifier")
    _el(out, 3, "fullName", d["fullName"])
    for name, key in (("streetName", "streetName"), ("civicNumber", "civicNumber"),
                      ("postalCode", "postalCode"), ("city", "city"),
                      ("stateProvinceRegion", "province"), ("country", "country"),
                      ("e-mail", "email")):
        _el(out, 3, name, d.get(key))
    _close(out, 2, "debtor")
    _open(out, 2, "transferList")
    for t in r["transfers"]:
        _open(out, 3, "transfer")
        _el(out, 4, "idTransfer", t["idTransfer"])
        _el(out, 4, "transferAmount", t["transferAmount"])
        _el(out, 4, "fiscalCodePA", t["fiscalCodePA"])
        _el(out, 4, "companyName", t.get("companyName"))
        if t.get("IBAN"):
            _el(out, 4, "IBAN", t["IBAN"])
        else:
            _el(out, 4, "MBDAttachment", t["MBDAttachment"])
        _el(out, 4, "remittanceInformation", t["remittanceInformation"])
        _el(out, 4, "transferCategory", t["transferCategory"])
        _close(out, 3, "transfer")
    _close(out, 2, "transferList")
    for name in ("idPSP", "pspFiscalCode", "PSPCompanyName", "idChannel", "channelDescription",
                 "paymentMethod", "fee", "paymentDateTime", "applicationDate", "transferDate"):
        _el(out, 2, name, r.get(name))
    _close(out, 1, "receipt")
    out.append(close_root)
    return "\n".join(out) + "\n"
