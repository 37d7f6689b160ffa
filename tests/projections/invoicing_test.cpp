// The invoicing reactor on a driven clock: each periodic position's month invoiced once the
// month is over in Rome (not a second earlier, in summer and in winter time), its school year's
// fees from the year's first day, a position closed in mid-month still invoiced for that month,
// prepaid positions never; once only, across a second pass, a restart from an older view, and
// the periods missed while it was stopped.
#include "projections/reactors/invoicing.h"

#include <filesystem>

#include "domain/accounts.h"
#include "domain/sample_payloads.h"
#include "projections/views/accounts.h"
#include "sla_fixture.h"

namespace procedo::testing {
namespace {

using nlohmann::json;
using projections::AccountsProjection;

const Actor kOp = A("op1", "operator");

struct InvoicingFixture {
  WorkflowFixture wf;
  domain::CalendarCatalog calendars;
  projections::ManualWaiter waiter{wf.logf.clock};
  std::string views_dir = wf.logf.dir.sub("views");
  std::unique_ptr<ViewStore> views;
  AccountsProjection accounts;
  std::unique_ptr<ProjectionRunner> runner;
  std::unique_ptr<projections::Invoicing> reactor;
  projections::InvoicingOptions options;

  InvoicingFixture() {
    calendars = domain::CalendarCatalog::LoadDomain(wf.domain_dir).value();
    waiter.Set(T("2026-09-21T10:00:00+02:00"));
  }
  ~InvoicingFixture() { Stop(); }

