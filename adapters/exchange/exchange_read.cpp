// Reading an exchange document: libxml2 checks it streaming (well-formed, then the XSD, each
// problem with its line), pugixml reads the records; each record becomes the commands staff
// would send for it.
#include <fmt/format.h>
#include <libxml/xmlreader.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>

#include "adapters/exchange/exchange_internal.h"

namespace procedo::exchange {

using nlohmann::json;

ExchangeSchema::~ExchangeSchema() {
  if (schema_ != nullptr) xmlSchemaFree(schema_);
}

Result<std::shared_ptr<const ExchangeSchema>> ExchangeSchema::Load(const std::string& xsd_path) {
  xmlSchemaParserCtxtPtr parser = xmlSchemaNewParserCtxt(xsd_path.c_str());
  if (parser == nullptr) {
    return Status::IoError(fmt::format("cannot read the exchange layout {}", xsd_path));
  }
  auto schema = std::shared_ptr<ExchangeSchema>(new ExchangeSchema());
  schema->schema_ = xmlSchemaParse(parser);
  xmlSchemaFreeParserCtxt(parser);
  if (schema->schema_ == nullptr) {
    return Status::InvalidArgument(fmt::format(
        "the exchange layout {} is not a valid XSD; restore it from the repository", xsd_path));
  }
  return std::shared_ptr<const ExchangeSchema>(std::move(schema));
}

namespace {

struct Found {
  std::vector<Checked::Problem>* layout;
  std::optional<Checked::Problem>* fatal;
};

std::string Trim(const char* message) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

void OnError(void* ctx, xmlErrorPtr e) {
  auto* found = static_cast<Found*>(ctx);
  if (e == nullptr) return;
  Checked::Problem p{static_cast<size_t>(std::max(e->line, 0)),
                     static_cast<size_t>(std::max(e->int2, 0)), Trim(e->message)};
  if (e->domain == XML_FROM_SCHEMASV) {
    found->layout->push_back(std::move(p));
  } else if (e->level >= XML_ERR_ERROR && !found->fatal->has_value()) {
    found->fatal->emplace(std::move(p));
  }
}

}  // namespace

Checked CheckDocument(std::string_view xml, const ExchangeSchema& schema) {
  Checked out;
  // No network, no DTD, no entity substitution: a document cannot make the parser fetch or
  // expand anything.
  xmlTextReaderPtr reader = xmlReaderForMemory(xml.data(), static_cast<int>(xml.size()),
                                               "exchange.xml", "UTF-8", XML_PARSE_NONET);
  if (reader == nullptr) {
    out.fatal = Checked::Problem{0, 0, "the document could not be read"};
    return out;
  }
  Found found{&out.layout, &out.fatal};
  xmlTextReaderSetStructuredErrorHandler(reader, OnError, &found);
  xmlSchemaValidCtxtPtr valid = xmlSchemaNewValidCtxt(schema.get());
  xmlSchemaSetValidStructuredErrors(valid, OnError, &found);
  if (valid == nullptr || xmlTextReaderSchemaValidateCtxt(reader, valid, 0) != 0) {
    out.fatal = Checked::Problem{0, 0, "the exchange layout could not be applied"};
  } else {
    int rc;
    while ((rc = xmlTextReaderRead(reader)) == 1) {
    }
    if (rc < 0 && !out.fatal) {
      xmlErrorPtr e = xmlGetLastError();
      out.fatal = e != nullptr ? Checked::Problem{static_cast<size_t>(std::max(e->line, 0)),
                                                  static_cast<size_t>(std::max(e->int2, 0)),
                                                  Trim(e->message)}
                               : Checked::Problem{0, 0, "the document is not well-formed"};
    }
  }
  xmlFreeTextReader(reader);
  if (valid != nullptr) xmlSchemaFreeValidCtxt(valid);
  return out;
}

std::string EnrolmentStream(const std::string& tenant, const std::string& record_id) {
  // Named by the record, so that importing it again reaches the same application.
  std::string in = tenant + "|" + record_id;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest);
  std::string hex;
  for (int i = 0; i < 8; ++i) hex += fmt::format("{:02x}", digest[i]);
  return fmt::format("enrolment-{}-x{}", tenant, hex);
}

