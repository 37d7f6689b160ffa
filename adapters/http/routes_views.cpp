// Queries over the projections: the case view (now or as of an instant) and the audit trail by
// actor here; worklists, ticket queues, the SLA dashboard and KPIs in routes_views_lists.cpp.
#include <fmt/format.h>

#include "adapters/http/api.h"
#include "adapters/http/view_query.h"
#include "engine/calendar/calendar.h"
#include "engine/crypto/personal.h"
#include "engine/log/log_store.h"
#include "projections/views/audit_trail.h"
#include "projections/views/case_view.h"
#include "projections/views/case_view_rendered.h"

namespace procedo::http {

void AddViewListRoutes(Router& router, Api& api);
void AddAccountRoutes(Router& router, Api& api);
void AddPaymentRoutes(Router& router, Api& api);

namespace {

using nlohmann::json;
using projections::CaseViewProjection;

Response StreamNotFound(const std::string& stream) {
  return Response::Problem(404, "stream-not-found", "Stream not found",
                           fmt::format("no stream {} that you may read", stream));
}

// Who may read a stream's view: the one rule (domain/access.h), on the facts the view keeps.
bool MayReadView(const Principal& who, const projections::ViewAccess& view) {
  return domain::MayRead(who, view);
}

// Waiting for the views or folding the log blocks; reading a stored row does not.
bool CaseViewBlocks(const Request& req) {
  return req.query.contains("min_position") || req.query.contains("as_of") ||
         req.headers.contains("x-min-position");
}

Response Unavailable() {
  return Response::Problem(503, "views-unavailable", "The views are not available",
                           "this server runs no projections");
}

}  // namespace

Response CaseViewFor(Api& api, const Principal& who, Request& req) {
  Response out;
  if (api.views == nullptr || api.workflows == nullptr || api.calendars == nullptr) {
    return Unavailable();
  }
  const std::string& stream = req.params["id"];
  if (Status s = ValidateStreamId(stream); !s.ok()) return BadParameter("id", "a stream id");
  // Also before a view as of an instant, which the log answers: a malformed position is
  // refused alike.
  if (!WaitForViews(api, req, &out)) return out;
  if (auto as_of = req.Query("as_of")) {
    auto t = ParseRfc3339(*as_of);
    if (!t.ok())
      return BadParameter("as_of", "an RFC 3339 instant, e.g. 2026-11-25T10:00:00+01:00");
    auto view = projections::CaseViewAsOf(api.log, *api.workflows, *api.calendars, stream, *t);
    if (!view.ok()) return Response::FromStatus(view.status());
    if (!view->has_value() || !MayReadView(who, projections::AccessOf(**view))) {
      return StreamNotFound(stream);
    }
    (**view)["as_of"] = FormatTime(*t);
    // Folded from the log here, not read from the view store: shown as its readers see it.
    if (api.personal != nullptr) api.personal->ShowAll(**view);
    return Response::Json(200, **view);
  }
  auto rendered =
      api.views->Get(CaseViewProjection::kName, CaseViewProjection::RenderedKey(stream));
  if (!rendered.ok()) return Response::FromStatus(rendered.status());
  if (rendered->has_value()) {
    if (auto view = projections::DecodeRenderedView(**rendered)) {
      if (!MayReadView(who, view->access)) return StreamNotFound(stream);
      Response r;
      r.body = std::move(view->body);
      r.headers.emplace_back("ETag", fmt::format("\"{}\"", view->version));
      return r;
    }
  }
  // A long stream, or views written before rendering: assembled from summary and timeline.
  auto row = api.views->Get(CaseViewProjection::kName, CaseViewProjection::SummaryKey(stream));
  if (!row.ok()) return Response::FromStatus(row.status());
  if (!row->has_value()) return StreamNotFound(stream);
  json summary = json::parse(**row, nullptr, false);
  if (summary.is_discarded() || !MayReadView(who, projections::AccessOf(summary))) {
    return StreamNotFound(stream);
  }
  // Its first entries only: a long stream's answer must not grow with it. The rest is one
  // cursor away, at /v1/cases/{id}/timeline.
  auto timeline =
      api.views->Scan(CaseViewProjection::kName, CaseViewProjection::TimelinePrefix(stream), "",
                      projections::kMaxRenderedEvents + 1);
  if (!timeline.ok()) return Response::FromStatus(timeline.status());
  if (timeline->size() > projections::kMaxRenderedEvents) {
    timeline->pop_back();
    summary["timeline_next_cursor"] = EncodeCursor(timeline->back().key);
  }
  Response r;
  r.body = projections::RenderCaseViewText(summary, *timeline);
  r.headers.emplace_back("ETag", fmt::format("\"{}\"", summary.value("version", uint64_t{0})));
  return r;
}

namespace {

// A stream's timeline entries, or a case's notes, a page at a time (`?cursor=`, `?limit=`), for
// whoever may read its view.
Response CaseRowsFor(Api& api, const Principal& who, Request& req, bool notes) {
  Response out;
  if (api.views == nullptr) return Unavailable();
  const std::string& stream = req.params["id"];
  if (Status s = ValidateStreamId(stream); !s.ok()) return BadParameter("id", "a stream id");
  if (!WaitForViews(api, req, &out)) return out;
  auto row = api.views->Get(CaseViewProjection::kName, CaseViewProjection::SummaryKey(stream));
  if (!row.ok()) return Response::FromStatus(row.status());
  if (!row->has_value()) return StreamNotFound(stream);
  const json summary = json::parse(**row, nullptr, false);
  if (summary.is_discarded() || !MayReadView(who, projections::AccessOf(summary))) {
    return StreamNotFound(stream);
  }
  const std::string prefix =
      notes ? CaseViewProjection::NotesPrefix(stream) : CaseViewProjection::TimelinePrefix(stream);
  PageRequest page;
  page.limit = 100;
  if (!ParsePage(req, prefix, &page, &out)) return out;
  auto result = ScanPage(*api.views, CaseViewProjection::kName, prefix, page,
                         [](const json&) { return true; });
  if (!result.ok()) return Response::FromStatus(result.status());
  return Response::Json(
      200, PageBody(std::move(*result),
                    {{"stream", stream}, {"version", summary.value("version", uint64_t{0})}}));
}

}  // namespace

void AddViewRoutes(Router& router, Api& api) {
  for (const bool notes : {false, true}) {
    router.AddBlockingWhen(
        "GET", notes ? "/v1/cases/{id}/notes" : "/v1/cases/{id}/timeline",
        [&api, notes](Request& req) {
          Principal who;
          Response out;
          if (!RequirePrincipal(api, req, &who, &out)) return out;
          return CaseRowsFor(api, who, req, notes);
        },
        CaseViewBlocks);
  }
  router.AddBlockingWhen(
      "GET", "/v1/cases/{id}",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        return CaseViewFor(api, who, req);
      },
      CaseViewBlocks);

