// The view routes in process, on a driven clock: which open SLA clocks the dashboard calls at
// risk or breached depends on the query's "now", never on the view (which holds no wall time).
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "adapters/http/api.h"
#include "adapters/http/dev_keys.h"
#include "domain/accounts.h"
#include "domain/sample_payloads.h"
#include "projection_fixture.h"
#include "projections/views/case_view.h"
#include "projections/views/case_view_rendered.h"

namespace procedo::testing {
namespace {

using nlohmann::json;

struct RouteFixture : ProjectionFixture {
  ManualClock now{At("2026-11-10T08:00:00+01:00")};
  std::unique_ptr<http::Authenticator> auth;
  http::Metrics metrics;
  std::unique_ptr<http::Api> api;
  http::Router router;
  std::string private_key;

  RouteFixture() {
    auto keys = http::EnsureDevKeys(logf.dir.sub("keys"));
    REQUIRE(keys.ok());
    private_key = keys->private_pem_file;
    http::AuthOptions ao;
    ao.jwt_public_key_files = {keys->public_pem_file};
    ao.clock = &now;
    auto a = http::Authenticator::Create(ao);
    REQUIRE(a.ok());
    auth = std::move(a).value();
    api = std::make_unique<http::Api>(*logf.log, *auth, metrics, now);
    api->views = views.get();
    api->workflows = &domain->workflows;
    api->calendars = calendars.get();
    http::AddViewRoutes(router, *api);
  }

