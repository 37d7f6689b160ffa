// Seed 003 to the end: an application ranked, admitted (its account opened in the same append),
// put on the waiting list or withdrawn; prepaid credit with the low-credit alert; a periodic
// position's monthly invoice; and every bad input refused with nothing appended.
#include "domain/accounts.h"

#include <fstream>

#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

const Actor kOp = A("op1", "operator");

struct Application {
  std::string service = "canteen";
  std::string site = "primaria_saint_roch";
  std::optional<int64_t> isee;
  bool resident = true;
  std::string citizen = "cit1";
};

// Steps 1 and 2 and the submission, online by the citizen.
void Submit(WorkflowFixture& f, const std::string& stream, const Application& a) {
  const Actor cit = A(a.citizen, "citizen");
  json start = SamplePayload("start_enrolment");
  start["services"] = {a.service};
  start["site"] = a.site;
  start["resident"] = a.resident;
  if (a.isee) start["isee_cents"] = *a.isee;
  f.Must(cit, stream, "start_enrolment", start);
  f.Must(cit, stream, "complete_details", {{"details", {{a.service, SampleAnswers(a.service)}}}});
  f.Must(cit, stream, "submit_enrolment");
}

std::vector<Event> EventsOf(WorkflowFixture& f, const std::string& stream) {
  auto events = f.logf.log->ReadStream(stream, 1, Direction::kForward, 100'000);
  REQUIRE(events.ok());
  return std::move(events).value();
}

int Count(WorkflowFixture& f, const std::string& stream, const std::string& type) {
  int n = 0;
  for (const auto& e : EventsOf(f, stream)) n += e.type == type;
  return n;
}

json Ledger(WorkflowFixture& f, const std::string& account) {
  return f.State(account).derived.value("account_ledger", json::object());
}

// A refusal by decide: the reason, and nothing appended.
Rejection Refused(WorkflowFixture& f, const Actor& who, const std::string& stream,
                  const std::string& command, json payload = json::object()) {
  const uint64_t head = f.logf.log->LastPosition();
  auto r = f.Run(who, stream, command, std::move(payload));
  REQUIRE(r.ok());
  INFO(command << " on " << stream);
  REQUIRE_FALSE(r->accepted());
  CHECK(f.logf.log->LastPosition() == head);
  return *r->rejection;
}

// A copy of the repository's domain whose comune-aosta services are changed by `edit`.
std::string DomainWith(TempDir& tmp, const std::function<void(json&)>& edit) {
  std::filesystem::copy(SourceDir() + "/domain", tmp.sub("domain"),
                        std::filesystem::copy_options::recursive);
  const std::string path = tmp.sub("domain") + "/services/comune-aosta.json";
  json doc = ReadJsonFile(path).value();
  edit(doc);
  std::ofstream(path, std::ios::trunc) << doc.dump(2);
  return tmp.sub("domain");
}

json Meal(const std::string& id, const std::string& date = "2026-09-22") {
  return {{"movement_id", id}, {"date", date}, {"site", "primaria_saint_roch"}};
}

}  // namespace

