// What a ticket's requester is told of its times: the acknowledgement names the take-in-charge
// deadline and the resolution target, the taken-in-charge message the resolution deadline, all
// as the SLA clocks fold them (closures included), in Italian local time.
#include <catch2/catch.hpp>
#include <set>

#include "engine/calendar/calendar.h"
#include "notify_fixture.h"

using namespace procedo;
using namespace procedo::projections;
using nlohmann::json;
using procedo::testing::NotifyFixture;
using procedo::testing::RecordingSender;

namespace {

TimePoint At(const std::string& rfc3339) {
  return ParseRfc3339(rfc3339).value();
}

const OutgoingMessage* Find(const RecordingSender& s, const std::string& subject) {
  for (const auto& m : s.sent) {
    if (m.subject == subject) return &m;
  }
  return nullptr;
}

json Opening() {
  return {{"channel", "portal"},
          {"priority", "normal"},
          {"subject", "Accesso a CPortal"},
          {"number", "TCK-2026-000003"},
          {"contact", {{"email", "ugo@example.it"}}},
          {"level", 1}};
}

// The notifier as `procedo serve` builds it: with the tenants' calendars and the workflows'
// clocks, so that ticket messages can promise times.
NotifierOptions WithClocks(NotifyFixture& f) {
  NotifierOptions o = f.Options();
  o.tenants = f.domain->calendars;
  o.workflows = &f.domain->workflows;
  return o;
}

}  // namespace

TEST_CASE("a ticket's messages promise the times its SLA clocks fold to", "[notify][ticket]") {
  NotifyFixture f;
  RecordingSender sender;
  const NotifierOptions o = WithClocks(f);
  Notifier n(*f.commands, *f.state, f.templates, sender, o);
  REQUIRE(n.CatchUp().ok());
  const std::string stream = "ticket-comune-forli-3";

  // A Tuesday at 09:00 in Rome: the portal's take-in-charge time is 30 business minutes.
  f.clock.Set(At("2026-11-24T09:00:00+01:00"));
  f.Append(stream, "ticket.opened", Opening());
  f.Settle(n);
  const OutgoingMessage* ack = Find(sender, "Ticket TCK-2026-000003 ricevuto");
  REQUIRE(ack != nullptr);
  CHECK(ack->body.find("Un tecnico la prenderà in carico entro il 24/11/2026 alle 09:30") !=
        std::string::npos);
  CHECK(ack->body.find(
            "Dalla presa in carico, il tempo previsto per la risoluzione è di 6 ore lavorative") !=
        std::string::npos);

  // Taken in charge at 09:10: six business hours from then, across the lunch break.
  f.clock.Set(At("2026-11-24T09:10:00+01:00"));
  f.Append(stream, "ticket.taken_in_charge",
           {{"technician", "t1"}, {"technician_name", "Paola Neri"}});
  f.Settle(n);
  const OutgoingMessage* taken = Find(sender, "Ticket TCK-2026-000003 preso in carico");
  REQUIRE(taken != nullptr);
  CHECK(taken->body.find("La risoluzione è prevista entro il 24/11/2026 alle 16:10.") !=
        std::string::npos);
}

