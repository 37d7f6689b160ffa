// http-get: wrk against `GET /v1/cases/{id}`, the case view a citizen or an operator reads (kept
// by the real projections), on the real HTTP server, versus nginx serving the same JSON bytes as
// a static file, in the same run. http-command: wrk POSTing start_case
// commands (each to a new stream), versus the in-process command throughput of the same run.
// http-page: wrk against the citizen's case page (`GET /pratica/caso` with a session cookie:
// session check, the case's events, the term's date, the template), versus nginx serving the
// same HTML bytes.
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

#include "adapters/command_service.h"
#include "adapters/http/api.h"
#include "adapters/http/dev_keys.h"
#include "adapters/http/server.h"
#include "adapters/web/web.h"
#include "bench/bench_util.h"
#include "bench/cases.h"
#include "domain/procedures.h"
#include "domain/calendars.h"
#include "domain/citizen_access.h"
#include "engine/workflow/command_handler.h"
#include "engine/views/projection.h"
#include "engine/views/view_store.h"
#include "projections/views/projections.h"

namespace procedo::bench {
namespace {

struct WrkResult {
  double rps = 0;
  std::string p99;
};

WrkResult RunWrk(const std::string& url, int seconds, const std::string& header, const std::string& script = "") {
  std::string cmd = fmt::format("wrk -t2 -c64 -d{}s --latency {} {} '{}' 2>&1", seconds,
                                header.empty() ? "" : "-H '" + header + "'",
                                script.empty() ? "" : "-s " + script, url);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run wrk (apt-get install wrk)");
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  pclose(p);
  WrkResult r;
  std::smatch m;
  if (std::regex_search(out, m, std::regex(R"(Requests/sec:\s+([0-9.]+))"))) r.rps = std::stod(m[1]);
  if (std::regex_search(out, m, std::regex(R"(99%\s+([0-9.]+\w+))"))) r.p99 = m[1];
  // Only answers the product meant count: an error answer or a broken connection fails the case
  // rather than being counted as throughput.
  if (std::regex_search(out, m, std::regex(R"(Non-2xx or 3xx responses:\s+([0-9]+))"))) {
    throw std::runtime_error(
        fmt::format("wrk {}: {} answers were errors; fix the server or the request\n{}", url,
                    m[1].str(), out));
  }
  if (std::regex_search(out, m, std::regex(R"(Socket errors:[^\n]*)"))) {
    throw std::runtime_error(fmt::format("wrk {}: {}\n{}", url, m[0].str(), out));
  }
  if (r.rps == 0) throw std::runtime_error("wrk produced no figure:\n" + out);
  return r;
}

// nginx with 2 workers (the API server has 2 network threads) serving one static file.
class Nginx {
 public:
  Nginx(const std::string& dir, const std::string& body, int port) : dir_(dir) {
    std::filesystem::create_directories(dir + "/html/v1");
    std::ofstream(dir + "/html/v1/case.json") << body;
    std::ofstream(dir + "/nginx.conf") << fmt::format(
        "daemon off; worker_processes 2; pid {0}/nginx.pid; error_log {0}/error.log;\n"
        "events {{ worker_connections 1024; }}\n"
        "http {{ access_log off; default_type application/json; keepalive_requests 1000000;\n"
        "  client_body_temp_path {0}/tmp; proxy_temp_path {0}/tmp; fastcgi_temp_path {0}/tmp;\n"
        "  uwsgi_temp_path {0}/tmp; scgi_temp_path {0}/tmp;\n"
        "  server {{ listen 127.0.0.1:{1}; root {0}/html; }} }}\n", dir, port);
    pid_ = fork();
    if (pid_ == 0) {
      execlp("nginx", "nginx", "-c", (dir + "/nginx.conf").c_str(), "-p", dir.c_str(), (char*)nullptr);
      _exit(127);
    }
  }
  ~Nginx() {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }

