#include "engine/status.h"

namespace procedo {

const char* CodeName(Status::Code code) {
  switch (code) {
    case Status::Code::kOk: return "ok";
    case Status::Code::kInvalidArgument: return "invalid argument";
    case Status::Code::kConflict: return "conflict";
    case Status::Code::kNotFound: return "not found";
    case Status::Code::kTooLarge: return "too large";
    case Status::Code::kIoError: return "I/O error";
    case Status::Code::kCorruption: return "corruption";
    case Status::Code::kShutdown: return "shutting down";
    case Status::Code::kPermissionDenied: return "permission denied";
    case Status::Code::kUnavailable: return "unavailable";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(CodeName(code_)) + ": " + message_;
}

}  // namespace procedo
