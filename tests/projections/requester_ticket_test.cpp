// What a ticket's requester reads: the fold behind the ticket page, from events the real command
// handler appended on the help desk's calendar.
#include "projection_fixture.h"
#include "projections/views/requester_ticket.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::RequesterTicketProjection;

// The view's instants (UTC, as FormatTime writes them) of a local time in Rome.
std::string Utc(const std::string& local) {
  return FormatTime(At(local));
}

std::vector<std::string> Texts(const json& row) {
  std::vector<std::string> out;
  for (const auto& m : row["messages"]) out.push_back(m["text"]);
  return out;
}

TEST_CASE(
    "the requester's ticket: technician, level, clocks as the clock rule folds them, and "
    "only the texts meant for the requester",
    "[projections][ticket]") {
  ProjectionFixture f;
  const auto hd = A("hd", "helpdesk_l1");
  const auto l2 = A("hd2", "helpdesk_l2");
  json open = TicketPayload("portal", "normal");
  open["description"] = "Il portale rifiuta il file.";
  f.MustAt("2026-11-24T09:00:00+01:00", hd, "ticket-1", "open_ticket", open);
  f.MustAt("2026-11-24T09:10:00+01:00", hd, "ticket-1", "take_in_charge",
           {{"technician", "t7"}, {"technician_name", "Paola Neri"}});
  f.CatchUp();
  json row = f.Row(RequesterTicketProjection::kName, "ticket-1");
  CHECK(row["state"] == "in_progress");
  CHECK(row["technician_name"] == "Paola Neri");
  CHECK(row["level"] == 1);
  CHECK(row["tenant"] == "comune-aosta");
  CHECK(row["number"] == "TCK-2026-000001");  // the number the server issued on opening
  // TP: 30 business minutes from 09:00, stopped at 09:10; TR: 6 business hours from 09:10,
  // across the lunch break.
  const json& tp = row["clocks"]["take_in_charge"];
  CHECK(tp["phase"] == "stopped");
  CHECK(tp["met"] == true);
  CHECK(tp["stopped_at"] == Utc("2026-11-24T09:10:00+01:00"));
  const json& tr = row["clocks"]["resolution"];
  CHECK(tr["phase"] == "running");
  CHECK(tr["deadline"] == Utc("2026-11-24T16:10:00+01:00"));

  // Information requested at 10:00: paused with 5 h 10 min of business time left; the answer
  // at 11:00 resumes it, and the deadline moves by the hour it waited.
  f.MustAt("2026-11-24T10:00:00+01:00", hd, "ticket-1", "request_information",
           {{"question", "Quale browser usi?"}});
  f.CatchUp();
  row = f.Row(RequesterTicketProjection::kName, "ticket-1");
  CHECK(row["state"] == "waiting_user");
  CHECK(row["clocks"]["resolution"]["phase"] == "paused");
  CHECK(row["clocks"]["resolution"]["paused_at"] == Utc("2026-11-24T10:00:00+01:00"));
  CHECK(row["clocks"]["resolution"]["deadline_before_pause"] == Utc("2026-11-24T16:10:00+01:00"));
  CHECK(row["clocks"]["resolution"]["remaining_seconds"] == (5 * 60 + 10) * 60);
  CHECK(row["clocks"]["resolution"]["deadline"].is_null());
  f.MustAt("2026-11-24T11:00:00+01:00", hd, "ticket-1", "receive_information",
           {{"answer", "Firefox"}});
  f.MustAt(
      "2026-11-24T11:30:00+01:00", hd, "ticket-1", "escalate_ticket",
      {{"reason", "Errore del server"}, {"technician", "t9"}, {"technician_name", "Luca Verdi"}});
  f.CatchUp();
  row = f.Row(RequesterTicketProjection::kName, "ticket-1");
  CHECK(row["clocks"]["resolution"]["phase"] == "running");
  CHECK_FALSE(row["clocks"]["resolution"].contains("paused_at"));
  // Level 2: 8 business hours, with the 50 minutes before the pause and the 30 after it counted.
  CHECK(row["clocks"]["resolution"]["deadline"] == Utc("2026-11-25T10:10:00+01:00"));
  CHECK(row["level"] == 2);
  CHECK(row["technician_name"] == "Luca Verdi");

  f.MustAt("2026-11-24T12:00:00+01:00", l2, "ticket-1", "resolve_ticket",
           {{"solution", "Svuotata la cache del portale."}, {"answered_by", "email"}});
  f.CatchUp();
  row = f.Row(RequesterTicketProjection::kName, "ticket-1");
  CHECK(row["clocks"]["resolution"]["phase"] == "stopped");
  CHECK(row["clocks"]["resolution"]["met"] == true);
  CHECK(row["state"] == "resolved");
  CHECK(Texts(row) == std::vector<std::string>{"Il portale rifiuta il file.", "Quale browser usi?",
                                               "Firefox", "Errore del server",
                                               "Svuotata la cache del portale."});
  CHECK(row["version"] == 6);
}

}  // namespace
}  // namespace procedo::testing
