// Every projection of the product, built once and handed to the runner, the view store (their
// names are its column families), the HTTP routes and `procedo rebuild`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "domain/calendars.h"
#include "engine/views/projection.h"
#include "engine/workflow/workflow.h"

namespace procedo::projections {

class ProjectionSet {
 public:
  // `workflows` and `calendars` must outlive the set.
  ProjectionSet(const WorkflowSet& workflows, const domain::CalendarCatalog& calendars);
  std::vector<std::string> Names() const;
  std::vector<Projection*> All() const;
  Projection* Find(const std::string& name) const;

 private:
  std::vector<std::unique_ptr<Projection>> all_;
};

}  // namespace procedo::projections
