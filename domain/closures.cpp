#include "domain/closures.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

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

Result<std::optional<ClosureRefusal>> JudgeClosure(const BusinessCalendar& calendar,
                                                   const std::vector<Closure>& existing,
                                                   const Closure& proposed, TimePoint announced_at,
                                                   const ClosurePolicy& policy) {
  using R = ClosureRefusal::Reason;
  auto refuse = [](R reason) {
    return std::optional<ClosureRefusal>(ClosureRefusal{.reason = reason});
  };
  if (proposed.id.empty()) return refuse(R::kNoId);
  if (!proposed.from.ok() || !proposed.to.ok() || proposed.to < proposed.from) {
    return refuse(R::kNotARange);
  }
  if (DayNumber(proposed.to) - DayNumber(proposed.from) > 366) return refuse(R::kLongerThanAYear);
  for (const auto& c : existing) {
    if (c.id == proposed.id) return refuse(R::kIdInUse);
  }
  auto announced = calendar.LocalDate(announced_at);
  if (!announced.ok()) return announced.status();
  const int64_t notice = DayNumber(proposed.from) - DayNumber(*announced);
  if (notice < policy.min_notice_days) {
    ClosureRefusal r{.reason = R::kTooLittleNotice};
    r.announced = *announced;
    r.first_day = proposed.from;
    r.first_possible = DateOf(DayNumber(*announced) + policy.min_notice_days);
    r.notice_days = notice;
    r.min_notice_days = policy.min_notice_days;
    return std::optional<ClosureRefusal>(r);
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
      ClosureRefusal r{.reason = R::kOverBudget};
      r.year = y;
      r.added = added;
      r.already = total - added;
      r.max_per_year = policy.max_business_days_per_year;
      return std::optional<ClosureRefusal>(r);
    }
  }
  return std::optional<ClosureRefusal>();
}

Status CheckClosure(const BusinessCalendar& calendar, const std::vector<Closure>& existing,
                    const Closure& proposed, TimePoint announced_at, const ClosurePolicy& policy) {
  auto judged = JudgeClosure(calendar, existing, proposed, announced_at, policy);
  if (!judged.ok()) return judged.status();
  if (!*judged) return Status::Ok();
  const ClosureRefusal& r = **judged;
  std::string why;
  switch (r.reason) {
    case ClosureRefusal::Reason::kNoId:
      why = "it has no id; give it one";
      break;
    case ClosureRefusal::Reason::kNotARange:
      why = "its dates are not a range; write from <= to as YYYY-MM-DD";
      break;
    case ClosureRefusal::Reason::kLongerThanAYear:
      why = "it is longer than a year";
      break;
    case ClosureRefusal::Reason::kIdInUse:
      why = "the id is already used; cancel that closure first";
      break;
    case ClosureRefusal::Reason::kTooLittleNotice:
      why = fmt::format(
          "announced on {}, {} day(s) before its first day {}; closures must be announced at "
          "least {} days ahead (first possible day: {})",
          FormatDate(r.announced), r.notice_days, FormatDate(r.first_day), r.min_notice_days,
          FormatDate(r.first_possible));
      break;
    case ClosureRefusal::Reason::kOverBudget:
      why = fmt::format(
          "it would close {} business day(s) in {} on top of {} already closed, {} in all; at "
          "most {} business days a year may be closed",
          r.added, r.year, r.already, r.added + r.already, r.max_per_year);
      break;
  }
  return Status::InvalidArgument(fmt::format("closure '{}' refused: {}", proposed.id, why));
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

Command AnnounceClosureCommand(std::string_view calendar_id, std::string_view tenant,
                               const Closure& closure) {
  Command c;
  c.stream = CalendarStream(tenant, calendar_id);
  c.name = "announce_closure";
  c.payload = ClosureEventData(calendar_id, tenant, closure);
  return c;
}

Command CancelClosureCommand(std::string_view calendar_id, std::string_view tenant,
                             std::string_view closure_id) {
  Command c;
  c.stream = CalendarStream(tenant, calendar_id);
  c.name = "cancel_closure";
  c.payload = {{"calendar", calendar_id}, {"tenant", tenant}, {"closure_id", closure_id}};
  return c;
}

namespace {

nlohmann::json ClosuresJson(const std::vector<Closure>& closures) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& c : closures) {
    a.push_back({{"id", c.id},
                 {"from", FormatDate(c.from)},
                 {"to", FormatDate(c.to)},
                 {"reason", c.reason}});
  }
  return a;
}

