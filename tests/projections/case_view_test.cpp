// Seed 002's case view folded from events the real command handler appended.
#include "projections/views/case_view.h"

#include <fmt/format.h>

#include "projection_fixture.h"
#include "projections/views/case_view_rendered.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::CaseViewProjection;

std::optional<projections::RenderedCaseView> Rendered(ProjectionFixture& f,
                                                      const std::string& stream) {
  auto row = f.views->Get(CaseViewProjection::kName, CaseViewProjection::RenderedKey(stream));
  REQUIRE(row.ok());
  if (!row->has_value()) return std::nullopt;
  auto view = projections::DecodeRenderedView(**row);
  REQUIRE(view.has_value());
  return view;
}

// The view assembled from summary and timeline rows; every call also checks that the
// ready-to-send row the API serves says exactly the same.
json LiveView(ProjectionFixture& f, const std::string& stream) {
  f.CatchUp();
  json summary = f.Row(CaseViewProjection::kName, CaseViewProjection::SummaryKey(stream));
  auto timeline = f.Rows(CaseViewProjection::kName, CaseViewProjection::TimelinePrefix(stream));
  json assembled = projections::RenderCaseView(summary, timeline);
  CHECK(json::parse(projections::RenderCaseViewText(summary, timeline)) == assembled);
  auto rendered = Rendered(f, stream);
  REQUIRE(rendered.has_value());
  CHECK(json::parse(rendered->body) == assembled);
  CHECK(rendered->version == summary["version"]);
  CHECK(rendered->access.tenant == summary["tenant"]);
  return assembled;
}

TEST_CASE("case view: calendar-day term, suspension pushes the deadline, seed 002 states",
          "[projections][case_view]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  const std::string s = "case-comune-aosta-1";
  f.MustAt("2026-11-05T10:00:00+01:00", op, s, "start_case",
           CasePayload("access_to_records", "AO-2026-001"));
  json v = LiveView(f, s);
  CHECK(v["case_code"] == "AO-2026-001");
  CHECK(v["office"]["name"] == "Ufficio Relazioni con il Pubblico");
  CHECK(v["responsible"]["name"] == "Dott. Luca Bianchi");
  CHECK(v["procedure"]["id"] == "access_to_records");
  CHECK(v["term"]["target"] == "30cd");
  CHECK(v["state"] == "in_progress");
  CHECK(v["state_label"] == "in corso");
  // 5 Nov + 30 days = Saturday 5 Dec; the "always" calendar has no non-business day, so the
  // term ends at the end of that day, Rome time (CET).
  CHECK(At(v["deadline"]) == At("2026-12-05T23:59:59.999999+01:00"));

  f.MustAt("2026-11-09T10:00:00+01:00", op, s, "suspend_case", {{"reason", "Parere ASL"}});
  v = LiveView(f, s);
  CHECK(v["state"] == "suspended");
  CHECK(v["state_label"] == "sospesa");
  CHECK(v["deadline"].is_null());
  CHECK(At(v["deadline_before_suspension"]) == At("2026-12-05T23:59:59.999999+01:00"));
  CHECK(v["suspensions"][0]["reason"] == "Parere ASL");

  // Suspended 2 days 6 hours: the deadline moves by exactly that.
  f.MustAt("2026-11-11T16:00:00+01:00", op, s, "resume_case", {{"reason", "Parere ricevuto"}});
  v = LiveView(f, s);
  CHECK(v["state"] == "resumed");
  CHECK(v["state_label"] == "riattivata");
  CHECK(v["suspended_total_seconds"] == 2 * 86400 + 6 * 3600);
  CHECK(At(v["deadline"]) == At("2026-12-08T05:59:59.999999+01:00"));
  CHECK(v["suspensions"][0]["resume_reason"] == "Parere ricevuto");

  f.MustAt("2026-11-12T09:00:00+01:00", op, s, "add_note", {{"text", "Documenti completi"}});
  f.MustAt("2026-11-20T12:00:00+01:00", op, s, "close_case",
           {{"outcome", "accepted"}, {"reason", "Accesso consentito"}});
  v = LiveView(f, s);
  CHECK(v["state"] == "closed");
  CHECK(v["state_label"] == "chiusa");
  CHECK(v["closed"]["outcome"] == "accepted");
  CHECK(v["closed_within_term"] == true);
  CHECK(v["notes"][0]["text"] == "Documenti completi");
  REQUIRE(v["timeline"].size() == 5);
  std::vector<std::string> types;
  for (const auto& e : v["timeline"]) types.push_back(e["type"]);
  CHECK(types == std::vector<std::string>{"case.started", "case.suspended", "case.resumed",
                                          "case.note_added", "case.closed"});
  CHECK(v["timeline"][1]["details"]["reason"] == "Parere ASL");
  CHECK(v["timeline"][1]["actor"] == "op1");
}