  http::Response Get(const std::string& path, std::map<std::string, std::string> query,
                     const std::string& role, const std::string& tenant,
                     const std::string& subject = "u1") {
    auto token =
        http::IssueToken(private_key, subject, role, tenant, std::chrono::hours(1), now.Now());
    REQUIRE(token.ok());
    http::Request req;
    req.method = "GET";
    req.path = req.target = path;
    req.query = std::move(query);
    req.headers["authorization"] = "Bearer " + *token;
    auto match = router.Find(req);
    REQUIRE(match.handler != nullptr);
    return (*match.handler)(req);
  }
};

TEST_CASE("SLA dashboard: at risk past the warning instant, breached past the deadline",
          "[projections][routes][sla]") {
  RouteFixture f;
  const auto cit = A("cit1", "citizen");
  // Portal: TP 30 business minutes, warning at 80 % (09:24), deadline 09:30.
  f.MustAt("2026-11-10T09:00:00+01:00", cit, "ticket-a", "open_ticket",
           TicketPayload("portal", "normal"));
  // Phone: TP 90 minutes, warning at 72 minutes (10:17), deadline 10:35.
  f.MustAt("2026-11-10T09:05:00+01:00", cit, "ticket-b", "open_ticket",
           TicketPayload("phone", "normal"));
  f.CatchUp();
  auto tp = [&](const std::string& when) {
    f.now.Set(At(when));
    http::Response r = f.Get("/v1/sla/dashboard", {}, "helpdesk_l1", "comune-aosta");
    REQUIRE(r.status == 200);
    json body = json::parse(r.body);
    std::map<std::string, std::string> out;  // stream -> status, take-in-charge clocks only
    for (const auto& c : body["clocks"]) {
      if (c["clock"] == "take_in_charge") out[c["stream"]] = c["status"];
    }
    return std::make_pair(out, body);
  };
  using M = std::map<std::string, std::string>;
  CHECK(tp("2026-11-10T09:23:00+01:00").first == M{});
  auto [at_risk, body] = tp("2026-11-10T09:26:00+01:00");
  CHECK(at_risk == M{{"ticket-a", "at_risk"}});
  CHECK(body["open_by"]["level"]["1"]["at_risk"] >= 1);
  CHECK(tp("2026-11-10T09:31:00+01:00").first == M{{"ticket-a", "breached"}});
  CHECK(tp("2026-11-10T10:20:00+01:00").first ==
        M{{"ticket-a", "breached"}, {"ticket-b", "at_risk"}});

  // Taken in charge: the clock stops and leaves the dashboard; it counts in the month.
  f.MustAt("2026-11-10T10:30:00+01:00", A("hd", "helpdesk_l1"), "ticket-b", "take_in_charge",
           {{"technician", "tec-rossi"}, {"technician_name", "Marco Rossi"}});
  f.CatchUp();
  auto [after, later] = tp("2026-11-10T10:31:00+01:00");
  CHECK(after == M{{"ticket-a", "breached"}});
  CHECK(later["monthly"][0]["month"] == "2026-11");
  CHECK(later["monthly"][0]["by_clock"]["take_in_charge"]["met"] == 1);
  CHECK(later["monthly"][0]["by_clock"]["take_in_charge"]["percent_met"] == 100.0);

  // Another Comune's help desk sees none of it.
  f.now.Set(At("2026-11-10T10:31:00+01:00"));
  json other = json::parse(f.Get("/v1/sla/dashboard", {}, "helpdesk_l1", "comune-forli").body);
  CHECK(other["clocks"].empty());
  CHECK(other["tenant"] == "comune-forli");
}

TEST_CASE("case view route: 404 for another tenant, as_of before and after",
          "[projections][routes]") {
  RouteFixture f;
  const std::string s = "case-comune-aosta-1";
  f.MustAt("2026-11-05T10:00:00+01:00", A("op1", "operator"), s, "start_case",
           CasePayload("access_to_records", "AO-1"));
  f.MustAt("2026-11-06T10:00:00+01:00", A("op1", "operator"), s, "suspend_case",
           {{"reason", "Parere"}});
  f.CatchUp();
  http::Response mine = f.Get("/v1/cases/" + s, {}, "operator", "comune-aosta");
  REQUIRE(mine.status == 200);
  CHECK(json::parse(mine.body)["state"] == "suspended");
  CHECK(f.Get("/v1/cases/" + s, {}, "operator", "comune-forli").status == 404);
  http::Response then =
      f.Get("/v1/cases/" + s, {{"as_of", "2026-11-05T12:00:00+01:00"}}, "operator", "comune-aosta");
  REQUIRE(then.status == 200);
  CHECK(json::parse(then.body)["state"] == "in_progress");
  CHECK(f.Get("/v1/cases/" + s, {{"as_of", "2026-11-05"}}, "operator", "comune-aosta").status ==
        400);
}

TEST_CASE("case view route: the ready-to-send and the assembled answer agree, also on access",
          "[projections][routes]") {
  RouteFixture f;
  const std::string s = "case-comune-aosta-2";
  f.MustAt("2026-11-05T10:00:00+01:00", A("op1", "operator"), s, "start_case",
           CasePayload("access_to_records", "AO-2"));
  f.CatchUp();
  http::Response short_view = f.Get("/v1/cases/" + s, {}, "operator", "comune-aosta");
  REQUIRE(short_view.status == 200);
  CHECK(short_view.content_type == "application/json");
  json first = json::parse(short_view.body);
  CHECK(first["timeline"].size() == 1);
  // The route's run mode: a plain read stays on the network thread, a wait goes to the workers.
  http::Request probe;
  probe.method = "GET";
  probe.path = "/v1/cases/" + s;
  auto plain = f.router.Find(probe);
  REQUIRE(plain.blocks != nullptr);
  CHECK_FALSE((*plain.blocks)(probe));
  probe.query["min_position"] = "1";
  CHECK((*f.router.Find(probe).blocks)(probe));

  // Past the rendered limit the answer is assembled from the rows: same shape, same rules.
  for (uint64_t i = 1; i <= projections::kMaxRenderedEvents; ++i) {
    f.Must(A("op1", "operator"), s, "add_note", {{"text", "nota"}});
  }
  f.CatchUp();
  http::Response long_view = f.Get("/v1/cases/" + s, {}, "operator", "comune-aosta");
  REQUIRE(long_view.status == 200);
  json v = json::parse(long_view.body);
  // Its first entries, and the cursor of the rest: the answer does not grow with the stream.
  CHECK(v["timeline"].size() == projections::kMaxRenderedEvents);
  CHECK(v["case_code"] == first["case_code"]);
  CHECK(v["timeline"][0] == first["timeline"][0]);
  CHECK(v["notes_count"] == projections::kMaxRenderedEvents);
  CHECK(v["notes"].size() == projections::CaseViewProjection::kRecentNotes);
  REQUIRE(v["timeline_next_cursor"].is_string());
  http::Response rest =
      f.Get("/v1/cases/" + s + "/timeline",
            {{"cursor", v["timeline_next_cursor"].get<std::string>()}}, "operator", "comune-aosta");
  REQUIRE(rest.status == 200);
  json tail = json::parse(rest.body);
  REQUIRE(tail["items"].size() == 1);
  CHECK(tail["items"][0]["version"] == projections::kMaxRenderedEvents + 1);
  CHECK_FALSE(tail.contains("next_cursor"));
  // Every note, a page at a time, oldest first; the same rule on who may read them.
  std::vector<std::string> texts;
  std::string cursor;
  for (int pages = 0; pages < 10; ++pages) {
    std::map<std::string, std::string> q = {{"limit", "100"}};
    if (!cursor.empty()) q["cursor"] = cursor;
    http::Response page = f.Get("/v1/cases/" + s + "/notes", q, "operator", "comune-aosta");
    REQUIRE(page.status == 200);
    json body = json::parse(page.body);
    for (const auto& n : body["items"]) texts.push_back(n["text"]);
    if (!body.contains("next_cursor")) break;
    cursor = body["next_cursor"];
  }
  CHECK(texts.size() == projections::kMaxRenderedEvents);
  for (const char* route : {"/notes", "/timeline"}) {
    CHECK(f.Get("/v1/cases/" + s + route, {}, "operator", "comune-forli").status == 404);
    CHECK(f.Get("/v1/cases/" + s + route, {}, "citizen", "comune-aosta").status == 404);
    CHECK(f.Get("/v1/cases/case-comune-aosta-404" + std::string(route), {}, "operator",
                "comune-aosta")
              .status == 404);
  }
  CHECK(f.Get("/v1/cases/" + s + "/notes", {{"limit", "0"}}, "operator", "comune-aosta").status ==
        400);
  CHECK(long_view.headers.at(0) ==
        std::pair<std::string, std::string>{"ETag",
                                            fmt::format("\"{}\"", v["version"].get<uint64_t>())});
  CHECK(f.Get("/v1/cases/" + s, {}, "operator", "comune-forli").status == 404);
  CHECK(f.Get("/v1/cases/" + s, {}, "citizen", "comune-aosta").status == 404);
  CHECK(f.Get("/v1/cases/" + s, {}, "admin", "").status == 200);
}

TEST_CASE("read your writes: 503 while the views are behind the log, never past its end",
          "[projections][routes]") {
  RouteFixture f;
  ProjectionRunner runner(*f.logf.log, *f.views, f.set->All());
  f.api->runner = &runner;
  f.api->max_wait = std::chrono::milliseconds(20);
  const std::string s = "case-comune-aosta-3";
  f.Must(A("op1", "operator"), s, "start_case", CasePayload("access_to_records", "AO-3"));
  const std::string path = "/v1/cases/" + s;
  http::Response behind = f.Get(path, {{"min_position", "1"}}, "operator", "comune-aosta");
  REQUIRE(behind.status == 503);
  CHECK(json::parse(behind.body)["type"] == "https://procedo.dev/problems/views-behind");
  // A position no command answered with is waited for as the end of the log, not for ever.
  http::Response ahead = f.Get(path, {{"min_position", "999"}}, "operator", "comune-aosta");
  REQUIRE(ahead.status == 503);
  CHECK(json::parse(ahead.body)["min_position"] == 2);  // the case's start and its number
  REQUIRE(runner.CatchUp().ok());
  CHECK(f.Get(path, {{"min_position", "999"}}, "operator", "comune-aosta").status == 200);
  CHECK(f.Get(path, {{"min_position", "x"}}, "operator", "comune-aosta").status == 400);
}

TEST_CASE(
    "account routes: the holder and the Ente's staff read a position, the uses per day are "
    "the staff's",
    "[projections][routes][accounts]") {
  RouteFixture f;
  const auto cit = A("u1", "citizen");
  const auto op = A("op1", "operator");
  const std::string s = "enrolment-comune-aosta-1";
  json start = SamplePayload("start_enrolment");
  start["services"] = {"canteen"};
  f.MustAt("2026-11-02T09:00:00+01:00", cit, s, "start_enrolment", start);
  f.Must(cit, s, "complete_details", {{"details", {{"canteen", SampleAnswers("canteen")}}}});
  f.Must(cit, s, "submit_enrolment");
  f.Must(op, s, "rank_for_service", {{"service", "canteen"}});
  f.Must(op, s, "admit_to_service", {{"service", "canteen"}});
  const std::string account = domain::AccountStream(s, "canteen");
  f.Must(op, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", 2000}});
  f.Must(op, account, "record_usage",
         {{"movement_id", "M1"}, {"date", "2026-11-02"}, {"site", "primaria_saint_roch"}});
  f.CatchUp();

  http::Response mine = f.Get("/v1/accounts/" + account, {}, "citizen", "comune-aosta");
  REQUIRE(mine.status == 200);
  CHECK(json::parse(mine.body)["balance_cents"] == 2000 - 520);
  CHECK(f.Get("/v1/accounts/" + account, {}, "citizen", "comune-aosta", "u2").status == 404);
  http::Response balance =
      f.Get("/v1/accounts/" + account + "/balance", {}, "citizen", "comune-aosta");
  REQUIRE(balance.status == 200);
  CHECK(json::parse(balance.body)["balance_cents"] == 2000 - 520);
  CHECK(f.Get("/v1/accounts/" + account + "/balance", {}, "citizen", "comune-aosta", "u2").status ==
        404);
  CHECK(f.Get("/v1/accounts/" + account, {}, "operator", "comune-aosta").status == 200);
  CHECK(f.Get("/v1/accounts/" + account, {}, "operator", "comune-forli").status == 404);
  CHECK(f.Get("/v1/accounts/case-comune-aosta-1", {}, "operator", "comune-aosta").status == 400);

  json movements = json::parse(
      f.Get("/v1/accounts/" + account + "/movements", {}, "citizen", "comune-aosta").body);
  REQUIRE(movements["items"].size() == 2);
  CHECK(movements["items"][1]["movement_id"] == "M1");

  json positions = json::parse(f.Get("/v1/accounts", {}, "citizen", "comune-aosta").body);
  REQUIRE(positions["items"].size() == 1);
  CHECK(positions["items"][0]["stream"] == account);
  CHECK(f.Get("/v1/accounts", {{"holder", "u1"}}, "citizen", "comune-aosta", "u2").status == 403);
  CHECK(json::parse(
            f.Get("/v1/accounts", {{"holder", "u1"}}, "operator", "comune-aosta").body)["items"]
            .size() == 1);

  const std::string usage = "/v1/services/canteen/sites/primaria_saint_roch/usage";
  json days = json::parse(f.Get(usage, {{"from", "2026-11-01"}}, "operator", "comune-aosta").body);
  REQUIRE(days["items"].size() == 1);
  CHECK(days["items"][0]["quantity"] == 1);
  CHECK(json::parse(f.Get(usage, {{"to", "2026-11-01"}}, "operator", "comune-aosta").body)["items"]
            .empty());
  CHECK(f.Get(usage, {}, "citizen", "comune-aosta").status == 403);
  CHECK(f.Get(usage, {{"from", "1 novembre"}}, "operator", "comune-aosta").status == 400);

  const std::string ranking = "/v1/services/canteen/sites/primaria_saint_roch/ranking";
  json ranked = json::parse(f.Get(ranking, {}, "operator", "comune-aosta").body);
  REQUIRE(ranked["items"].size() == 1);
  CHECK(ranked["items"][0]["outcome"] == "admitted");
  CHECK(ranked["counts"]["admitted"] == 1);
  CHECK(f.Get(ranking, {}, "citizen", "comune-aosta").status == 403);
}

}  // namespace
}  // namespace procedo::testing
