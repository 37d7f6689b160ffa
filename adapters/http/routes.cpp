#include "adapters/http/api.h"

namespace procedo::http {

void AddAllRoutes(Router& router, Api& api) {
  AddOpsRoutes(router, api);
  AddEventRoutes(router, api);
  AddCommandRoutes(router, api);
  AddTicketRoutes(router, api);
  AddCitizenRoutes(router, api);
  AddServiceRoutes(router, api);
  AddViewRoutes(router, api);
  AddKbRoutes(router, api);
  AddExchangeRoutes(router, api);
  AddSubjectRoutes(router, api);
}

}  // namespace procedo::http
