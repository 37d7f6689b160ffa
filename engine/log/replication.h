// A copy of the log kept outside this process, written before an append is acknowledged, so that
// another process can take the log over with nothing acknowledged lost (a cluster's changelog;
// the transport is the adapters'). The log calls it on its writer thread with each group of
// appends, after positions and hashes are assigned and before its own write: what the copy holds
// is exactly what the log then holds, and nothing is answered before both.
#pragma once

#include <string>
#include <vector>

#include "engine/base/status.h"
#include "engine/log/event.h"

namespace procedo {

class Replicator {
 public:
  virtual ~Replicator() = default;
  // A group's events in position order, and each as the log stores it (`stored[i]` is
  // `events[i]` encoded, its hash included). Ok: the copy holds all of them durably.
  // IoError: whether the copy holds them is unknown; the log appends nothing more (a restart
  // catches up from the copy). Unavailable with SubCode::kNotOwner: another process took the
  // log over; this one appends nothing more. Any other error (Unavailable: the copy is out of
  // reach for now; TooLarge): the copy holds none of them, the group is refused, and the log goes
  // on.
  virtual Status Replicate(const std::vector<std::shared_ptr<const Event>>& events,
                           const std::vector<std::string>& stored) = 0;
};

}  // namespace procedo
