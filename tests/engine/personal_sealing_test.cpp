// How the emitter seals personal fields on the one write path: ahead of an allocating append's
// lock or in place, once per event, and never leaving a value as given in the log.
#include <catch2/catch.hpp>
#include <fstream>

#include "engine/workflow/emitter.h"
#include "engine/workflow/personal_fields.h"
#include "personal_fixture.h"
#include "support/disk_holds.h"

namespace procedo {
namespace {

using nlohmann::json;
using testing::DiskHolds;
using testing::Keys;
using testing::kSchema;

}  // namespace

TEST_CASE("values sealed ahead go in where the value is still the one given", "[crypto]") {
  Keys k;
  auto sites = PersonalSitesOf(kSchema, "t.json").value();
  const std::string event = "0190d5a2-7c11-7000-8000-0000000000cc";
  json data = json::parse(R"({"applicant": {"name": "Maria Rossi", "email": "maria@example.it"},
      "children": [{"name": "Luca Rossi"}, {"name": "Anna Rossi"}, {"name": "Ugo Rossi"}]})");
  std::vector<SideRow> carry;
  REQUIRE(PrepareSubjects(sites, *k.personal, "t1", data, &carry).ok());
  const json prepared = data;
  std::vector<SealedValue> ahead;
  REQUIRE(SealPersonal(sites, *k.personal, "t1", event, data, &ahead).ok());
  CHECK(data == prepared);  // sealed aside, nothing changed
  REQUIRE(ahead.size() == 5);

  // Between the two (an allocator's turn), one value changes and one object goes.
  data["children"][0]["name"] = "Luca Bianchi";
  data["children"].erase(2);
  PutSealed(ahead, data);
  CHECK(data["applicant"]["name"].get<std::string>().starts_with("pd1."));
  CHECK(data["children"][1]["name"].get<std::string>().starts_with("pd1."));
  CHECK(data["children"][0]["name"] == "Luca Bianchi");  // changed since: not the sealed one
  CHECK(data["children"].size() == 2);
  REQUIRE(SealPersonal(sites, *k.personal, "t1", event, data).ok());
  CHECK(data.dump().find("Rossi") == std::string::npos);
  CHECK(data.dump().find("Bianchi") == std::string::npos);
  // Each opens for its own event and place, as sealing in place would have made it.
  auto open = [&](const char* at) {
    return k.personal->Open(data[json::json_pointer(at)].get<std::string>(), event, at).value();
  };
  CHECK(open("/applicant/name") == "Maria Rossi");
  CHECK(open("/applicant/email") == "maria@example.it");
  CHECK(open("/children/0/name") == "Luca Bianchi");
  CHECK(open("/children/1/name") == "Anna Rossi");
  CHECK(data["applicant"]["subject"] == prepared["applicant"]["subject"]);
}

