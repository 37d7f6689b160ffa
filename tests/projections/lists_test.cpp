// Worklists and ticket queues, checked against hand-listed expectations.
#include "projection_fixture.h"
#include "projections/views/ticket_queues.h"
#include "projections/views/worklists.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::TicketQueuesProjection;
using projections::WorklistsProjection;

std::vector<std::string> Streams(const std::vector<ViewRow>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(json::parse(r.value)["stream"]);
  return out;
}

TEST_CASE("worklists: per tenant and role, oldest first, items leave when acted on",
          "[projections][worklists]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  const auto val = A("val1", "validator");
  const auto op_forli = A("op9", "operator", "comune-forli");
  f.MustAt("2026-11-02T09:00:00+01:00", op, "voucher-aosta-1", "enter_application",
           VoucherPayload());
  f.MustAt("2026-11-02T09:30:00+01:00", op, "voucher-aosta-2", "enter_application",
           VoucherPayload());
  f.MustAt("2026-11-02T09:45:00+01:00", op, "voucher-aosta-3", "enter_application",
           VoucherPayload());
  f.MustAt("2026-11-02T10:00:00+01:00", op_forli, "voucher-forli-1", "enter_application",
           VoucherPayload());
  f.MustAt("2026-11-02T11:00:00+01:00", val, "voucher-aosta-1", "validate_application");
  f.MustAt("2026-11-02T11:30:00+01:00", val, "voucher-aosta-3", "validate_application");
  f.MustAt("2026-11-02T12:00:00+01:00", val, "voucher-aosta-1", "forward_to_region");
  f.CatchUp();
  auto list = [&](const std::string& tenant, const std::string& name) {
    return Streams(
        f.Rows(WorklistsProjection::kName, WorklistsProjection::ListPrefix(tenant, name)));
  };
  using V = std::vector<std::string>;
  CHECK(list("comune-aosta", "awaiting_validation") == V{"voucher-aosta-2"});
  CHECK(list("comune-aosta", "ready_to_forward") == V{"voucher-aosta-3"});
  CHECK(list("comune-forli", "awaiting_validation") == V{"voucher-forli-1"});
  // Forwarded applications are the Region's list, not the Comune's.
  CHECK(list("regione-vda", "forwarded_to_region") == V{"voucher-aosta-1"});
  CHECK(list("comune-aosta", "forwarded_to_region").empty());

  f.MustAt("2026-11-03T09:00:00+01:00", A("hd", "helpdesk_l1"), "ticket-1", "open_ticket",
           TicketPayload("portal", "normal"));
  f.MustAt("2026-11-03T09:05:00+01:00", A("cit1", "citizen"), "ticket-2", "open_ticket",
           TicketPayload("email", "high"));
  f.MustAt("2026-11-03T09:10:00+01:00", A("hd", "helpdesk_l1"), "ticket-3", "open_ticket",
           TicketPayload("phone", "urgent"));
  f.MustAt("2026-11-03T09:20:00+01:00", A("hd", "helpdesk_l1"), "ticket-3", "take_in_charge",
           {{"technician", "tec-rossi"}, {"technician_name", "Marco Rossi"}});
  f.MustAt("2026-11-03T09:30:00+01:00", A("hd", "helpdesk_l1"), "ticket-3", "escalate_ticket",
           {{"reason", "Errore di sistema"},
            {"technician", "tec-verdi"},
            {"technician_name", "Luca Verdi"}});
  f.CatchUp();
  CHECK(list("comune-aosta", "tickets_to_take") == V{"ticket-1", "ticket-2"});
  CHECK(list("comune-aosta", "tickets_level2") == V{"ticket-3"});
  json item =
      json::parse(f.Rows(WorklistsProjection::kName,
                         WorklistsProjection::ListPrefix("comune-aosta", "tickets_level2"))[0]
                      .value);
  CHECK(item["technician_name"] == "Luca Verdi");
  CHECK(item["priority"] == "urgent");
  CHECK(item["since"] == FormatTime(At("2026-11-03T09:30:00+01:00")));

  const auto case_op = A("op1", "operator");
  f.MustAt("2026-11-04T09:00:00+01:00", case_op, "case-aosta-7", "start_case",
           CasePayload("road_occupation", "C7"));
  f.MustAt("2026-11-04T10:00:00+01:00", case_op, "case-aosta-7", "request_integration",
           {{"reason", "Firma"}});
  f.CatchUp();
  CHECK(list("comune-aosta", "awaiting_citizen") == V{"case-aosta-7"});
  CHECK(list("comune-aosta", "open_cases").empty());
  f.MustAt("2026-11-05T10:00:00+01:00", case_op, "case-aosta-7", "receive_integration",
           json::object());
  f.CatchUp();
  CHECK(list("comune-aosta", "awaiting_citizen").empty());
  CHECK(list("comune-aosta", "open_cases") == V{"case-aosta-7"});
}