  // As `procedo serve` starts it: the views caught up, the runner, then the reactor.
  void Start() {
    views = ViewStore::Open(views_dir, {AccountsProjection::kName}).value();
    runner = std::make_unique<ProjectionRunner>(*wf.logf.log, *views,
                                                std::vector<Projection*>{&accounts});
    REQUIRE(runner->CatchUp().ok());
    REQUIRE(runner->Start().ok());
    reactor = std::make_unique<projections::Invoicing>(*wf.handler, *views, calendars,
                                                       *wf.domain->services, waiter, options);
    REQUIRE(reactor->Start(*runner).ok());
    Settle();
  }
  // A kill as far as the reactor can tell: every in-memory object goes.
  void Stop() {
    if (reactor) reactor->Stop();
    if (runner) runner->Stop();
    reactor.reset();
    runner.reset();
    views.reset();
  }
  void Settle() {
    REQUIRE(reactor->WaitSettled(std::chrono::seconds(20)));
    INFO(reactor->failure().ToString());
    REQUIRE(reactor->failure().ok());
  }
  void At(const std::string& rfc3339) {
    waiter.Set(T(rfc3339));
    if (reactor) Settle();
  }
  void Must(const Actor& who, const std::string& stream, const std::string& command, json payload) {
    // The reactor's invoices move the account's version under the handler's cached state.
    auto r = wf.Run(who, stream, command, payload);
    if (!r.ok() && r.status().IsConflict()) r = wf.Run(who, stream, command, payload);
    REQUIRE(r.ok());
    INFO(command << " on " << stream << ": " << (r->accepted() ? "" : r->rejection->message));
    REQUIRE(r->accepted());
    if (reactor) Settle();
  }
  std::string Admitted(int n, const std::string& service, const std::string& site) {
    const std::string s = "enrolment-comune-aosta-" + std::to_string(n);
    const Actor cit = A("cit1", "citizen");
    json start = SamplePayload("start_enrolment");
    start["services"] = {service};
    start["site"] = site;
    start["isee_cents"] = 700'000;
    Must(cit, s, "start_enrolment", start);
    Must(cit, s, "complete_details", {{"details", {{service, SampleAnswers(service)}}}});
    Must(cit, s, "submit_enrolment", json::object());
    Must(kOp, s, "rank_for_service", {{"service", service}});
    Must(kOp, s, "admit_to_service", {{"service", service}});
    return domain::AccountStream(s, service);
  }
  // The periods invoiced on an account, in the log's order.
  std::vector<std::string> Invoices(const std::string& account) {
    auto events = wf.logf.log->ReadStream(account, 1, Direction::kForward, 100'000);
    REQUIRE(events.ok());
    std::vector<std::string> out;
    for (const auto& e : *events) {
      if (e.type != "account.invoice_issued") continue;
      CHECK(e.actor == R"({"system":"invoicing"})");
      out.push_back(json::parse(e.data)["period"]);
    }
    return out;
  }
};

using Periods = std::vector<std::string>;

}  // namespace

TEST_CASE("invoicing: every periodic position is invoiced once its local period is over, once",
          "[invoicing]") {
  InvoicingFixture f;
  f.Start();
  const std::string care = f.Admitted(1, "home_care", "domicilio");         // per use
  const std::string nido = f.Admitted(2, "nursery", "nido_la_trottola");    // month + year
  const std::string pass = f.Admitted(3, "transport", "primaria_einaudi");  // year
  const std::string meals = f.Admitted(4, "canteen", "primaria_einaudi");   // prepaid
  f.Must(kOp, care, "record_usage",
         {{"movement_id", "H1"}, {"date", "2026-09-30T21:30:00Z"}, {"site", "domicilio"}});

  // The school year 2026/27 began on 1 September: its fees are due from the admission, and are
  // invoiced as the admission reaches the log, the clock standing still.
  CHECK(f.Invoices(nido) == Periods{"2026/27"});
  CHECK(f.Invoices(pass) == Periods{"2026/27"});
  CHECK(json::parse(f.wf.logf.log->ReadStream(pass, 1, Direction::kForward, 100)
                        ->back()
                        .data)["total_cents"] == 6000);  // the reduced yearly pass

  // Summer time: September ends at 22:00 UTC.
  f.At("2026-09-30T21:59:59Z");
  CHECK(f.Invoices(care).empty());
  f.At("2026-10-01T00:00:01+02:00");
  CHECK(f.Invoices(care) == Periods{"2026-09"});
  CHECK(f.Invoices(nido) == Periods{"2026/27", "2026-09"});
  CHECK(f.Invoices(pass) == Periods{"2026/27"});
  CHECK(f.Invoices(meals).empty());
  CHECK(f.reactor->issued() == 4);

  // Run again: nothing more.
  f.waiter.Advance(std::chrono::minutes(30));
  f.Settle();
  CHECK(f.Invoices(care) == Periods{"2026-09"});

  // Winter time: 23:30 UTC on 31 October is already 1 November in Rome.
  f.At("2026-10-31T22:59:59Z");
  CHECK(f.Invoices(care) == Periods{"2026-09"});
  f.At("2026-10-31T23:30:00Z");
  CHECK(f.Invoices(care) == Periods{"2026-09", "2026-10"});
  CHECK(f.Invoices(nido) == Periods{"2026/27", "2026-09", "2026-10"});
  CHECK(f.reactor->issued() == 6);
  CHECK(f.reactor->already_invoiced() == 0);
}

TEST_CASE(
    "invoicing: a restart from an older view sends nothing twice, and catches up every "
    "period missed while down",
    "[invoicing]") {
  InvoicingFixture f;
  f.Start();
  const std::string care = f.Admitted(1, "home_care", "domicilio");
  const std::string nido = f.Admitted(2, "nursery", "nido_la_trottola");
  const std::string older = f.wf.logf.dir.sub("views-older");
  f.Stop();
  std::filesystem::copy(f.views_dir, older, std::filesystem::copy_options::recursive);
  f.Start();
  f.At("2026-10-01T00:00:01+02:00");
  CHECK(f.Invoices(care) == Periods{"2026-09"});

  // Back to the view of before September's invoices: caught up, not sent again.
  f.Stop();
  std::filesystem::remove_all(f.views_dir);
  std::filesystem::copy(older, f.views_dir, std::filesystem::copy_options::recursive);
  f.wf.Restart();
  f.Start();
  CHECK(f.reactor->issued() == 0);
  CHECK(f.Invoices(care) == Periods{"2026-09"});
  CHECK(f.Invoices(nido) == Periods{"2026/27", "2026-09"});

  // Down from October to January; the nursery withdrawn on 15 November meanwhile.
  f.Stop();
  f.waiter.Set(T("2026-11-15T10:00:00+01:00"));
  f.Must(A("cit1", "citizen"), "enrolment-comune-aosta-2", "withdraw_from_service",
         {{"service", "nursery"}});
  f.waiter.Set(T("2027-01-01T00:00:01+01:00"));
  f.Start();
  CHECK(f.Invoices(care) == Periods{"2026-09", "2026-10", "2026-11", "2026-12"});
  CHECK(f.Invoices(nido) == Periods{"2026/27", "2026-09", "2026-10", "2026-11"});
  CHECK(f.reactor->issued() == 5);
}

TEST_CASE("invoicing: a fee due at admission is invoiced at once, without the next full look",
          "[invoicing]") {
  InvoicingFixture f;
  // Long after the start's full look, and long before the next one or a period's end.
  f.options.rescan = std::chrono::hours(24 * 365);
  f.waiter.Set(T("2026-10-05T10:00:00+02:00"));
  f.Start();

  const TimePoint before = f.wf.logf.clock.Now();
  const std::string pass = f.Admitted(1, "transport", "primaria_einaudi");
  const std::string nido = f.Admitted(2, "nursery", "nido_la_trottola");
  const std::string care = f.Admitted(3, "home_care", "domicilio");  // nothing per school year
  CHECK(f.wf.logf.clock.Now() == before);
  CHECK(f.Invoices(pass) == Periods{"2026/27"});
  CHECK(f.Invoices(nido) == Periods{"2026/27"});  // not its month: October is not over
  CHECK(f.Invoices(care).empty());
  CHECK(f.reactor->issued() == 2);

  // Admitted while the reactor was down: the start's own look finds it.
  f.Stop();
  const std::string late = f.Admitted(4, "transport", "primaria_einaudi");
  CHECK(f.Invoices(late).empty());
  f.Start();
  CHECK(f.Invoices(late) == Periods{"2026/27"});
  CHECK(f.Invoices(pass) == Periods{"2026/27"});
}

TEST_CASE("invoicing: a summer admission pays the coming school year, not the ending one",
          "[invoicing]") {
  InvoicingFixture f;
  f.waiter.Set(T("2027-06-30T23:59:59+02:00"));  // the school year's last day, in Rome
  f.Start();
  const std::string june = f.Admitted(1, "transport", "primaria_einaudi");
  CHECK(f.Invoices(june) == Periods{"2026/27"});
  f.At("2027-06-30T22:00:00Z");  // midnight in Rome: the summer break
  const std::string july = f.Admitted(2, "transport", "primaria_einaudi");
  CHECK(f.Invoices(july) == Periods{"2027/28"});
  f.At("2027-08-31T23:59:59+02:00");
  const std::string august = f.Admitted(3, "transport", "primaria_einaudi");
  CHECK(f.Invoices(august) == Periods{"2027/28"});

  // The new school year begins: June's position pays it too, the others nothing more.
  f.At("2027-09-01T00:00:00+02:00");
  CHECK(f.Invoices(june) == Periods{"2026/27", "2027/28"});
  CHECK(f.Invoices(july) == Periods{"2027/28"});
  CHECK(f.Invoices(august) == Periods{"2027/28"});
}

TEST_CASE("invoicing: an invoice an operator issued first is counted, not sent again",
          "[invoicing]") {
  InvoicingFixture f;
  const std::string care = f.Admitted(1, "home_care", "domicilio");
  f.waiter.Set(T("2026-10-01T08:00:00+02:00"));
  f.Must(kOp, care, "issue_invoice", {{"period", "2026-09"}});
  f.Start();
  CHECK(f.reactor->issued() == 0);
  CHECK(f.reactor->Progress().health.ok());
  auto events = f.wf.logf.log->ReadStream(care, 1, Direction::kForward, 100);
  int invoices = 0;
  for (const auto& e : *events) invoices += e.type == "account.invoice_issued";
  CHECK(invoices == 1);
}

}  // namespace procedo::testing
