// The help desk's knowledge base (projections/views/knowledge_base.h): GET /v1/kb?q= searches the
// solutions of the tenant's archived tickets; GET /v1/kb/similar/{ticket} (a ticket number or
// stream) finds the archived tickets most like a ticket being taken in charge.
#include <fmt/format.h>

#include <charconv>

#include "adapters/http/api.h"
#include "adapters/http/view_query.h"
#include "domain/calendars.h"
#include "domain/numbers.h"
#include "projections/views/knowledge_base.h"

namespace procedo::http {

namespace {

using nlohmann::json;
namespace pj = procedo::projections;

constexpr size_t kMaxQueryCharacters = 500;
constexpr size_t kDefaultLimit = 10;
constexpr size_t kMaxLimit = 50;

bool ParseCount(const std::string& s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

bool Blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

// Characters as the OpenAPI document counts them (code points), not bytes.
size_t Characters(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

Response TicketNotFound(const std::string& asked) {
  return Response::Problem(404, "ticket-not-found", "Ticket not found",
                           fmt::format("no ticket {} that you may read; check the number (or the "
                                       "stream id) and the organisation",
                                       asked));
}

// The stream of the ticket asked for when `who` may read it; a ticket of another tenant answers
// exactly as one that does not exist.
bool ResolveTicket(Api& api, const Principal& who, const std::string& tenant,
                   const std::string& asked, std::string* stream, Response* out) {
  if (auto number = domain::ParseNumber(asked, domain::kTicketSeries)) {
    auto found = domain::StreamOfNumber(api.log, tenant, *number);
    if (!found.ok()) {
      *out = found.status().IsNotFound() ? TicketNotFound(asked)
                                         : Response::FromStatus(found.status());
      return false;
    }
    *stream = *found;
  } else if (ValidateStreamId(asked).ok() && asked.starts_with("ticket-")) {
    *stream = asked;
  } else if (asked.starts_with("TCK-")) {
    *out = TicketNotFound(asked);  // shaped like a number, but none was ever issued
    return false;
  } else {
    *out = BadParameter("ticket",
                        "a ticket number (TCK-<year>-<six digits>, e.g. TCK-2026-000123) or a "
                        "ticket's stream id (ticket-...)");
    return false;
  }
  if (!MayRead(api, who, *stream)) {
    *out = TicketNotFound(asked);
    return false;
  }
  return true;
}

json HitJson(const pj::KbHit& h, size_t rank) {
  return {{"rank", rank},
          {"score", h.percent},
          {"number", h.doc.number.empty() ? json(nullptr) : json(h.doc.number)},
          {"stream", h.doc.stream},
          {"subject", h.doc.subject},
          {"category", h.doc.category},
          {"keywords", h.doc.keywords},
          {"solution", h.doc.solution},
          {"snippet", h.snippet},
          {"closed_at", h.doc.closed_at.empty() ? json(nullptr) : json(h.doc.closed_at)},
          {"archived_at", h.doc.archived_at}};
}

// What both routes check first: the caller, the role, the tenant, `limit` and read-your-writes.
bool Prepare(Api& api, Request& req, const Principal* who, std::string* tenant, size_t* limit,
             Response* out) {
  if (!domain::RoleMayRead(*who, {"helpdesk_l1", "helpdesk_l2"})) {
    *out = NotAllowed("the knowledge base is for the help desk (helpdesk_l1, helpdesk_l2)");
    return false;
  }
  if (api.kb == nullptr) {
    *out = Response::Problem(503, "kb-unavailable", "The knowledge base is not available",
                             "this server keeps no knowledge base; it runs with `procedo serve`");
    return false;
  }
  if (!TenantFor(req, *who, true, tenant, out)) return false;
  if (api.calendars != nullptr && api.calendars->FindTenant(*tenant) == nullptr) {
    *out = BadParameter("tenant", "a tenant this server knows (domain/calendars/tenants.json)");
    return false;
  }
  *limit = kDefaultLimit;
  if (auto l = req.Query("limit")) {
    uint64_t n = 0;
    if (!ParseCount(*l, &n) || n == 0 || n > kMaxLimit) {
      *out = BadParameter("limit", fmt::format("a number between 1 and {}", kMaxLimit));
      return false;
    }
    *limit = n;
  }
  if (auto m = req.Query("min_position")) {
    uint64_t target = 0;
    if (!ParseCount(*m, &target)) {
      *out =
          BadParameter("min_position", "a log position (the `position` a command answered with)");
      return false;
    }
    target = std::min(target, api.log.LastPosition());
    if (!api.kb->WaitFor(target, api.max_wait)) {
      *out = Response::Problem(503, "views-behind", "The knowledge base is behind",
                               fmt::format("it has reached position {} of {}; retry shortly",
                                           api.kb->position(), target));
      return false;
    }
  }
  return true;
}

Response Answer(Api& api, const pj::KbQuery& query, json body) {
  auto hits = api.kb->Search(query);
  if (!hits.ok()) return Response::FromStatus(hits.status());
  json results = json::array();
  for (const auto& h : *hits) results.push_back(HitJson(h, results.size() + 1));
  body["results"] = std::move(results);
  return Response::Json(200, body);
}

Response Search(Api& api, Request& req) {
  Principal who;
  Response out;
  if (!RequirePrincipal(api, req, &who, &out)) return out;
  std::string tenant;
  size_t limit = 0;
  if (!Prepare(api, req, &who, &tenant, &limit, &out)) return out;
  auto q = req.Query("q");
  if (!q || Blank(*q) || Characters(*q) > kMaxQueryCharacters) {
    return BadParameter("q", fmt::format("the words to search, 1 to {} characters, not only "
                                         "spaces (e.g. ?q=la stampante non stampa)",
                                         kMaxQueryCharacters));
  }
  return Answer(api,
                pj::KbQuery{.tenant = tenant, .text = *q, .limit = limit, .exclude_stream = ""},
                {{"tenant", tenant}, {"q", *q}});
}

}  // namespace

Response KbSimilarFor(Api& api, const Principal& who, Request& req) {
  Response out;
  std::string tenant;
  size_t limit = 0;
  if (!Prepare(api, req, &who, &tenant, &limit, &out)) return out;
  const std::string asked = req.params["ticket"];
  std::string stream;
  if (!ResolveTicket(api, who, tenant, asked, &stream, &out)) return out;
  auto first = api.log.ReadStream(stream, 1, Direction::kForward, 1);
  if (!first.ok()) return Response::FromStatus(first.status());
  if (first->empty() || first->front().type != "ticket.opened") return TicketNotFound(asked);
  const json opened = json::parse(first->front().data, nullptr, false);
  pj::KbQuery query{.tenant = tenant,
                    .text = pj::SimilarityText(opened),
                    .limit = limit,
                    .exclude_stream = stream};
  return Answer(api, query,
                {{"tenant", tenant},
                 {"ticket", {{"stream", stream}, {"number", opened.value("number", "")}}}});
}

void AddKbRoutes(Router& router, Api& api) {
  router.Add(
      "GET", "/v1/kb", [&api](Request& req) { return Search(api, req); },
      /*blocking=*/true);
  router.Add(
      "GET", "/v1/kb/similar/{ticket}",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        return KbSimilarFor(api, who, req);
      },
      /*blocking=*/true);
}

}  // namespace procedo::http
