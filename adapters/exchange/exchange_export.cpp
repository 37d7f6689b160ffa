// Submitted enrolments out, in the exchange layout: what the other system needs to take an
// application on (step 1, step 2, the sequence numbers) and each service's outcome so far.
#include <fmt/format.h>

#include <map>
#include <pugixml.hpp>
#include <sstream>

#include "adapters/exchange/exchange.h"

namespace procedo::exchange {

using nlohmann::json;

namespace {

struct Application {
  json started, details, submitted;
  std::map<std::string, std::string> outcome;  // per service
  std::map<std::string, std::string> account;  // per admitted service
};

std::string Scalar(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

void AddPerson(pugi::xml_node parent, const char* name, const json& p, bool birth) {
  auto n = parent.append_child(name);
  n.append_child("name").text() = p.value("name", "").c_str();
  n.append_child("tax_code").text() = p.value("tax_code", "").c_str();
  if (birth) n.append_child("birth_date").text() = p.value("birth_date", "").c_str();
  for (const char* k : {"email", "phone"}) {
    if (!birth && p.contains(k)) n.append_child(k).text() = p[k].get<std::string>().c_str();
  }
}

// The people of an application as the other system must get them: their sealed values opened.
// False when one of them can no longer be opened (erased): the record could not say who.
Result<bool> OpenPeople(const crypto::PersonalData* personal, json& started) {
  if (personal == nullptr) return true;
  for (const char* who : {"applicant", "beneficiary"}) {
    auto person = started.find(who);
    if (person == started.end() || !person->is_object()) continue;
    for (auto& [field, value] : person->items()) {
      if (!value.is_string() || !crypto::LooksPersonal(value.get_ref<const std::string&>())) {
        continue;
      }
      auto opened = personal->Open(value.get_ref<const std::string&>());
      if (opened.status().code() == Status::Code::kPermissionDenied) return false;
      if (!opened.ok()) return opened.status();
      value = std::move(opened).value();
    }
  }
  return true;
}

}  // namespace

Result<std::string> ExportEnrolments(const LogStore& log, const std::string& tenant,
                                     const std::string& service,
                                     const crypto::PersonalData* personal) {
  std::map<std::string, Application> apps;
  std::vector<std::string> order;  // streams in the order of their submission
  for (uint64_t next = 1;;) {
    auto page = log.ReadAll(next, 4096);
    if (!page.ok()) return page.status();
    if (page->empty()) break;
    next = page->back().position + 1;
    for (const Event& e : *page) {
      if (e.tenant != tenant || StreamKind(e.stream) != "enrolment") continue;
      json d = json::parse(e.data, nullptr, false);
      if (!d.is_object()) continue;
      Application& a = apps[e.stream];
      if (e.type == "enrolment.started") {
        a.started = std::move(d);
      } else if (e.type == "enrolment.details_completed") {
        a.details = d.value("details", json::object());
      } else if (e.type == "enrolment.submitted") {
        a.submitted = std::move(d);
        order.push_back(e.stream);
        for (const auto& s : a.started.value("services", json::array())) {
          a.outcome[s.get<std::string>()] = "submitted";
        }
      } else if (d.contains("service") && d["service"].is_string()) {
        // ranked, admitted, waitlisted, rejected, withdrawn: the type's last word
        const std::string s = d["service"];
        a.outcome[s] = e.type.substr(e.type.find('.') + 1);
        if (e.type == "enrolment.admitted") a.account[s] = d.value("account", "");
      }
    }
  }
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "UTF-8";
  auto root = doc.append_child("exchange");
  root.append_attribute("xmlns") = "urn:procedo:exchange:1";
  root.append_attribute("tenant") = tenant.c_str();
  for (const std::string& stream : order) {
    const Application& a = apps[stream];
    const json services = a.started.value("services", json::array());
    if (!service.empty() &&
        std::find(services.begin(), services.end(), json(service)) == services.end()) {
      continue;
    }
    json started = a.started;
    auto people = OpenPeople(personal, started);
    if (!people.ok()) return people.status();
    if (!*people) continue;
    auto n = root.append_child("submitted_enrolment");
    n.append_attribute("id") = stream.c_str();
    n.append_attribute("stream") = stream.c_str();
    n.append_attribute("submitted_at") = a.submitted.value("submitted_at", "").c_str();
    AddPerson(n, "applicant", started.value("applicant", json::object()), false);
    AddPerson(n, "beneficiary", started.value("beneficiary", json::object()), true);
    for (const auto& s : services) n.append_child("service").text() = Scalar(s).c_str();
    n.append_child("site").text() = a.started.value("site", "").c_str();
    // Sealed, the ISEE and the residence are opened as the people are; once erased they are left
    // out.
    auto opened = [&](const char* name) {
      json v = a.started.value(name, json());
      if (v.is_string() && personal != nullptr) v = personal->ShowJson(v.get<std::string>());
      return v;
    };
    if (json isee = opened("isee_cents"); isee.is_number_integer()) {
      n.append_child("isee_cents").text() = Scalar(isee).c_str();
    }
    if (json resident = opened("resident"); resident.is_boolean()) {
      n.append_child("resident").text() = Scalar(resident).c_str();
    }
    for (const auto& [svc, answers] : a.details.items()) {
      for (const auto& [question, value] : answers.items()) {
        auto x = n.append_child("answer");
        x.append_attribute("service") = svc.c_str();
        x.append_attribute("question") = question.c_str();
        x.text() = Scalar(value).c_str();
      }
    }
    const json numbers = a.submitted.value("sequence_numbers", json::object());
    for (const auto& s : services) {
      const std::string svc = s.get<std::string>();
      auto q = n.append_child("sequence");
      q.append_attribute("service") = svc.c_str();
      q.append_attribute("number") = Scalar(numbers.value(svc, json(0))).c_str();
      auto o = a.outcome.find(svc);
      q.append_attribute("outcome") = o != a.outcome.end() ? o->second.c_str() : "submitted";
      if (auto acc = a.account.find(svc); acc != a.account.end() && !acc->second.empty()) {
        q.append_attribute("account") = acc->second.c_str();
      }
    }
  }
  std::ostringstream out;
  doc.save(out, "  ", pugi::format_default, pugi::encoding_utf8);
  return out.str();
}

}  // namespace procedo::exchange
