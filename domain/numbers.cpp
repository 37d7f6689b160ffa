#include "domain/numbers.h"

#include <fmt/format.h>
#include <openssl/rand.h>

#include <cctype>
#include <chrono>

#include "domain/citizen.h"
#include "engine/calendar/calendar_zone.h"

namespace procedo::domain {
namespace {

using nlohmann::json;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Digit(char c) {
  return c >= '0' && c <= '9';
}

// The local year of `now` in `zone`: a ticket opened at 00:30 on 1 January in Rome is of the new
// year although UTC still says 31 December.
Result<int> LocalYear(TimePoint now, const std::string& zone) {
  auto table = ZoneTable::Get(zone);
  if (!table.ok()) return table.status();
  const int64_t utc = now.time_since_epoch().count();
  const int64_t local = utc + int64_t{(*table)->OffsetAt(utc)} * 1'000'000;
  const auto day = std::chrono::floor<std::chrono::days>(TimePoint(Micros(local)));
  return static_cast<int>(std::chrono::year_month_day(day).year());
}

Allocator NumberAllocator(std::string series, std::shared_ptr<const CalendarCatalog> tenants) {
  return [series = std::move(series), tenants](
             const StreamVersionOf& version_of, const DecideContext& c, const std::string&,
             json& data, std::vector<AllocatedEvent>* also) -> Status {
    // A stream keeps the number it was given first (an event emitted again on the same stream).
    if (auto it = c.state.fields.find("number"); it != c.state.fields.end() && it->is_string()) {
      data["number"] = *it;
      return Status::Ok();
    }
    const std::string tenant = c.state.exists() ? c.state.tenant : c.actor.tenant;
    const TenantCalendarInfo* info = tenants ? tenants->FindTenant(tenant) : nullptr;
    auto year = LocalYear(c.now, info != nullptr ? info->time_zone : kDefaultTimeZone);
    if (!year.ok()) return year.status();
    const std::string counter = CounterStream(tenant, series, *year);
    auto version = version_of(counter);
    if (!version.ok()) return version.status();
    IssuedNumber number{series, *year, *version + 1};
    data["number"] = number.Text();
    also->push_back({counter, *version, "number.assigned",
                     json{{"claimed_by", c.state.stream}, {"number", number.Text()}}});
    return Status::Ok();
  };
}

}  // namespace

std::string IssuedNumber::Text() const {
  return fmt::format("{}-{:04}-{:06}", series, year, n);
}

std::string CounterStream(std::string_view tenant, std::string_view series, int year) {
  return fmt::format("number-{}-{}-{:04}", tenant, Lower(series), year);
}

// SERIES-YYYY-NNNNNN(NNNNNN) at `at`, not inside a longer word; sets `end` past it.
static std::optional<IssuedNumber> MatchAt(std::string_view text, size_t at,
                                           std::string_view series, size_t* end) {
  if (text.substr(at, series.size()) != series) return std::nullopt;
  if (at > 0 && std::isalnum(static_cast<unsigned char>(text[at - 1]))) return std::nullopt;
  size_t p = at + series.size();
  if (p >= text.size() || text[p] != '-') return std::nullopt;
  const size_t y = ++p;
  while (p < text.size() && Digit(text[p]) && p - y < 5) ++p;
  if (p - y != 4 || p >= text.size() || text[p] != '-') return std::nullopt;
  const size_t n = ++p;
  while (p < text.size() && Digit(text[p]) && p - n < 13) ++p;
  if (p - n < 6 || p - n > 12) return std::nullopt;
  if (p < text.size() && std::isalnum(static_cast<unsigned char>(text[p]))) return std::nullopt;
  IssuedNumber out;
  out.series = std::string(series);
  out.year = std::stoi(std::string(text.substr(y, 4)));
  out.n = std::stoull(std::string(text.substr(n, p - n)));
  *end = p;
  return out;
}

std::optional<IssuedNumber> FindNumber(std::string_view text, std::string_view series) {
  if (series.empty()) return std::nullopt;
  for (size_t at = text.find(series); at != std::string_view::npos;
       at = text.find(series, at + 1)) {
    size_t end = 0;
    if (auto found = MatchAt(text, at, series, &end); found && found->n > 0) return found;
  }
  return std::nullopt;
}

std::optional<IssuedNumber> ParseNumber(std::string_view text, std::string_view series) {
  size_t end = 0;
  auto found = MatchAt(text, 0, series, &end);
  if (!found || end != text.size()) return std::nullopt;
  return found;
}

Result<std::string> StreamOfNumber(const LogStore& log, std::string_view tenant,
                                   const IssuedNumber& number) {
  const std::string counter = CounterStream(tenant, number.series, number.year);
  if (number.n == 0) {
    return Status::NotFound(fmt::format("no {} in {}; numbers start at 1", number.Text(), tenant));
  }
  auto events = log.ReadStream(counter, number.n, Direction::kForward, 1);
  if (!events.ok()) return events.status();
  if (events->empty() || events->front().version != number.n) {
    return Status::NotFound(fmt::format("no {} in {}; check the number", number.Text(), tenant));
  }
  json data = json::parse(events->front().data, nullptr, false);
  if (!data.is_object() || !data.contains("claimed_by") || !data["claimed_by"].is_string()) {
    return Status::Corruption(
        fmt::format("{} at version {} has no claimed_by; run procedo verify", counter, number.n));
  }
  return data["claimed_by"].get<std::string>();
}

std::string NewStreamId(std::string_view kind, std::string_view tenant,
                        std::string_view idempotency_key) {
  std::string suffix;
  if (!idempotency_key.empty()) {
    suffix = ToHex(Sha256(fmt::format("{}|{}|{}", kind, tenant, idempotency_key))).substr(0, 24);
  } else {
    unsigned char bytes[12];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
      // Without the system's randomness the derived form still gives a fresh id per instant.
      auto now = std::chrono::system_clock::now().time_since_epoch().count();
      return NewStreamId(kind, tenant, fmt::format("clock-{}", now));
    }
    suffix = ToHex(std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
  }
  return fmt::format("{}-{}-{}", kind, tenant, suffix);
}

void RegisterNumberHooks(HookRegistry& hooks, std::shared_ptr<const CalendarCatalog> tenants) {
  hooks.AddAllocator("ticket_number", NumberAllocator(std::string(kTicketSeries), tenants));
  hooks.AddAllocator("case_number", NumberAllocator(std::string(kCaseSeries), tenants));
  hooks.AddAllocator("household_number", NumberAllocator(std::string(kHouseholdSeries), tenants));
}

}  // namespace procedo::domain
