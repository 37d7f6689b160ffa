// Parts of `procedo serve`'s start that stand on their own: the fault points a test build may
// arm, and personal data (the readers' view of sealed values, the erasures carried out).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "adapters/cli/common.h"
#include "domain/catalogue.h"
#include "engine/views/consumer.h"
#include "engine/views/view_store.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/erasure.h"
#include "projections/reactors/sla_timer.h"

namespace procedo::cli {

std::vector<std::string> SplitList(const std::string& s);

// testing.fault_points: refused in a build without fault points, or naming an unknown fault;
// each armed one is announced.
Status CheckFaultPoints(const Config& cfg);

// With personal data sealed: readers of `views` see personal values opened (or erased), and the
// reactors that carry out erasures and erase at the end of retention are made for the
// supervisor to start, in that order (`erasure` the first, for reads that wait for it). Prints
// which it is. None when personal data is kept as given. `views` must have
// projections::kRetentionView among its column families.
struct PersonalReactors {
  std::vector<std::unique_ptr<Consumer>> all;
  projections::ErasureReactor* erasure = nullptr;
};
PersonalReactors ServePersonalData(const Config& cfg, const PersonalKeys& personal,
                                   ViewStore& views, CommandHandler& commands,
                                   std::shared_ptr<const domain::Catalogue> catalogue,
                                   projections::Waiter& waiter);

}  // namespace procedo::cli
