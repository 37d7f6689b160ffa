// Worklists, ticket queues, the SLA dashboard and the help-desk KPIs (projections/README.md has
// the row layouts these routes scan).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "adapters/http/api.h"
#include "adapters/http/view_query.h"
#include "projections/views/helpdesk_kpis.h"
#include "projections/views/sla_dashboard.h"
#include "projections/views/ticket_queues.h"
#include "projections/views/worklists.h"

namespace procedo::http {

void AddViewListRoutes(Router& router, Api& api);

namespace {

using nlohmann::json;
namespace pj = procedo::projections;

std::string Text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

bool RoleIn(const Principal& who, std::initializer_list<std::string_view> roles) {
  return domain::RoleMayRead(who, roles);
}

Response Unavailable() {
  return Response::Problem(503, "views-unavailable", "The views are not available",
                           "this server runs no projections");
}

// Filters of list queries: `?state=&procedure=&priority=&channel=&level=`, each matched against
// the item's field of that meaning.
struct Filters {
  std::vector<std::pair<std::string, std::string>> want;  // item field, value
  bool Keep(const json& item) const {
    for (const auto& [field, value] : want) {
      auto it = item.find(field);
      if (it == item.end() || Text(*it) != value) return false;
    }
    return true;
  }
};

Filters ListFilters(const Request& req) {
  Filters f;
  for (auto [param, field] : {std::pair{"state", "state"},
                              {"procedure", "procedure_id"},
                              {"priority", "priority"},
                              {"channel", "channel"},
                              {"level", "level"},
                              {"technician", "technician"}}) {
    if (auto v = req.Query(param)) f.want.emplace_back(field, *v);
  }
  return f;
}

bool ValidMonth(const std::string& m) {
  if (m.size() != 7 || m[4] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6}) {
    if (m[i] < '0' || m[i] > '9') return false;
  }
  const int month = (m[5] - '0') * 10 + (m[6] - '0');
  return month >= 1 && month <= 12;
}

}  // namespace

Response WorklistFor(Api& api, const Principal& who, Request& req) {
  Response out;
  if (api.views == nullptr) return Unavailable();
  const std::string& name = req.params["name"];
  const pj::WorklistDef* list = pj::FindWorklist(name);
  if (list == nullptr) {
    std::vector<std::string> names;
    for (const auto& w : pj::Worklists()) names.push_back(w.name);
    return Response::Problem(
        404, "unknown-worklist", "Unknown worklist",
        fmt::format("no worklist '{}'; the worklists are: {}", name, fmt::join(names, ", ")));
  }
  if (!domain::RoleMayRead(who, list->roles)) {
    return NotAllowed(
        fmt::format("worklist {} is for the roles {}", name, fmt::join(list->roles, ", ")));
  }
  std::string tenant;
  if (!TenantFor(req, who, true, &tenant, &out)) return out;
  if (!WaitForViews(api, req, &out)) return out;
  const std::string prefix = pj::WorklistsProjection::ListPrefix(tenant, name);
  PageRequest page;
  if (!ParsePage(req, prefix, &page, &out)) return out;
  Filters filters = ListFilters(req);
  auto result = ScanPage(*api.views, pj::WorklistsProjection::kName, prefix, page,
                         [&filters](json& item) { return filters.Keep(item); });
  if (!result.ok()) return Response::FromStatus(result.status());
  return Response::Json(
      200, PageBody(std::move(result).value(),
                    {{"worklist", name}, {"tenant", tenant}, {"description", list->description}}));
}

