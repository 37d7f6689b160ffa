// What the citizens' portal pages share (inside adapters/web only): the signed-in citizen, pages
// in the portal's chrome, amounts and instants in Italian.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "adapters/web/oidc.h"
#include "adapters/web/web.h"
#include "engine/calendar/calendar.h"
#include "engine/workflow/workflow.h"

namespace procedo::web {

inline constexpr const char* kPortalSession = "procedo_servizi";
inline constexpr const char* kPortalSignIn = "procedo_servizi_accesso";

struct Portal {
  http::Api& api;
  const Site& site;
  OidcClient* oidc;  // null: no identity provider configured
  WebOptions options;
  std::optional<BusinessCalendar> zone;  // Europe/Rome

  std::optional<StaffSession> Session(const http::Request& req) const;
  // A page in the portal's header, with the signed-in person and the sign-out form. Private:
  // every page shows a person's data.
  http::Response Page(int status, const std::string& page, const std::string& title,
                      nlohmann::json data, const http::Request& req, const StaffSession* who) const;
  http::Response Error(int status, const std::string& title, const std::string& text,
                       const http::Request& req, const StaffSession* who) const;
  http::Response Forbidden(const http::Request& req, const StaffSession* who) const;
  // What a position or an application the person may not read shows: the same as one that does
  // not exist.
  http::Response NotFound(const http::Request& req, const StaffSession* who) const;
  std::string TenantName(const std::string& tenant) const;
  // labels.json's name for `key` in `section` (or in states/<sub>), else the key.
  std::string Label(const std::string& section, const std::string& key,
                    const std::string& sub = "") const;
  // An RFC 3339 instant as "26/11/2026 alle 09:30", Italian local time.
  std::string Local(const std::string& utc) const;
};

using PortalHandler = http::Response (*)(const Portal&, const http::Request&, const StaffSession&);
// A page that needs a signed-in citizen: without one, back to the sign-in page.
http::Handler PortalPage(std::shared_ptr<Portal> portal, PortalHandler handler);

// /servizi/posizioni/{id}: a position, its movements and the low-credit alert's form.
void AddPositionPages(http::Router& router, std::shared_ptr<Portal> portal);

// "5", "5,5", "5,50", "5.50", "€ 5,50" -> "550"; anything else as typed.
std::string TypedEuroToCents(const std::string& typed);

// A top-up asked on the position's page and refused before or by the command: what was typed
// and why, shown next to the field.
struct TopUpOutcome {
  std::string typed;
  std::string error;
};
// The position's page (req.params["id"]) with a refused top-up, answered with `status`.
http::Response ShowAccount(const Portal& p, const http::Request& req, const StaffSession& s,
                           const TopUpOutcome* top_up, int status);
// The position's payments through pagoPA ({payments, has_payments}) and, for an open prepaid
// position of an Ente that takes them, the top-up form (`top_up`).
nlohmann::json AccountPayments(const Portal& p, const StaffSession& s, const std::string& account,
                               bool open_prepaid, const TopUpOutcome* outcome);
// The application fee an application (before its submission) still owes or has paid: the
// amount, the positions asked to pay it and, while none of them is payable, the form that asks
// for one; null when none is due or the Ente takes no payments. `error` says why the last ask
// was refused.
nlohmann::json ApplicationFee(const Portal& p, const StaffSession& s,
                              const WorkflowState& enrolment, const std::string& error);
// The application's page (req.params["id"]) with the fee's ask refused, answered with `status`.
http::Response ShowApplicationWithFeeError(const Portal& p, const http::Request& req,
                                           const StaffSession& s, const std::string& error,
                                           int status);
// /servizi/pagamenti/{id}: a payment notice; POST /servizi/posizioni/{id}/ricarica: a top-up;
// POST /servizi/iscrizioni/{id}/quota: the application fee's notice.
void AddPaymentPages(http::Router& router, std::shared_ptr<Portal> portal);
// /servizi/iscrizioni/...: a new application's two steps, presenting it, and its summary.
void AddPortalEnrolmentPages(http::Router& router, std::shared_ptr<Portal> portal);
// The citizen's applications as the home page lists them.
nlohmann::json ApplicationsOf(const Portal& p, const StaffSession& s);

}  // namespace procedo::web
