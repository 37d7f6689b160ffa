// payments: receipts of payment applied per second end to end, as `procedo serve` applies them:
// each receipt read from pagoPA's stored XML (GpdClient::ParseReceipt; the HTTP transport is the
// platform's and left out), recorded on its debt position (record_receipt and its decider,
// schema-checked, appended on the synced log), and its effect, the top-up that credits the
// prepaid account, durable too. Against the command path of a plain command in the same run:
// top_up_account sent by 64 callers through the same handler on the same log.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "adapters/pagopa/gpd_client.h"
#include "bench/bench_util.h"
#include "bench/cases.h"
#include "domain/procedures.h"
#include "engine/log/log_store.h"
#include "engine/workflow/command_handler.h"
#include "projections/reactors/payments.h"

namespace procedo::bench {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr int kThreads = 64;
constexpr const char* kTenant = "comune-aosta";

void Must(CommandHandler& h, const Actor& who, const std::string& stream, const std::string& name,
          json payload) {
  auto r = h.Handle(Command{stream, name, std::move(payload), "", ""}, who);
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  if (!r->accepted()) throw std::runtime_error(name + ": " + r->rejection->message);
}

// pagoPA with every published position paid once: receipts as GPD-payments stores them.
class PaidPlatform final : public projections::PaymentPlatform {
 public:
  std::map<std::string, std::string> receipts;  // iuv -> XML
  bool open = false;                            // false: nothing paid yet
  projections::PlatformReply Publish(const projections::PositionToPublish&) override { return {}; }
  projections::PlatformReply Read(const std::string&, const std::string&) override { return {}; }
  projections::PlatformReply Invalidate(const std::string&, const std::string&) override {
    return {};
  }
  Result<std::vector<std::string>> PaidSince(const std::string&, const std::string&) override {
    std::vector<std::string> out;
    if (!open) return out;
    for (const auto& [iuv, xml] : receipts) out.push_back(iuv);
    return out;
  }
  Result<projections::PlatformReceipt> Receipt(const std::string&,
                                               const std::string& iuv) override {
    return pagopa::GpdClient::ParseReceipt(receipts.at(iuv));
  }
};

std::string ReceiptXml(const json& position, int k) {
  const int64_t cents = position.value("amount_cents", int64_t{0});
  return fmt::format(
      R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<PaSendRTV2Request xmlns:ns2="http://pagopa-api.pagopa.gov.it/pa/paForNode.xsd">
  <idPA>{0}</idPA><idBrokerPA>{0}</idBrokerPA><idStation>{0}_01</idStation>
  <receipt>
    <receiptId>bench-{1:08}</receiptId><noticeNumber>{2}</noticeNumber><fiscalCode>{0}</fiscalCode>
    <outcome>OK</outcome><creditorReferenceId>{3}</creditorReferenceId>
    <paymentAmount>{4}.{5:02}</paymentAmount><description>Ricarica mensa</description>
    <companyName>Comune di Aosta</companyName>
    <debtor><uniqueIdentifier><entityUniqueIdentifierType>F</entityUniqueIdentifierType>
      <entityUniqueIdentifierValue>RSSMRT80A41A326X</entityUniqueIdentifierValue></uniqueIdentifier>
      <fullName>Marta Rossi</fullName></debtor>
    <transferList><transfer><idTransfer>1</idTransfer><transferAmount>{4}.{5:02}</transferAmount>
      <fiscalCodePA>{0}</fiscalCodePA><IBAN>IT02A0306901211100000046123</IBAN>
      <remittanceInformation>Ricarica mensa</remittanceInformation>
      <transferCategory>9/0101100IM/</transferCategory></transfer></transferList>
    <idPSP>BCITITMM</idPSP><PSPCompanyName>Banca di Esempio</PSPCompanyName>
    <idChannel>00799960158_01</idChannel><channelDescription>app</channelDescription>
    <paymentMethod>CP</paymentMethod><fee>1.00</fee>
    <paymentDateTime>2026-11-03T10:00:00</paymentDateTime>
  </receipt>
</PaSendRTV2Request>)",
      position.value("creditor_fiscal_code", ""), k, position.value("notice_number", ""),
      position.value("iuv", ""), cents / 100, cents % 100);
}