Response TicketQueueFor(Api& api, const Principal& who, Request& req) {
  Response out;
  if (api.views == nullptr) return Unavailable();
  if (!RoleIn(who, {"helpdesk_l1", "helpdesk_l2"})) {
    return NotAllowed("ticket queues are for the help desk (helpdesk_l1, helpdesk_l2)");
  }
  std::string tenant;
  if (!TenantFor(req, who, true, &tenant, &out)) return out;
  if (auto p = req.Query("priority");
      p && *p != "urgent" && *p != "high" && *p != "normal" && *p != "low") {
    return BadParameter("priority", "one of urgent, high, normal, low");
  }
  if (auto c = req.Query("channel"); c && *c != "portal" && *c != "email" && *c != "phone") {
    return BadParameter("channel", "one of portal, email, phone");
  }
  if (auto l = req.Query("level"); l && *l != "1" && *l != "2") {
    return BadParameter("level", "1 or 2");
  }
  if (!WaitForViews(api, req, &out)) return out;
  // The first dimension asked for picks the index; the others filter it.
  std::string prefix = pj::TicketQueuesProjection::QueuePrefix(tenant, "all", "");
  prefix.pop_back();  // every priority rank of "all"
  for (const char* dim : pj::TicketQueuesProjection::kDimensions) {
    if (auto v = req.Query(dim)) {
      prefix = pj::TicketQueuesProjection::QueuePrefix(tenant, dim, *v);
      break;
    }
  }
  PageRequest page;
  if (!ParsePage(req, prefix, &page, &out)) return out;
  Filters filters = ListFilters(req);
  auto result = ScanPage(*api.views, pj::TicketQueuesProjection::kName, prefix, page,
                         [&filters](json& item) { return filters.Keep(item); });
  if (!result.ok()) return Response::FromStatus(result.status());
  json counts = json::object();
  for (const char* dim : pj::TicketQueuesProjection::kDimensions) counts[dim] = json::object();
  const std::string count_prefix = pj::TicketQueuesProjection::CountPrefix(tenant);
  auto rows = api.views->Scan(pj::TicketQueuesProjection::kName, count_prefix, "", 10'000);
  if (!rows.ok()) return Response::FromStatus(rows.status());
  for (const auto& row : *rows) {
    std::string rest = row.key.substr(count_prefix.size());
    auto sep = rest.find('\0');
    if (sep == std::string::npos) continue;
    counts[rest.substr(0, sep)][rest.substr(sep + 1)] = json::parse(row.value, nullptr, false);
  }
  return Response::Json(
      200, PageBody(std::move(result).value(), {{"tenant", tenant}, {"open_by", counts}}));
}

Response SlaDashboardFor(Api& api, const Principal& who, Request& req) {
  Response out;
  if (api.views == nullptr) return Unavailable();
  if (who.role == "citizen" || who.role == "integrator") {
    return NotAllowed("the SLA dashboard is for the organisation's staff");
  }
  std::string tenant;
  if (!TenantFor(req, who, true, &tenant, &out)) return out;
  uint64_t months = 12;
  if (auto m = req.Query("months")) {
    auto [p, ec] = std::from_chars(m->data(), m->data() + m->size(), months);
    if (ec != std::errc() || p != m->data() + m->size() || months == 0 || months > 120) {
      return BadParameter("months", "a number of months between 1 and 120");
    }
  }
  if (!WaitForViews(api, req, &out)) return out;
  const TimePoint now = api.clock.Now();
  const std::string now_key =
      fmt::format("{:020}", std::max<int64_t>(0, now.time_since_epoch().count()));
  const std::string prefix = pj::SlaDashboardProjection::OpenPrefix(tenant);
  PageRequest page;
  if (!ParsePage(req, prefix, &page, &out)) return out;
  // Open clocks are keyed by the instant they reach the warning fraction: those at risk or
  // breached now are the rows before `now`, so the scan stops at the first row after it.
  json counts = {{"at_risk", 0}, {"breached", 0}};
  json by = {{"office", json::object()}, {"procedure", json::object()}, {"level", json::object()}};
  json clocks = json::array();
  std::optional<std::string> next;
  std::string after, last_listed;
  bool done = false;
  while (!done) {
    auto rows = api.views->Scan(pj::SlaDashboardProjection::kName, prefix, after, 512);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    for (const auto& row : *rows) {
      after = row.key;
      if (row.key.compare(prefix.size(), 20, now_key) > 0) {
        done = true;
        break;
      }
      json item = json::parse(row.value, nullptr, false);
      if (item.is_discarded()) continue;
      auto deadline = ParseRfc3339(item.value("deadline", ""));
      const bool breached = item.value("breached", false) || (deadline.ok() && *deadline <= now);
      item["status"] = breached ? "breached" : "at_risk";
      const char* bucket = breached ? "breached" : "at_risk";
      counts[bucket] = counts[bucket].get<int64_t>() + 1;
      const json& g = item["groups"];
      for (auto [name, field] : {std::pair{"office", "office_name"},
                                 {"procedure", "procedure_id"},
                                 {"level", "level"}}) {
        if (!g.contains(field)) continue;
        json& n = by[name][Text(g[field])];
        if (!n.is_object()) n = {{"at_risk", 0}, {"breached", 0}};
        n[bucket] = n[bucket].get<int64_t>() + 1;
      }
      if (!page.after.empty() && row.key <= page.after) continue;
      if (clocks.size() < page.limit) {
        clocks.push_back(std::move(item));
        last_listed = row.key;
      } else if (!next) {
        next = EncodeCursor(last_listed);
      }
    }
    if (rows->size() < 512) done = true;
  }
  json monthly = json::array();
  auto month_rows = api.views->Scan(pj::SlaDashboardProjection::kName,
                                    pj::SlaDashboardProjection::MonthPrefix(tenant), "", months,
                                    /*reverse=*/true);
  if (!month_rows.ok()) return Response::FromStatus(month_rows.status());
  for (const auto& row : *month_rows) {
    json m = json::parse(row.value, nullptr, false);
    if (m.is_discarded()) continue;
    auto pct = [](json& node) {
      for (auto& [_, n] : node.items()) {
        if (!n.is_object() || !n.contains("met")) continue;
        const double total = n["met"].get<double>() + n["breached"].get<double>();
        n["percent_met"] = total > 0 ? 100.0 * n["met"].get<double>() / total : 100.0;
      }
    };
    // A month may so far hold only reminders or complaints, and months folded before they were
    // counted hold none: every month answers with the same fields.
    if (!m.contains("total")) m["total"] = {{"met", 0}, {"breached", 0}};
    for (const char* k : {"reminders", "complaints"}) {
      if (!m.contains(k)) m[k] = 0;
    }
    json total = {{"total", m["total"]}};
    pct(total);
    m["total"] = total["total"];
    for (const char* k : {"by_clock", "by_office", "by_procedure", "by_level"}) {
      if (m.contains(k)) pct(m[k]);
    }
    m["month"] = row.key.substr(row.key.rfind('\0') + 1);
    monthly.push_back(std::move(m));
  }
  json body = {{"tenant", tenant}, {"now", FormatTime(now)}, {"open", counts},
               {"open_by", by},    {"clocks", clocks},       {"monthly", monthly}};
  if (next) body["next_cursor"] = *next;
  return Response::Json(200, body);
}

Response HelpdeskKpisFor(Api& api, const Principal& who, Request& req) {
  Response out;
  if (api.views == nullptr) return Unavailable();
  if (!RoleIn(who, {"helpdesk_l1", "helpdesk_l2"})) {
    return NotAllowed("help-desk KPIs are for the help desk (helpdesk_l1, helpdesk_l2)");
  }
  auto month = req.Query("month");
  if (!month || !ValidMonth(*month)) return BadParameter("month", "a month as YYYY-MM");
  std::string tenant;
  if (!TenantFor(req, who, false, &tenant, &out)) return out;
  if (!WaitForViews(api, req, &out)) return out;
  // An admin without ?tenant= sees every tenant's month, merged (the lists merge exactly).
  std::vector<json> found;
  if (!tenant.empty()) {
    auto row = api.views->Get(pj::HelpdeskKpisProjection::kName,
                              pj::HelpdeskKpisProjection::MonthKey(tenant, *month));
    if (!row.ok()) return Response::FromStatus(row.status());
    if (row->has_value()) found.push_back(json::parse(**row));
  } else {
    auto rows = api.views->Scan(pj::HelpdeskKpisProjection::kName, "", "", 1'000'000);
    if (!rows.ok()) return Response::FromStatus(rows.status());
    for (const auto& r : *rows) {
      if (r.key.ends_with(std::string(1, '\0') + *month) && r.key[0] != '\x01') {
        found.push_back(json::parse(r.value));
      }
    }
  }
  json merged = {{"opened", 0},
                 {"resolved", 0},
                 {"closed", 0},
                 {"reopened", 0},
                 {"take_in_charge", {{"seconds", json::array()}, {"breached", 0}, {"dropped", 0}}},
                 {"resolution", {{"seconds", json::array()}, {"breached", 0}, {"dropped", 0}}}};
  for (const auto& m : found) {
    for (const char* k : {"opened", "resolved", "closed", "reopened"}) {
      merged[k] = merged[k].get<int64_t>() + m.value(k, 0);
    }
    for (const char* k : {"take_in_charge", "resolution"}) {
      std::vector<int64_t> all = merged[k]["seconds"].get<std::vector<int64_t>>();
      for (const auto& v : m[k]["seconds"]) all.push_back(v.get<int64_t>());
      std::sort(all.begin(), all.end());
      merged[k]["seconds"] = all;
      merged[k]["breached"] = merged[k]["breached"].get<int64_t>() + m[k].value("breached", 0);
      merged[k]["dropped"] = merged[k]["dropped"].get<int64_t>() + m[k].value("dropped", 0);
    }
  }
  json body = pj::RenderKpis(merged);
  body["tenant"] = tenant.empty() ? json("*") : json(tenant);
  body["month"] = *month;
  body["calendar"] = "helpdesk";
  return Response::Json(200, body);
}

void AddViewListRoutes(Router& router, Api& api) {
  router.Add(
      "GET", "/v1/worklists/{name}",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        return WorklistFor(api, who, req);
      },
      /*blocking=*/true);
  router.Add(
      "GET", "/v1/queues/tickets",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        return TicketQueueFor(api, who, req);
      },
      /*blocking=*/true);
  router.Add(
      "GET", "/v1/sla/dashboard",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        return SlaDashboardFor(api, who, req);
      },
      /*blocking=*/true);
  router.Add(
      "GET", "/v1/kpis/helpdesk",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        return HelpdeskKpisFor(api, who, req);
      },
      /*blocking=*/true);
}

}  // namespace procedo::http
