// The console's home: the worklists of the signed-in role (the views GET /v1/worklists/{name}
// reads, each list's roles checked by domain/access.h), the help desk's ticket queue (GET
// /v1/queues/tickets's), and the forms that start something new.
#include <fmt/format.h>

#include "adapters/web/console.h"
#include "adapters/web/enrolment_forms.h"
#include "adapters/web/schema_form.h"
#include "engine/base/url.h"
#include "projections/views/worklists.h"

namespace procedo::web {

using nlohmann::json;

http::Response ShowHome(const Console& c, const http::Request& req, const StaffSession& s) {
  json lists = json::array();
  for (const auto& w : projections::Worklists()) {
    if (!domain::RoleMayRead(s.who, w.roles)) continue;
    http::Request q;
    q.params["name"] = w.name;
    q.query["limit"] = "50";
    int code = 0;
    auto page = ReadView(http::WorklistFor(c.api, s.who, q), &code);
    if (!page) continue;
    json rows = json::array();
    for (const json& item : page->value("items", json::array())) {
      const std::string stream = Text(item, "stream");
      std::string who = Text(item, "applicant_name");
      if (who.empty()) who = Text(item, "subject");
      rows.push_back(
          {{"href", "/console/pratiche/" + UrlEncode(stream)},
           {"code", Text(item, "case_code").empty() ? stream : Text(item, "case_code")},
           {"who", who},
           {"what", Text(item, "procedure_name").empty() ? c.Label("kinds", Text(item, "kind"))
                                                         : Text(item, "procedure_name")},
           {"since", c.Local(Text(item, "since"))},
           {"deadline", Text(item, "deadline").empty() ? "" : c.Local(Text(item, "deadline"))}});
    }
    lists.push_back({{"id", w.name},
                     {"title", c.Label("worklists", w.name)},
                     {"rows", rows},
                     {"empty", rows.empty()},
                     {"dated", !w.order_clock.empty()}});
  }
  // The help desk's queue: every open ticket, most urgent first (the view's own order); the
  // route's role check says who reads it.
  http::Request q;
  int code = 0;
  json queue = json::array();
  q.query["limit"] = "100";
  if (auto page = ReadView(http::TicketQueueFor(c.api, s.who, q), &code)) {
    for (const json& item : page->value("items", json::array())) {
      const std::string level = item.contains("level") ? item["level"].dump() : "";
      queue.push_back(
          {{"href", "/console/pratiche/" + UrlEncode(Text(item, "stream"))},
           // The number the requester quotes; tickets from before numbers: the id.
           {"number", item.contains("number") ? Text(item, "number") : Text(item, "stream")},
           {"subject", Text(item, "subject")},
           {"priority", c.Label("priorities", Text(item, "priority"))},
           {"state", c.StateLabel("ticket", Text(item, "state"))},
           {"level", level},
           {"technician", Text(item, "technician_name")},
           {"reminders", item.value("reminders", 0)},
           {"complaints", item.value("complaints", 0)},
           {"opened", c.Local(Text(item, "opened_at"))}});
    }
  }
  json starts = json::array();
  if (c.api.workflows != nullptr && !s.who.tenant.empty()) {
    for (const auto& [id, def] : c.api.workflows->all()) {
      WorkflowState fresh;
      fresh.stream = NewStreamId(*def, s.who);
      for (const auto& name : domain::CommandsOffered(*def, fresh, s.who, c.api.clock.Now())) {
        const json form =
            FormOf(FormSchema(c.api, def->commands.at(name), s.who.tenant, fresh), name, {}, {});
        if (!form["complete"].get<bool>()) continue;
        starts.push_back({{"href", fmt::format("/console/nuova/{}/{}", id, name)},
                          {"title", CommandTitle(def->commands.at(name))}});
      }
    }
  }
  json d = {{"lists", lists},
            {"starts", starts},
            {"has_starts", !starts.empty()},
            {"queue", queue},
            {"has_queue", code == 200},
            {"queue_empty", queue.empty()},
            {"live", true},
            {"show_kpis", domain::RoleMayRead(s.who, {"helpdesk_l1", "helpdesk_l2"})},
            {"show_closures", domain::IsAdmin(s.who)}};
  return c.Page(200, "console_home", "Elenchi di lavoro", d, req, &s);
}

}  // namespace procedo::web
