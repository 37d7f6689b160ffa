// A citizen's applications for on-demand services (seed 003: after applying on line the citizen
// "sees how it goes"), for the portal: per tenant and requester, each application they started
// on line with its state, services, site, beneficiary, sequence numbers once submitted, and each
// service's outcome (ranked, admitted, waiting, rejected, withdrawn) with its account.
#pragma once

#include <string>

#include "engine/views/projection.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class ApplicationsProjection final : public Projection {
 public:
  static constexpr const char* kName = "applications";
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // "q" 0x00 <tenant> 0x00 <requester> 0x00 <enrolment>  ->  {stream, tenant, requester, state,
  // services, site, beneficiary_name, started_at, submitted_at, sequence_numbers, outcomes:
  // {<service>: {outcome, reason, account, at}}, version}.
  static std::string RequesterPrefix(const std::string& tenant, const std::string& requester) {
    return Key({"q", tenant, requester, ""});
  }
};

}  // namespace procedo::projections
