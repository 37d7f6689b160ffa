#include "domain/closures.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "domain/calendars.h"

namespace procedo::domain {
namespace {

using std::chrono::sys_days;
using std::chrono::year_month_day;

int64_t DayNumber(year_month_day d) {
  return sys_days{d}.time_since_epoch().count();
}
year_month_day DateOf(int64_t n) {
  return year_month_day{sys_days{std::chrono::days{n}}};
}

}  // namespace

std::string CalendarStream(std::string_view tenant, std::string_view calendar_id) {
  return fmt::format("calendar-{}-{}", tenant, calendar_id);
}

Status CheckClosure(const BusinessCalendar& calendar, const std::vector<Closure>& existing,
                    const Closure& proposed, TimePoint announced_at, const ClosurePolicy& policy) {
  auto refuse = [&proposed](const std::string& why) {
    return Status::InvalidArgument(fmt::format("closure '{}' refused: {}", proposed.id, why));
  };
  if (proposed.id.empty()) return refuse("it has no id; give it one");
  if (!proposed.from.ok() || !proposed.to.ok() || proposed.to < proposed.from) {
    return refuse("its dates are not a range; write from <= to as YYYY-MM-DD");
  }
  if (DayNumber(proposed.to) - DayNumber(proposed.from) > 366) {
    return refuse("it is longer than a year");
  }
  for (const auto& c : existing) {
    if (c.id == proposed.id) return refuse("the id is already used; cancel that closure first");
  }
  auto announced = calendar.LocalDate(announced_at);
  if (!announced.ok()) return announced.status();
  const int64_t notice = DayNumber(proposed.from) - DayNumber(*announced);
  if (notice < policy.min_notice_days) {
    return refuse(fmt::format(
        "announced on {}, {} day(s) before its first day {}; closures must be announced at least "
        "{} days ahead (first possible day: {})",
        FormatDate(*announced), notice, FormatDate(proposed.from), policy.min_notice_days,
        FormatDate(DateOf(DayNumber(*announced) + policy.min_notice_days))));
  }

  BusinessCalendar base = calendar;
  base.ClearClosures();
  std::map<int, std::set<int64_t>> closed_by_year;  // business days already closed
  std::map<int, int> proposed_by_year;
  // Only the years the proposal touches matter; a day closed twice counts once.
  const int64_t lo = DayNumber(proposed.from.year() / 1 / 1);
  const int64_t hi = DayNumber(proposed.to.year() / 12 / 31);
  for (const auto& c : existing) {
    if (!c.from.ok() || !c.to.ok()) continue;
    for (int64_t d = std::max(DayNumber(c.from), lo); d <= std::min(DayNumber(c.to), hi); ++d) {
      if (base.IsBusinessDay(DateOf(d))) {
        closed_by_year[static_cast<int>(DateOf(d).year())].insert(d);
      }
    }
  }
  for (int64_t d = DayNumber(proposed.from); d <= DayNumber(proposed.to); ++d) {
    const int y = static_cast<int>(DateOf(d).year());
    if (base.IsBusinessDay(DateOf(d)) && closed_by_year[y].insert(d).second) ++proposed_by_year[y];
  }
  for (const auto& [y, added] : proposed_by_year) {
    const int total = static_cast<int>(closed_by_year[y].size());
    if (total > policy.max_business_days_per_year) {
      return refuse(fmt::format(
          "it would close {} business day(s) in {} on top of {} already closed, {} in all; at "
          "most {} business days a year may be closed",
          added, y, total - added, total, policy.max_business_days_per_year));
    }
  }
  return Status::Ok();
}

nlohmann::json ClosureEventData(std::string_view calendar_id, std::string_view tenant,
                                const Closure& closure) {
  return {{"calendar", calendar_id},      {"tenant", tenant},
          {"closure_id", closure.id},     {"from", FormatDate(closure.from)},
          {"to", FormatDate(closure.to)}, {"reason", closure.reason}};
}

Status FoldClosureEvent(std::vector<Closure>* closures, std::string_view type,
                        const nlohmann::json& data) {
  if (type != kClosureAnnounced && type != kClosureCancelled) return Status::Ok();
  auto text = [&data](const char* key) -> std::optional<std::string> {
    auto it = data.find(key);
    if (it == data.end() || !it->is_string()) return std::nullopt;
    return it->get<std::string>();
  };
  auto bad = [type](const std::string& why) {
    return Status::InvalidArgument(fmt::format("{} event: {}", type, why));
  };
  if (!data.is_object()) return bad("data is not a JSON object");
  auto id = text("closure_id");
  if (!id || id->empty()) return bad("closure_id is missing");
  auto same = [&id](const Closure& c) { return c.id == *id; };
  if (type == kClosureCancelled) {
    closures->erase(std::remove_if(closures->begin(), closures->end(), same), closures->end());
    return Status::Ok();
  }
  auto from_text = text("from");
  auto to_text = text("to");
  auto from = from_text ? ParseDate(*from_text) : std::nullopt;
  auto to = to_text ? ParseDate(*to_text) : std::nullopt;
  if (!from || !to || *to < *from) return bad("from and to must be dates YYYY-MM-DD, from <= to");
  closures->erase(std::remove_if(closures->begin(), closures->end(), same), closures->end());
  closures->push_back({*id, *from, *to, text("reason").value_or("")});
  return Status::Ok();
}

Result<StreamClosures> ReadClosures(const LogStore& log, std::string_view calendar_id,
                                    std::string_view tenant) {
  const std::string stream = CalendarStream(tenant, calendar_id);
  StreamClosures out;
  for (;;) {
    auto page = log.ReadStream(stream, out.version + 1, Direction::kForward, 1000);
    if (!page.ok()) return page.status();
    for (const auto& e : *page) {
      // A malformed event changes nothing, as in the projections' replay.
      (void)FoldClosureEvent(&out.closures, e.type, nlohmann::json::parse(e.data, nullptr, false));
      out.version = e.version;
    }
    if (page->size() < 1000) return out;
  }
}

namespace {

Result<AppendResult> AppendClosureEvent(LogStore& log, std::string_view calendar_id,
                                        std::string_view tenant, const char* type,
                                        const Closure& closure, std::string actor,
                                        uint64_t read_version) {
  NewEvent e;
  e.type = type;
  e.data = ClosureEventData(calendar_id, tenant, closure).dump();
  e.tenant = tenant;
  e.actor = std::move(actor);
  return log.Append({CalendarStream(tenant, calendar_id),
                     read_version == 0 ? ExpectedVersion::NoStream()
                                       : ExpectedVersion::Exact(read_version),
                     {std::move(e)},
                     ""});
}

}  // namespace

Result<AppendResult> AnnounceClosure(LogStore& log, const BusinessCalendar& calendar,
                                     std::string_view calendar_id, std::string_view tenant,
                                     const Closure& proposed, std::string actor, TimePoint now) {
  auto current = ReadClosures(log, calendar_id, tenant);
  if (!current.ok()) return current.status();
  if (Status s = CheckClosure(calendar, current->closures, proposed, now); !s.ok()) return s;
  return AppendClosureEvent(log, calendar_id, tenant, kClosureAnnounced, proposed,
                            std::move(actor), current->version);
}

Result<AppendResult> CancelClosure(LogStore& log, std::string_view calendar_id,
                                   std::string_view tenant, std::string_view closure_id,
                                   std::string actor) {
  auto current = ReadClosures(log, calendar_id, tenant);
  if (!current.ok()) return current.status();
  for (const auto& c : current->closures) {
    if (c.id == closure_id) {
      return AppendClosureEvent(log, calendar_id, tenant, kClosureCancelled, c, std::move(actor),
                                current->version);
    }
  }
  return Status::NotFound(fmt::format("calendar {} of {} has no closure '{}'", calendar_id,
                                      tenant, closure_id));
}

Status ApplyClosures(BusinessCalendar* calendar, const std::vector<Closure>& closures) {
  calendar->ClearClosures();
  for (const auto& c : closures) {
    if (auto s = calendar->AddClosure(c); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace procedo::domain