TEST_CASE("the Region's worklist: soonest deadline of its term first, each with its deadline",
          "[projections][worklists]") {
  ProjectionFixture f;
  const auto op = A("op1", "operator");
  const auto val = A("val1", "validator");
  const auto region = A("reg1", "region", "regione-vda");
  auto forward = [&](const std::string& when, const std::string& stream) {
    f.MustAt(when, val, stream, "forward_to_region");
  };
  for (const char* s : {"voucher-aosta-a", "voucher-aosta-b", "voucher-aosta-c"}) {
    f.MustAt("2026-11-02T09:00:00+01:00", op, s, "enter_application", VoucherPayload());
    f.MustAt("2026-11-02T09:30:00+01:00", val, s, "validate_application");
  }
  // a: forwarded first, 10 days at the Region, sent back, forwarded again 2 days later: it has
  // the least time left, though it entered the list last.
  forward("2026-11-02T10:00:00+01:00", "voucher-aosta-a");
  forward("2026-11-10T10:00:00+01:00", "voucher-aosta-c");
  f.MustAt("2026-11-12T10:00:00+01:00", region, "voucher-aosta-a", "return_application",
           {{"reason", "Manca l'ISEE"}});
  f.CatchUp();
  auto list = [&](const std::string& tenant, const std::string& name) {
    return f.Rows(WorklistsProjection::kName, WorklistsProjection::ListPrefix(tenant, name));
  };
  using V = std::vector<std::string>;
  CHECK(Streams(list("regione-vda", "forwarded_to_region")) == V{"voucher-aosta-c"});
  auto back = list("comune-aosta", "returned_by_region");
  REQUIRE(Streams(back) == V{"voucher-aosta-a"});
  CHECK(json::parse(back[0].value)["return_reason"] == "Manca l'ISEE");
  CHECK(json::parse(back[0].value)["round"] == 1);

  forward("2026-11-13T10:00:00+01:00", "voucher-aosta-b");
  f.MustAt("2026-11-14T09:00:00+01:00", A("op2", "operator"), "voucher-aosta-a",
           "correct_application", {{"corrections", "ISEE allegato"}});
  f.CatchUp();
  CHECK(list("comune-aosta", "returned_by_region").empty());
  CHECK(Streams(list("comune-aosta", "awaiting_validation")) == V{"voucher-aosta-a"});
  f.MustAt("2026-11-14T09:30:00+01:00", val, "voucher-aosta-a", "validate_application");
  forward("2026-11-14T10:00:00+01:00", "voucher-aosta-a");
  f.CatchUp();
  auto rows = list("regione-vda", "forwarded_to_region");
  REQUIRE(Streams(rows) == V{"voucher-aosta-a", "voucher-aosta-c", "voucher-aosta-b"});
  std::vector<std::string> deadlines;
  for (const auto& r : rows) deadlines.push_back(json::parse(r.value)["deadline_local"]);
  // 60 calendar days from the forwarding, to the end of the day; a's moved by its 2 days away.
  CHECK(deadlines == V{"2027-01-03T23:59:59.999999+01:00", "2027-01-09T23:59:59.999999+01:00",
                       "2027-01-12T23:59:59.999999+01:00"});
  json first = json::parse(rows[0].value);
  CHECK(At(first["deadline"]) == At("2027-01-03T23:59:59.999999+01:00"));
  CHECK(first["term"] == "60cd");
  CHECK(first["round"] == 2);
  CHECK(first["since"] == FormatTime(At("2026-11-14T10:00:00+01:00")));

  f.MustAt("2026-11-20T10:00:00+01:00", region, "voucher-aosta-a", "approve_application",
           {{"amount", 250}});
  f.CatchUp();
  CHECK(Streams(list("regione-vda", "forwarded_to_region")) ==
        V{"voucher-aosta-c", "voucher-aosta-b"});
}

