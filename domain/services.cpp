#include "domain/services.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "domain/tenant_files.h"
#include "engine/workflow/json_schema.h"

namespace procedo::domain {
namespace {

using nlohmann::json;

ServiceQuestion::Type TypeOf(const std::string& t) {
  if (t == "integer") return ServiceQuestion::Type::kInteger;
  if (t == "date") return ServiceQuestion::Type::kDate;
  if (t == "boolean") return ServiceQuestion::Type::kBoolean;
  if (t == "choice") return ServiceQuestion::Type::kChoice;
  return ServiceQuestion::Type::kText;
}

// What the schema cannot say about one tenant's file, appended to `errors`.
class FileChecker {
 public:
  FileChecker(const std::string& file, std::string* errors) : file_(file), errors_(errors) {}

  void Error(const std::string& path, const std::string& what) {
    *errors_ += fmt::format("\n  - {} at {}: {}", file_, path, what);
  }

  // school_year.<key> as a month and day; 29 February would move the school year's bounds.
  std::optional<std::chrono::month_day> DayOfEveryYear(const json& school_year, const char* key,
                                                       const char* example) {
    if (!school_year.contains(key)) return std::nullopt;
    const std::string text = school_year[key].get<std::string>();
    const std::chrono::month_day md{
        std::chrono::month{static_cast<unsigned>(std::stoi(text.substr(0, 2)))},
        std::chrono::day{static_cast<unsigned>(std::stoi(text.substr(3, 2)))}};
    if (!md.ok() || md == std::chrono::month_day{std::chrono::February, std::chrono::day{29}}) {
      Error(fmt::format("/school_year/{}", key),
            fmt::format("'{}' is not a day of every year; give it as MM-DD ({})", text, example));
      return std::nullopt;
    }
    return md;
  }

  TenantServices Parse(const json& j, const std::string& tenant) {
    TenantServices out;
    out.tenant = tenant;
    out.version = j["version"].get<uint32_t>();
    out.sites = j["sites"];
    out.source = j;
    if (j.contains("school_year")) {
      const json& sy = j["school_year"];
      if (auto md = DayOfEveryYear(sy, "starts", "09-01: 1 September")) {
        out.school_year_starts = *md;
      }
      if (auto md = DayOfEveryYear(sy, "ends", "06-30: 30 June")) out.school_year_ends = *md;
      if (out.school_year_ends == out.school_year_starts) {
        Error("/school_year/ends",
              "the school year cannot end on the day it starts; give the last day of its "
              "activities, before the summer break");
      }
    }
    std::set<std::string> site_ids;
    for (size_t i = 0; i < j["sites"].size(); ++i) {
      const std::string id = j["sites"][i]["id"].get<std::string>();
      if (!site_ids.insert(id).second) {
        Error(fmt::format("/sites/{}/id", i),
              fmt::format("site id '{}' is already used; give each site its own id", id));
      }
    }
    std::set<std::string> service_ids;
    for (size_t i = 0; i < j["services"].size(); ++i) {
      const json& s = j["services"][i];
      const std::string at = fmt::format("/services/{}", i);
      Service service;
      service.id = s["id"].get<std::string>();
      service.name = s["name"].get<std::string>();
      service.source = s;
      if (!service_ids.insert(service.id).second) {
        Error(at + "/id", fmt::format("service id '{}' is already used; give each service its "
                                      "own id",
                                      service.id));
      }
      std::set<std::string> mine;
      for (size_t k = 0; k < s["sites"].size(); ++k) {
        const std::string site = s["sites"][k].get<std::string>();
        if (!site_ids.count(site)) {
          Error(fmt::format("{}/sites/{}", at, k),
                fmt::format("unknown site '{}'; add it to /sites or use one of its ids", site));
        } else if (!mine.insert(site).second) {
          Error(fmt::format("{}/sites/{}", at, k),
                fmt::format("site '{}' is listed twice; list it once", site));
        }
        service.sites.push_back(site);
      }
      service.prepaid = s["regime"].get<std::string>() == "prepaid";
      service.tariffs = CheckTariffs(s["tariffs"], at + "/tariffs");
      service.ranking = ParseRanking(s["ranking"], service, at + "/ranking");
      if (s.contains("low_credit_threshold_cents")) {
        if (!service.prepaid) {
          Error(at + "/low_credit_threshold_cents",
                "only a prepaid service has a low-credit threshold; remove it or make the "
                "regime \"prepaid\"");
        }
        service.low_credit_threshold_cents = s["low_credit_threshold_cents"].get<int64_t>();
      }
      if (s.contains("application_fee_cents")) {
        service.application_fee_cents = s["application_fee_cents"].get<int64_t>();
      }
      service.questions = ParseQuestions(s["questions"], at + "/questions");
      out.services.push_back(std::move(service));
    }
    return out;
  }

