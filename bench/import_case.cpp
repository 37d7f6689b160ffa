// import: meals made in another system, read from an exchange document (libxml2 against the XSD,
// pugixml, one record_usage command each through the command handler, an account's consecutive
// meals decided as one batch), against the log's own append-batch of the same events (256 per
// append, the same streams and data) in the same run.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "adapters/exchange/exchange.h"
#include "bench/bench_util.h"
#include "domain/accounts.h"
#include "domain/procedures.h"
#include "engine/workflow/command_handler.h"

namespace procedo::bench {
namespace {

constexpr int kAccounts = 1000;  // 100 meals each at 100,000 records
const Actor kOp{"bench-op", "operator", "comune-aosta"};

std::unique_ptr<LogStore> Open(const std::string& path) {
  LogOptions o;
  o.path = path;
  o.sync = true;
  auto r = LogStore::Open(o);
  if (!r.ok()) throw std::runtime_error(r.status().ToString());
  return std::move(r).value();
}

void Must(CommandHandler& h, const std::string& stream, const std::string& name,
          nlohmann::json payload) {
  Command c;
  c.stream = stream;
  c.name = name;
  c.payload = std::move(payload);
  auto r = h.Handle(c, kOp);
  if (!r.ok() || !r->accepted()) {
    throw std::runtime_error(fmt::format("{} on {}: {}", name, stream,
                                         r.ok() ? r->rejection->message : r.status().ToString()));
  }
}

// kAccounts admitted canteen applications, entered on paper: their accounts.
std::vector<std::string> Accounts(CommandHandler& h) {
  std::vector<std::string> out;
  for (int i = 1; i <= kAccounts; ++i) {
    const std::string s = fmt::format("enrolment-comune-aosta-{}", i);
    Must(
        h, s, "start_enrolment",
        {{"channel", "paper"},
         {"applicant", {{"name", "Marta Rossi"}, {"tax_code", "RSSMRT80A41A326X"}}},
         {"beneficiary",
          {{"name", "Luca Rossi"}, {"tax_code", "RSSLCU15C10A326Y"}, {"birth_date", "2015-03-10"}}},
         {"services", {"canteen"}},
         {"site", "primaria_saint_roch"}});
    Must(h, s, "complete_details",
         {{"details", {{"canteen", {{"diet", "standard"}, {"days_per_week", 5}}}}}});
    Must(h, s, "submit_enrolment", nlohmann::json::object());
    Must(h, s, "rank_for_service", {{"service", "canteen"}});
    Must(h, s, "admit_to_service", {{"service", "canteen"}});
    out.push_back(domain::AccountStream(s, "canteen"));
  }
  return out;
}

}  // namespace

int ImportCase(const Limits& limits, const std::string& source_dir) {
  // The repository's domain, with room in comune-aosta's canteen for a town's children.
  ScratchDir data("import-domain");
  std::filesystem::copy(source_dir + "/domain", data.path() + "/domain",
                        std::filesystem::copy_options::recursive);
  const std::string services = data.path() + "/domain/services/comune-aosta.json";
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(services));
  for (auto& s : doc["services"]) {
    if (s["id"] == "canteen") s["ranking"]["places"]["primaria_saint_roch"] = 5000;
  }
  std::ofstream(services, std::ios::trunc) << doc.dump(2);
  auto domain = domain::LoadDomain(data.path() + "/domain", source_dir + "/schemas");
  if (!domain.ok()) throw std::runtime_error(domain.status().ToString());
  auto schema = exchange::ExchangeSchema::Load(source_dir + "/schemas/exchange.xsd");
  if (!schema.ok()) throw std::runtime_error(schema.status().ToString());
  const uint64_t n = std::min<uint64_t>(limits.max_events, 100'000);

  ScratchDir dir("import");
  auto log = Open(dir.path() + "/log");
  CommandHandler handler(*log, (*domain)->workflows, (*domain)->events, nullptr);
  const auto accounts = Accounts(handler);
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<exchange xmlns=\"urn:procedo:exchange:1\" tenant=\"comune-aosta\">\n";
  for (uint64_t i = 0; i < n; ++i) {
    xml += fmt::format(
        "  <usage id=\"M-{}\" account=\"{}\" date=\"2026-11-{:02d}\" "
        "site=\"primaria_saint_roch\"/>\n",
        i, accounts[i % accounts.size()], 1 + i % 28);
  }
  xml += "</exchange>\n";
  const uint64_t before = log->LastPosition();
  auto start = std::chrono::steady_clock::now();
  auto report =
      exchange::Import(xml, **schema, *(*domain)->services, handler, exchange::ImportOptions{kOp});
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report.ok() || report->applied != n) {
    throw std::runtime_error(
        report.ok() ? fmt::format("{} of {} imported; first problem: {}", report->applied, n,
                                  report->problems.empty() ? "" : report->problems[0].reason)
                    : report.status().ToString());
  }
  const double value = n / secs;
  fmt::print("import: {} movements, {:.1f} MB of XML, {:.2f} s\n", n, xml.size() / 1e6, secs);

  double baseline = 0;
  if (!limits.skip_baseline) {
    // The same events, as the import appended them, appended again 256 at a time per stream.
    std::map<std::string, std::vector<NewEvent>> per_stream;
    for (uint64_t next = before + 1;;) {
      auto page = log->ReadAll(next, 4096);
      if (!page.ok()) throw std::runtime_error(page.status().ToString());
      if (page->empty()) break;
      next = page->back().position + 1;
      for (const Event& e : *page) {
        if (e.type != "account.usage_recorded") continue;
        per_stream[e.stream].push_back(NewEvent{e.type, e.data, e.tenant, e.actor, e.correlation_id,
                                                e.causation_id, std::nullopt});
      }
    }
    ScratchDir raw_dir("import-batch");
    auto raw = Open(raw_dir.path() + "/log");
    uint64_t appended = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (auto& [stream, events] : per_stream) {
      for (size_t k = 0; k < events.size(); k += 256) {
        AppendRequest r{stream, ExpectedVersion::Any(), {}, ""};
        for (size_t j = k; j < std::min(events.size(), k + 256); ++j) r.events.push_back(events[j]);
        appended += r.events.size();
        if (!raw->Append(std::move(r)).ok()) throw std::runtime_error("baseline append failed");
      }
    }
    baseline =
        appended / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  PrintResult("import", value, baseline);
  return 0;
}

}  // namespace procedo::bench
