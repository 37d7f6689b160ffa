// The enrolment's checks against the services catalogue: what step 1 chooses and what step 2
// answers. Every caller (the workflow's guards, the web form) asks these functions, so a rule
// changes in one place.
#include <fmt/format.h>

#include <chrono>
#include <limits>

#include "domain/services.h"

namespace procedo::domain {
namespace {

using nlohmann::json;
using Kind = EnrolmentProblem::Kind;

// Long enough for an address or a note on allergies; a form is not a document store.
constexpr size_t kMaxTextAnswer = 1000;

std::string Offered(const TenantServices& c) {
  std::vector<std::string> ids;
  for (const auto& s : c.services) ids.push_back(s.id);
  return fmt::format("{}", fmt::join(ids, ", "));
}

bool IsDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  const std::chrono::year_month_day d{std::chrono::year(std::stoi(s.substr(0, 4))),
                                      std::chrono::month(std::stoul(s.substr(5, 2))),
                                      std::chrono::day(std::stoul(s.substr(8, 2)))};
  return d.ok();
}

bool IsBlank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

const char* TypeText(ServiceQuestion::Type t) {
  switch (t) {
    case ServiceQuestion::Type::kText:
      return "a text";
    case ServiceQuestion::Type::kInteger:
      return "a whole number";
    case ServiceQuestion::Type::kDate:
      return "a date YYYY-MM-DD";
    case ServiceQuestion::Type::kBoolean:
      return "true or false";
    case ServiceQuestion::Type::kChoice:
      return "one of the choices";
  }
  return "an answer";
}

// The problem with one answer, if any.
std::optional<EnrolmentProblem> CheckAnswer(const Service& service, const ServiceQuestion& q,
                                            const json& v) {
  const std::string where =
      fmt::format("service '{}' ({}), question '{}' ({})", service.id, service.name, q.id, q.label);
  auto problem = [&](Kind kind, std::string what) {
    return EnrolmentProblem{kind, service.id, q.id, where + ": " + std::move(what)};
  };
  const std::string choices = fmt::format("{}", fmt::join(q.choices, ", "));
  switch (q.type) {
    case ServiceQuestion::Type::kText:
      if (!v.is_string()) return problem(Kind::kWrongType, "give a text, in quotes");
      if (v.get<std::string>().size() > kMaxTextAnswer) {
        return problem(
            Kind::kOutOfRange,
            fmt::format("the text is longer than {} characters; shorten it", kMaxTextAnswer));
      }
      if (q.required && IsBlank(v.get<std::string>())) {
        return problem(Kind::kMissingAnswer, "the answer is blank; it is required, fill it in");
      }
      return std::nullopt;
    case ServiceQuestion::Type::kInteger: {
      if (!v.is_number_integer()) return problem(Kind::kWrongType, "give a whole number");
      const bool huge = v.is_number_unsigned() &&
                        v.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max());
      const int64_t n = huge ? std::numeric_limits<int64_t>::max() : v.get<int64_t>();
      if ((q.min && n < *q.min) || (q.max && n > *q.max) || huge) {
        return problem(Kind::kOutOfRange,
                       fmt::format("{} is out of range; give a number from {} to {}", v.dump(),
                                   q.min ? std::to_string(*q.min) : "any",
                                   q.max ? std::to_string(*q.max) : "any"));
      }
      return std::nullopt;
    }
    case ServiceQuestion::Type::kDate:
      if (!v.is_string() || !IsDate(v.get<std::string>())) {
        return problem(Kind::kWrongType,
                       "give a real calendar date as YYYY-MM-DD, e.g. \"2026-09-14\"");
      }
      return std::nullopt;
    case ServiceQuestion::Type::kBoolean:
      if (!v.is_boolean()) return problem(Kind::kWrongType, "give true or false, without quotes");
      return std::nullopt;
    case ServiceQuestion::Type::kChoice:
      if (!v.is_string()) {
        return problem(Kind::kWrongType, fmt::format("give one of {}, in quotes", choices));
      }
      if (std::find(q.choices.begin(), q.choices.end(), v.get<std::string>()) == q.choices.end()) {
        return problem(Kind::kBadChoice, fmt::format("'{}' is not a choice; give one of {}",
                                                     v.get<std::string>(), choices));
      }
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace

std::vector<EnrolmentProblem> CheckServiceAnswers(const Service& service, const json& answers) {
  std::vector<EnrolmentProblem> out;
  if (!answers.is_object()) {
    out.push_back({Kind::kWrongType, service.id, "",
                   fmt::format("service '{}' ({}): the details must be an object of answers, "
                               "one field per question",
                               service.id, service.name)});
    return out;
  }
  for (const auto& q : service.questions) {
    auto it = answers.find(q.id);
    if (it == answers.end() || it->is_null()) {
      if (!q.required) {
        if (it != answers.end()) {
          out.push_back({Kind::kWrongType, service.id, q.id,
                         fmt::format("service '{}' ({}), question '{}' ({}): null is no answer; "
                                     "leave the field out to give none",
                                     service.id, service.name, q.id, q.label)});
        }
        continue;
      }
      out.push_back({Kind::kMissingAnswer, service.id, q.id,
                     fmt::format("service '{}' ({}), question '{}' ({}): the answer is "
                                 "required; give {}",
                                 service.id, service.name, q.id, q.label, TypeText(q.type))});
      continue;
    }
    if (auto p = CheckAnswer(service, q, *it)) out.push_back(std::move(*p));
  }
  for (const auto& [field, value] : answers.items()) {
    bool asked = false;
    for (const auto& q : service.questions) asked = asked || q.id == field;
    if (asked) continue;
    std::vector<std::string> ids;
    for (const auto& q : service.questions) ids.push_back(q.id);
    out.push_back({Kind::kUnknownField, service.id, field,
                   fmt::format("service '{}' ({}) asks no question '{}'; remove it (its "
                               "questions: {})",
                               service.id, service.name, field,
                               ids.empty() ? "none" : fmt::format("{}", fmt::join(ids, ", ")))});
  }
  return out;
}

std::vector<EnrolmentProblem> CheckServiceChoice(const TenantServices* catalogue,
                                                 const std::string& tenant, const json& services,
                                                 const std::string& site) {
  if (catalogue == nullptr) {
    return {{Kind::kNoCatalogue, "", "",
             fmt::format("tenant '{}' offers no on-demand services online; its catalogue "
                         "would be domain/services/{}.json",
                         tenant, tenant)}};
  }
  std::vector<EnrolmentProblem> out;
  for (const auto& s : services) {
    const std::string id = s.is_string() ? s.get<std::string>() : s.dump();
    const Service* service = catalogue->Find(id);
    if (service == nullptr) {
      out.push_back({Kind::kUnknownService, id, "",
                     fmt::format("service '{}' is not offered by {}; choose among {} (GET "
                                 "/v1/services lists them)",
                                 id, tenant, Offered(*catalogue))});
      continue;
    }
    if (std::find(service->sites.begin(), service->sites.end(), site) == service->sites.end()) {
      out.push_back(
          {Kind::kSiteNotOffered, id, "site",
           fmt::format("service '{}' ({}) is not given at site '{}'; choose one of its sites "
                       "({}), or apply separately for services given at different sites",
                       id, service->name, site, fmt::join(service->sites, ", "))});
    }
  }
  return out;
}

std::vector<EnrolmentProblem> CheckEnrolmentDetails(const TenantServices* catalogue,
                                                    const std::string& tenant, const json& chosen,
                                                    const json& details) {
  if (catalogue == nullptr) return CheckServiceChoice(nullptr, tenant, chosen, "");
  std::vector<EnrolmentProblem> out;
  const json given = details.is_object() ? details : json::object();
  for (const auto& s : chosen) {
    const std::string id = s.get<std::string>();
    if (!given.contains(id)) {
      out.push_back({Kind::kDetailsMissing, id, "",
                     fmt::format("details for service '{}' are missing; give one entry per "
                                 "service chosen in step 1",
                                 id)});
      continue;
    }
    const Service* service = catalogue->Find(id);
    if (service == nullptr) {
      // Chosen when the catalogue still had it; the Comune has withdrawn it since.
      out.push_back({Kind::kUnknownService, id, "",
                     fmt::format("service '{}' is no longer offered by {}; start a new "
                                 "enrolment choosing among {}",
                                 id, tenant, Offered(*catalogue))});
      continue;
    }
    for (auto& p : CheckServiceAnswers(*service, given[id])) out.push_back(std::move(p));
  }
  for (const auto& [k, v] : given.items()) {
    if (std::find(chosen.begin(), chosen.end(), json(k)) == chosen.end()) {
      out.push_back({Kind::kServiceNotChosen, k, "",
                     fmt::format("details given for '{}', which was not chosen in step 1; "
                                 "remove them",
                                 k)});
    }
  }
  return out;
}

std::string JoinProblems(const std::vector<EnrolmentProblem>& problems) {
  std::string out;
  for (const auto& p : problems) out += (out.empty() ? "" : "\n") + p.message;
  return out;
}

}  // namespace procedo::domain
