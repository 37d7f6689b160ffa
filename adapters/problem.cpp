#include "adapters/problem.h"

namespace procedo {

nlohmann::json Problem::ToJson() const {
  nlohmann::json p = extra.is_object() ? extra : nlohmann::json::object();
  p["type"] = kProblemTypeBase + type;
  p["title"] = title;
  p["status"] = status;
  p["detail"] = detail;
  return p;
}

Problem Problem::FromStatus(const Status& s) {
  // The key names an earlier request: the state of the server, not the form of this one, is
  // what conflicts with it.
  if (s.Is(Status::SubCode::kIdempotencyKeyReused)) {
    return {409, "idempotency-key-reused", "Idempotency key already used", s.message()};
  }
  // Nothing is wrong with the request: the state of the server (every place taken) refuses it
  // for now, and the same request may succeed once a place frees up.
  if (s.Is(Status::SubCode::kNoCapacity)) {
    return {409, "no-place-free", "No place is free", s.message()};
  }
  // A rule of the procedure refuses it, as a guard would; the detail says what to name instead.
  if (s.Is(Status::SubCode::kReferenceMissing)) {
    return {422, "reference-missing", "The request names something that does not exist",
            s.message()};
  }
  if (s.Is(Status::SubCode::kAlreadyPresent)) {
    return {422, "already-present", "The request adds what is there already", s.message()};
  }
  switch (s.code()) {
    case Status::Code::kInvalidArgument:
      return {400, "invalid-request", "The request is not valid", s.message()};
    case Status::Code::kConflict: {
      nlohmann::json extra = nlohmann::json::object();
      extra["actual_version"] =
          s.actual_version() ? nlohmann::json(*s.actual_version()) : nlohmann::json(nullptr);
      return {409, "version-conflict", "The stream moved on", s.message(), extra};
    }
    case Status::Code::kNotFound:
      return {404, "not-found", "Not found", s.message()};
    case Status::Code::kTooLarge:
      return {413, "too-large", "Too large", s.message()};
    case Status::Code::kPermissionDenied:
      return {403, "forbidden", "Not allowed", s.message()};
    case Status::Code::kShutdown:
    case Status::Code::kUnavailable:
      return {503, "unavailable", "Try again later", s.message()};
    default:
      return {500, "internal", "Internal error", s.message()};
  }
}

Problem Problem::Unauthenticated(std::string detail) {
  return {401, "unauthenticated", "Authentication required", std::move(detail)};
}

}  // namespace procedo
