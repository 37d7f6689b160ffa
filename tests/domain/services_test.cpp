// Seed 003's services catalogue: the loader refuses a bad file with where and what to fix, and
// the enrolment's two steps are checked against it, a refusal appending nothing.
#include "domain/services.h"

#include <fstream>

#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

using Kind = domain::EnrolmentProblem::Kind;

// The domain with comune-aosta's services file changed by `edit`: the load's error, "" if none.
std::string LoadWith(const std::function<void(json&)>& edit,
                     const std::string& file = "comune-aosta.json") {
  TempDir tmp;
  std::filesystem::copy(SourceDir() + "/domain", tmp.sub("domain"),
                        std::filesystem::copy_options::recursive);
  const std::string path = tmp.sub("domain") + "/services/comune-aosta.json";
  json doc = ReadJsonFile(path).value();
  edit(doc);
  std::filesystem::remove(path);
  std::ofstream(tmp.sub("domain") + "/services/" + file) << doc.dump(2);
  auto d = domain::LoadDomain(tmp.sub("domain"), SourceDir() + "/schemas");
  if (d.ok()) return "";
  CHECK(d.status().IsInvalidArgument());
  return d.status().message();
}

json& Service(json& doc, const std::string& id) {
  for (auto& s : doc["services"]) {
    if (s["id"] == id) return s;
  }
  throw std::logic_error("no service " + id);
}

std::vector<Kind> Kinds(const std::vector<domain::EnrolmentProblem>& problems) {
  std::vector<Kind> out;
  for (const auto& p : problems) out.push_back(p.kind);
  return out;
}

}  // namespace

TEST_CASE("the services catalogue of the repository loads, and an unchanged copy too") {
  auto d = MustLoadDomain(SourceDir() + "/domain");
  const domain::TenantServices* aosta = d->services->ForTenant("comune-aosta");
  REQUIRE(aosta != nullptr);
  for (const char* id : {"canteen", "nursery", "transport", "home_care"}) {
    INFO(id);
    REQUIRE(aosta->Find(id) != nullptr);
    CHECK_FALSE(aosta->Find(id)->questions.empty());
  }
  CHECK(d->services->ForTenant("comune-forli") != nullptr);
  CHECK(d->services->ForTenant("comune-torino") == nullptr);
  CHECK(LoadWith([](json&) {}).empty());
}

TEST_CASE("the loader refuses a bad services catalogue, naming the file, the place and the fix") {
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
    const char* path;  // where the error must point
  };
  const std::vector<Case> cases = {
      {"a service id twice", [](json& d) { d["services"][1]["id"] = "canteen"; },
       "at /services/1/id: service id 'canteen' is already used"},
      {"a site id twice", [](json& d) { d["sites"][1]["id"] = "primaria_saint_roch"; },
       "at /sites/1/id"},
      {"a site no one declared",
       [](json& d) { Service(d, "canteen")["sites"].push_back("primaria_fantasma"); },
       "at /services/0/sites/2: unknown site 'primaria_fantasma'"},
      {"choices on a text question",
       [](json& d) {
         Service(d, "canteen")["questions"][1]["choices"] =
             json::array({{{"value", "a"}, {"label", "A"}}, {{"value", "b"}, {"label", "B"}}});
       },
       "at /services/0/questions/1/choices: only a question of type \"choice\""},
      {"a choice question without choices",
       [](json& d) { Service(d, "canteen")["questions"][0].erase("choices"); },
       "at /services/0/questions/0: a choice question needs \"choices\""},
      {"a choice twice",
       [](json& d) { Service(d, "canteen")["questions"][0]["choices"][1]["value"] = "standard"; },
       "at /services/0/questions/0/choices/1/value"},
      {"a question id twice", [](json& d) { Service(d, "canteen")["questions"][2]["id"] = "diet"; },
       "at /services/0/questions/2/id: question id 'diet' is already used"},
      {"min above max", [](json& d) { Service(d, "canteen")["questions"][2]["min"] = 9; },
       "at /services/0/questions/2/min: min 9 is above max 5"},
      {"min on a text question", [](json& d) { Service(d, "canteen")["questions"][1]["min"] = 1; },
       "at /services/0/questions/1/min"},
      {"a negative tariff",
       [](json& d) { Service(d, "canteen")["tariffs"][0]["amount_cents"] = -1; },
       "at /services/0/tariffs/0/amount_cents"},
      {"ISEE bands out of order",
       [](json& d) {
         Service(d, "canteen")["tariffs"][0]["reductions"][1]["isee_up_to_cents"] = 100;
       },
       "at /services/0/tariffs/0/reductions/1/isee_up_to_cents: ISEE bands must rise"},
      {"a reduction that costs more",
       [](json& d) { Service(d, "canteen")["tariffs"][0]["reductions"][0]["amount_cents"] = 600; },
       "at /services/0/tariffs/0/reductions/0/amount_cents"},
      {"a tariff per period with no period",
       [](json& d) { Service(d, "nursery")["tariffs"][0].erase("period"); },
       "at /services/1/tariffs/0: a tariff per period needs"},
      {"an unknown regime", [](json& d) { Service(d, "nursery")["regime"] = "free"; },
       "at /services/1/regime"},
      {"an unknown question type",
       [](json& d) { Service(d, "nursery")["questions"][0]["type"] = "file"; },
       "at /services/1/questions/0/type"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    const std::string error = LoadWith(c.edit);
    INFO(error);
    CHECK(error.starts_with("invalid services catalogue:"));
    CHECK(error.find("comune-aosta.json " + std::string(c.path)) != std::string::npos);
  }
  SECTION("a file named after no tenant") {
    const std::string error = LoadWith([](json&) {}, "comune-atlantide.json");
    CHECK(error.find("comune-atlantide.json: no tenant 'comune-atlantide'") != std::string::npos);
  }
}

