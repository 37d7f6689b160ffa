#include "engine/workflow/emitter.h"

#include <fmt/format.h>

namespace procedo {

Result<AppendRequest> EventEmitter::Build(const EmitHeader& h,
                                          const std::vector<DecidedEvent>& events,
                                          const std::vector<AllocatedEvent>& also) const {
  auto check = [this](const std::string& stream, const std::string& type,
                      const nlohmann::json& data) -> Status {
    Status s = schemas_.Check(type, data);
    if (s.ok()) return s;
    return Status::InvalidArgument(
        fmt::format("{} on {} was not appended: {}", type, stream, s.message()),
        Status::SubCode::kSchemaViolation);
  };
  AppendRequest req;
  req.stream = h.stream;
  req.expected = h.expected;
  req.idempotency_key = h.idempotency_key;
  req.events.reserve(events.size());
  auto stamp = [&h](const std::string& type, const nlohmann::json& data) {
    return NewEvent{type, data.dump(), h.tenant, h.actor, h.correlation_id, h.causation_id, {}};
  };
  for (const auto& e : events) {
    if (Status s = check(h.stream, e.type, e.data); !s.ok()) return s;
    req.events.push_back(stamp(e.type, e.data));
  }
  for (const auto& a : also) {
    if (Status s = check(a.stream, a.type, a.data); !s.ok()) return s;
    StreamAppend* into = nullptr;
    for (auto& existing : req.also) {
      if (existing.stream == a.stream) into = &existing;
    }
    if (into == nullptr) {
      req.also.push_back({a.stream,
                          a.expected_version == 0 ? ExpectedVersion::NoStream()
                                                  : ExpectedVersion::Exact(a.expected_version),
                          {}});
      into = &req.also.back();
    }
    into->events.push_back(stamp(a.type, a.data));
  }
  return req;
}

Result<AppendResult> EventEmitter::Emit(const EmitHeader& header,
                                        const std::vector<DecidedEvent>& events,
                                        const std::vector<AllocatedEvent>& also) {
  auto req = Build(header, events, also);
  if (!req.ok()) return req.status();
  return log_.Append(std::move(req).value());
}

void EventEmitter::EmitAsync(const EmitHeader& header, const std::vector<DecidedEvent>& events,
                             std::function<void(Result<AppendResult>)> done) {
  auto req = Build(header, events);
  if (!req.ok()) {
    done(req.status());
    return;
  }
  log_.AppendAsync(std::move(req).value(), std::move(done));
}

}  // namespace procedo