TEST_CASE("case view: business-day term over the catalogue calendar, integration stops it",
          "[projections][case_view]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  const std::string s = "case-comune-aosta-2";
  // road_occupation: 20 business days on "assistance" (Mon-Fri 07:30-18:00). From Mon 2 Nov the
  // 20th business day after the day of receipt is Mon 30 Nov; the term ends at its closing.
  f.MustAt("2026-11-02T10:00:00+01:00", op, s, "start_case",
           CasePayload("road_occupation", "AO-2"));
  json v = LiveView(f, s);
  CHECK(At(v["deadline"]) == At("2026-11-30T18:00:00+01:00"));

  f.MustAt("2026-11-03T08:30:00+01:00", op, s, "request_integration",
           {{"reason", "Manca la planimetria"}});
  v = LiveView(f, s);
  CHECK(v["waiting_for"] == "citizen");
  CHECK(v["state"] == "suspended");
  // Business time suspended: Tue 08:30-18:00 (9.5 h) + Wed 07:30-18:00 (10.5 h) + Thu 07:30-08:30
  // (1 h) = 21 h; from Mon 30 Nov 18:00 that is Tue 1 Dec (10.5 h) and Wed 2 Dec (10.5 h).
  f.MustAt("2026-11-05T08:30:00+01:00", op, s, "receive_integration", {{"note", "Planimetria"}});
  v = LiveView(f, s);
  CHECK(v["suspended_total_seconds"] == 21 * 3600);
  CHECK(At(v["deadline"]) == At("2026-12-02T18:00:00+01:00"));
  CHECK(v["state_label"] == "riattivata");
  CHECK_FALSE(v.contains("waiting_for"));
}

TEST_CASE("case view as_of an instant is what the live view showed then", "[projections][as_of]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  const std::string s = "case-comune-aosta-3";
  std::vector<std::pair<std::string, json>> seen;
  auto step = [&](const std::string& when, const std::string& cmd, json payload) {
    f.MustAt(when, op, s, cmd, std::move(payload));
    seen.emplace_back(when, LiveView(f, s));
  };
  step("2026-11-05T10:00:00+01:00", "start_case", CasePayload("building_permit", "AO-3"));
  step("2026-11-06T10:00:00+01:00", "suspend_case", {{"reason", "Sopralluogo"}});
  step("2026-11-10T10:00:00+01:00", "resume_case", {{"reason", "Sopralluogo fatto"}});
  step("2026-11-10T11:00:00+01:00", "add_note", {{"text", "Istruttoria in corso"}});
  step("2026-12-01T11:00:00+01:00", "close_case", {{"outcome", "rejected"}, {"reason", "Vincolo"}});

  for (const auto& [when, live] : seen) {
    INFO("as of " << when);
    // At the instant itself and a minute later (before the next event) the view is the same.
    for (auto t : {At(when), At(when) + std::chrono::minutes(1)}) {
      auto v = projections::CaseViewAsOf(*f.logf.log, f.domain->workflows, *f.calendars, s, t);
      REQUIRE(v.ok());
      REQUIRE(v->has_value());
      CHECK(**v == live);
    }
  }
  auto before = projections::CaseViewAsOf(*f.logf.log, f.domain->workflows, *f.calendars, s,
                                          At("2026-11-05T09:59:59+01:00"));
  REQUIRE(before.ok());
  CHECK_FALSE(before->has_value());
}