TEST_CASE("ticket queues by level, technician, priority and channel, with counts",
          "[projections][queues]") {
  ProjectionFixture f;
  const auto hd = A("hd", "helpdesk_l1");
  f.MustAt("2026-11-03T09:00:00+01:00", hd, "ticket-1", "open_ticket",
           TicketPayload("portal", "normal"));
  f.MustAt("2026-11-03T09:01:00+01:00", hd, "ticket-2", "open_ticket",
           TicketPayload("email", "urgent"));
  f.MustAt("2026-11-03T09:02:00+01:00", hd, "ticket-3", "open_ticket",
           TicketPayload("portal", "low"));
  f.MustAt("2026-11-03T09:03:00+01:00", hd, "ticket-4", "open_ticket",
           TicketPayload("phone", "urgent"));
  f.MustAt("2026-11-03T09:10:00+01:00", hd, "ticket-1", "take_in_charge",
           {{"technician", "tec-rossi"}, {"technician_name", "Marco Rossi"}});
  f.MustAt("2026-11-03T09:11:00+01:00", hd, "ticket-2", "take_in_charge",
           {{"technician", "tec-rossi"}, {"technician_name", "Marco Rossi"}});
  f.MustAt("2026-11-03T09:20:00+01:00", hd, "ticket-2", "escalate_ticket",
           {{"reason", "Sistema"}, {"technician", "tec-verdi"}, {"technician_name", "Luca Verdi"}});
  f.MustAt("2026-11-03T10:00:00+01:00", hd, "ticket-3", "take_in_charge",
           {{"technician", "tec-bianchi"}, {"technician_name", "Sara Bianchi"}});
  f.MustAt("2026-11-03T11:00:00+01:00", hd, "ticket-3", "resolve_ticket",
           {{"solution", "Cache"}, {"answered_by", "email"}});
  // Recorded by the operator who took the calls.
  f.MustAt("2026-11-03T11:30:00+01:00", hd, "ticket-1", "record_reminder", {{"text", "Allora?"}});
  f.MustAt("2026-11-03T11:40:00+01:00", hd, "ticket-1", "record_reminder", {{"text", "Ancora?"}});
  f.MustAt("2026-11-03T11:50:00+01:00", hd, "ticket-4", "record_complaint", {{"text", "Lenti"}});
  f.CatchUp();
  auto queue = [&](const std::string& dim, const std::string& value) {
    return Streams(f.Rows(TicketQueuesProjection::kName,
                          TicketQueuesProjection::QueuePrefix("comune-aosta", dim, value)));
  };
  using V = std::vector<std::string>;
  // ticket-3 is resolved: it leaves every queue.
  CHECK(queue("level", "1") == V{"ticket-1", "ticket-4"});
  CHECK(queue("level", "2") == V{"ticket-2"});
  CHECK(queue("technician", "tec-rossi") == V{"ticket-1"});
  CHECK(queue("technician", "tec-verdi") == V{"ticket-2"});
  CHECK(queue("technician", "tec-bianchi").empty());
  CHECK(queue("priority", "urgent") == V{"ticket-2", "ticket-4"});
  CHECK(queue("channel", "portal") == V{"ticket-1"});
  // The whole queue: most urgent first, then oldest.
  std::string all = TicketQueuesProjection::QueuePrefix("comune-aosta", "all", "");
  all.pop_back();
  CHECK(Streams(f.Rows(TicketQueuesProjection::kName, all)) ==
        V{"ticket-2", "ticket-4", "ticket-1"});
  // Reminders and complaints change no queue, but each item shows how many it had.
  std::map<std::string, std::pair<int64_t, int64_t>> pushes;
  for (const auto& r : f.Rows(TicketQueuesProjection::kName, all)) {
    json item = json::parse(r.value);
    pushes[item["stream"]] = {item["reminders"], item["complaints"]};
    CHECK(item["number"].get<std::string>().rfind("TCK-2026-", 0) == 0);
  }
  CHECK(pushes["ticket-1"] == std::pair<int64_t, int64_t>{2, 0});
  CHECK(pushes["ticket-4"] == std::pair<int64_t, int64_t>{0, 1});
  CHECK(pushes["ticket-2"] == std::pair<int64_t, int64_t>{0, 0});

  std::map<std::string, int64_t> counts;
  const std::string cp = TicketQueuesProjection::CountPrefix("comune-aosta");
  for (const auto& r : f.Rows(TicketQueuesProjection::kName, cp)) {
    std::string k = r.key.substr(cp.size());
    std::replace(k.begin(), k.end(), '\0', '=');
    counts[k] = json::parse(r.value).get<int64_t>();
  }
  CHECK(counts == std::map<std::string, int64_t>{{"all=0", 2},
                                                 {"all=2", 1},
                                                 {"channel=email", 1},
                                                 {"channel=phone", 1},
                                                 {"channel=portal", 1},
                                                 {"level=1", 2},
                                                 {"level=2", 1},
                                                 {"priority=normal", 1},
                                                 {"priority=urgent", 2},
                                                 {"technician=tec-rossi", 1},
                                                 {"technician=tec-verdi", 1}});
}

}  // namespace
}  // namespace procedo::testing