TEST_CASE("the emitter seals personal fields once, and the log holds no clear value", "[crypto]") {
  Keys k;
  testing::LogFixture& f = k.logf;
  testing::TempDir schemas;
  {
    std::ofstream(schemas.sub("person.registered.json")) << kSchema.dump();
  }
  auto event_schemas = EventSchemas::LoadDir(schemas.path()).value();
  REQUIRE(event_schemas.Personal("person.registered") != nullptr);
  EventEmitter emitter(*f.log, event_schemas, k.personal.get(), f.clock);
  EmitHeader h{"person-1", ExpectedVersion::NoStream(), R"({"id":"op1"})", "t1", "", "", ""};

  // The schema is checked on the values as given: a bad e-mail is refused, nothing sealed.
  std::vector<DecidedEvent> bad{
      {"person.registered", {{"applicant", {{"name", "Maria"}, {"email", "nope"}}}}, {}}};
  auto refused = emitter.Emit(h, bad);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().Is(Status::SubCode::kSchemaViolation));
  CHECK(bad[0].data["applicant"]["name"] == "Maria");

  std::vector<DecidedEvent> events{
      {"person.registered",
       {{"applicant", {{"name", "Maria Rossi"}, {"email", "maria@example.it"}}}},
       {}}};
  auto req = emitter.Build(h, events);
  REQUIRE(req.ok());
  // Built again (an append tried again): the same event id and sealed text, the schema not
  // asked about the sealed values.
  const json sealed = events[0].data;
  auto again = emitter.Build(h, events);
  REQUIRE(again.ok());
  CHECK(events[0].data == sealed);
  REQUIRE(req->events[0].id.has_value());
  CHECK(again->events[0].id == req->events[0].id);
  // Sealed ahead (before an allocating append's lock), then built: the values go in for the id
  // they were sealed for, and the values as given are not kept with the decided event.
  std::vector<DecidedEvent> ahead{
      {"person.registered",
       {{"applicant", {{"name", "Anna Neri"}, {"email", "anna@example.it"}}}},
       {}}};
  REQUIRE(emitter.PrepareSubjects("t1", ahead).ok());
  REQUIRE(ahead[0].sealed_ahead.size() == 2);
  CHECK(ahead[0].data["applicant"]["name"] == "Anna Neri");
  const Uuid ahead_id = ahead[0].sealed_ahead_for.value();
  EmitHeader h4{"person-4", ExpectedVersion::NoStream(), R"({"id":"op1"})", "t1", "", "", ""};
  auto built = emitter.Build(h4, ahead);
  REQUIRE(built.ok());
  CHECK(built->events[0].id == ahead_id);
  CHECK(ahead[0].sealed_ahead.empty());
  CHECK(built->events[0].data.find("Anna") == std::string::npos);
  CHECK(k.personal
            ->Open(ahead[0].data["applicant"]["name"].get<std::string>(), UuidToString(ahead_id),
                   "/applicant/name")
            .value() == "Anna Neri");

  auto appended = emitter.Emit(h, events);
  REQUIRE(appended.ok());
  const Event& e = *appended->events[0];
  CHECK(e.id == events[0].sealed_for.value());
  const json stored = json::parse(e.data);
  CHECK(k.personal
            ->Open(stored["applicant"]["name"].get<std::string>(), UuidToString(e.id),
                   "/applicant/name")
            .value() == "Maria Rossi");
  // A copy of a sealed value the system makes (from the stream's state) is kept, not sealed
  // again: it still opens, where it was sealed.
  std::vector<DecidedEvent> copied{
      {"person.registered", {{"applicant", {{"name", stored["applicant"]["name"]}}}}, {}}};
  EmitHeader h3{"person-3", ExpectedVersion::Any(), R"({"id":"op1"})", "t1", "", "", ""};
  auto kept_copy = emitter.Emit(h3, copied);
  REQUIRE(kept_copy.ok());
  const json copy = json::parse(kept_copy->events[0]->data);
  CHECK(copy["applicant"]["name"] == stored["applicant"]["name"]);
  CHECK(k.personal->Show(copy["applicant"]["name"].get<std::string>()) == "Maria Rossi");

  k.personal.reset();
  k.store.reset();
  f.log.reset();
  CHECK_FALSE(DiskHolds(f.options.path, "Maria Rossi"));
  CHECK_FALSE(DiskHolds(f.options.path, "maria@example.it"));

  // Without the sealing (no master key), the same event is kept as given.
  f.Reopen();
  EventEmitter plain(*f.log, event_schemas);
  std::vector<DecidedEvent> clear{{"person.registered", {{"applicant", {{"name", "Luca"}}}}, {}}};
  EmitHeader h2{"person-2", ExpectedVersion::NoStream(), R"({"id":"op1"})", "t1", "", "", ""};
  auto kept = plain.Emit(h2, clear);
  REQUIRE(kept.ok());
  CHECK(json::parse(kept->events[0]->data)["applicant"]["name"] == "Luca");
}

}  // namespace procedo
