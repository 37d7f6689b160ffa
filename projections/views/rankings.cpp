#include "projections/views/rankings.h"

#include <map>

namespace procedo::projections {

using nlohmann::json;

namespace {

const std::map<std::string, std::string>& Outcomes() {
  static const std::map<std::string, std::string> kOutcome = {
      {"enrolment.ranked", "ranked"},       {"enrolment.admitted", "admitted"},
      {"enrolment.waitlisted", "waiting"},  {"enrolment.rejected", "rejected"},
      {"enrolment.withdrawn", "withdrawn"},
  };
  return kOutcome;
}

// Where the application's row for a service is: written at ranking, read by later outcomes.
std::string PlaceKey(const std::string& enrolment, const std::string& service) {
  return std::string(1, kInternal) + Key({"p", enrolment, service});
}

Status Count(ViewWriter& rows, const std::string& key, const std::string& outcome, int delta) {
  auto row = GetJson(rows, key);
  if (!row.ok()) return row.status();
  json counts = row->value_or(
      json{{"ranked", 0}, {"admitted", 0}, {"waiting", 0}, {"rejected", 0}, {"withdrawn", 0}});
  counts[outcome] = counts.value(outcome, 0) + delta;
  PutJson(rows, key, counts);
  return Status::Ok();
}

}  // namespace

Status RankingsProjection::Apply(const Event& event, ViewWriter& rows) {
  auto outcome = Outcomes().find(event.type);
  if (outcome == Outcomes().end()) return Status::Ok();
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  const json& d = pe->data;
  const std::string service = d.value("service", "");
  const std::string place = PlaceKey(event.stream, service);
  std::string key;
  json row;
  if (event.type == "enrolment.ranked") {
    const std::string site = d.value("site", "");
    key = RankingPrefix(event.tenant, service, site);
    for (const auto& part : d.value("rank_key", json::array())) {
      key += Pad20(part.is_number_integer() ? part.get<uint64_t>() : 0);
      key += kSep;
    }
    key += event.stream;
    row = {{"enrolment", event.stream},
           {"service", service},
           {"site", site},
           {"score", d.value("score", json::object())},
           {"rank_key", d.value("rank_key", json::array())},
           {"ranked_at", FormatTime(event.time)}};
    PutJson(rows, place, key);
  } else {
    auto where = GetJson(rows, place);
    if (!where.ok()) return where.status();
    if (!where->has_value()) return Status::Ok();  // withdrawn before being ranked
    key = (*where)->get<std::string>();
    auto current = GetJson(rows, key);
    if (!current.ok()) return current.status();
    if (!current->has_value()) return Status::Ok();
    row = std::move(**current);
    const std::string counts = CountsKey(event.tenant, service, row.value("site", ""));
    if (Status s = Count(rows, counts, row.value("outcome", "ranked"), -1); !s.ok()) return s;
  }
  row["outcome"] = outcome->second;
  row["updated_at"] = FormatTime(event.time);
  for (const char* k : {"reason", "account"}) {
    if (d.contains(k)) row[k] = d[k];
  }
  PutJson(rows, key, row);
  return Count(rows, CountsKey(event.tenant, service, row.value("site", "")), outcome->second, 1);
}

}  // namespace procedo::projections
