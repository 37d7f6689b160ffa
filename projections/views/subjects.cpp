#include "projections/views/subjects.h"

#include <map>

#include "engine/crypto/personal.h"

namespace procedo::projections {

using nlohmann::json;

Status SubjectsProjection::Apply(const Event& event, ViewWriter& rows) {
  json base = {{"stream", event.stream},
               {"type", event.type},
               {"position", event.position},
               {"version", event.version},
               {"recorded_at", FormatTime(event.time)}};
  if (event.type == "subject.erased") {
    auto p = Parse(event);
    if (!p.ok()) return p.status();
    const json& d = p->data;
    const std::string subject = d.value("subject", "");
    if (subject.empty()) return Status::Ok();
    base["erasure"] = {{"groups", d.value("groups", json::array())},
                       {"reason", d.value("reason", "")}};
    PutJson(rows, Key({"s", event.tenant, subject, Pad20(event.position)}), base);
    return Status::Ok();
  }
  // Most events hold no personal value: one scan of the text says so without parsing it.
  if (!crypto::MayHoldPersonal(event.data)) return Status::Ok();
  auto p = Parse(event);
  if (!p.ok()) return p.status();
  std::map<std::string, json> by_subject;
  for (const auto& v : crypto::PersonalValuesIn(p->data)) {
    json& fields = by_subject[v.subject];
    if (fields.is_null()) fields = json::array();
    fields.push_back({{"path", v.path}, {"group", v.group}});
  }
  for (auto& [subject, fields] : by_subject) {
    json row = base;
    row["fields"] = std::move(fields);
    PutJson(rows, Key({"s", event.tenant, subject, Pad20(event.position)}), row);
  }
  return Status::Ok();
}

}  // namespace procedo::projections