namespace {

std::string Text(const pugi::xml_node& n, const char* child) {
  return n.child(child).text().as_string();
}

json Person(const pugi::xml_node& n, bool with_birth) {
  json p = {{"name", Text(n, "name")}, {"tax_code", Text(n, "tax_code")}};
  if (with_birth) p["birth_date"] = Text(n, "birth_date");
  for (const char* k : {"email", "phone"}) {
    if (n.child(k)) p[k] = Text(n, k);
  }
  return p;
}

// An answer as the question's type reads it; one that does not read as that type stays text,
// and the catalogue's rule (details_answer_questions) refuses it with its own reason.
json Answer(const domain::Service* service, const std::string& question, const std::string& v) {
  if (service == nullptr) return v;
  for (const auto& q : service->questions) {
    if (q.id != question) continue;
    using T = domain::ServiceQuestion::Type;
    if (q.type == T::kInteger) {
      char* end = nullptr;
      errno = 0;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (!v.empty() && end != nullptr && *end == '\0' && errno == 0) return n;
    } else if (q.type == T::kBoolean) {
      if (v == "true" || v == "1") return true;
      if (v == "false" || v == "0") return false;
    }
  }
  return v;
}

}  // namespace

void PlanRecord(const pugi::xml_node& n, const std::string& tenant,
                const domain::TenantServices* catalogue, Record* r) {
  const std::string kind = n.name();
  const std::string id = n.attribute("id").as_string();
  r->name = kind + " " + id;
  const std::string key = fmt::format("import:{}:{}:{}", tenant, kind, id);
  if (kind == "usage" || kind == "top_up") {
    Command c;
    c.stream = n.attribute("account").as_string();
    c.idempotency_key = key;
    c.payload = {{"movement_id", id}, {"date", n.attribute("date").as_string()}};
    if (kind == "usage") {
      c.name = "record_usage";
      c.payload["site"] = n.attribute("site").as_string();
      if (n.attribute("tariff")) c.payload["tariff"] = n.attribute("tariff").as_string();
      c.payload["quantity"] = n.attribute("quantity").as_int(1);
    } else {
      c.name = "top_up_account";
      c.payload["amount_cents"] = n.attribute("amount_cents").as_llong();
    }
    r->commands.push_back(std::move(c));
    return;
  }
  if (kind != "enrolment") {
    r->refusal = kind == "submitted_enrolment"
                     ? "submitted_enrolment is what Procedo exports; send an application made "
                       "elsewhere as <enrolment>"
                     : fmt::format("<{}> is not a record of the exchange layout", kind);
    return;
  }
  const std::string stream = EnrolmentStream(tenant, id);
  json services = json::array();
  for (auto s : n.children("service")) services.push_back(s.text().as_string());
  json start = {{"channel", "paper"},
                {"applicant", Person(n.child("applicant"), false)},
                {"beneficiary", Person(n.child("beneficiary"), true)},
                {"services", services},
                {"site", Text(n, "site")}};
  if (n.child("isee_cents")) start["isee_cents"] = n.child("isee_cents").text().as_llong();
  if (n.child("resident")) start["resident"] = n.child("resident").text().as_bool();
  json details = json::object();
  for (auto a : n.children("answer")) {
    const std::string service = a.attribute("service").as_string();
    const std::string question = a.attribute("question").as_string();
    const domain::Service* s = catalogue != nullptr ? catalogue->Find(service) : nullptr;
    details[service][question] = Answer(s, question, a.text().as_string());
  }
  auto step = [&](const char* name, json payload, const char* suffix) {
    Command c;
    c.stream = stream;
    c.name = name;
    c.payload = std::move(payload);
    c.idempotency_key = key + suffix;
    r->commands.push_back(std::move(c));
  };
  step("start_enrolment", std::move(start), ":start");
  step("complete_details", {{"details", details}}, ":details");
  step("submit_enrolment", json::object(), ":submit");
}

}  // namespace procedo::exchange