TEST_CASE("step 2's answers are checked against the service's questions, one rule") {
  auto d = MustLoadDomain(SourceDir() + "/domain");
  const domain::Service& canteen = *d->services->ForTenant("comune-aosta")->Find("canteen");
  const domain::Service& nursery = *d->services->ForTenant("comune-aosta")->Find("nursery");
  CHECK(domain::CheckServiceAnswers(canteen, SampleAnswers("canteen")).empty());
  CHECK(domain::CheckServiceAnswers(nursery, SampleAnswers("nursery")).empty());
  json a = SampleAnswers("canteen");
  a["allergies"] = "arachidi";  // optional, and given
  CHECK(domain::CheckServiceAnswers(canteen, a).empty());

  auto with = [](json answers, const std::string& field, json value) {
    if (value.is_discarded()) {
      answers.erase(field);
    } else {
      answers[field] = std::move(value);
    }
    return answers;
  };
  const json gone = json::value_t::discarded;
  const json c = SampleAnswers("canteen"), n = SampleAnswers("nursery");
  CHECK(Kinds(CheckServiceAnswers(canteen, with(c, "diet", gone))) ==
        std::vector{Kind::kMissingAnswer});
  CHECK(Kinds(CheckServiceAnswers(canteen, with(c, "diet", "kosher"))) ==
        std::vector{Kind::kBadChoice});
  CHECK(Kinds(CheckServiceAnswers(canteen, with(c, "diet", 3))) == std::vector{Kind::kWrongType});
  CHECK(Kinds(CheckServiceAnswers(canteen, with(c, "days_per_week", "5"))) ==
        std::vector{Kind::kWrongType});
  CHECK(Kinds(CheckServiceAnswers(canteen, with(c, "days_per_week", 2.5))) ==
        std::vector{Kind::kWrongType});
  CHECK(Kinds(CheckServiceAnswers(canteen, with(c, "days_per_week", 6))) ==
        std::vector{Kind::kOutOfRange});
  CHECK(Kinds(CheckServiceAnswers(canteen, with(c, "allergies", nullptr))) ==
        std::vector{Kind::kWrongType});
  CHECK(Kinds(CheckServiceAnswers(canteen, with(c, "pets", "cat"))) ==
        std::vector{Kind::kUnknownField});
  CHECK(Kinds(CheckServiceAnswers(nursery, with(n, "start_date", "2026-02-30"))) ==
        std::vector{Kind::kWrongType});
  CHECK(Kinds(CheckServiceAnswers(nursery, with(n, "start_date", "07/09/2026"))) ==
        std::vector{Kind::kWrongType});
  CHECK(Kinds(CheckServiceAnswers(nursery, with(n, "both_parents_working", "yes"))) ==
        std::vector{Kind::kWrongType});
  // Every problem at once, each naming its field.
  auto all = CheckServiceAnswers(canteen, json{{"diet", "kosher"}, {"colour", "red"}});
  REQUIRE(all.size() == 3);
  CHECK(all[0].field == "diet");
  CHECK(all[1].field == "days_per_week");
  CHECK(all[2].field == "colour");
}

