// The pages people open in a browser: "La tua pratica on line" for citizens (seed 002), a
// help-desk ticket for its requester (seed 004), the staff console, and the static assets they
// use. They render what the API's routes read and send commands through the same service
// (domain/citizen_access.h, adapters/command_service.h); no rule lives here.
#pragma once

#include "adapters/http/api.h"
#include "adapters/web/site.h"

namespace procedo::web {

struct WebOptions {
  bool secure_cookies = false;  // the server speaks TLS
};

// GET /static/{name}: the hashed assets, cached for a year.
void AddAssetRoutes(http::Router& router, const Site& site);
// /pratica (login), /pratica/caso (the case), and the forms they post to.
void AddCitizenPages(http::Router& router, http::Api& api, const Site& site, WebOptions options);
// /ticket?ente=<tenant>&id=<stream>&chiave=<key>: a help-desk ticket for its requester, from the
// link of the ticket's messages (read-only).
void AddTicketPages(http::Router& router, http::Api& api, const Site& site);

class OidcClient;
// The staff console under /console: sign-in with the organisation's identity provider (`oidc`;
// null: the pages say the console is not configured), the worklists of the signed-in role, and
// each case with its timeline and the commands the person may run, as forms generated from the
// workflow data and sent through the one command path (adapters/command_service.h).
void AddConsolePages(http::Router& router, http::Api& api, const Site& site, OidcClient* oidc,
                     WebOptions options);

// The citizens' portal of on-demand services under /servizi (seed 003): sign-in with the
// national identity through the portal's OpenID provider (`oidc`, with a fixed citizen role;
// null: the pages say sign-in is not available), the positions of the person and their children
// (balance or invoices, movements, consumption per month, the low-credit alert), and the
// enrolment's two steps with its printable summary, all through the API's read functions and
// the one command path.
void AddPortalPages(http::Router& router, http::Api& api, const Site& site, OidcClient* oidc,
                    WebOptions options);

}  // namespace procedo::web
