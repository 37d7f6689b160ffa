#include "projections/views/applications.h"

#include <map>

namespace procedo::projections {
namespace {

using nlohmann::json;

// Where an application's row is, kept for the events after its start.
std::string WhereKey(const std::string& enrolment) {
  return std::string(1, kInternal) + Key({"w", enrolment});
}

const std::map<std::string, std::string>& Outcomes() {
  static const std::map<std::string, std::string> kOutcomes = {
      {"enrolment.ranked", "ranked"},       {"enrolment.admitted", "admitted"},
      {"enrolment.waitlisted", "waiting"},  {"enrolment.rejected", "rejected"},
      {"enrolment.withdrawn", "withdrawn"},
  };
  return kOutcomes;
}

}  // namespace

Status ApplicationsProjection::Apply(const Event& event, ViewWriter& rows) {
  if (StreamKind(event.stream) != "enrolment") return Status::Ok();
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  const json& d = pe->data;
  std::string key;
  json row;
  if (event.type == "enrolment.started") {
    // Only what a citizen started on line is theirs to follow; paper applications entered by
    // an operator belong to no one's portal.
    if (pe->actor_role != "citizen" || d.value("channel", "") != "online") return Status::Ok();
    key = RequesterPrefix(event.tenant, pe->actor_id) + event.stream;
    row = {{"stream", event.stream},
           {"tenant", event.tenant},
           {"requester", pe->actor_id},
           {"state", "draft"},
           {"services", d.value("services", json::array())},
           {"site", d.value("site", "")},
           {"beneficiary_name", d.value("beneficiary", json::object()).value("name", "")},
           {"started_at", FormatTime(event.time)},
           {"outcomes", json::object()}};
    PutJson(rows, WhereKey(event.stream), key);
  } else {
    auto where = GetJson(rows, WhereKey(event.stream));
    if (!where.ok()) return where.status();
    if (!where->has_value()) return Status::Ok();
    key = (*where)->get<std::string>();
    auto current = GetJson(rows, key);
    if (!current.ok()) return current.status();
    if (!current->has_value()) return Status::Ok();
    row = std::move(**current);
    if (event.type == "enrolment.details_completed") {
      row["state"] = "details_completed";
    } else if (event.type == "enrolment.submitted") {
      row["state"] = "submitted";
      row["submitted_at"] = d.value("submitted_at", FormatTime(event.time));
      row["sequence_numbers"] = d.value("sequence_numbers", json::object());
    } else if (auto o = Outcomes().find(event.type); o != Outcomes().end()) {
      json& out = row["outcomes"][d.value("service", "")];
      out = {{"outcome", o->second}, {"at", FormatTime(event.time)}};
      for (const char* k : {"reason", "account"}) {
        if (d.contains(k)) out[k] = d[k];
      }
    }
  }
  row["version"] = event.version;
  PutJson(rows, key, row);
  return Status::Ok();
}

}  // namespace procedo::projections
