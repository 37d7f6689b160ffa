#include "projections/views/calendar_set.h"

#include <fmt/format.h>

#include "domain/closures.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

std::string ClosuresKey(const std::string& tenant, const std::string& id) {
  return Key(
      {"\x01"
       "closures",
       tenant, id});
}

Result<std::vector<Closure>> LoadClosures(ViewWriter& rows, const std::string& tenant,
                                          const std::string& id) {
  std::vector<Closure> out;
  auto row = GetJson(rows, ClosuresKey(tenant, id));
  if (!row.ok()) return row.status();
  if (!row->has_value()) return out;
  for (const auto& c : **row) {
    json data = c;
    if (Status s = domain::FoldClosureEvent(&out, domain::kClosureAnnounced, data); !s.ok()) {
      return s;
    }
  }
  return out;
}

}  // namespace

Status CalendarSet::Observe(const ParsedEvent& pe, ViewWriter& rows) {
  if (pe.event.position <= last_position_) cache_.clear();
  last_position_ = pe.event.position;
  const std::string& type = pe.event.type;
  if (type != domain::kClosureAnnounced && type != domain::kClosureCancelled) return Status::Ok();
  std::string tenant = pe.data.value("tenant", "");
  std::string id = pe.data.value("calendar", "");
  auto closures = LoadClosures(rows, tenant, id);
  if (!closures.ok()) return closures.status();
  if (Status s = domain::FoldClosureEvent(&*closures, type, pe.data); !s.ok()) {
    // The log is the fact: a closure the fold cannot read closes nothing (as domain/closures does
    // for a cancellation of an unknown id), rather than stopping every view behind it.
    return Status::Ok();
  }
  json stored = json::array();
  for (const auto& c : *closures) {
    stored.push_back(domain::ClosureEventData(id, tenant, c));
  }
  PutJson(rows, ClosuresKey(tenant, id), stored);
  auto it = cache_.find({id, tenant});
  if (it != cache_.end()) return domain::ApplyClosures(it->second.get(), *closures);
  return Status::Ok();
}

Result<const BusinessCalendar*> CalendarSet::Get(const std::string& id, const std::string& tenant,
                                                 ViewWriter& rows) {
  auto it = cache_.find({id, tenant});
  if (it != cache_.end()) return it->second.get();
  // A tenant without calendar data (a Region, a test tenant) still gets national holidays.
  auto built = catalog_.Build(id, catalog_.FindTenant(tenant) ? tenant : "");
  if (!built.ok()) return built.status();
  auto cal = std::make_unique<BusinessCalendar>(std::move(built).value());
  auto closures = LoadClosures(rows, tenant, id);
  if (!closures.ok()) return closures.status();
  if (Status s = domain::ApplyClosures(cal.get(), *closures); !s.ok()) return s;
  const BusinessCalendar* out = cal.get();
  cache_.emplace(std::make_pair(id, tenant), std::move(cal));
  return out;
}


}  // namespace procedo::projections

namespace procedo::projections {
Result<std::string> LocalMonth(const BusinessCalendar& calendar, TimePoint t) {
  auto d = calendar.LocalDate(t);
  if (!d.ok()) return d.status();
  return fmt::format("{:04}-{:02}", static_cast<int>(d->year()), static_cast<unsigned>(d->month()));
}
}  // namespace procedo::projections
