// Seed 003's rankings (graduatorie), for the Ente: per service and site the applications in the
// order their score puts them (the catalogue's criteria, the sequence number last), each with
// its outcome; the first one waiting is the next to admit when a place frees up.
#pragma once

#include <string>

#include "engine/views/projection.h"
#include "projections/views/rows.h"

namespace procedo::projections {

class RankingsProjection final : public Projection {
 public:
  static constexpr const char* kName = "rankings";
  std::string name() const override { return kName; }
  Status Apply(const Event& event, ViewWriter& rows) override;

  // "r" 0x00 <tenant> 0x00 <service> 0x00 <site> 0x00 <rank key, each part Pad20> 0x00
  // <enrolment>  ->  {enrolment, service, site, score, rank_key, outcome, reason, account,
  // ranked_at, updated_at}: the ranking in order.
  static std::string RankingPrefix(const std::string& tenant, const std::string& service,
                                   const std::string& site) {
    return Key({"r", tenant, service, site, ""});
  }
  // "n" 0x00 <tenant> 0x00 <service> 0x00 <site>  ->  {ranked, admitted, waiting, rejected,
  // withdrawn}: how many applications have each outcome now.
  static std::string CountsKey(const std::string& tenant, const std::string& service,
                               const std::string& site) {
    return Key({"n", tenant, service, site});
  }
};

}  // namespace procedo::projections