 private:
  ServiceRanking ParseRanking(const json& r, const Service& service, const std::string& at) {
    ServiceRanking out;
    for (const auto& c : r["criteria"]) out.criteria.push_back(c.get<std::string>());
    const bool by_isee =
        std::find(out.criteria.begin(), out.criteria.end(), "isee_band") != out.criteria.end();
    if (out.criteria.back() != "sequence") {
      Error(at + "/criteria",
            "the order of presentation breaks every tie, so \"sequence\" must be the last "
            "criterion; add it at the end");
    }
    for (const auto& b : r.value("isee_bands_up_to_cents", json::array())) {
      const int64_t band = b.get<int64_t>();
      if (!out.isee_bands.empty() && band <= out.isee_bands.back()) {
        Error(at + "/isee_bands_up_to_cents",
              fmt::format("ISEE bands must rise: {} does not exceed {}; list them lowest first",
                          band, out.isee_bands.back()));
      }
      out.isee_bands.push_back(band);
    }
    if (by_isee && out.isee_bands.empty()) {
      Error(at, "the criterion isee_band needs \"isee_bands_up_to_cents\"; add the bands");
    }
    out.automatic_waiting_list = r.value("waiting_list", "automatic") == "automatic";
    for (const auto& [site, n] : r["places"].items()) {
      if (std::find(service.sites.begin(), service.sites.end(), site) == service.sites.end()) {
        Error(at + "/places/" + site,
              fmt::format("'{}' is not a site of service '{}'; give places only for its sites",
                          site, service.id));
      }
      out.places[site] = n.get<int64_t>();
    }
    for (const auto& site : service.sites) {
      if (!out.places.count(site)) {
        Error(at + "/places",
              fmt::format("site '{}' of service '{}' has no number of places; add \"{}\": <n>",
                          site, service.id, site));
      }
    }
    return out;
  }

  std::vector<ServiceTariff> CheckTariffs(const json& tariffs, const std::string& at) {
    std::vector<ServiceTariff> parsed;
    std::set<std::string> ids;
    for (size_t i = 0; i < tariffs.size(); ++i) {
      const json& t = tariffs[i];
      const std::string here = fmt::format("{}/{}", at, i);
      const std::string id = t["id"].get<std::string>();
      if (!ids.insert(id).second) {
        Error(here + "/id",
              fmt::format("tariff id '{}' is already used in this service; give each tariff "
                          "its own id",
                          id));
      }
      const bool per_period = t["per"].get<std::string>() == "period";
      if (per_period && !t.contains("period")) {
        Error(here, "a tariff per period needs \"period\": \"month\" or \"school_year\"; add it");
      }
      if (!per_period && t.contains("period")) {
        Error(here + "/period",
              "a tariff per use has no billing period; remove \"period\" or make it "
              "\"per\": \"period\"");
      }
      const int64_t full = t["amount_cents"].get<int64_t>();
      int64_t prev_band = -1, prev_amount = -1;
      const json reductions = t.value("reductions", json::array());
      for (size_t k = 0; k < reductions.size(); ++k) {
        const std::string r = fmt::format("{}/reductions/{}", here, k);
        const int64_t band = reductions[k]["isee_up_to_cents"].get<int64_t>();
        const int64_t amount = reductions[k]["amount_cents"].get<int64_t>();
        if (band <= prev_band) {
          Error(r + "/isee_up_to_cents",
                fmt::format("ISEE bands must rise: {} does not exceed the band before ({}); "
                            "list the bands from the lowest ISEE up",
                            band, prev_band));
        }
        if (amount >= full) {
          Error(r + "/amount_cents",
                fmt::format("a reduction of {} cents is not below the full amount of {} cents; "
                            "lower it or remove the band",
                            amount, full));
        }
        if (amount < prev_amount) {
          Error(r + "/amount_cents",
                fmt::format("a higher ISEE band would pay less ({} cents) than the band before "
                            "({} cents); order the amounts with the bands",
                            amount, prev_amount));
        }
        prev_band = band;
        prev_amount = amount;
      }
      ServiceTariff tariff;
      tariff.id = id;
      tariff.per_use = !per_period;
      tariff.period = t.value("period", "");
      tariff.amount_cents = full;
      for (const auto& r : reductions) {
        tariff.reductions.emplace_back(r["isee_up_to_cents"].get<int64_t>(),
                                       r["amount_cents"].get<int64_t>());
      }
      parsed.push_back(std::move(tariff));
    }
    return parsed;
  }

