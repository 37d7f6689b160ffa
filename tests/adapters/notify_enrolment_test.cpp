// Seed 003: the applicant is told each service's outcome of an enrolment (admitted, moved up
// from the waiting list by the system, placed on the waiting list, rejected with its reason) at
// the e-mail and mobile the application gives, in Italian, once per outcome across restarts.
#include <catch2/catch.hpp>

#include "domain/accounts.h"
#include "domain/sample_payloads.h"
#include "notify_fixture.h"

using namespace procedo;
using namespace procedo::projections;
using nlohmann::json;
using procedo::testing::NotifyFixture;
using procedo::testing::RecordingSender;
using procedo::testing::SamplePayload;

namespace {

const Actor kOperator{"op1", "operator", "comune-aosta"};
const Actor kCitizen{"cit1", "citizen", "comune-aosta"};

void Run(NotifyFixture& f, const Actor& who, const std::string& stream, const std::string& name,
         json payload = json::object()) {
  Command c;
  c.stream = stream;
  c.name = name;
  c.payload = std::move(payload);
  auto r = f.commands->Handle(c, who);
  INFO(name << " on " << stream << ": "
            << (r.ok() ? (r->accepted() ? "" : r->rejection->message) : r.status().ToString()));
  REQUIRE(r.ok());
  REQUIRE(r->accepted());
}

// Submitted and ranked for the canteen and the transport, with the contact `applicant` adds.
void Ranked(NotifyFixture& f, const std::string& stream, const json& contact) {
  json start = SamplePayload("start_enrolment");
  start["applicant"].update(contact);
  Run(f, kCitizen, stream, "start_enrolment", start);
  Run(f, kCitizen, stream, "complete_details", SamplePayload("complete_details"));
  Run(f, kCitizen, stream, "submit_enrolment");
  Run(f, kOperator, stream, "rank_for_service", {{"service", "canteen"}});
  Run(f, kOperator, stream, "rank_for_service", {{"service", "transport"}});
}

NotifierOptions WithCatalogues(NotifyFixture& f) {
  NotifierOptions o = f.Options();
  o.services = f.domain->services;
  o.tenants = f.domain->calendars;
  return o;
}

const OutgoingMessage& Only(const std::vector<OutgoingMessage>& sent, const std::string& type,
                            const std::string& channel) {
  const OutgoingMessage* found = nullptr;
  for (const auto& m : sent) {
    if (m.source_type != type || m.channel != channel) continue;
    REQUIRE(found == nullptr);
    found = &m;
  }
  REQUIRE(found != nullptr);
  return *found;
}

}  // namespace

TEST_CASE("an enrolment's outcomes reach the applicant by e-mail and SMS, once", "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  const std::string s = "enrolment-comune-aosta-1";
  Ranked(f, s, {{"email", "carla@example.it"}, {"phone", "+39 333 1112223"}});
  Run(f, kOperator, s, "admit_to_service", {{"service", "canteen"}});
  Run(f, kOperator, s, "place_on_waiting_list",
      {{"service", "transport"}, {"reason", "Posti esauriti sulla linea"}});

  {
    Notifier notifier(*f.commands, *f.state, f.templates, sender, WithCatalogues(f));
    REQUIRE(notifier.CatchUp().ok());
    f.Settle(notifier);
  }
  REQUIRE(sender.sent.size() == 4);
  const auto& admitted = Only(sender.sent, "enrolment.admitted", "email");
  CHECK(admitted.recipient == "carla@example.it");
  CHECK(admitted.source_stream == s);
  CHECK(admitted.subject == "Mensa scolastica: domanda di Luca Blanc accolta");
  CHECK_THAT(admitted.body, Catch::StartsWith("Gentile Carla Blanc,"));
  CHECK_THAT(admitted.body,
             Catch::Contains("la domanda di iscrizione di Luca Blanc al servizio Mensa scolastica "
                             "presso Scuola primaria Saint-Roch è stata accolta (domanda n. 1, "
                             "Comune di Aosta)"));
  CHECK_THAT(admitted.body, Catch::Contains("https://pa.example.it/servizi/iscrizioni/" + s));
  CHECK_THAT(admitted.body, !Catch::Contains("lista d'attesa è scorsa"));
  CHECK(Only(sender.sent, "enrolment.admitted", "sms").recipient == "+39 333 1112223");

  const auto& waiting = Only(sender.sent, "enrolment.waitlisted", "email");
  CHECK(waiting.subject == "Trasporto scolastico: Luca Blanc in lista d'attesa");
  CHECK_THAT(waiting.body, Catch::Contains("Motivo: Posti esauriti sulla linea"));
  CHECK(Only(sender.sent, "enrolment.waitlisted", "sms").body ==
        "Comune di Aosta: Domanda n. 1 di Luca Blanc per Trasporto scolastico (Scuola primaria "
        "Saint-Roch) in lista d'attesa. La avviseremo quando si libererà un posto.");
  // Each delivery is on the log under its message id.
  for (const auto& m : sender.sent) {
    CHECK(f.Types("notification-" + m.message_id) == std::vector<std::string>{"notification.sent"});
  }

  // The system moves the application up the waiting list; a restarted notifier tells only that.
  Run(f, Actor::System("waiting-list", "comune-aosta"), s, "admit_to_service",
      {{"service", "transport"},
       {"released_by",
        {{"stream",
          domain::PlacesReleasedStream("comune-aosta", "transport", "primaria_saint_roch")},
         {"version", 1},
         {"enrolment", "enrolment-comune-aosta-9"}}}});
  f.ReopenState();
  RecordingSender after;
  Notifier restarted(*f.commands, *f.state, f.templates, after, WithCatalogues(f));
  REQUIRE(restarted.CatchUp().ok());
  f.Settle(restarted);
  REQUIRE(after.sent.size() == 2);
  const auto& moved = Only(after.sent, "enrolment.admitted", "email");
  CHECK(moved.subject == "Trasporto scolastico: domanda di Luca Blanc accolta");
  CHECK_THAT(moved.body, Catch::Contains("si è liberato un posto e la lista d'attesa è scorsa"));
  CHECK_THAT(Only(after.sent, "enrolment.admitted", "sms").body,
             Catch::Contains("accolta dalla lista d'attesa"));
}

TEST_CASE("a rejection tells its reason; an application without a contact is told nothing",
          "[notify]") {
  NotifyFixture f;
  RecordingSender sender;
  Ranked(f, "enrolment-comune-aosta-1", {{"email", "carla@example.it"}});
  Ranked(f, "enrolment-comune-aosta-2", json::object());
  for (const char* s : {"enrolment-comune-aosta-1", "enrolment-comune-aosta-2"}) {
    Run(f, kOperator, s, "reject_for_service",
        {{"service", "canteen"}, {"reason", "Domanda fuori termine"}});
  }
  Notifier notifier(*f.commands, *f.state, f.templates, sender, WithCatalogues(f));
  REQUIRE(notifier.CatchUp().ok());
  f.Settle(notifier);
  REQUIRE(sender.sent.size() == 1);  // e-mail only: no mobile given, and nothing for the other
  const auto& rejected = Only(sender.sent, "enrolment.rejected", "email");
  CHECK(rejected.recipient == "carla@example.it");
  CHECK(rejected.subject == "Mensa scolastica: domanda di Luca Blanc respinta");
  CHECK_THAT(rejected.body, Catch::Contains("è stata respinta.\nMotivo: Domanda fuori termine\n"));
  CHECK_THAT(rejected.body, Catch::Contains("protocollo@comune.aosta.example.it"));
}
