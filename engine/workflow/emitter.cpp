#include "engine/workflow/emitter.h"

#include <fmt/format.h>

namespace procedo {

Status EventEmitter::CheckAndSeal(const std::string& stream, const std::string& tenant,
                                  DecidedEvent& e, std::optional<Uuid>& id) {
  id = e.sealed_for;
  // Checked and sealed by an earlier attempt: the sealed values no longer match the schema's
  // patterns, and keep the event id they were sealed for.
  if (id) return Status::Ok();
  if (Status s = schemas_.Check(e.type, e.data); !s.ok()) {
    return Status::InvalidArgument(
        fmt::format("{} on {} was not appended: {}", e.type, stream, s.message()),
        Status::SubCode::kSchemaViolation);
  }
  if (personal_ == nullptr) return Status::Ok();
  const std::vector<PersonalSite>* sites = schemas_.Personal(e.type);
  std::optional<Uuid> fresh;
  if (sites != nullptr) {
    fresh = e.sealed_ahead_for ? *e.sealed_ahead_for : ids_.Next();
    PutSealed(e.sealed_ahead, e.data);
    // The values as given go: a decided event may stay cached after its append (the handler
    // folds from it), and it must hold what the log holds, nothing an erasure cannot reach.
    std::vector<SealedValue>().swap(e.sealed_ahead);
    // What was not sealed ahead (a value an allocator wrote or changed since) is sealed here.
    if (Status s = SealPersonal(*sites, *personal_, tenant, UuidToString(*fresh), e.data);
        !s.ok()) {
      return s;
    }
  }
  e.sealed_for = fresh;
  id = fresh;
  return Status::Ok();
}

Status EventEmitter::PrepareSubjects(const std::string& tenant, std::vector<DecidedEvent>& events) {
  if (personal_ == nullptr) return Status::Ok();
  for (auto& e : events) {
    const std::vector<PersonalSite>* sites = schemas_.Personal(e.type);
    if (sites == nullptr || e.sealed_for) continue;
    if (Status s = procedo::PrepareSubjects(*sites, *personal_, tenant, e.data, &e.side_rows);
        !s.ok()) {
      return s;
    }
    // The cipher's work too, so that an allocating append's lock covers copies alone.
    const Uuid id = ids_.Next();
    e.sealed_ahead.clear();
    if (Status s =
            SealPersonal(*sites, *personal_, tenant, UuidToString(id), e.data, &e.sealed_ahead);
        !s.ok()) {
      return s;
    }
    e.sealed_ahead_for = id;
  }
  return Status::Ok();
}

Result<AppendRequest> EventEmitter::Build(const EmitHeader& h, std::vector<DecidedEvent>& events,
                                          const std::vector<AllocatedEvent>& also) {
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
  auto stamp = [&h](const std::string& type, const nlohmann::json& data,
                    std::optional<Uuid> id = std::nullopt) {
    return NewEvent{type, data.dump(), h.tenant, h.actor, h.correlation_id, h.causation_id, id};
  };
  for (auto& e : events) {
    std::optional<Uuid> id;
    if (Status s = CheckAndSeal(h.stream, h.tenant, e, id); !s.ok()) return s;
    req.events.push_back(stamp(e.type, e.data, id));
    req.side_rows.insert(req.side_rows.end(), e.side_rows.begin(), e.side_rows.end());
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

Result<AppendResult> EventEmitter::Emit(const EmitHeader& header, std::vector<DecidedEvent>& events,
                                        const std::vector<AllocatedEvent>& also) {
  auto req = Build(header, events, also);
  if (!req.ok()) return req.status();
  return log_.Append(std::move(req).value());
}

void EventEmitter::EmitAsync(const EmitHeader& header, std::vector<DecidedEvent>& events,
                             std::function<void(Result<AppendResult>)> done) {
  auto req = Build(header, events);
  if (!req.ok()) {
    done(req.status());
    return;
  }
  log_.AppendAsync(std::move(req).value(), std::move(done));
}

}  // namespace procedo