std::vector<Closure> ClosuresFromJson(const nlohmann::json& a) {
  std::vector<Closure> out;
  if (!a.is_array()) return out;
  for (const auto& c : a) {
    auto from = ParseDate(c.value("from", ""));
    auto to = ParseDate(c.value("to", ""));
    if (from && to) out.push_back({c.value("id", ""), *from, *to, c.value("reason", "")});
  }
  return out;
}

std::string PayloadText(const DecideContext& c, const char* key) {
  auto it = c.command.payload.find(key);
  return it != c.command.payload.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::vector<Closure> ClosuresOf(const WorkflowState& state) {
  auto it = state.derived.find("closures");
  return it == state.derived.end() ? std::vector<Closure>{} : ClosuresFromJson(*it);
}

void RegisterClosureHooks(HookRegistry& hooks, std::shared_ptr<const CalendarCatalog> calendars) {
  hooks.AddReducer(
      "closures", [](nlohmann::json& derived, const std::string& type, const nlohmann::json& data) {
        std::vector<Closure> closures = ClosuresFromJson(derived);
        // A malformed event changes nothing, as in the projections' replay.
        if (FoldClosureEvent(&closures, type, data).ok()) derived = ClosuresJson(closures);
      });
  // The stream id names the tenant and calendar; the payload must name the same ones.
  hooks.AddGuard("calendar_stream_matches",
                 [calendars](const DecideContext& c) -> std::optional<std::string> {
                   const std::string calendar = PayloadText(c, "calendar");
                   const std::string tenant = PayloadText(c, "tenant");
                   if (CalendarStream(tenant, calendar) != c.command.stream) {
                     return fmt::format(
                         "the payload names calendar {} of {}, but the stream is "
                         "{}; send it to {}",
                         calendar, tenant, c.command.stream, CalendarStream(tenant, calendar));
                   }
                   if (calendars->Find(calendar) == nullptr) {
                     return fmt::format("there is no calendar '{}'; the calendars are: {}",
                                        calendar, fmt::join(calendars->Ids(), ", "));
                   }
                   return std::nullopt;
                 });
  hooks.AddGuard(
      "closure_allowed", [calendars](const DecideContext& c) -> std::optional<std::string> {
        auto cal = calendars->Build(PayloadText(c, "calendar"), PayloadText(c, "tenant"));
        if (!cal.ok()) return cal.status().message();
        auto from = ParseDate(PayloadText(c, "from"));
        auto to = ParseDate(PayloadText(c, "to"));
        if (!from || !to) return "from and to must be dates YYYY-MM-DD";
        Closure proposed{PayloadText(c, "closure_id"), *from, *to, PayloadText(c, "reason")};
        Status s = CheckClosure(*cal, ClosuresOf(c.state), proposed, c.now);
        if (s.ok()) return std::nullopt;
        return s.message();
      });
  hooks.AddGuard("closure_exists", [](const DecideContext& c) -> std::optional<std::string> {
    const std::string id = PayloadText(c, "closure_id");
    for (const auto& closure : ClosuresOf(c.state)) {
      if (closure.id == id) return std::nullopt;
    }
    return fmt::format("calendar {} has no closure '{}'", c.command.stream, id);
  });
  // A cancellation carries the dates it frees, so readers of the event need no other.
  hooks.AddEffect("cancelled_closure_dates",
                  [](const DecideContext& c, const std::string&, nlohmann::json& data) {
                    const std::string id = PayloadText(c, "closure_id");
                    for (const auto& closure : ClosuresOf(c.state)) {
                      if (closure.id == id) {
                        data["from"] = FormatDate(closure.from);
                        data["to"] = FormatDate(closure.to);
                        data["reason"] = closure.reason;
                      }
                    }
                  });
}

Status ApplyClosures(BusinessCalendar* calendar, const std::vector<Closure>& closures) {
  calendar->ClearClosures();
  for (const auto& c : closures) {
    if (auto s = calendar->AddClosure(c); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace procedo::domain
