#include "adapters/http/view_query.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "projections/reactors/erasure.h"

namespace procedo::http {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

bool ParseU64(const std::string& s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

// What the log accepts as a tenant (engine/log/envelope.cpp): nothing else names one.
bool IsTenantId(const std::string& t) {
  if (t.empty() || t.size() > 64) return false;
  return std::all_of(t.begin(), t.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

// Bounds the work of one page when a filter matches few rows: the page ends early with a cursor.
constexpr size_t kScanBudget = 20'000;

}  // namespace

std::string EncodeCursor(const std::string& key) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : key) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> DecodeCursor(const std::string& text) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const char* p = std::strchr(kAlphabet, c);
    if (c == '\0' || p == nullptr) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(p - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

Response BadParameter(const std::string& name, const std::string& want) {
  return Response::Problem(400, "invalid-parameter", "Invalid query parameter",
                           fmt::format("'{}' must be {}", name, want), {{"parameter", name}});
}

Response NotAllowed(const std::string& detail) {
  return Response::Problem(403, "forbidden", "Not allowed", detail);
}

bool WaitForViews(Api& api, const Request& req, Response* out) {
  // Both may be given (the query wins); neither may be malformed.
  std::optional<uint64_t> target;
  for (const auto& [name, text] : {std::pair{"X-Min-Position", req.Header("x-min-position")},
                                   std::pair{"min_position", req.Query("min_position")}}) {
    if (!text) continue;
    uint64_t n = 0;
    if (!ParseU64(*text, &n)) {
      *out = BadParameter(name, "a log position (the `position` a command answered with)");
      return false;
    }
    target = n;
  }
  if (!target) return true;
  // No command answered with a position the log has not reached: past its end, the views are
  // as new as they can be once they have applied the whole log (waiting longer could only end
  // in views-behind, and no retry would help).
  target = std::min(*target, api.log.LastPosition());
  if (api.runner == nullptr) {
    *out = Response::Problem(503, "views-unavailable", "The views are not available",
                             "this server runs no projections");
    return false;
  }
  // The views show sealed values opened with the keys as they are: until the erasures up to the
  // target are carried out, they could still show what an erasure before it destroys.
  std::string behind;
  uint64_t reached = 0;
  if (!api.runner->WaitFor(*target, api.max_wait)) {
    behind = "the views have applied the log";
    reached = api.runner->position();
  } else if (api.erasure != nullptr && !api.erasure->WaitFor(*target, api.max_wait)) {
    behind = "the erasures of personal data are carried out";
    reached = api.erasure->Progress().position;
  } else {
    return true;
  }
  *out = Response::Problem(
      503, "views-behind", "The views are behind",
      fmt::format("{} up to position {}, not yet {}, after waiting {} ms; retry shortly", behind,
                  reached, *target, api.max_wait.count()),
      {{"views_position", reached}, {"min_position", *target}});
  out->headers.emplace_back("Retry-After", "1");
  return false;
}

bool TenantFor(const Request& req, const Principal& who, bool required, std::string* tenant,
               Response* out) {
  auto asked = req.Query("tenant");
  // An empty value is a parameter not given, as a client building the query from a template
  // sends it.
  if (asked && asked->empty()) asked.reset();
  if (asked && !IsTenantId(*asked)) {
    *out = BadParameter("tenant", "a tenant id: 1 to 64 printable ASCII characters, no spaces");
    return false;
  }
  auto read = domain::TenantToRead(who, asked, required);
  if (read.ok()) {
    *tenant = std::move(read).value();
    return true;
  }
  *out = read.status().IsInvalidArgument()
             ? BadParameter("tenant", "the tenant to read (admins read any tenant, one at a time)")
             : NotAllowed(read.status().message());
  return false;
}

bool ParsePage(const Request& req, const std::string& prefix, PageRequest* page, Response* out) {
  if (auto l = req.Query("limit")) {
    uint64_t n = 0;
    if (!ParseU64(*l, &n) || n == 0 || n > 500) {
      *out = BadParameter("limit", "a number between 1 and 500");
      return false;
    }
    page->limit = n;
  }
  if (auto c = req.Query("cursor"); c && !c->empty()) {
    auto key = DecodeCursor(*c);
    if (!key) {
      *out = BadParameter("cursor", "the next_cursor of a previous page of the same query");
      return false;
    }
    // A cursor is a place in the list's order: one from elsewhere starts the page at the
    // beginning (before this list) or gives an empty page (after it), never another list's rows.
    if (key->starts_with(prefix)) {
      page->after = *key;
    } else if (*key > prefix) {
      page->after = prefix;
      page->after.append(8, '\xff');
    }
  }
  return true;
}

Result<Page> ScanPage(const ViewStore& views, const std::string& projection,
                      const std::string& prefix, const PageRequest& page,
                      const std::function<bool(nlohmann::json&)>& keep) {
  Page out;
  std::string after = page.after;
  std::string last_kept;
  size_t scanned = 0;
  for (;;) {
    auto rows = views.Scan(projection, prefix, after, 256);
    if (!rows.ok()) return rows.status();
    for (auto& row : *rows) {
      after = row.key;
      ++scanned;
      auto item = nlohmann::json::parse(row.value, nullptr, false);
      if (item.is_discarded() || !keep(item)) continue;
      if (out.items.size() == page.limit) {
        out.next_cursor = EncodeCursor(last_kept);
        return out;
      }
      out.items.push_back(std::move(item));
      last_kept = row.key;
    }
    if (rows->size() < 256) return out;
    if (scanned >= kScanBudget) {
      // A sparse filter: hand back what was found and where to go on from.
      out.next_cursor = EncodeCursor(after);
      return out;
    }
  }
}

nlohmann::json PageBody(Page page, nlohmann::json body) {
  body["items"] = std::move(page.items);
  if (page.next_cursor) body["next_cursor"] = *page.next_cursor;
  return body;
}

}  // namespace procedo::http
