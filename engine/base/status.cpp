#include "engine/base/status.h"

namespace procedo {

const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk:
      return "ok";
    case Status::Code::kInvalidArgument:
      return "invalid argument";
    case Status::Code::kConflict:
      return "conflict";
    case Status::Code::kNotFound:
      return "not found";
    case Status::Code::kTooLarge:
      return "too large";
    case Status::Code::kIoError:
      return "I/O error";
    case Status::Code::kCorruption:
      return "corruption";
    case Status::Code::kShutdown:
      return "shutting down";
    case Status::Code::kPermissionDenied:
      return "permission denied";
    case Status::Code::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

const char* SubCodeName(Status::SubCode sub) {
  switch (sub) {
    case Status::SubCode::kNone:
      return "none";
    case Status::SubCode::kVersionMismatch:
      return "version-mismatch";
    case Status::SubCode::kStreamExists:
      return "stream-exists";
    case Status::SubCode::kStreamMissing:
      return "stream-missing";
    case Status::SubCode::kIdempotencyKeyReused:
      return "idempotency-key-reused";
    case Status::SubCode::kSchemaViolation:
      return "schema-violation";
    case Status::SubCode::kUnknownStreamKind:
      return "unknown-stream-kind";
    case Status::SubCode::kWrongTenant:
      return "wrong-tenant";
    case Status::SubCode::kNoCapacity:
      return "no-capacity";
    case Status::SubCode::kReferenceMissing:
      return "reference-missing";
    case Status::SubCode::kAlreadyPresent:
      return "already-present";
    case Status::SubCode::kDefinitionBug:
      return "definition-bug";
    case Status::SubCode::kNotOwner:
      return "not-owner";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace procedo
