// Where each data subject's personal data stands in the log, for an access request (GDPR art.
// 15: "everything you hold about me"): per tenant and subject, every event that holds a personal
// value of theirs, with the paths and groups, and the erasures recorded for them. Keyed by the
// random subject id only; no personal value is copied here.
#pragma once

#include <string>

#include "engine/views/projection.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class SubjectsProjection final : public Projection {
 public:
  static constexpr const char* kName = "subjects";
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // "s" 0x00 <tenant> 0x00 <subject> 0x00 <position, 20 digits>  ->  {stream, type, position,
  // version, recorded_at, fields: [{path, group}]} (an erasure: its groups and reason instead).
  static std::string SubjectPrefix(const std::string& tenant, const std::string& subject) {
    return Key({"s", tenant, subject, ""});
  }
};

}  // namespace procedo::projections
