// Errors on expected paths are values, as in RocksDB: a Status says what went wrong and what to
// do about it; Result<T> carries either a value or a non-ok Status. Callers branch on the code
// and the sub-code, never on the message, which is for people.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace procedo {

class [[nodiscard]] Status {
 public:
  enum class Code : uint8_t {
    kOk = 0,
    kInvalidArgument,  // the caller's input is wrong; retrying the same input fails again
    kConflict,         // optimistic concurrency: the stream moved on
    kNotFound,
    kTooLarge,    // a size limit was exceeded
    kIoError,     // the storage failed; the operation did not happen
    kCorruption,  // stored bytes do not decode or do not verify
    kShutdown,    // the component is closing and takes no more work
    kPermissionDenied,
    kUnavailable,  // a dependency is down; retrying later may succeed
  };
  // What exactly went wrong, where callers act differently on it.
  enum class SubCode : uint8_t {
    kNone = 0,
    // kConflict
    kVersionMismatch,  // the stream is at another version than the one expected
    kStreamExists,     // the append expected no stream, and there is one
    kStreamMissing,    // the append expected an existing stream, and there is none
    // kInvalidArgument
    kIdempotencyKeyReused,  // the key was used for a different request
    kSchemaViolation,       // an event's data fails its type's schema
    kUnknownStreamKind,     // no workflow handles the stream's kind
    kWrongTenant,           // the stream id names another tenant than the actor's
    kNoCapacity,            // what the command takes is used up (every place taken) for now
    kReferenceMissing,      // it names what another stream should hold, and that stream does not
    kAlreadyPresent,        // it adds what the stream holds already (a member declared twice)
    // kCorruption
    kDefinitionBug,  // a definition or hook produced an event its schema refuses
    // kUnavailable
    kNotOwner,  // another process took the log over: this one appends nothing more
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg, SubCode sub = SubCode::kNone) {
    return {Code::kInvalidArgument, std::move(msg), sub};
  }
  // `stream`: the stream whose version did not match (an append may touch several).
  static Status Conflict(std::string msg, std::optional<uint64_t> actual_version,
                         SubCode sub = SubCode::kVersionMismatch, std::string stream = {}) {
    Status s{Code::kConflict, std::move(msg), sub};
    s.actual_version_ = actual_version;
    s.stream_ = std::move(stream);
    return s;
  }
  static Status NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
  static Status TooLarge(std::string msg) { return {Code::kTooLarge, std::move(msg)}; }
  static Status IoError(std::string msg) { return {Code::kIoError, std::move(msg)}; }
  static Status Corruption(std::string msg, SubCode sub = SubCode::kNone) {
    return {Code::kCorruption, std::move(msg), sub};
  }
  static Status Shutdown(std::string msg) { return {Code::kShutdown, std::move(msg)}; }
  static Status PermissionDenied(std::string msg) {
    return {Code::kPermissionDenied, std::move(msg)};
  }
  static Status Unavailable(std::string msg, SubCode sub = SubCode::kNone) {
    return {Code::kUnavailable, std::move(msg), sub};
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  SubCode subcode() const { return subcode_; }
  const std::string& message() const { return message_; }
  // For a conflict: the stream's actual version (nullopt when the stream does not exist), and
  // which stream it was.
  std::optional<uint64_t> actual_version() const { return actual_version_; }
  const std::string& conflict_stream() const { return stream_; }

  bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
  bool IsConflict() const { return code_ == Code::kConflict; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }
  bool IsTooLarge() const { return code_ == Code::kTooLarge; }
  bool IsCorruption() const { return code_ == Code::kCorruption; }
  bool IsShutdown() const { return code_ == Code::kShutdown; }
  bool IsUnavailable() const { return code_ == Code::kUnavailable; }
  bool Is(SubCode sub) const { return subcode_ == sub; }

  std::string ToString() const;

 private:
  Status(Code code, std::string msg, SubCode sub = SubCode::kNone)
      : code_(code), subcode_(sub), message_(std::move(msg)) {}

  Code code_ = Code::kOk;
  SubCode subcode_ = SubCode::kNone;
  std::string message_;
  std::optional<uint64_t> actual_version_;
  std::string stream_;
};

const char* CodeName(Status::Code code);
const char* SubCodeName(Status::SubCode sub);

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "a Result holding a Status must hold an error");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace procedo
