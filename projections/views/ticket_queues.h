// Help-desk ticket queues (seed 004): the open tickets of a tenant by level, technician, priority
// and channel, with a count per value.
#pragma once

#include <string>

#include "engine/views/projection.h"
#include "engine/workflow/workflow.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class TicketQueuesProjection final : public Projection {
 public:
  static constexpr const char* kName = "ticket_queues";
  explicit TicketQueuesProjection(const WorkflowSet& workflows) : workflows_(workflows) {}
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // <tenant> 0x00 <dimension> 0x00 <value> 0x00 <opened: µs> 0x00 <stream>  ->  ticket JSON, for
  // dimension level, technician, priority, channel; and dimension "all" whose value is the
  // priority's rank (0 urgent .. 3 low), so the whole queue reads most urgent, then oldest, first.
  static std::string QueuePrefix(const std::string& tenant, const std::string& dimension,
                                 const std::string& value) {
    return Key({tenant, dimension, value, ""});
  }
  // 0x01 "n" 0x00 <tenant> 0x00 <dimension> 0x00 <value>  ->  open tickets with that value.
  static std::string CountPrefix(const std::string& tenant) { return Key({"\x01n", tenant, ""}); }
  static const char* const kDimensions[4];
  static std::string PriorityRank(const std::string& priority);
  // Whether a ticket in `state` still waits for the help desk: whatever the workflow puts between
  // opening and resolution (waiting for the user, ...) is open.
  static bool Open(const std::string& state);

 private:
  const WorkflowSet& workflows_;
};

}  // namespace procedo::projections
