// Who may read and act on what: the one place the product decides it. Every HTTP route, the
// live feed and the Kafka command consumer ask here; workflows still decide, per command, which
// roles may run it (engine/workflow/decide.h), and this module decides everything around that.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/workflow/workflow.h"

namespace procedo::domain {

// Who is acting, however they authenticated: staff with a JWT, integrators with an API key,
// citizens with a session, over HTTP or through the Kafka command topic alike.
struct Principal {
  std::string id;      // JWT subject, API key id, or the citizen's case stream
  std::string role;    // one of Roles()
  std::string tenant;  // owning organisation; admins may have none
};

// The roles a credential may carry: Operatore, Responsabile, Operatore responsabile, Regione,
// the help-desk levels, citizens, integrators and administrators. Never "system": that role is
// for the product's own components (Actor::System) and no token or key can claim it.
const std::set<std::string>& Roles();
bool IsAdmin(const Principal& who);
// Who exchanges files with the Ente's other systems (imports, exports of applications): its
// operators, for their own tenant.
bool MayExchange(const Principal& who);

// What decides who may read a stream, from its state or its view.
struct StreamFacts {
  std::string tenant;        // the owner
  std::string forwarded_to;  // the tenant it was forwarded to (the Region), if any
  std::string requester;     // the citizen who opened it, if a citizen did
};
StreamFacts FactsOf(const WorkflowState& state);
// The same from a stream's tenant and the shallow merge of its events' data.
StreamFacts FactsOfFields(const std::string& tenant, const nlohmann::json& fields);

// The owning tenant's staff and integrators; the tenant it was forwarded to (the Region's
// staff and integrators); the citizen who opened it; administrators everything. A stream the
// reader may not read does not exist for them (callers answer 404, never 403).
bool MayRead(const Principal& who, const StreamFacts& stream);

// A ticket's requester reads its page without an account, through the link of its messages:
// the tenant, the stream and the ticket's key (DeriveTicketKey, domain/citizen.h).
struct TicketLink {
  std::string tenant;
  std::string stream;
  std::string key;
};
// Whether the link's key is the one of its tenant and stream, compared in constant time. Judged
// on the link alone, before anything is read, so that a wrong key (or another tenant's link)
// takes the same path whether the ticket exists or not.
bool TicketKeyValid(const std::string& secret, const TicketLink& link);
// Whether a link whose key is valid opens this stream: a ticket owned by the link's tenant.
bool RequesterMayRead(const TicketLink& link, const StreamFacts& stream);
// What the requester reads of a ticket's events: the text (a field of the event's data) that
// was addressed to them or is their own: the description, the question asked and the answer,
// reminders and complaints, an escalation's reason and the solution (both also in their
// e-mails), the closing note, the reopening. Nullptr for every other event: its text, if any,
// stays with the help desk.
const char* RequesterText(std::string_view event_type);
// A help desk's mailbox belongs to one tenant: what arrives in it is filed only onto that
// tenant's own streams, whatever a message's headers point at (a forged In-Reply-To naming
// another Comune's ticket must not reach it).
bool MailboxMayFile(const std::string& mailbox_tenant, const StreamFacts& stream);

// Lists and dashboards: which tenant's rows a principal reads. Staff read their own; an admin
// names one with `asked` (or, where `required` is false, reads all with ""). PermissionDenied
// naming the tenant they may read, or InvalidArgument when an admin must name one.
Result<std::string> TenantToRead(const Principal& who, const std::optional<std::string>& asked,
                                 bool required);
// Whether the role may read a list meant for `roles` (admins may read every list).
bool RoleMayRead(const Principal& who, std::initializer_list<std::string_view> roles);
bool RoleMayRead(const Principal& who, const std::vector<std::string>& roles);

// Seed 003's accounts: a position is read as a stream whose requester is its holder (MayRead on
// the tenant and `holder`), and so is the list of a holder's positions. The uses of a service
// per site and day are the Ente's: its staff and integrators (and administrators), never a
// citizen.
StreamFacts AccountFacts(const std::string& tenant, const std::string& holder);
bool MayReadServiceUsage(const Principal& who);
// A data subject's personal data, opened, for an access request (GDPR art. 15): the Ente's
// privacy officer (its DPO's office, role privacy_officer), who answers such requests and orders
// erasures, and the platform's administrators acting for an Ente.
bool MayExportPersonalData(const Principal& who);
// Sealed values (as Kafka and the raw event routes carry them) opened, one by one, for the
// tenant's own subjects only: its integrators and its privacy officer.
bool MayOpenPersonalData(const Principal& who);
// The Ente's debt positions at pagoPA, their receipts, anomalies and daily reconciliation: its
// staff and integrators (and administrators), like the uses of its services.
bool MayReadPayments(const Principal& who);
// A debt position (workflow payment_position) is read as the stream it is for, its `reference`:
// the citizen who holds the account it tops up, or who applied for the enrolment it bills, reads
// it (and only they may ask for a top-up of that account); the Ente's staff read it as any of
// their streams. A reference of another tenant makes it nobody's.
StreamFacts PaymentFacts(const std::string& tenant, const StreamFacts& reference);

// The number a person quotes for a stream, as its messages and pages show it: the id after
// "<kind>-<tenant>-" ("ticket-comune-aosta-12" -> "12"), or after "<kind>-" when it does not
// name `tenant`.
std::string StreamNumber(std::string_view stream, std::string_view tenant);

// Whether a stream id is "<kind>-<tenant>-...", for this tenant.
bool IdNamesTenant(std::string_view stream, std::string_view tenant);
// The tenant a stream id names: "case-<tenant>-<n>" and every other kind "<kind>-<tenant>-..."
// whose id starts with a known tenant; "" when it names none. Streams are only ever created
// under the creator's own tenant (IsOwnStreamId).
std::string TenantOfStreamId(std::string_view stream, const std::set<std::string>& tenants);

// The actor a principal's command runs as: its own identity; for an administrator, acting on
// behalf of the stream's owner (an existing stream's tenant, or the tenant a new stream's id
// names), still recorded as the administrator.
Actor ActorFor(const Principal& who, const std::string& owner_tenant);

// The commands `who` may run on the stream now (on a stream that does not exist yet: those that
// start one), judged as decide judges them (tenant, role, state), before any payload is written:
// what a form may offer. A command offered may still be refused for its payload or by a guard.
std::vector<std::string> CommandsOffered(const WorkflowDefinition& def, const WorkflowState& state,
                                         const Principal& who, TimePoint now);

}  // namespace procedo::domain

namespace procedo {
// Every edge speaks of principals; they are the domain's.
using domain::Principal;
}  // namespace procedo