 private:
  std::string dir_;
  pid_t pid_;
};

int FreePort() {
  static int next = 18500 + getpid() % 1000;
  return next++;
}

}  // namespace

int HttpCases(const Limits& limits, bool get, bool command, bool page) {
  const int secs = static_cast<int>(std::max<int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(limits.max_time).count()));
  ScratchDir dir("http");
  LogOptions lo;
  lo.path = dir.path() + "/log";
  auto log = LogStore::Open(lo);
  if (!log.ok()) throw std::runtime_error(log.status().ToString());
  auto dom = domain::LoadDomain(std::string(PROCEDO_SOURCE_DIR) + "/domain", std::string(PROCEDO_SOURCE_DIR) + "/schemas");
  if (!dom.ok()) throw std::runtime_error(dom.status().ToString());
  CommandHandler handler(**log, (*dom)->workflows, (*dom)->events, nullptr);
  auto calendars = domain::CalendarCatalog::LoadDomain(std::string(PROCEDO_SOURCE_DIR) + "/domain");
  if (!calendars.ok()) throw std::runtime_error(calendars.status().ToString());
  projections::ProjectionSet read_models((*dom)->workflows, *calendars);
  auto views = ViewStore::Open(dir.path() + "/views", read_models.Names());
  if (!views.ok()) throw std::runtime_error(views.status().ToString());
  ProjectionRunner runner(**log, **views, read_models.All());
  if (Status s = runner.Start(); !s.ok()) throw std::runtime_error(s.ToString());
  auto keys = http::EnsureDevKeys(dir.path() + "/keys");
  http::AuthOptions ao;
  ao.jwt_public_key_files = {keys->public_pem_file};
  auto auth = http::Authenticator::Create(ao);
  http::Metrics metrics;
  http::Api api(**log, **auth, metrics, SystemClock::Instance());
  api.commands = &handler;
  std::set<std::string> tenants;
  for (const auto& t : calendars->Tenants()) tenants.insert(t.id);
  const CommandService command_service(&handler, std::move(tenants));
  api.command_service = &command_service;
  api.workflows = &(*dom)->workflows;
  api.views = views->get();
  api.runner = &runner;
  api.calendars = &*calendars;
  // The citizen's side, with the credentials the start message would carry.
  domain::CitizenAccessOptions cao;
  cao.secret = "bench-secret";
  cao.session_ttl = std::chrono::hours(24);
  cao.hash_cost = domain::PasswordHashCost::Minimal();
  domain::CitizenAccess citizen(handler, cao);
  api.citizen = &citizen;
  auto site = web::Site::Load(std::string(PROCEDO_SOURCE_DIR) + "/adapters/web");
  if (!site.ok()) throw std::runtime_error(site.status().ToString());
  http::Router router;
  http::AddAllRoutes(router, api);
  web::AddCitizenPages(router, api, **site, {});
  http::ServerOptions so;
  so.port = 0;
  http::Server server(so, router);
  auto port = server.Start();
  if (!port.ok()) throw std::runtime_error(port.status().ToString());
  auto token = http::IssueToken(keys->private_pem_file, "op1", "operator", "comune-forli",
                                std::chrono::hours(1), SystemClock::Instance().Now());
  const std::string auth_header = "Authorization: Bearer " + *token;

  const std::string payload =
      R"({"procedure_id":"building_permit","case_code":"FC-1","applicant":{"name":"Mario Bianchi","email":"m@example.it"},"consent":{"sms":false,"email":true}})";
  Command start{"case-comune-forli-1", "start_case", nlohmann::json::parse(payload), "", ""};
  auto first = handler.Handle(start, Actor{"op1", "operator", "comune-forli"});
  if (!first.ok() || !first->accepted()) throw std::runtime_error("cannot start the benchmark case");
  // A case with some history: notes, a suspension waiting for the citizen, a resumption.
  for (auto [name, body] : {std::pair{"add_note", R"({"text":"Pratica assegnata al geometra Rossi"})"},
                            std::pair{"suspend_case", R"({"reason":"Manca la planimetria catastale aggiornata"})"},
                            std::pair{"resume_case", R"({"reason":"Planimetria ricevuta via PEC"})"},
                            std::pair{"add_note", R"({"text":"Sopralluogo fissato per martedi"})"}}) {
    auto r = handler.Handle(Command{"case-comune-forli-1", name, nlohmann::json::parse(body), "", ""},
                            Actor{"op1", "operator", "comune-forli"});
    if (!r.ok() || !r->accepted()) {
      throw std::runtime_error(fmt::format("cannot run {} on the benchmark case: {}", name,
                                           r.ok() ? r->rejection->message : r.status().ToString()));
    }
  }
  std::string citizen_cookie;
  if (page) {
    const std::string stream = "case-comune-forli-1";
    auto issue = domain::IssueCredentialsCommand(cao.secret, cao.hash_cost, stream, "FC-1",
                                                 "comune-forli", 1, "bench",
                                                 SystemClock::Instance().Now());
    if (!issue.ok()) throw std::runtime_error(issue.status().ToString());
    auto issued = handler.Handle(*issue, domain::CitizenServiceActor("comune-forli"));
    if (!issued.ok() || !issued->accepted()) throw std::runtime_error("cannot issue credentials");
    auto login = citizen.Login("comune-forli", "FC-1", domain::DerivePassword(cao.secret, stream, 1));
    if (!login.ok() || !login->ok) throw std::runtime_error("the citizen cannot log in");
    citizen_cookie = "procedo_pratica=" + login->token;
  }
  if (!runner.WaitFor((*log)->LastPosition(), std::chrono::seconds(10))) {
    throw std::runtime_error("the views did not catch up with the benchmark case");
  }

