// After submission, per chosen service: ranked, then admitted, waiting or rejected, or withdrawn
// by the citizen. The outcome per service is a reducer's fact, since the events of different
// services of one application must not overwrite each other in the shallow merge.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "domain/accounts.h"
#include "engine/log/event.h"

namespace procedo::domain {
namespace {

using nlohmann::json;

std::string Text(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string OutcomeOf(const WorkflowState& state, const std::string& service) {
  const json& outcomes = state.derived.value("enrolment_outcomes", json::object());
  auto it = outcomes.find(service);
  return it == outcomes.end() ? "" : Text(*it, "outcome");
}

// Which outcomes each command may follow, and what to say otherwise.
struct Step {
  const char* command;
  std::vector<std::string> after;  // "" : not ranked yet
  const char* needs;
};
const std::vector<Step>& Steps() {
  static const std::vector<Step> kSteps = {
      {"rank_for_service", {""}, "not ranked yet (each service is ranked once)"},
      {"admit_to_service", {"ranked", "waiting"}, "ranked or on the waiting list"},
      {"place_on_waiting_list", {"ranked"}, "ranked"},
      {"reject_for_service", {"ranked", "waiting"}, "ranked or on the waiting list"},
      {"withdraw_from_service", {"", "ranked", "waiting", "admitted"}, "not rejected or withdrawn"},
  };
  return kSteps;
}

const Service* ServiceOf(const ServiceCatalogue& services, const WorkflowState& state,
                         const std::string& id) {
  const TenantServices* t = services.ForTenant(state.tenant);
  return t == nullptr ? nullptr : t->Find(id);
}

// A fact the application declared beside the applicant (the ISEE, the residence): as given, or
// its sealed value opened for this decision (personal data sealed); null when undeclared, erased
// or unreadable, which the decisions count as not declared (the full tariff, the last band, not
// resident).
json OpenedFact(const DecideContext& c, const char* name) {
  auto it = c.state.fields.find(name);
  if (it == c.state.fields.end()) return json();
  if (!it->is_string()) return *it;
  if (c.open_personal == nullptr) return json();
  auto plain = (*c.open_personal)(it->get_ref<const std::string&>());
  if (!plain) return json();
  json value = json::parse(*plain, nullptr, false);
  return value.is_discarded() ? json() : value;
}

std::optional<int64_t> IseeOf(const DecideContext& c) {
  const json v = OpenedFact(c, "isee_cents");
  return v.is_number_integer() ? std::optional<int64_t>(v.get<int64_t>()) : std::nullopt;
}

ApplicantFacts FactsOf(const DecideContext& c) {
  const json resident = OpenedFact(c, "resident");
  return {IseeOf(c), resident.is_boolean() && resident.get<bool>()};
}

json FrozenTariffs(const Service& service, std::optional<int64_t> isee) {
  json out = json::array();
  for (const auto& t : service.tariffs) {
    json j = {{"id", t.id},
              {"per", t.per_use ? "use" : "period"},
              {"amount_cents", t.AmountFor(isee)},
              {"full_amount_cents", t.amount_cents}};
    if (!t.period.empty()) j["period"] = t.period;
    for (const auto& src : service.source.value("tariffs", json::array())) {
      if (Text(src, "id") != t.id) continue;
      if (src.contains("unit")) j["unit"] = src["unit"];
      if (src.contains("label")) j["label"] = src["label"];
    }
    out.push_back(std::move(j));
  }
  return out;
}

// account.opened: what the account needs for its whole life, frozen at admission so that a later
// edit of the catalogue never changes a position already open.
json AccountOpened(const Service& service, const DecideContext& c) {
  const json& f = c.state.fields;
  const std::optional<int64_t> isee = IseeOf(c);
  json data = {{"enrolment", c.state.stream},
               {"service", service.id},
               {"service_name", service.name},
               {"site", Text(f, "site")},
               {"regime", service.prepaid ? "prepaid" : "periodic"},
               {"tariffs", FrozenTariffs(service, isee)},
               {"beneficiary_name", Text(f.value("beneficiary", json::object()), "name")},
               {"opened_at", FormatTime(c.now)}};
  // Copied as the application holds it: sealed, it stays the applicant's sealed value.
  if (auto it = f.find("isee_cents");
      it != f.end() && (it->is_number_integer() || it->is_string())) {
    data["isee_cents"] = *it;
  }
  // The citizen who applied online holds the position (domain/access.h reads `holder`).
  if (Text(f, "channel") == "online" && !Text(f, "started_by").empty()) {
    data["holder"] = Text(f, "started_by");
  }
  if (service.low_credit_threshold_cents) {
    data["low_credit_threshold_cents"] = *service.low_credit_threshold_cents;
  }
  // The household member the position belongs to, when the application named one.
  if (auto it = f.find("household"); it != f.end() && it->is_object()) data["household"] = *it;
  if (auto it = f.find("services_version"); it != f.end() && it->is_number_integer()) {
    data["services_version"] = *it;
  }
  return data;
}

}  // namespace

RankingScore ScoreApplication(const Service& service, const json& fields,
                              const ApplicantFacts& facts) {
  const std::optional<int64_t>& isee = facts.isee_cents;
  RankingScore out;
  for (const auto& criterion : service.ranking.criteria) {
    int64_t v = 0;
    if (criterion == "isee_band") {
      const auto& bands = service.ranking.isee_bands;
      v = static_cast<int64_t>(bands.size());
      for (size_t i = 0; isee && i < bands.size(); ++i) {
        if (*isee <= bands[i]) {
          v = static_cast<int64_t>(i);
          break;
        }
      }
    } else if (criterion == "residence") {
      v = facts.resident ? 0 : 1;
    } else if (criterion == "sequence") {
      v = fields.value("sequence_numbers", json::object()).value(service.id, int64_t{0});
    }
    out.components[criterion] = v;
    out.key.push_back(v);
  }
  return out;
}

void RegisterAdmissionHooks(HookRegistry& hooks, std::shared_ptr<const ServiceCatalogue> services) {
  hooks.AddReducer("enrolment_outcomes",
                   [](json& derived, const std::string& type, const json& data) {
                     static const std::map<std::string, std::string> kOutcome = {
                         {"enrolment.ranked", "ranked"},       {"enrolment.admitted", "admitted"},
                         {"enrolment.waitlisted", "waiting"},  {"enrolment.rejected", "rejected"},
                         {"enrolment.withdrawn", "withdrawn"},
                     };
                     auto it = kOutcome.find(type);
                     if (it == kOutcome.end()) return;
                     if (!derived.is_object()) derived = json::object();
                     json& o = derived[Text(data, "service")];
                     if (!o.is_object()) o = json::object();
                     o["outcome"] = it->second;
                     for (const char* k : {"score", "rank_key", "account", "reason", "site"}) {
                       if (data.contains(k)) o[k] = data[k];
                     }
                   });

  hooks.AddGuard(
      "service_outcome_allowed", [](const DecideContext& c) -> std::optional<std::string> {
        const std::string service = c.command.payload.value("service", "");
        const json chosen = c.state.fields.value("services", json::array());
        if (std::find(chosen.begin(), chosen.end(), json(service)) == chosen.end()) {
          return fmt::format("this application did not choose service '{}'; name one of: {}",
                             service, fmt::join(chosen.get<std::vector<std::string>>(), ", "));
        }
        const std::string now = OutcomeOf(c.state, service);
        for (const auto& step : Steps()) {
          if (c.command.name != step.command) continue;
          if (std::find(step.after.begin(), step.after.end(), now) != step.after.end()) {
            return std::nullopt;
          }
          return fmt::format("for service '{}' the application is {}; '{}' needs it {}", service,
                             now.empty() ? "not ranked yet" : "'" + now + "'", c.command.name,
                             step.needs);
        }
        return std::nullopt;
      });

  // The system admits only to move the waiting list up, and says which release let it; a person
  // admits by their own decision, which no release stands in for.
  hooks.AddGuard("moved_up_by_system", [](const DecideContext& c) -> std::optional<std::string> {
    const bool released = c.command.payload.contains("released_by");
    if (!c.actor.system()) {
      if (!released) return std::nullopt;
      return "released_by is recorded by the system when it moves the waiting list up; leave "
             "it out";
    }
    if (!released) return "the system admits only from the waiting list, naming the release";
    const std::string service = c.command.payload.value("service", "");
    if (OutcomeOf(c.state, service) != "waiting") {
      return fmt::format("for service '{}' the application is not on the waiting list", service);
    }
    return std::nullopt;
  });
  hooks.AddEffect("moved_up_from_waiting_list",
                  [](const DecideContext& c, const std::string&, json& data) {
                    if (c.command.payload.contains("released_by")) {
                      data["moved_up_from_waiting_list"] = true;
                    }
                  });

  hooks.AddEffect("ranking_score",
                  [services](const DecideContext& c, const std::string&, json& data) {
                    const Service* service = ServiceOf(*services, c.state, Text(data, "service"));
                    if (service == nullptr)
                      return;  // the event's schema refuses it without a score
                    RankingScore score = ScoreApplication(*service, c.state.fields, FactsOf(c));
                    data["site"] = Text(c.state.fields, "site");
                    data["criteria"] = service->ranking.criteria;
                    data["score"] = std::move(score.components);
                    data["rank_key"] = std::move(score.key);
                  });

  // The site's places are counted on two counters read here: admitted only while fewer are in
  // use than the catalogue gives. The account's first event rides in the same batch.
  hooks.AddAllocator(
      "admission",
      [services](const StreamVersionOf& version_of, const DecideContext& c, const std::string&,
                 json& data, std::vector<AllocatedEvent>* also) -> Status {
        const std::string id = Text(data, "service");
        const Service* service = ServiceOf(*services, c.state, id);
        const std::string site = Text(c.state.fields, "site");
        if (service == nullptr || !service->ranking.places.count(site)) {
          return Status::InvalidArgument(fmt::format(
              "service '{}' at site '{}' is no longer in the services catalogue of {}; restore it "
              "in domain/services/{}.json or reject the application",
              id, site, c.state.tenant, c.state.tenant));
        }
        const int64_t places = service->ranking.places.at(site);
        const std::string taken_counter = PlacesTakenStream(c.state.tenant, id, site);
        auto taken = version_of(taken_counter);
        if (!taken.ok()) return taken.status();
        auto released = version_of(PlacesReleasedStream(c.state.tenant, id, site));
        if (!released.ok()) return released.status();
        const int64_t in_use = static_cast<int64_t>(*taken) - static_cast<int64_t>(*released);
        if (in_use >= places) {
          return Status::InvalidArgument(
              fmt::format("no place is free for service '{}' at site '{}' ({} of {} taken); put "
                          "the application on the waiting list (place_on_waiting_list) and admit "
                          "it when someone withdraws",
                          id, site, in_use, places),
              Status::SubCode::kNoCapacity);
        }
        const std::string account = AccountStream(c.state.stream, id);
        auto account_version = version_of(account);
        if (!account_version.ok()) return account_version.status();
        if (*account_version != 0) {
          return Status::InvalidArgument(fmt::format(
              "{} exists already; this application was admitted to '{}' before", account, id));
        }
        data["site"] = site;
        data["account"] = account;
        data["place"] = in_use + 1;
        data["places"] = places;
        also->push_back({taken_counter, *taken, "place.taken",
                         json{{"claimed_by", c.state.stream}, {"service", id}, {"site", site}}});
        also->push_back({account, 0, "account.opened", AccountOpened(*service, c)});
        return Status::Ok();
      });

  // A withdrawal after admission frees the place (the waiting list can move up) and closes the
  // account, so that no usage is charged to a position that ended.
  hooks.AddAllocator(
      "withdrawal",
      [](const StreamVersionOf& version_of, const DecideContext& c, const std::string&, json& data,
         std::vector<AllocatedEvent>* also) -> Status {
        const std::string id = Text(data, "service");
        data["place_released"] = false;
        if (OutcomeOf(c.state, id) != "admitted") return Status::Ok();
        const std::string site = Text(c.state.fields, "site");
        const std::string counter = PlacesReleasedStream(c.state.tenant, id, site);
        auto released = version_of(counter);
        if (!released.ok()) return released.status();
        const std::string account = AccountStream(c.state.stream, id);
        auto account_version = version_of(account);
        if (!account_version.ok()) return account_version.status();
        data["place_released"] = true;
        also->push_back({counter, *released, "place.released",
                         json{{"released_by", c.state.stream}, {"service", id}, {"site", site}}});
        if (*account_version > 0) {
          also->push_back({account, *account_version, "account.closed",
                           json{{"reason", "withdrawn"}, {"closed_at", FormatTime(c.now)}}});
        }
        return Status::Ok();
      });

  // Accounts open and close only with the enrolment's admission and withdrawal.
  for (const char* name : {"opened_by_admission", "closed_by_withdrawal"}) {
    hooks.AddGuard(name, [](const DecideContext&) -> std::optional<std::string> {
      return "an account is opened by admit_to_service and closed by withdraw_from_service on "
             "its enrolment, never directly; run those instead";
    });
  }
}

std::string AccountStream(std::string_view enrolment_stream, std::string_view service) {
  std::string_view rest = enrolment_stream;
  if (rest.starts_with("enrolment-")) rest.remove_prefix(10);
  return fmt::format("account-{}-{}", rest, service);
}

std::string PlacesTakenStream(std::string_view tenant, std::string_view service,
                              std::string_view site) {
  return fmt::format("places_taken-{}-{}-{}", tenant, service, site);
}

std::string PlacesReleasedStream(std::string_view tenant, std::string_view service,
                                 std::string_view site) {
  return fmt::format("places_released-{}-{}-{}", tenant, service, site);
}

}  // namespace procedo::domain