  std::vector<ServiceQuestion> ParseQuestions(const json& questions, const std::string& at) {
    std::vector<ServiceQuestion> out;
    std::set<std::string> ids;
    for (size_t i = 0; i < questions.size(); ++i) {
      const json& q = questions[i];
      const std::string here = fmt::format("{}/{}", at, i);
      ServiceQuestion question;
      question.id = q["id"].get<std::string>();
      question.label = q["label"].get<std::string>();
      question.type = TypeOf(q["type"].get<std::string>());
      question.required = q["required"].get<bool>();
      if (!ids.insert(question.id).second) {
        Error(here + "/id", fmt::format("question id '{}' is already used in this service; give "
                                        "each question its own id",
                                        question.id));
      }
      const bool choice = question.type == ServiceQuestion::Type::kChoice;
      if (choice && !q.contains("choices")) {
        Error(here, "a choice question needs \"choices\" (at least two); add them");
      }
      if (!choice && q.contains("choices")) {
        Error(here + "/choices",
              "only a question of type \"choice\" has choices; remove them or change the type");
      }
      std::set<std::string> values;
      for (size_t k = 0; choice && k < q.value("choices", json::array()).size(); ++k) {
        const std::string v = q["choices"][k]["value"].get<std::string>();
        if (!values.insert(v).second) {
          Error(fmt::format("{}/choices/{}/value", here, k),
                fmt::format("choice '{}' is listed twice; give each choice its own value", v));
        }
        question.choices.push_back(v);
      }
      const bool integer = question.type == ServiceQuestion::Type::kInteger;
      for (const char* bound : {"min", "max"}) {
        if (!q.contains(bound)) continue;
        if (!integer) {
          Error(fmt::format("{}/{}", here, bound),
                fmt::format("only an integer question has \"{}\"; remove it", bound));
          continue;
        }
        (std::string(bound) == "min" ? question.min : question.max) = q[bound].get<int64_t>();
      }
      if (question.min && question.max && *question.min > *question.max) {
        Error(here + "/min",
              fmt::format("min {} is above max {}; swap them", *question.min, *question.max));
      }
      out.push_back(std::move(question));
    }
    return out;
  }

  const std::string& file_;
  std::string* errors_;
};

}  // namespace

int64_t ServiceTariff::AmountFor(std::optional<int64_t> isee_cents) const {
  if (!isee_cents) return amount_cents;
  for (const auto& [up_to, amount] : reductions) {
    if (*isee_cents <= up_to) return amount;
  }
  return amount_cents;
}

const ServiceTariff* Service::FindTariff(const std::string& id) const {
  for (const auto& t : tariffs) {
    if (t.id == id) return &t;
  }
  return nullptr;
}

const Service* TenantServices::Find(const std::string& id) const {
  for (const auto& s : services) {
    if (s.id == id) return &s;
  }
  return nullptr;
}

Result<ServiceCatalogue> ServiceCatalogue::LoadDir(const std::string& dir,
                                                   const std::string& schema_path,
                                                   const std::set<std::string>& tenants) {
  ServiceCatalogue out;
  Status s = ForEachTenantFile(dir, schema_path, tenants, "services catalogue",
                               [&out](const std::string& file, const std::string& tenant,
                                      const json& doc, std::string* errors) {
                                 FileChecker check(file, errors);
                                 out.tenants_.emplace(tenant, check.Parse(doc, tenant));
                               });
  if (!s.ok()) return s;
  return out;
}

const TenantServices* ServiceCatalogue::ForTenant(const std::string& tenant) const {
  auto it = tenants_.find(tenant);
  return it == tenants_.end() ? nullptr : &it->second;
}

bool IsCatalogueId(std::string_view id) {
  if (id.empty() || id.size() > 40 || id[0] < 'a' || id[0] > 'z') return false;
  for (char c : id) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace procedo::domain
