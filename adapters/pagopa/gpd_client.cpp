#include "adapters/pagopa/gpd_client.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

namespace procedo::pagopa {

using nlohmann::json;
using projections::PlatformReply;
using Kind = projections::PlatformReply::Kind;

namespace {

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() < (4 << 20)) out->append(data, size * n);
  return size * n;
}

std::string Escape(CURL* c, const std::string& s) {
  char* e = curl_easy_escape(c, s.c_str(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

// ProblemJson's detail (or title), cut short: what the platform said, never the request.
std::string DetailOf(int status, const std::string& body) {
  json j = json::parse(body, nullptr, false);
  std::string what;
  if (j.is_object()) what = j.value("detail", j.value("title", ""));
  if (what.empty()) what = body.substr(0, 300);
  return status == 0 ? what : fmt::format("pagoPA answered {}: {}", status, what);
}

PlatformReply Classify(int status, const std::string& body, const std::string& error) {
  PlatformReply r;
  r.http_status = status;
  if (status == 0) {
    r.kind = Kind::kRetry;
    r.detail = "pagoPA did not answer: " + error;
  } else if (status >= 500 || status == 429 || status == 408) {
    r.kind = Kind::kRetry;
    r.detail = DetailOf(status, body);
  } else if (status >= 400) {
    r.kind = Kind::kPermanent;
    r.detail = DetailOf(status, body);
  } else {
    json j = json::parse(body, nullptr, false);
    if (j.is_object()) r.platform_status = j.value("status", "");
  }
  return r;
}

std::string Child(const pugi::xml_node& n, const char* local) {
  for (pugi::xml_node c : n.children()) {
    std::string_view name = c.name();
    auto colon = name.find(':');
    if (colon != std::string_view::npos) name = name.substr(colon + 1);
    if (name == local) return c.child_value();
  }
  return "";
}

pugi::xml_node ChildNode(const pugi::xml_node& n, const char* local) {
  for (pugi::xml_node c : n.children()) {
    std::string_view name = c.name();
    auto colon = name.find(':');
    if (colon != std::string_view::npos) name = name.substr(colon + 1);
    if (name == local) return c;
  }
  return {};
}

}  // namespace

GpdClient::GpdClient(GpdOptions options) : options_(std::move(options)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  curl_ = curl_easy_init();
}

GpdClient::~GpdClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

GpdClient::Answer GpdClient::Call(const std::string& method, const std::string& url,
                                  const std::string& body) {
  std::lock_guard lock(mu_);
  Answer a;
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) {
    a.error = "libcurl could not create a handle";
    return a;
  }
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json, application/xml");
  headers = curl_slist_append(headers,
                              ("Ocp-Apim-Subscription-Key: " + options_.subscription_key).c_str());
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST" || method == "PUT") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &a.body);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    a.error = error[0] ? error : curl_easy_strerror(rc);
    a.body.clear();
    return a;
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  a.status = static_cast<int>(status);
  return a;
}

std::string GpdClient::PositionBody(const projections::PositionToPublish& p) {
  const domain::PaymentSettings& s = *p.settings;
  json transfer = {{"idTransfer", "1"},
                   {"amount", p.amount_cents},
                   {"remittanceInformation", p.description.substr(0, 140)},
                   {"category", p.category},
                   {"iban", s.iban}};
  json option = {{"iuv", p.iuv},
                 {"nav", p.notice_number},
                 {"amount", p.amount_cents},
                 {"description", p.description.substr(0, 140)},
                 {"isPartialPayment", false},
                 {"dueDate", p.due_utc},
                 {"transfer", json::array({transfer})}};
  json body = {{"iupd", p.iupd},
               {"type", p.debtor_type},
               {"fiscalCode", p.debtor_fiscal_code},
               {"fullName", p.debtor_name},
               {"companyName", s.creditor_name.substr(0, 140)},
               {"switchToExpired", s.expire_at_due_date},
               {"paymentOption", json::array({option})}};
  if (!s.office.empty()) body["officeName"] = s.office.substr(0, 140);
  return body.dump();
}

PlatformReply GpdClient::Publish(const projections::PositionToPublish& sealed) {
  projections::PositionToPublish p = sealed;
  for (std::string* v : {&p.debtor_fiscal_code, &p.debtor_name}) {
    if (options_.personal == nullptr || !crypto::LooksPersonal(*v)) continue;
    auto opened = options_.personal->Open(*v);
    if (!opened.ok()) {
      PlatformReply r;
      if (opened.status().code() == Status::Code::kPermissionDenied) {
        r.kind = PlatformReply::Kind::kPermanent;
        r.detail =
            "the debtor's personal data was erased: the position cannot be published; "
            "cancel it and create one for a debtor who can be named";
      } else {
        r.kind = PlatformReply::Kind::kRetry;
        r.detail =
            "the debtor's personal data could not be opened now: " + opened.status().message();
      }
      return r;
    }
    *v = std::move(opened).value();
  }
  CURL* c = static_cast<CURL*>(curl_);
  const std::string base =
      fmt::format("{}/organizations/{}/debtpositions", options_.positions_url, Escape(c, p.org));
  Answer a = Call("POST", base + "?toPublish=true", PositionBody(p));
  if (a.status == 201 || a.status == 200) return Classify(a.status, a.body, a.error);
  if (a.status != 409 && a.status != 0 && a.status < 500)
    return Classify(a.status, a.body, a.error);
  // A 409, or no clear answer: the first attempt may have committed. Read it back by its IUPD.
  Answer read = Call("GET", base + "/" + Escape(c, p.iupd), "");
  if (read.status == 404) return Classify(a.status, a.body, a.error);  // not there: try again
  if (read.status != 200) return Classify(read.status, read.body, read.error);
  json stored = json::parse(read.body, nullptr, false);
  const json options = stored.is_object() ? stored.value("paymentOption", json::array()) : json();
  const bool same = options.is_array() && options.size() == 1 &&
                    options[0].value("iuv", "") == p.iuv &&
                    options[0].value("amount", int64_t{-1}) == p.amount_cents;
  PlatformReply r;
  r.http_status = read.status;
  if (!same) {
    r.kind = Kind::kPermanent;
    r.detail = fmt::format(
        "pagoPA already holds a different position {} (other IUV or amount): the IUVs of this "
        "Ente's station are issued elsewhere too; check its segregation code",
        p.iupd);
    return r;
  }
  r.platform_status = stored.value("status", "");
  if (r.platform_status == "DRAFT") {
    // Created, not published (the answer to toPublish was lost half-way): publish it now.
    Answer pub = Call("POST", base + "/" + Escape(c, p.iupd) + "/publish", "");
    return Classify(pub.status, pub.body, pub.error);
  }
  return r;
}

PlatformReply GpdClient::Read(const std::string& org, const std::string& iupd) {
  CURL* c = static_cast<CURL*>(curl_);
  Answer a = Call("GET",
                  fmt::format("{}/organizations/{}/debtpositions/{}", options_.positions_url,
                              Escape(c, org), Escape(c, iupd)),
                  "");
  return Classify(a.status, a.body, a.error);
}

PlatformReply GpdClient::Invalidate(const std::string& org, const std::string& iupd) {
  CURL* c = static_cast<CURL*>(curl_);
  const std::string url = fmt::format("{}/organizations/{}/debtpositions/{}",
                                      options_.positions_url, Escape(c, org), Escape(c, iupd));
  Answer a = Call("POST", url + "/invalidate", "");
  if (a.status == 200) return Classify(a.status, a.body, a.error);
  if (a.status == 404) {
    PlatformReply r;
    r.platform_status = "NOT_PUBLISHED";
    return r;
  }
  if (a.status != 409) return Classify(a.status, a.body, a.error);
  // Not invalidable: already invalid (a retry), never published, or paid meanwhile.
  PlatformReply now = Read(org, iupd);
  if (now.kind != Kind::kDone) return now;
  if (now.platform_status == "INVALID") return now;
  if (now.platform_status == "DRAFT" || now.platform_status == "EXPIRED") {
    Answer del = Call("DELETE", url, "");
    if (del.status == 200 || del.status == 404) {
      PlatformReply r;
      r.platform_status = "NOT_PUBLISHED";
      return r;
    }
    return Classify(del.status, del.body, del.error);
  }
  PlatformReply r = Classify(409, a.body, a.error);
  r.platform_status = now.platform_status;
  return r;
}

Result<std::vector<std::string>> GpdClient::PaidSince(const std::string& org,
                                                      const std::string& from) {
  CURL* c = static_cast<CURL*>(curl_);
  std::vector<std::string> out;
  for (int page = 0; page < 1000; ++page) {
    Answer a = Call("GET",
                    fmt::format("{}/payments/{}/receipts?pageNum={}&pageSize=100&from={}",
                                options_.receipts_url, Escape(c, org), page, Escape(c, from)),
                    "");
    if (a.status == 404) break;  // an empty page: no (more) receipts
    if (a.status != 200) {
      return Status::Unavailable(fmt::format("pagoPA's receipts of {}: {}", org,
                                             a.status ? DetailOf(a.status, a.body) : a.error));
    }
    json j = json::parse(a.body, nullptr, false);
    if (!j.is_object() || !j.contains("results") || !j["results"].is_array()) {
      return Status::Unavailable(fmt::format(
          "pagoPA's receipts of {}: the answer is not the receipts list the API describes", org));
    }
    for (const auto& r : j["results"]) {
      if (r.is_object() && r.value("iuv", json()).is_string()) out.push_back(r["iuv"]);
    }
    const int pages = j.value("totalPages", 1);
    if (page + 1 >= pages) break;
  }
  return out;
}

Result<projections::PlatformReceipt> GpdClient::ParseReceipt(const std::string& xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result ok = doc.load_buffer(xml.data(), xml.size());
  if (!ok) {
    return Status::InvalidArgument(fmt::format(
        "pagoPA's receipt is not well-formed XML: {} at byte {}", ok.description(), ok.offset));
  }
  pugi::xml_node receipt = ChildNode(doc.document_element(), "receipt");
  if (!receipt) {
    return Status::InvalidArgument("pagoPA's receipt has no <receipt> element");
  }
  projections::PlatformReceipt r;
  r.receipt_id = Child(receipt, "receiptId");
  r.notice_number = Child(receipt, "noticeNumber");
  r.iuv = Child(receipt, "creditorReferenceId");
  r.creditor_fiscal_code = Child(receipt, "fiscalCode");
  r.amount = Child(receipt, "paymentAmount");
  r.outcome = Child(receipt, "outcome");
  r.paid_at = Child(receipt, "paymentDateTime");
  r.method = Child(receipt, "paymentMethod");
  r.psp = Child(receipt, "PSPCompanyName");
  if (r.receipt_id.empty() || r.notice_number.empty() || r.amount.empty()) {
    return Status::InvalidArgument(
        "pagoPA's receipt lacks receiptId, noticeNumber or paymentAmount");
  }
  return r;
}

Result<projections::PlatformReceipt> GpdClient::Receipt(const std::string& org,
                                                        const std::string& iuv) {
  CURL* c = static_cast<CURL*>(curl_);
  Answer a = Call("GET",
                  fmt::format("{}/payments/{}/receipts/{}", options_.receipts_url, Escape(c, org),
                              Escape(c, iuv)),
                  "");
  if (a.status != 200) {
    return Status::Unavailable(fmt::format("pagoPA's receipt of IUV {}: {}", iuv,
                                           a.status ? DetailOf(a.status, a.body) : a.error));
  }
  return ParseReceipt(a.body);
}

}  // namespace procedo::pagopa
