#include "engine/workflow/workflow.h"

#include <fmt/format.h>

#include <charconv>

#include "engine/log/log_store.h"

namespace procedo {

nlohmann::json WorkflowState::ToJson() const {
  return {{"stream", stream},
          {"version", version},
          {"status", status},
          {"tenant", tenant},
          {"fields", fields},
          {"derived", derived}};
}

WorkflowState WorkflowState::FromJson(const nlohmann::json& j) {
  WorkflowState s;
  s.stream = j.at("stream").get<std::string>();
  s.version = j.at("version").get<uint64_t>();
  s.status = j.at("status").get<std::string>();
  s.tenant = j.at("tenant").get<std::string>();
  s.fields = j.at("fields");
  if (auto d = j.find("derived"); d != j.end()) s.derived = *d;
  return s;
}

Result<SlaTarget> ParseSlaTarget(const std::string& text) {
  SlaTarget t;
  t.text = text;
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::string unit = text.substr(digits);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + digits, t.amount);
  if (digits == 0 || ec != std::errc() || t.amount == 0) {
    return Status::InvalidArgument(fmt::format("SLA target '{}' has no positive amount", text));
  }
  if (unit == "m") {
    t.unit = SlaTarget::Unit::kBusinessMinutes;
  } else if (unit == "h") {
    t.unit = SlaTarget::Unit::kBusinessHours;
  } else if (unit == "bd") {
    t.unit = SlaTarget::Unit::kBusinessDays;
  } else if (unit == "cd") {
    t.unit = SlaTarget::Unit::kCalendarDays;
  } else {
    return Status::InvalidArgument(
        fmt::format("SLA target '{}' has an unknown unit '{}'", text, unit));
  }
  return t;
}

Status WorkflowSet::Add(WorkflowDefinition def) {
  if (by_id_.count(def.id)) {
    return Status::InvalidArgument(
        fmt::format("{}: workflow id '{}' is already used by {}; give each workflow its own id",
                    def.file, def.id, by_id_[def.id]->file));
  }
  if (by_kind_.count(def.stream_kind)) {
    return Status::InvalidArgument(fmt::format(
        "{} at /stream_kind: stream kind '{}' is already used by {}; each workflow needs its own",
        def.file, def.stream_kind, by_kind_[def.stream_kind]->file));
  }
  auto p = std::make_shared<const WorkflowDefinition>(std::move(def));
  by_id_[p->id] = p;
  by_kind_[p->stream_kind] = p;
  return Status::Ok();
}

const WorkflowDefinition* WorkflowSet::ById(const std::string& id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.get();
}

const WorkflowDefinition* WorkflowSet::ForStream(const std::string& stream) const {
  auto it = by_kind_.find(StreamKind(stream));
  return it == by_kind_.end() ? nullptr : it->second.get();
}

}  // namespace procedo