TEST_CASE("enrolment: refused choices and answers append nothing and say what to do") {
  WorkflowFixture f;
  const Actor cit = A("cit1", "citizen");
  const std::string s = "enrolment-comune-aosta-1";
  auto refused = [&](const std::string& stream, const Actor& who, const std::string& command,
                     json payload) {
    const uint64_t before = f.logf.log->LastPosition();
    auto r = f.Run(who, stream, command, std::move(payload));
    REQUIRE(r.ok());
    REQUIRE_FALSE(r->accepted());
    CHECK(r->rejection->kind == Rejection::Kind::kGuardRefused);
    CHECK(f.logf.log->LastPosition() == before);
    return *r->rejection;
  };
  json start = SamplePayload("start_enrolment");

  SECTION("step 1: an unknown service, a site not of the service, a Comune with no catalogue") {
    json p = start;
    p["services"] = {"canteen", "swimming_pool"};
    Rejection r = refused(s, cit, "start_enrolment", p);
    CHECK(r.guard == "services_offered");
    CHECK(r.message.find("swimming_pool") != std::string::npos);
    p = start;
    p["site"] = "nido_la_trottola";  // the nursery's, not the canteen's nor the transport's
    CHECK(refused(s, cit, "start_enrolment", p).guard == "services_offered");
    p["site"] = "primaria_saffi";  // a Forlì school
    CHECK(refused(s, cit, "start_enrolment", p).guard == "services_offered");
    CHECK(refused("enrolment-comune-torino-1", A("cit1", "citizen", "comune-torino"),
                  "start_enrolment", start)
              .guard == "services_offered");
    CHECK_FALSE(f.State(s).exists());
  }

  SECTION("step 2: missing, mistyped, unknown and unchosen answers") {
    f.Must(cit, s, "start_enrolment", start);
    const uint64_t version = f.State(s).version;
    json good = SamplePayload("complete_details");
    std::vector<json> bad;
    json p = good;
    p["details"]["canteen"].erase("diet");  // required
    bad.push_back(p);
    p = good;
    p["details"]["canteen"]["days_per_week"] = "cinque";  // wrong type
    bad.push_back(p);
    p = good;
    p["details"]["transport"]["stop"] = "luna";  // not a choice
    bad.push_back(p);
    p = good;
    p["details"]["transport"]["seat"] = "window";  // unknown field
    bad.push_back(p);
    p = good;
    p["details"].erase("transport");  // a chosen service without details
    bad.push_back(p);
    p = good;
    p["details"]["nursery"] = SampleAnswers("nursery");  // not chosen in step 1
    bad.push_back(p);
    for (const auto& payload : bad) {
      INFO(payload.dump());
      Rejection r = refused(s, cit, "complete_details", payload);
      CHECK(r.guard == "details_answer_questions");
    }
    CHECK(f.State(s).version == version);
    CHECK(f.State(s).status == "draft");
  }

  SECTION("a valid enrolment goes through both steps and keeps the answers") {
    f.Must(cit, s, "start_enrolment", start);
    f.Must(cit, s, "complete_details", SamplePayload("complete_details"));
    f.Must(cit, s, "submit_enrolment");
    const WorkflowState st = f.State(s);
    CHECK(st.status == "submitted");
    CHECK(st.fields["site"] == "primaria_saint_roch");
    CHECK(st.fields["services_version"] == 1);  // the catalogue it was made under
    CHECK(st.fields["details"]["canteen"]["diet"] == "vegetarian");
    CHECK(st.fields["sequence_numbers"] == json{{"canteen", 1}, {"transport", 1}});
    // Home care is given at home: its own application, at its own "site".
    json p = start;
    p["services"] = {"home_care"};
    p["site"] = "domicilio";
    f.Must(cit, "enrolment-comune-aosta-2", "start_enrolment", p);
    f.Must(cit, "enrolment-comune-aosta-2", "complete_details",
           {{"details", {{"home_care", SampleAnswers("home_care")}}}});
  }
}

}  // namespace procedo::testing