TEST_CASE("enrolment, ranking, admission with its account, meals, low-credit alert, top-up",
          "[accounts]") {
  WorkflowFixture f;
  // Sealed, the people's values and the copies the system makes of them pass their schemas
  // (checked by the fixture) and open to what was given.
  const bool sealed = GENERATE(false, true);
  if (sealed) f.SealPersonalData();
  auto given = [&](const json& v) {
    return sealed ? json(f.personal->Show(v.get<std::string>())) : v;
  };
  const std::string s = "enrolment-comune-aosta-1";
  Application a;
  a.isee = 700'000;
  Submit(f, s, a);

  auto ranked = f.Must(kOp, s, "rank_for_service", {{"service", "canteen"}});
  json score = json::parse(ranked.append.events.at(0)->data);
  CHECK(score["criteria"] == json({"isee_band", "residence", "sequence"}));
  CHECK(score["score"] == json({{"isee_band", 0}, {"residence", 0}, {"sequence", 1}}));
  CHECK(score["rank_key"] == json({0, 0, 1}));

  // One append: the admission, the place and the account's first event.
  auto admitted = f.Must(kOp, s, "admit_to_service", {{"service", "canteen"}});
  std::map<std::string, std::string> types;
  for (const auto& e : admitted.append.events) types[e->stream] = e->type;
  const std::string account = domain::AccountStream(s, "canteen");
  CHECK(account == "account-comune-aosta-1-canteen");
  CHECK(types[s] == "enrolment.admitted");
  CHECK(types[account] == "account.opened");
  CHECK(types[domain::PlacesTakenStream("comune-aosta", "canteen", "primaria_saint_roch")] ==
        "place.taken");
  CHECK(f.State(s).derived["enrolment_outcomes"]["canteen"]["outcome"] == "admitted");
  json ledger = Ledger(f, account);
  CHECK(ledger["regime"] == "prepaid");
  CHECK(ledger["tariffs"][0]["amount_cents"] == 390);  // ISEE 7,000 euro: the second band
  CHECK(given(ledger["beneficiary_name"]) == "Luca Blanc");
  CHECK(crypto::LooksPersonal(ledger["beneficiary_name"].get<std::string>()) == sealed);
  // The ISEE: sealed with the applicant's key (special group), it still set the band and the
  // reduced tariff above, opened for those decisions alone; the account keeps the sealed copy.
  const json started = json::parse(EventsOf(f, s).at(0).data);
  const json opened = json::parse(EventsOf(f, account).at(0).data);
  CHECK(opened["isee_cents"] == started["isee_cents"]);
  CHECK(started["isee_cents"].is_string() == sealed);
  if (sealed) {
    const std::string isee = started["isee_cents"];
    CHECK(crypto::ParsePersonal(isee)->group == "special");
    CHECK(crypto::ParsePersonal(isee)->subject == started["applicant"]["subject"]);
    CHECK(f.personal->ShowJson(isee) == 700'000);
  } else {
    CHECK(started["isee_cents"] == 700'000);
  }
  // The residence: sealed too (identity group), opened for the ranking's residence criterion
  // alone (0 above: resident; not opened, it would have counted as not resident).
  CHECK(started["resident"].is_string() == sealed);
  if (sealed) {
    const std::string resident = started["resident"];
    CHECK(crypto::ParsePersonal(resident)->group == "identity");
    CHECK(crypto::ParsePersonal(resident)->subject == started["applicant"]["subject"]);
    CHECK(f.personal->ShowJson(resident) == true);
  } else {
    CHECK(started["resident"] == true);
  }

  // The holder (the citizen who applied online) chooses the alert; the Ente's threshold applies.
  f.Must(A("cit1", "citizen"), account, "set_low_credit_alert",
         {{"channels", {"email"}}, {"email", "carla@example.it"}});
  CHECK(Refused(f, A("cit2", "citizen"), account, "set_low_credit_alert",
                {{"channels", json::array()}})
            .guard == "requester_if_citizen");
  f.Must(kOp, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", 2000}});

  f.Must(kOp, account, "record_usage", Meal("M1"));                  // 1610
  f.Must(kOp, account, "record_usage", Meal("M2"));                  // 1220
  auto crossing = f.Must(kOp, account, "record_usage", Meal("M3"));  // 830: below 1000
  REQUIRE(crossing.append.events.size() == 2);
  CHECK(crossing.append.events[1]->type == "account.low_credit_reached");
  json reached = json::parse(crossing.append.events[1]->data);
  CHECK(reached["balance_cents"] == 830);
  CHECK(reached["threshold_cents"] == 1000);
  CHECK(given(reached["email"]) == "carla@example.it");
  CHECK(crypto::LooksPersonal(reached["email"].get<std::string>()) == sealed);
  f.Must(kOp, account, "record_usage", Meal("M4"));  // 440: already told
  CHECK(Count(f, account, "account.low_credit_reached") == 1);

  // A top-up back above the threshold arms it again; the next crossing is told again.
  f.Must(kOp, account, "top_up_account", {{"movement_id", "R2"}, {"amount_cents", 1000}});
  CHECK(Ledger(f, account)["armed"] == true);
  f.Must(kOp, account, "record_usage", Meal("M5"));  // 1050
  f.Must(kOp, account, "record_usage", Meal("M6"));  // 660
  CHECK(Count(f, account, "account.low_credit_reached") == 2);
  CHECK(Ledger(f, account)["balance_cents"] == 660);
}

TEST_CASE("the waiting list moves up when an admitted beneficiary withdraws", "[accounts]") {
  TempDir tmp;
  WorkflowFixture f(DomainWith(tmp, [](json& d) {
    for (auto& s : d["services"]) {
      if (s["id"] == "nursery") s["ranking"]["places"]["nido_la_trottola"] = 1;
    }
  }));
  Application first, second;
  first.service = second.service = "nursery";
  first.site = second.site = "nido_la_trottola";
  first.isee = 500'000;  // the lower ISEE band ranks first although presented second
  second.isee = 2'000'000;
  second.citizen = "cit2";
  Submit(f, "enrolment-comune-aosta-2", second);
  Submit(f, "enrolment-comune-aosta-1", first);
  auto key = [&](const std::string& s) {
    auto r = f.Must(kOp, s, "rank_for_service", {{"service", "nursery"}});
    return json::parse(r.append.events.at(0)->data)["rank_key"];
  };
  CHECK(key("enrolment-comune-aosta-1") == json({0, 0, 2}));
  CHECK(key("enrolment-comune-aosta-2") == json({2, 0, 1}));

  f.Must(kOp, "enrolment-comune-aosta-1", "admit_to_service", {{"service", "nursery"}});
  const uint64_t head = f.logf.log->LastPosition();
  auto full = f.Run(kOp, "enrolment-comune-aosta-2", "admit_to_service", {{"service", "nursery"}});
  REQUIRE_FALSE(full.ok());
  CHECK(full.status().IsInvalidArgument());
  CHECK_THAT(full.status().message(), Catch::Contains("place_on_waiting_list"));
  CHECK(f.logf.log->LastPosition() == head);
  f.Must(kOp, "enrolment-comune-aosta-2", "place_on_waiting_list", {{"service", "nursery"}});

  // The first withdraws: the place is freed and the position closed, in one append.
  auto withdrawn = f.Must(A("cit1", "citizen"), "enrolment-comune-aosta-1", "withdraw_from_service",
                          {{"service", "nursery"}});
  CHECK(json::parse(withdrawn.append.events.at(0)->data)["place_released"] == true);
  const std::string closed = domain::AccountStream("enrolment-comune-aosta-1", "nursery");
  CHECK(f.State(closed).status == "closed");
  // A closed position is still invoiced for the period it was closed in, and no other.
  CHECK(Refused(f, kOp, closed, "issue_invoice", {{"period", "2026-08"}}).guard ==
        "account_invoice");
  CHECK(Refused(f, kOp, closed, "record_usage", Meal("M1")).kind ==
        Rejection::Kind::kNotAllowedInState);

  auto moved =
      f.Must(kOp, "enrolment-comune-aosta-2", "admit_to_service", {{"service", "nursery"}});
  CHECK(json::parse(moved.append.events.at(0)->data)["place"] == 1);
  CHECK(f.State("enrolment-comune-aosta-2").derived["enrolment_outcomes"]["nursery"]["outcome"] ==
        "admitted");
  // A decided service is not decided again; a rejection needs a ranked application.
  CHECK(Refused(f, kOp, "enrolment-comune-aosta-1", "admit_to_service", {{"service", "nursery"}})
            .guard == "service_outcome_allowed");
}

TEST_CASE("a month of a periodic service is invoiced once, in cents, and closed", "[accounts]") {
  WorkflowFixture f;  // 2026-09-21
  const std::string s = "enrolment-comune-aosta-1";
  Application a;
  a.service = "home_care";
  a.site = "domicilio";
  a.isee = 1'000'000;
  Submit(f, s, a);
  f.Must(kOp, s, "rank_for_service", {{"service", "home_care"}});
  f.Must(kOp, s, "admit_to_service", {{"service", "home_care"}});
  const std::string account = domain::AccountStream(s, "home_care");
  auto hours = [](const std::string& id, const std::string& date, int n) {
    return json{{"movement_id", id}, {"date", date}, {"site", "domicilio"}, {"quantity", n}};
  };
  f.Must(kOp, account, "record_usage", hours("H1", "2026-09-22", 2));
  f.Must(kOp, account, "record_usage", hours("H2", "2026-09-24", 3));
  f.Must(kOp, account, "record_usage", hours("H3", "2026-10-01", 1));  // next month's

  CHECK_THAT(Refused(f, kOp, account, "issue_invoice", {{"period", "2026-09"}}).message,
             Catch::Contains("has not ended yet"));
  f.logf.clock.Advance(std::chrono::hours(24 * 10));  // 1 October
  auto issued = f.Must(Actor::System("billing", "comune-aosta"), account, "issue_invoice",
                       {{"period", "2026-09"}});
  json invoice = json::parse(issued.append.events.at(0)->data);
  CHECK(invoice["total_cents"] == 4500);  // 5 hours at 9,00 euro (ISEE 10,000 euro)
  CHECK(invoice["lines"] == json::array({{{"tariff", "hour"},
                                          {"quantity", 5},
                                          {"unit_amount_cents", 900},
                                          {"amount_cents", 4500}}}));
  CHECK(Refused(f, kOp, account, "issue_invoice", {{"period", "2026-09"}}).guard ==
        "account_invoice");
  CHECK_THAT(Refused(f, kOp, account, "record_usage", hours("H4", "2026-09-30", 1)).message,
             Catch::Contains("billing period 2026-09 is closed"));
  CHECK_THAT(
      Refused(f, kOp, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", 1000}})
          .message,
      Catch::Contains("billed periodically"));
}

TEST_CASE("bad movements are refused with what to do, and nothing is half-applied", "[accounts]") {
  WorkflowFixture f;
  const std::string s = "enrolment-comune-aosta-1";
  Submit(f, s, Application());
  const std::string account = domain::AccountStream(s, "canteen");

  SECTION("no admission, no account: a movement has nowhere to go") {
    CHECK(Refused(f, kOp, account, "record_usage", Meal("M1")).kind ==
          Rejection::Kind::kNotAllowedInState);
    CHECK(Refused(f, kOp, s, "admit_to_service", {{"service", "canteen"}}).guard ==
          "service_outcome_allowed");
    CHECK_THAT(Refused(f, kOp, s, "rank_for_service", {{"service", "nursery"}}).message,
               Catch::Contains("did not choose service 'nursery'"));
    CHECK(Refused(f, Actor::System("x", "comune-aosta"), account, "open_account",
                  {{"enrolment", s},
                   {"service", "canteen"},
                   {"service_name", "Mensa"},
                   {"site", "primaria_saint_roch"},
                   {"regime", "prepaid"},
                   {"tariffs", json::array({{{"id", "meal"},
                                             {"per", "use"},
                                             {"amount_cents", 0},
                                             {"full_amount_cents", 0}}})},
                   {"beneficiary_name", "Luca"},
                   {"opened_at", "2026-09-21T00:00:00Z"}})
              .guard == "opened_by_admission");
  }
  SECTION("after admission") {
    f.Must(kOp, s, "rank_for_service", {{"service", "canteen"}});
    f.Must(kOp, s, "admit_to_service", {{"service", "canteen"}});
    CHECK(Refused(f, kOp, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", -5}})
              .kind == Rejection::Kind::kPayloadInvalid);
    CHECK_THAT(Refused(f, kOp, account, "record_usage",
                       {{"movement_id", "M1"}, {"date", "2026-09-22"}, {"site", "palestra"}})
                   .message,
               Catch::Contains("use one of: primaria_saint_roch, primaria_einaudi"));
    CHECK_THAT(Refused(f, kOp, account, "record_usage", Meal("M1", "2026-02-30")).message,
               Catch::Contains("not a day of the calendar"));
    CHECK_THAT(Refused(f, kOp, account, "set_low_credit_alert", {{"channels", {"sms"}}}).message,
               Catch::Contains("\"phone\""));

    // The same movement again changes nothing; the same id with other content is refused.
    f.Must(kOp, account, "record_usage", Meal("M1"));
    const uint64_t head = f.logf.log->LastPosition();
    auto again = f.Must(kOp, account, "record_usage", Meal("M1"));
    CHECK(again.append.events.empty());
    CHECK(f.logf.log->LastPosition() == head);
    CHECK_THAT(Refused(f, kOp, account, "record_usage", Meal("M1", "2026-09-23")).message,
               Catch::Contains("movement 'M1' was already recorded"));
    f.Must(kOp, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", 500}});
    f.Must(kOp, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", 500}});
    CHECK(Refused(f, kOp, account, "top_up_account", {{"movement_id", "R1"}, {"amount_cents", 600}})
              .guard == "account_movement");
    CHECK(Ledger(f, account)["balance_cents"] == 500 - 520);  // full tariff: no ISEE declared
    CHECK(Refused(f, kOp, account, "issue_invoice", {{"period", "2026-08"}}).guard ==
          "account_invoice");
  }
}

TEST_CASE("a household numbers itself and its members; a position names the member it is for",
          "[accounts]") {
  WorkflowFixture f;
  // Sealed, the members' fiscal codes cannot be compared with the one given: their subjects are.
  const bool sealed = GENERATE(false, true);
  if (sealed) f.SealPersonalData();
  const Actor cit = A("cit1", "citizen");
  const std::string h = "household-comune-aosta-1";
  auto registered = f.Must(cit, h, "register_household", SamplePayload("register_household"));
  json first = json::parse(registered.append.events.at(0)->data);
  CHECK(first["number"] == "NUC-2026-000001");
  CHECK(first["member"] == "m1");
  CHECK(first["source"] == "declared");
  // The household's residence, as the applicant declared it: sealed with their key.
  CHECK(first["resident"].is_string() == sealed);
  const json resident = SamplePayload("register_household")["resident"];
  CHECK((sealed ? f.personal->ShowJson(first["resident"].get<std::string>()) : first["resident"]) ==
        resident);
  auto luca = f.Must(cit, h, "declare_dependant", SamplePayload("declare_dependant"));
  CHECK(json::parse(luca.append.events.at(0)->data)["member"] == "m2");
  json anna = {
      {"name", "Anna Blanc"}, {"tax_code", "BLNNNA18E50A326Q"}, {"birth_date", "2018-05-10"}};
  CHECK(json::parse(
            f.Must(cit, h, "declare_dependant", anna).append.events.at(0)->data)["member"] == "m3");
  const uint64_t head = f.logf.log->LastPosition();
  auto twice = f.Run(cit, h, "declare_dependant", SamplePayload("declare_dependant"));
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.status().Is(Status::SubCode::kAlreadyPresent));
  CHECK_THAT(twice.status().message(), Catch::Contains("already member m2"));
  CHECK(f.logf.log->LastPosition() == head);
  if (sealed) {
    const json d = json::parse(luca.append.events.at(0)->data);
    CHECK(crypto::LooksPersonal(d["tax_code"].get<std::string>()));
    CHECK(luca.append.events.at(0)->data.find("BLNLCU15C10A326P") == std::string::npos);
    CHECK(f.personal->Open(d["name"].get<std::string>()).value() ==
          SamplePayload("declare_dependant")["name"]);
  }
  CHECK(Refused(f, A("cit2", "citizen"), h, "declare_dependant", anna).guard ==
        "requester_if_citizen");
  CHECK(f.State(h).derived["household_members"].size() == 3);

  // The application for Anna names her member id; her position carries it.
  const std::string s = "enrolment-comune-aosta-1";
  json start = SamplePayload("start_enrolment");
  start["services"] = {"canteen"};
  start["household"] = {{"stream", h}, {"member", "m3"}};
  f.Must(cit, s, "start_enrolment", start);
  f.Must(cit, s, "complete_details", {{"details", {{"canteen", SampleAnswers("canteen")}}}});
  f.Must(cit, s, "submit_enrolment");
  f.Must(kOp, s, "rank_for_service", {{"service", "canteen"}});
  f.Must(kOp, s, "admit_to_service", {{"service", "canteen"}});
  CHECK(f.State(domain::AccountStream(s, "canteen")).fields["household"] ==
        json({{"stream", h}, {"member", "m3"}}));
}

TEST_CASE("the loader refuses a ranking that is not the catalogue's sites or ends in a tie",
          "[accounts]") {
  TempDir tmp;
  const std::string dir = DomainWith(tmp, [](json& d) {
    d["services"][0]["ranking"]["places"].erase("primaria_einaudi");
    d["services"][0]["ranking"]["criteria"] = {"sequence", "residence"};
    d["services"][1]["low_credit_threshold_cents"] = 500;
  });
  auto loaded = domain::LoadDomain(dir, SourceDir() + "/schemas");
  REQUIRE_FALSE(loaded.ok());
  const std::string m = loaded.status().message();
  CHECK_THAT(m, Catch::Contains("at /services/0/ranking/places: site 'primaria_einaudi'"));
  CHECK_THAT(m, Catch::Contains("at /services/0/ranking/criteria"));
  CHECK_THAT(m, Catch::Contains("at /services/1/low_credit_threshold_cents"));
}

}  // namespace procedo::testing