  if (get) {
    const std::string path = "/v1/cases/case-comune-forli-1";
    auto api_get = RunWrk(fmt::format("http://127.0.0.1:{}{}", *port, path), secs, auth_header);
    // The same bytes, from nginx.
    std::string body;
    {
      http::Request req;
      req.method = "GET";
      req.path = path;
      req.headers["authorization"] = "Bearer " + *token;
      auto m = router.Find(req);
      body = (*m.handler)(req).body;
    }
    int nport = FreePort();
    WrkResult base;
    {
      Nginx nginx(dir.path() + "/nginx", body, nport);
      std::string url = fmt::format("http://127.0.0.1:{}/v1/case.json", nport);
      for (int i = 0; i < 100 && system(("curl -sf -o /dev/null " + url).c_str()) != 0; ++i) usleep(50'000);
      base = RunWrk(url, secs, "");
    }
    fmt::print("http-get: {} bytes per answer; p99 procedo {} nginx {}\n", body.size(), api_get.p99, base.p99);
    PrintResult("http-get", api_get.rps, base.rps);
  }
  if (page) {
    const std::string path = "/pratica/caso";
    auto api_page = RunWrk(fmt::format("http://127.0.0.1:{}{}", *port, path), secs,
                           "Cookie: " + citizen_cookie);
    std::string body;
    {
      http::Request req;
      req.method = "GET";
      req.path = path;
      req.headers["cookie"] = citizen_cookie;
      auto m = router.Find(req);
      http::Response r = (*m.handler)(req);
      if (r.status != 200) throw std::runtime_error(fmt::format("the case page answered {}", r.status));
      body = r.body;
    }
    int nport = FreePort();
    WrkResult base;
    {
      Nginx nginx(dir.path() + "/nginx-page", body, nport);
      std::string url = fmt::format("http://127.0.0.1:{}/v1/case.json", nport);
      for (int i = 0; i < 100 && system(("curl -sf -o /dev/null " + url).c_str()) != 0; ++i) usleep(50'000);
      base = RunWrk(url, secs, "");
    }
    fmt::print("http-page: {} bytes of HTML; p99 procedo {} nginx {}\n", body.size(), api_page.p99,
               base.p99);
    PrintResult("http-page", api_page.rps, base.rps);
  }
  if (command) {
    std::string script = dir.path() + "/post.lua";
    std::ofstream(script) << "local n = 0\nlocal id = 0\n"
        "function setup(thread) id = id + 1; thread:set('tid', id) end\n"
        "function init(args) tid = wrk.thread:get('tid') end\n"
        "wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\n"
        "wrk.body = '" + payload + "'\n"
        "function request()\n  n = n + 1\n"
        "  return wrk.format(nil, '/v1/streams/case-comune-forli-b' .. tid .. '-' .. n .. '/commands/start_case')\nend\n"
        // The first error answer of each thread, so that a failed run says why.
        "local told = false\n"
        "function response(status, headers, body)\n"
        "  if status >= 400 and not told then told = true; io.write('error answer: ' .. status .. ' ' .. body .. '\\n') end\nend\n";
    auto api_post = RunWrk(fmt::format("http://127.0.0.1:{}/", *port), secs, auth_header, script);
    // Baseline: the same commands through the command handler in process, 64 callers.
    Limits l = limits;
    double in_process = RunThreads(64, l, [&](int t, uint64_t i) -> uint64_t {
      Command c{fmt::format("case-comune-forli-p{}-{}", t, i), "start_case", start.payload, "", ""};
      auto r = handler.Handle(c, Actor{"op1", "operator", "comune-forli"});
      if (!r.ok() || !r->accepted()) throw std::runtime_error("in-process command failed");
      return 1;
    });
    fmt::print("http-command: p99 {}\n", api_post.p99);
    PrintResult("http-command", api_post.rps, in_process);
  }
  server.Stop();
  runner.Stop();
  return 0;
}

}  // namespace procedo::bench
