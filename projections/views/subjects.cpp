#include "projections/views/subjects.h"

#include <map>

#include "engine/crypto/personal.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

// Each personal value of `node` with the JSON Pointer where it stands in the event: where it was
// sealed, or where the system copied it (from a stream's state into a later event).
void ValuesAt(const json& node, const json::json_pointer& at,
              std::vector<std::pair<std::string, crypto::PersonalValue>>& out) {
  if (node.is_string()) {
    if (auto v = crypto::ParsePersonal(node.get_ref<const std::string&>())) {
      out.emplace_back(at.to_string(), std::move(*v));
    }
  } else if (node.is_object()) {
    for (const auto& [k, child] : node.items()) ValuesAt(child, at / k, out);
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) ValuesAt(node[i], at / i, out);
  }
}

}  // namespace

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
  std::vector<std::pair<std::string, crypto::PersonalValue>> values;
  ValuesAt(p->data, json::json_pointer(), values);
  for (const auto& [at, v] : values) {
    json& fields = by_subject[v.subject];
    if (fields.is_null()) fields = json::array();
    fields.push_back({{"path", at}, {"group", v.group}});
  }
  for (auto& [subject, fields] : by_subject) {
    json row = base;
    row["fields"] = std::move(fields);
    PutJson(rows, Key({"s", event.tenant, subject, Pad20(event.position)}), row);
  }
  return Status::Ok();
}

}  // namespace procedo::projections
