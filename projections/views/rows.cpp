#include "projections/views/rows.h"

#include <fmt/format.h>

namespace procedo::projections {

using nlohmann::json;

std::string Key(std::initializer_list<std::string_view> parts) {
  std::string out;
  bool first = true;
  for (auto p : parts) {
    if (!first) out.push_back(kSep);
    out.append(p);
    first = false;
  }
  return out;
}

std::string Pad20(uint64_t v) {
  return fmt::format("{:020}", v);
}

std::string TimeKey(TimePoint t) {
  int64_t us = t.time_since_epoch().count();
  return Pad20(us < 0 ? 0 : static_cast<uint64_t>(us));
}

std::string StreamKind(std::string_view stream) {
  auto dash = stream.find('-');
  return std::string(stream.substr(0, dash == std::string_view::npos ? stream.size() : dash));
}

namespace {

struct Parsed {
  std::shared_ptr<const json> data;
  std::string actor_id, actor_role;
};

Result<Parsed> ParseFresh(const Event& e) {
  auto data = std::make_shared<const json>(json::parse(e.data, nullptr, false));
  if (!data->is_object()) {
    return Status::Corruption(
        fmt::format("event at position {} has data that is not a JSON "
                    "object; run `procedo verify`",
                    e.position));
  }
  json actor = json::parse(e.actor.empty() ? "{}" : e.actor, nullptr, false);
  if (!actor.is_object()) {
    return Status::Corruption(
        fmt::format("event at position {} has an actor that is not a JSON "
                    "object; run `procedo verify`",
                    e.position));
  }
  Parsed p{std::move(data), "", ""};
  if (auto id = actor.find("id"); id != actor.end() && id->is_string()) {
    p.actor_id = id->get<std::string>();
  } else if (auto sys = actor.find("system"); sys != actor.end() && sys->is_string()) {
    p.actor_id = "system:" + sys->get<std::string>();
  }
  if (auto role = actor.find("role"); role != actor.end() && role->is_string()) {
    p.actor_role = role->get<std::string>();
  }
  return p;
}

}  // namespace

Result<ParsedEvent> Parse(const Event& e) {
  // The projections of a runner apply one event after another on one thread: the last parse is
  // kept, keyed by the event's hash (which covers its content and place in the chain).
  thread_local Hash last_hash{};
  thread_local uint64_t last_position = 0;
  thread_local Parsed last;
  const bool sealed = e.hash != Hash{};
  if (!sealed || e.hash != last_hash || e.position != last_position || !last.data) {
    auto fresh = ParseFresh(e);
    if (!fresh.ok()) return fresh.status();
    if (!sealed) {
      const json& data = *fresh->data;
      return ParsedEvent{
          e, fresh->data, data, fresh->actor_id, fresh->actor_role, StreamKind(e.stream)};
    }
    last = std::move(fresh).value();
    last_hash = e.hash;
    last_position = e.position;
  }
  return ParsedEvent{
      e, last.data, *last.data, last.actor_id, last.actor_role, StreamKind(e.stream)};
}

Result<std::optional<json>> GetJson(ViewWriter& rows, std::string_view key) {
  return rows.GetJson(key);
}

void PutJson(ViewWriter& rows, std::string_view key, const json& value) {
  rows.PutJson(key, value);
}

namespace {

std::string FactsKey(const std::string& stream) {
  return Key({"\x01s", stream});
}

// Facts rows must stay small: long texts (descriptions, solutions) are for the case view.
constexpr size_t kMaxFactBytes = 200;

}  // namespace

Result<StreamFacts> FoldFacts(const WorkflowSet& workflows, const ParsedEvent& pe,
                              ViewWriter& rows) {
  auto row = GetJson(rows, FactsKey(pe.event.stream));
  if (!row.ok()) return row.status();
  StreamFacts f;
  if (row->has_value()) {
    f.state = (**row).value("state", "");
    f.fields = (**row).value("fields", json::object());
    f.extra = (**row).value("extra", json::object());
  }
  f.previous = f.state;
  if (const WorkflowDefinition* def = workflows.ForStream(pe.event.stream)) {
    auto it = def->event_to_state.find(pe.event.type);
    if (it != def->event_to_state.end() && it->second) f.state = *it->second;
  }
  for (const auto& [k, v] : pe.data.items()) {
    if (v.is_number() || v.is_boolean() ||
        (v.is_string() && v.get_ref<const std::string&>().size() <= kMaxFactBytes)) {
      f.fields[k] = v;
    } else if (v.is_object() && v.contains("name") && v["name"].is_string()) {
      f.fields[k + "_name"] = v["name"];
    }
  }
  return f;
}

Status SaveFacts(const ParsedEvent& pe, const StreamFacts& facts, ViewWriter& rows) {
  PutJson(rows, FactsKey(pe.event.stream),
          json{{"state", facts.state}, {"fields", facts.fields}, {"extra", facts.extra}});
  return Status::Ok();
}

Result<std::optional<std::string>> MemoryRows::Get(std::string_view key) {
  auto it = rows_.find(key);
  if (it == rows_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

std::vector<ViewRow> MemoryRows::Scan(std::string_view prefix) const {
  std::vector<ViewRow> out;
  for (auto it = rows_.lower_bound(prefix); it != rows_.end() && it->first.starts_with(prefix);
       ++it) {
    out.push_back({it->first, it->second});
  }
  return out;
}

}  // namespace procedo::projections
