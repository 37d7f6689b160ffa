// Seed 003's accounts over HTTP, from the accounts projection: one position (its balance or
// accounting situation, one point read), its movements, a holder's positions (the citizen's own
// and their children's), and the Ente's uses of a service per site and day; and from the
// rankings projection the Ente's ranking of a service at a site. Who may read what is
// domain/access.h's: the rankings, like the uses, are the Ente's staff's (MayReadServiceUsage).
#include <fmt/format.h>

#include <regex>

#include "adapters/http/api.h"
#include "adapters/http/view_query.h"
#include "domain/access.h"
#include "domain/services.h"
#include "projections/views/accounts.h"
#include "projections/views/rankings.h"

namespace procedo::http {
namespace {

using nlohmann::json;
using projections::AccountsProjection;

bool IsDate(const std::string& s) {
  static const std::regex kDate("^[0-9]{4}-[0-9]{2}-[0-9]{2}$");
  return std::regex_match(s, kDate);
}

Response NoAccount(const std::string& id) {
  return Response::Problem(404, "account-not-found", "Account not found",
                           fmt::format("no account {} that you may read", id));
}

Response Unavailable() {
  return Response::Problem(503, "views-unavailable", "The views are not available",
                           "this server runs no projections");
}

// The position's summary row (or its balance row) when `who` may read it.
Result<std::optional<json>> Summary(Api& api, const Principal& who, const std::string& id,
                                    bool balance_only = false) {
  auto row =
      api.views->Get(AccountsProjection::kName, balance_only ? AccountsProjection::BalanceKey(id)
                                                             : AccountsProjection::SummaryKey(id));
  if (!row.ok()) return row.status();
  if (!row->has_value()) return std::optional<json>();
  json s = json::parse(**row, nullptr, false);
  if (s.is_discarded() ||
      !domain::MayRead(who, domain::AccountFacts(s.value("tenant", ""), s.value("holder", "")))) {
    return std::optional<json>();
  }
  return std::optional<json>(std::move(s));
}

// What every account route checks after the caller: the views, the id, the views caught up.
bool AccountAsked(Api& api, Request& req, Response* out) {
  if (api.views == nullptr) {
    *out = Unavailable();
    return false;
  }
  const std::string& id = req.params["id"];
  if (!id.starts_with("account-") || !ValidateStreamId(id).ok()) {
    *out = BadParameter("id", "an account id (account-<tenant>-<enrolment>-<service>)");
    return false;
  }
  return WaitForViews(api, req, out);
}

// What the routes of a service at a site check first: the caller, the views, the staff's read
// rule, the two ids.
bool ServiceSiteAsked(Api& api, Request& req, const char* what, Principal* who, Response* out) {
  if (!RequirePrincipal(api, req, who, out)) return false;
  if (api.views == nullptr) {
    *out = Unavailable();
    return false;
  }
  if (!domain::MayReadServiceUsage(*who)) {
    *out = NotAllowed(fmt::format("the {} of a service are the Ente's staff's to read", what));
    return false;
  }
  if (!domain::IsCatalogueId(req.params["service"])) {
    *out = BadParameter("service", "a service id of GET /v1/services");
    return false;
  }
  if (!domain::IsCatalogueId(req.params["site"])) {
    *out = BadParameter("site", "a site id of GET /v1/services");
    return false;
  }
  return true;
}

}  // namespace

Response AccountFor(Api& api, const Principal& who, Request& req, bool balance_only) {
  Response out;
  if (!AccountAsked(api, req, &out)) return out;
  const std::string& id = req.params["id"];
  auto s = Summary(api, who, id, balance_only);
  if (!s.ok()) return Response::FromStatus(s.status());
  if (!s->has_value()) return NoAccount(id);
  return Response::Json(200, **s);
}

Response AccountMovementsFor(Api& api, const Principal& who, Request& req) {
  Response out;
  if (!AccountAsked(api, req, &out)) return out;
  const std::string& id = req.params["id"];
  auto s = Summary(api, who, id);
  if (!s.ok()) return Response::FromStatus(s.status());
  if (!s->has_value()) return NoAccount(id);
  const std::string prefix = AccountsProjection::MovementsPrefix(id);
  PageRequest page;
  if (!ParsePage(req, prefix, &page, &out)) return out;
  auto result =
      ScanPage(*api.views, AccountsProjection::kName, prefix, page, [](json&) { return true; });
  if (!result.ok()) return Response::FromStatus(result.status());
  return Response::Json(200, PageBody(std::move(result).value(), {{"account", id}}));
}

// A holder's positions: a citizen reads their own (?holder= may be left out), staff any of their
// tenant's holders; staff who name no holder read every position of the organisation.
Response HolderAccountsFor(Api& api, const Principal& who, Request& req) {
  Response out;
  if (api.views == nullptr) return Unavailable();
  std::string holder = req.Query("holder").value_or(who.role == "citizen" ? who.id : "");
  if ((holder.empty() && who.role == "citizen") || holder.find('\0') != std::string::npos ||
      holder.size() > 200) {
    return BadParameter("holder", "the holder's id (a citizen reads their own)");
  }
  std::string tenant;
  if (!TenantFor(req, who, /*required=*/true, &tenant, &out)) return out;
  if (!domain::MayRead(who, domain::AccountFacts(tenant, holder))) {
    return NotAllowed("you may read only your own accounts");
  }
  if (!WaitForViews(api, req, &out)) return out;
  const std::string prefix = holder.empty() ? AccountsProjection::HoldersPrefix(tenant)
                                            : AccountsProjection::HolderPrefix(tenant, holder);
  PageRequest page;
  if (!ParsePage(req, prefix, &page, &out)) return out;
  auto result =
      ScanPage(*api.views, AccountsProjection::kName, prefix, page, [](json&) { return true; });
  if (!result.ok()) return Response::FromStatus(result.status());
  return Response::Json(
      200, PageBody(std::move(result).value(), {{"tenant", tenant}, {"holder", holder}}));
}

void AddAccountRoutes(Router& router, Api& api) {
  // Each read as the caller authenticated on the API; the portal's pages call the same
  // functions with their own session's principal.
  auto as_caller = [&api](Response (*read)(Api&, const Principal&, Request&)) {
    return [&api, read](Request& req) {
      Principal who;
      Response out;
      if (!RequirePrincipal(api, req, &who, &out)) return out;
      return read(api, who, req);
    };
  };
  router.Add(
      "GET", "/v1/accounts/{id}",
      as_caller([](Api& a, const Principal& w, Request& r) { return AccountFor(a, w, r, false); }),
      /*blocking=*/true);
  // The balance alone: one small row, whatever the account's history.
  router.Add(
      "GET", "/v1/accounts/{id}/balance",
      as_caller([](Api& a, const Principal& w, Request& r) { return AccountFor(a, w, r, true); }),
      /*blocking=*/true);
  router.Add("GET", "/v1/accounts/{id}/movements", as_caller(&AccountMovementsFor),
             /*blocking=*/true);
  router.Add("GET", "/v1/accounts", as_caller(&HolderAccountsFor), /*blocking=*/true);

  // The Ente's uses of a service at a site, per day (?from=, ?to= inclusive, YYYY-MM-DD).
  router.Add(
      "GET", "/v1/services/{service}/sites/{site}/usage",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!ServiceSiteAsked(api, req, "uses", &who, &out)) return out;
        const std::string& service = req.params["service"];
        const std::string& site = req.params["site"];
        const std::string from = req.Query("from").value_or("");
        const std::string to = req.Query("to").value_or("");
        if (!from.empty() && !IsDate(from)) return BadParameter("from", "a day as YYYY-MM-DD");
        if (!to.empty() && !IsDate(to)) return BadParameter("to", "a day as YYYY-MM-DD");
        std::string tenant;
        if (!TenantFor(req, who, /*required=*/true, &tenant, &out)) return out;
        if (!WaitForViews(api, req, &out)) return out;
        const std::string prefix = AccountsProjection::DayPrefix(tenant, service, site);
        PageRequest page;
        if (!ParsePage(req, prefix, &page, &out)) return out;
        auto result =
            ScanPage(*api.views, AccountsProjection::kName, prefix, page, [&from, &to](json& item) {
              const std::string day = item.value("date", "");
              return (from.empty() || day >= from) && (to.empty() || day <= to);
            });
        if (!result.ok()) return Response::FromStatus(result.status());
        return Response::Json(200,
                              PageBody(std::move(result).value(),
                                       {{"tenant", tenant}, {"service", service}, {"site", site}}));
      },
      /*blocking=*/true);

  // The ranking in order, each application with its score and outcome, and the counts per
  // outcome: the first "waiting" is the next to admit when a place frees up.
  router.Add(
      "GET", "/v1/services/{service}/sites/{site}/ranking",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!ServiceSiteAsked(api, req, "rankings", &who, &out)) return out;
        const std::string& service = req.params["service"];
        const std::string& site = req.params["site"];
        std::string tenant;
        if (!TenantFor(req, who, /*required=*/true, &tenant, &out)) return out;
        if (!WaitForViews(api, req, &out)) return out;
        using projections::RankingsProjection;
        auto counts = api.views->Get(RankingsProjection::kName,
                                     RankingsProjection::CountsKey(tenant, service, site));
        if (!counts.ok()) return Response::FromStatus(counts.status());
        const std::string prefix = RankingsProjection::RankingPrefix(tenant, service, site);
        PageRequest page;
        if (!ParsePage(req, prefix, &page, &out)) return out;
        auto result = ScanPage(*api.views, RankingsProjection::kName, prefix, page,
                               [](json&) { return true; });
        if (!result.ok()) return Response::FromStatus(result.status());
        json body = {{"tenant", tenant}, {"service", service}, {"site", site}};
        body["counts"] =
            counts->has_value() ? json::parse(**counts, nullptr, false) : json::object();
        return Response::Json(200, PageBody(std::move(result).value(), std::move(body)));
      },
      /*blocking=*/true);
}

}  // namespace procedo::http