// The accounts (an admission opens each) and their published top-up positions, 64 at a time.
void Prepare(CommandHandler& h, int n, int first, std::vector<std::string>* accounts,
             std::vector<json>* positions) {
  const Actor op{"op1", "operator", kTenant};
  const Actor sys = Actor::System("payments", kTenant);
  accounts->resize(n);
  positions->resize(n);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = t; k < n; k += kThreads) {
        const std::string e = fmt::format("enrolment-{}-b{}", kTenant, first + k);
        Must(h, op, e, "start_enrolment",
             {{"channel", "paper"},
              {"applicant", {{"name", "Marta Rossi"}, {"tax_code", "RSSMRT80A41A326X"}}},
              {"beneficiary",
               {{"name", "Luca Rossi"},
                {"tax_code", "RSSLCU15C10A326Y"},
                {"birth_date", "2015-03-10"}}},
              {"services", {"canteen"}},
              {"site", "primaria_saint_roch"}});
        Must(h, op, e, "complete_details",
             {{"details", {{"canteen", {{"diet", "standard"}, {"days_per_week", 5}}}}}});
        Must(h, op, e, "submit_enrolment", json::object());
        Must(h, op, e, "rank_for_service", {{"service", "canteen"}});
        Must(h, op, e, "admit_to_service", {{"service", "canteen"}});
        (*accounts)[k] = fmt::format("account-{}-b{}-canteen", kTenant, first + k);
        const std::string p = fmt::format("payment-{}-b{}", kTenant, first + k);
        auto r = h.Handle(
            Command{
                p,
                "create_payment_position",
                {{"purpose", "top_up"},
                 {"reference", (*accounts)[k]},
                 {"description", "Ricarica mensa"},
                 {"amount_cents", 2000 + k},
                 {"due_date", "2026-12-31"},
                 {"debtor",
                  {{"type", "F"}, {"fiscal_code", "RSSMRT80A41A326X"}, {"name", "Marta Rossi"}}}},
                "",
                ""},
            op);
        if (!r.ok() || !r->accepted()) throw std::runtime_error("create_payment_position refused");
        (*positions)[k] = json::parse(r->append.events[0]->data);
        Must(h, sys, p, "record_publication", {{"platform_status", "VALID"}});
      }
    });
  }
  for (auto& th : threads) th.join();
}

}  // namespace

int PaymentsCase(const Limits& limits, const std::string& source_dir) {
  // The repository's domain, with room in comune-aosta's canteen for every account.
  ScratchDir data("payments-domain");
  std::filesystem::copy(source_dir + "/domain", data.path() + "/domain",
                        std::filesystem::copy_options::recursive);
  const std::string services = data.path() + "/domain/services/comune-aosta.json";
  json doc = json::parse(std::ifstream(services));
  for (auto& s : doc["services"]) {
    if (s["id"] == "canteen") s["ranking"]["places"]["primaria_saint_roch"] = 10000;
  }
  std::ofstream(services, std::ios::trunc) << doc.dump(2);
  auto loaded = domain::LoadDomain(data.path() + "/domain", source_dir + "/schemas");
  if (!loaded.ok()) throw std::runtime_error(loaded.status().ToString());
  const domain::Domain& d = *loaded.value();
  ScratchDir dir("payments");
  LogOptions o;
  o.path = dir.path() + "/log";
  o.sync = true;  // as the server runs
  auto log = LogStore::Open(o);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  auto snapshots = NewMemorySnapshotStore();
  CommandHandler handler(**log, d.workflows, d.events, snapshots.get());
  const int n = static_cast<int>(std::min<uint64_t>(limits.max_events, 4096));

  std::vector<std::string> accounts;
  std::vector<json> positions;
  Prepare(handler, n, 0, &accounts, &positions);

  // Baseline: a plain top-up per account, 64 callers through the same handler and log.
  double baseline = 0;
  if (!limits.skip_baseline) {
    const Actor op{"op1", "operator", kTenant};
    std::atomic<int> next{0};
    const auto t0 = SteadyClock::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&] {
        for (int k = next++; k < n; k = next++) {
          Must(handler, op, accounts[k], "top_up_account",
               {{"movement_id", fmt::format("plain-{}", k)},
                {"amount_cents", 1000},
                {"date", "2026-11-03"}});
        }
      });
    }
    for (auto& th : threads) th.join();
    baseline = n / std::chrono::duration<double>(SteadyClock::now() - t0).count();
  }

  PaidPlatform platform;
  for (int k = 0; k < n; ++k)
    platform.receipts[positions[k].value("iuv", "")] = ReceiptXml(positions[k], k);
  ManualClock clock(SystemClock::Instance().Now());
  projections::ManualWaiter waiter(clock);
  projections::PaymentsReactor reactor(handler, platform, d.payments, waiter);
  // The reactor's start-up fold of the log is not a receipt's cost.
  if (Status s = reactor.PassOnce(); !s.ok()) throw std::runtime_error(s.ToString());
  platform.open = true;
  const auto t0 = SteadyClock::now();
  int credited = 0;
  for (int pass = 0; pass < 20 && credited < n; ++pass) {
    clock.Advance(std::chrono::minutes(2));  // past the poll interval
    if (Status s = reactor.PassOnce(); !s.ok()) throw std::runtime_error(s.ToString());
    credited = 0;
    for (const auto& [name, v] : reactor.Progress().counters) {
      if (name == "top_up_account") credited = static_cast<int>(v);
    }
  }
  const double secs = std::chrono::duration<double>(SteadyClock::now() - t0).count();
  if (credited != n) {
    throw std::runtime_error(fmt::format("payments: {} of {} accounts credited", credited, n));
  }
  // Every account holds its plain top-up and exactly one credit from its receipt.
  for (int k = 0; k < n; k += std::max(1, n / 64)) {
    auto st = handler.Load(accounts[k]);
    if (!st.ok() || (*st)->version < 3) throw std::runtime_error("an account was not credited");
  }
  fmt::print("payments: {} receipts recorded and credited in {:.3f} s (2 commands each)\n", n,
             secs);
  PrintResult("payments", n / secs, baseline);
  return 0;
}

}  // namespace procedo::bench
