// What the staff console's pages share (inside adapters/web only): the signed-in session, pages
// in the console's chrome, Italian labels from labels.json, local times.
#pragma once

#include <optional>
#include <string>

#include "adapters/web/oidc.h"
#include "adapters/web/web.h"
#include "engine/calendar/calendar.h"
#include "engine/workflow/workflow.h"

namespace procedo::web {

inline constexpr const char* kConsoleSession = "procedo_console";
inline constexpr const char* kSignInState = "procedo_accesso";

struct Console {
  http::Api& api;
  const Site& site;
  OidcClient* oidc;  // null: no identity provider configured
  WebOptions options;
  std::optional<BusinessCalendar> zone;  // Europe/Rome

  std::optional<StaffSession> Session(const http::Request& req) const;
  // A page in the console's header, with the signed-in person and the sign-out form.
  http::Response Page(int status, const std::string& page, const std::string& title,
                      nlohmann::json data, const http::Request& req, const StaffSession* who) const;
  http::Response Error(int status, const std::string& title, const std::string& text,
                       const http::Request& req, const StaffSession* who) const;
  http::Response Forbidden(const http::Request& req, const StaffSession* who) const;
  http::Response SignInAgain() const;
  // labels.json's name for `key` in `section` ("roles", "worklists", ...), else the key.
  std::string Label(const std::string& section, const std::string& key) const;
  std::string StateLabel(const std::string& kind, const std::string& state) const;
  std::string TenantName(const std::string& tenant) const;
  // An RFC 3339 instant as "26/11/2026 alle 09:30", Italian local time.
  std::string Local(const std::string& utc) const;
};

// A string member of a JSON object, or "".
std::string Text(const nlohmann::json& o, const char* key);
// A view function's answer (http::CaseViewFor, WorklistFor, ...) as JSON; nullopt when it
// refused, with its status in `status`.
std::optional<nlohmann::json> ReadView(http::Response r, int* status);
std::string RandomHex(size_t bytes);
// The command's title from its payload schema's `title`, else its name.
std::string CommandTitle(const CommandSpec& spec);
// A new stream's id: its kind and the tenant, as every stream id names its owner.
std::string NewStreamId(const WorkflowDefinition& def, const Principal& who);

// GET /console: the worklists, the ticket queue, the forms that start something.
http::Response ShowHome(const Console& c, const http::Request& req, const StaffSession& s);

// GET /console/pratiche/{id}/registro: the stream's audit trail and hash-chain check.
http::Response ShowAudit(const Console& c, const http::Request& req, const StaffSession& s);

using ConsoleHandler = http::Response (*)(const Console&, const http::Request&,
                                          const StaffSession&);
// A console page's handler: it runs with the person's live session (without one, back to the
// sign-in), and anything unexpected is an Italian error page.
http::Handler StaffPage(std::shared_ptr<Console> console, ConsoleHandler handler);

void AddSignInPages(http::Router& router, std::shared_ptr<Console> console);
void AddWorkPages(http::Router& router, std::shared_ptr<Console> console);
// /console/chiusure: the service closures of a tenant's calendar, announced and cancelled.
void AddClosurePages(http::Router& router, std::shared_ptr<Console> console);
// /console/termini (the SLA dashboard) and /console/indicatori (the help desk's monthly KPIs).
void AddDashboardPages(http::Router& router, std::shared_ptr<Console> console);
// GET /console/pagamenti/{id}/avviso: a debt position's payment notice, for the Ente's staff.
void AddConsolePaymentPages(http::Router& router, std::shared_ptr<Console> console);
// GET /console/eventi: what the live pages listen to (Server-Sent Events).
void AddLivePages(http::Router& router, std::shared_ptr<Console> console);

}  // namespace procedo::web
