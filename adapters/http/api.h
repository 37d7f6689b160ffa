// The routes of the HTTP API and what they need. OpenAPI: schemas/openapi.json.
#pragma once

#include <chrono>
#include <map>
#include <string>

#include "adapters/http/auth.h"
#include "adapters/http/http.h"
#include "adapters/http/metrics.h"
#include "engine/base/clock.h"
#include "engine/log/log_store.h"
#include "engine/views/projection.h"

namespace procedo {
class CommandHandler;
class CommandService;
class ConsumerSupervisor;
struct WorkflowSet;
}  // namespace procedo
namespace procedo::crypto {
class PersonalData;
}
namespace procedo::projections {
class ErasureReactor;
class KnowledgeBase;
}  // namespace procedo::projections
namespace procedo::exchange {
class ExchangeSchema;
}  // namespace procedo::exchange
namespace procedo::domain {
class CalendarCatalog;
class CitizenAccess;
class PaymentSettingsSet;
class ServiceCatalogue;
struct CitizenSession;
}  // namespace procedo::domain

namespace procedo::http {

struct Api {
  Api(LogStore& l, Authenticator& a, Metrics& m, const Clock& c)
      : log(l), auth(a), metrics(m), clock(c) {}
  LogStore& log;
  Authenticator& auth;
  Metrics& metrics;
  const Clock& clock;
  ViewStore* views = nullptr;
  ProjectionRunner* runner = nullptr;
  CommandHandler* commands = nullptr;
  const CommandService* command_service = nullptr;  // commands as every transport runs them
  const WorkflowSet* workflows = nullptr;
  const domain::CalendarCatalog* calendars = nullptr;  // for case views as_of an instant
  const domain::ServiceCatalogue* services = nullptr;  // GET /v1/services: seed 003
  // Each Ente's pagoPA settings: what a payment notice says of the Ente (seed 003)
  const domain::PaymentSettingsSet* payments = nullptr;
  domain::CitizenAccess* citizen = nullptr;  // /v1/citizen/*: seed 002's online case
  projections::KnowledgeBase* kb = nullptr;  // GET /v1/kb: the help desk's knowledge base
  // POST /v1/imports, GET /v1/exports/enrolments: the exchange layout (schemas/exchange.xsd)
  const exchange::ExchangeSchema* exchange_schema = nullptr;
  // Personal data sealed per data subject (null: kept as given): GET /v1/subjects/{subject}.
  crypto::PersonalData* personal = nullptr;
  // The erasures carried out (null: none run here): ?min_position waits for them too, so that a
  // read after an erasure's answer shows the data erased everywhere.
  projections::ErasureReactor* erasure = nullptr;
  std::string openapi_json;  // served at /openapi.json
  // Event type -> its schema's text (schemas/events/<type>.json), served at /schemas/events/: what
  // an integrator reading the log or Kafka checks events against, personal marks included.
  std::map<std::string, std::string, std::less<>> event_schemas;
  std::chrono::milliseconds max_wait{5000};       // ?min_position waits at most this long
  const ConsumerSupervisor* consumers = nullptr;  // every consumer, for /readyz
  std::string clock_mode = "system";              // "driven" under testing.driven_clock
  // The server speaks TLS: cookies are then Secure (a browser drops a Secure cookie that came
  // over plain HTTP from any host but localhost).
  bool tls = false;
};

// Every route of the API: what serve registers and what the OpenAPI test checks.
void AddAllRoutes(Router& router, Api& api);
void AddOpsRoutes(Router& router, Api& api);
void AddEventRoutes(Router& router, Api& api);
void AddCommandRoutes(Router& router, Api& api);
// POST /v1/tickets (a ticket under a server-issued number) and GET /v1/tickets/{number}.
void AddTicketRoutes(Router& router, Api& api);
void AddCitizenRoutes(Router& router, Api& api);
// GET /v1/services: the tenant's on-demand services, sites, tariffs and step-2 questions.
void AddServiceRoutes(Router& router, Api& api);
// Queries over the projections: case views, worklists, ticket queues, SLA dashboard, KPIs, audit.
void AddViewRoutes(Router& router, Api& api);
// GET /v1/subjects/{subject}: a data subject's personal data, for an access request.
void AddSubjectRoutes(Router& router, Api& api);
// GET /v1/kb and /v1/kb/similar/{ticket}: the help desk's knowledge base.
void AddKbRoutes(Router& router, Api& api);
void AddExchangeRoutes(Router& router, Api& api);
// Only with testing.driven_clock (not in AddAllRoutes, not in the OpenAPI document): GET and
// POST /v1/testing/clock read and move api.clock through `move_to`, for admins.
void AddTestingClockRoutes(Router& router, Api& api, std::function<void(TimePoint)> move_to);

// The citizen's case (seed 002) as GET /v1/citizen/case answers it and the web page shows it:
// the case's own events folded for the citizen, whether messages were stopped, and the term's
// expected date as of now.
// `settled` (optional): set when the view depends on the case's events alone (its term's date
// was kept by the projections at the case's version), not on the time it was asked.
Result<nlohmann::json> CitizenCaseView(Api& api, const domain::CitizenSession& s,
                                       bool* settled = nullptr);

// What GET /v1/cases/{id}, /v1/worklists/{name} and /v1/queues/tickets answer `who` (params and
// query in `req`), for the pages that show the same views to a principal signed in another way.
Response CaseViewFor(Api& api, const Principal& who, Request& req);
Response WorklistFor(Api& api, const Principal& who, Request& req);
Response TicketQueueFor(Api& api, const Principal& who, Request& req);
// What GET /v1/sla/dashboard and /v1/kpis/helpdesk answer `who`, for the console's charts.
Response SlaDashboardFor(Api& api, const Principal& who, Request& req);
Response HelpdeskKpisFor(Api& api, const Principal& who, Request& req);
// What GET /v1/kb/similar/{ticket} answers `who` (`ticket` in req.params): the archived tickets
// most like the ticket, for the console's ticket page.
Response KbSimilarFor(Api& api, const Principal& who, Request& req);
// What GET /v1/accounts/{id} (or its /balance, `balance_only`), /v1/accounts/{id}/movements and
// /v1/accounts answer `who`: the portal's pages show a citizen's positions through them.
Response AccountFor(Api& api, const Principal& who, Request& req, bool balance_only = false);
Response AccountMovementsFor(Api& api, const Principal& who, Request& req);
Response HolderAccountsFor(Api& api, const Principal& who, Request& req);
// The Set-Cookie value of a citizen's session for /v1/citizen/*: HttpOnly and SameSite=Strict
// always, Secure under TLS only.
std::string CitizenCookie(const std::string& token, std::chrono::seconds ttl, bool tls);

// The live feed GET /v1/events sends `who` from log position `from`: Server-Sent Events of the
// events they may read (MayRead), for the console's live pages too.
std::shared_ptr<EventSource> LiveFeed(Api& api, const Principal& who, uint64_t from);

// Authenticates the request; on failure `out` holds the problem to send.
bool RequirePrincipal(Api& api, const Request& req, Principal* who, Response* out);
// May `who` read the stream? domain::MayRead on the stream's facts (its state, or for streams no
// workflow handles, the tenant of its first event). Callers answer 404 (not 403) so existence
// does not leak.
bool MayRead(Api& api, const Principal& who, const std::string& stream);

}  // namespace procedo::http