  router.Add(
      "GET", "/v1/audit/actors/{id}",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        if (api.views == nullptr) return Unavailable();
        const std::string& actor = req.params["id"];
        if (actor.empty() || actor.find('\0') != std::string::npos) {
          return BadParameter("id", "an actor id");
        }
        // Citizens and integrators see what they did themselves; staff see what anyone did in their
        // own tenant; admins everything.
        if ((who.role == "citizen" || who.role == "integrator") && actor != who.id) {
          return NotAllowed("you may read only your own audit trail");
        }
        if (!WaitForViews(api, req, &out)) return out;
        const std::string prefix = projections::AuditTrailProjection::ActorPrefix(actor);
        PageRequest page;
        if (!ParsePage(req, prefix, &page, &out)) return out;
        auto result = ScanPage(
            *api.views, projections::AuditTrailProjection::kName, prefix, page, [&who](json& item) {
              return domain::IsAdmin(who) || item.value("tenant", "") == who.tenant;
            });
        if (!result.ok()) return Response::FromStatus(result.status());
        return Response::Json(200, PageBody(std::move(result).value(), {{"actor", actor}}));
      },
      /*blocking=*/true);

  AddViewListRoutes(router, api);
  AddAccountRoutes(router, api);
  AddPaymentRoutes(router, api);
}

}  // namespace procedo::http