TEST_CASE("every stream kind has a view: a heating-voucher application",
          "[projections][case_view]") {
  ProjectionFixture f;
  const std::string s = "voucher-aosta-1";
  f.MustAt("2026-11-02T09:00:00+01:00", A("op1", "operator"), s, "enter_application",
           VoucherPayload());
  f.MustAt("2026-11-02T10:00:00+01:00", A("val1", "validator"), s, "validate_application");
  f.MustAt("2026-11-02T11:00:00+01:00", A("val1", "validator"), s, "forward_to_region");
  f.CatchUp();
  json v = f.Row(CaseViewProjection::kName, s);
  CHECK(v["kind"] == "voucher");
  CHECK(v["state"] == "forwarded");
  CHECK(v["forwarded_to"] == "regione-vda");
  CHECK(v["fields"]["applicant_name"] == "Anna Bianchi");
  CHECK(v["fields"]["household_members"] == 3);
  CHECK(f.Rows(CaseViewProjection::kName, CaseViewProjection::TimelinePrefix(s)).size() == 3);
}

}  // namespace
}  // namespace procedo::testing

namespace procedo::testing {

TEST_CASE("case view: past the rendered limit the view is assembled, and stays right",
          "[projections][case_view]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  const std::string s = "case-comune-aosta-9";
  f.MustAt("2026-11-05T10:00:00+01:00", op, s, "start_case",
           CasePayload("access_to_records", "AO-2026-009"));
  for (uint64_t i = 2; i <= projections::kMaxRenderedEvents; ++i) {
    f.Must(op, s, "add_note", {{"text", fmt::format("nota {}", i)}});
  }
  json v = LiveView(f, s);  // exactly at the limit: still rendered
  CHECK(v["timeline"].size() == projections::kMaxRenderedEvents);
  f.Must(op, s, "add_note", {{"text", "una di troppo"}});
  f.CatchUp();
  CHECK_FALSE(Rendered(f, s).has_value());
  json summary = f.Row(CaseViewProjection::kName, CaseViewProjection::SummaryKey(s));
  CHECK(summary["version"] == projections::kMaxRenderedEvents + 1);
  CHECK(summary["notes"].back()["text"] == "una di troppo");
  // The summary keeps the latest notes and the count; each note is a row of its own.
  CHECK(summary["notes"].size() == CaseViewProjection::kRecentNotes);
  CHECK(summary["notes_count"] == projections::kMaxRenderedEvents);
  auto notes = f.Rows(CaseViewProjection::kName, CaseViewProjection::NotesPrefix(s));
  REQUIRE(notes.size() == projections::kMaxRenderedEvents);
  CHECK(json::parse(notes.front().value)["text"] == "nota 2");
  CHECK(json::parse(notes.back().value)["text"] == "una di troppo");
}

TEST_CASE("case view: rows that do not decode are never served or extended",
          "[projections][case_view]") {
  using projections::DecodeRenderedView;
  using projections::TimelineOfRenderedRow;
  projections::RenderedCaseView v{{"comune-aosta", "", "cit-1"}, 3, "{\"a\":1,\"timeline\":[]}"};
  std::string row = projections::EncodeRenderedView(v, v.body.size() - 3);
  auto back = DecodeRenderedView(row);
  REQUIRE(back.has_value());
  CHECK(back->body == v.body);
  CHECK(back->access.requester == "cit-1");
  CHECK(back->version == 3);
  CHECK(TimelineOfRenderedRow(row) == "[]");
  for (std::string bad :
       {std::string(), std::string("{}"), row.substr(0, row.size() - 1),
        std::string("2") + row.substr(1), projections::EncodeRenderedView(v, 1)}) {
    CHECK_FALSE(DecodeRenderedView(bad).has_value());
    CHECK_FALSE(TimelineOfRenderedRow(bad).has_value());
  }
}

}  // namespace procedo::testing