TEST_CASE("a closure announced before the opening moves the promised time", "[notify][ticket]") {
  NotifyFixture f;
  RecordingSender sender;
  const NotifierOptions o = WithClocks(f);
  Notifier n(*f.commands, *f.state, f.templates, sender, o);
  REQUIRE(n.CatchUp().ok());
  f.clock.Set(At("2026-11-23T12:00:00+01:00"));
  f.Append("calendar-comune-forli-helpdesk", "calendar.closure_announced",
           {{"calendar", "helpdesk"},
            {"tenant", "comune-forli"},
            {"closure_id", "sciopero"},
            {"from", "2026-11-24"},
            {"to", "2026-11-24"},
            {"reason", "Sciopero"}});
  f.clock.Set(At("2026-11-24T09:00:00+01:00"));
  f.Append("ticket-comune-forli-3", "ticket.opened", Opening());
  f.Settle(n);
  const OutgoingMessage* ack = Find(sender, "Ticket TCK-2026-000003 ricevuto");
  REQUIRE(ack != nullptr);
  CAPTURE(ack->body);
  CHECK(ack->body.find("entro il 24/11/2026") == std::string::npos);
  // The closed Tuesday counts as a day off: received at 09:00 of the next business day.
  CHECK(ack->body.find("Un tecnico la prenderà in carico entro il 25/11/2026 alle 09:30.") !=
        std::string::npos);

  // Without workflows the notifier promises no time, and says nothing wrong.
  NotifyFixture g;
  RecordingSender plain;
  Notifier m(*g.commands, *g.state, g.templates, plain, g.Options());
  REQUIRE(m.CatchUp().ok());
  g.Append("ticket-comune-forli-3", "ticket.opened", Opening());
  g.Settle(m);
  REQUIRE(plain.sent.size() == 1);
  CHECK(plain.sent[0].body.find("entro il") == std::string::npos);
  CHECK(plain.sent[0].body.find("Le scriveremo a ogni passo") != std::string::npos);
}

TEST_CASE("a closure of the help desk is told to the requesters of its open tickets, once each",
          "[notify][ticket]") {
  NotifyFixture f;
  RecordingSender sender;
  const NotifierOptions o = WithClocks(f);
  auto opening = [](const std::string& email, const std::string& number) {
    json d = Opening();
    d["contact"] = {{"email", email}};
    d["number"] = number;
    return d;
  };
  f.clock.Set(At("2026-12-01T09:00:00+01:00"));
  f.Append("ticket-comune-forli-1", "ticket.opened", opening("ugo@example.it", "TCK-2026-000001"));
  f.Append("ticket-comune-forli-2", "ticket.opened", opening("eva@example.it", "TCK-2026-000002"));
  f.Append("ticket-comune-forli-3", "ticket.opened", opening("ugo@example.it", "TCK-2026-000003"));
  f.Append("ticket-comune-forli-4", "ticket.opened", opening("rita@example.it", "TCK-2026-000004"));
  f.Append("ticket-comune-forli-4", "ticket.taken_in_charge",
           {{"technician", "t1"}, {"technician_name", "Paola Neri"}});
  f.Append("ticket-comune-forli-4", "ticket.resolved", {{"solution", "Fatto"}});
  auto closure = [&](const std::string& tenant, const std::string& calendar,
                     const std::string& id) {
    f.Append("calendar-" + tenant + "-" + calendar, "calendar.closure_announced",
             {{"calendar", calendar},
              {"tenant", tenant},
              {"closure_id", id},
              {"from", "2026-12-24"},
              {"to", "2026-12-31"},
              {"reason", "festività natalizie"}});
  };
  {
    Notifier n(*f.commands, *f.state, f.templates, sender, o);
    REQUIRE(n.CatchUp().ok());
    f.Settle(n);
  }
  sender.sent.clear();
  // Another Comune's closure, and a calendar no ticket counts on: nobody here is told.
  closure("comune-aosta", "helpdesk", "natale");
  closure("comune-forli", "assistance", "natale");
  // The restarted notifier knows the open tickets from its state, not from memory.
  f.ReopenState();
  Notifier n(*f.commands, *f.state, f.templates, sender, o);
  REQUIRE(n.CatchUp().ok());
  f.Settle(n);
  CHECK(sender.sent.empty());

  closure("comune-forli", "helpdesk", "natale");
  f.Settle(n);
  std::multiset<std::string> to;
  for (const auto& m : sender.sent) {
    to.insert(m.recipient);
    CHECK(m.body.find("sospeso dal 24/12/2026 al 31/12/2026 compresi (festività natalizie)") !=
          std::string::npos);
  }
  // Ugo has two open tickets and gets one message; Rita's ticket is resolved.
  CHECK(to == std::multiset<std::string>{"eva@example.it", "ugo@example.it"});
}
