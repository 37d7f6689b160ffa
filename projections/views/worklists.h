// Worklists: per tenant and role, the streams waiting for someone's action, oldest first.
#pragma once

#include <string>
#include <vector>

#include "engine/views/projection.h"
#include "engine/workflow/workflow.h"
#include "projections/views/rows.h"

namespace procedo::projections {

struct WorklistDef {
  std::string name;
  std::string kind;                // stream kind
  std::string state;               // the workflow state that puts a stream on the list
  std::vector<std::string> roles;  // who may read it (admins always may)
  // The list belongs to the tenant named by this field (the Region for forwarded applications),
  // or to the stream's own tenant when empty.
  std::string owner_field;
  std::string description;
};
const std::vector<WorklistDef>& Worklists();
const WorklistDef* FindWorklist(const std::string& name);

class WorklistsProjection final : public Projection {
 public:
  static constexpr const char* kName = "worklists";
  explicit WorklistsProjection(const WorkflowSet& workflows) : workflows_(workflows) {}
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // <tenant> 0x00 <worklist> 0x00 <since: µs, 20 digits> 0x00 <stream>  ->  item JSON.
  static std::string ListPrefix(const std::string& tenant, const std::string& worklist) {
    return Key({tenant, worklist, ""});
  }

 private:
  const WorkflowSet& workflows_;
};

}  // namespace procedo::projections
