// Seed 003: the applicant of an enrolment is told each service's outcome (admitted, on the
// waiting list, rejected) at the contact the application gives.
#include "projections/reactors/notify_plan.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return (it != j.end() && it->is_string()) ? it->get<std::string>() : "";
}

}  // namespace

void FoldEnrolmentStarted(const Event& e, const json& data, CaseFacts& f) {
  f.tenant = e.tenant;
  const json& a = data.contains("applicant") ? data["applicant"] : json::object();
  f.applicant_name = Str(a, "name");
  // Giving a contact on the application is the consent to be told its outcome there, as for a
  // ticket: the form asks for it for that purpose.
  f.email = Str(a, "email");
  f.mobile = Str(a, "phone");
  f.consent_email = !f.email.empty();
  f.consent_sms = !f.mobile.empty();
  f.beneficiary_name = Str(data.value("beneficiary", json::object()), "name");
  f.site = Str(data, "site");
}

void AddEnrolmentVars(const json& data, const CaseFacts& f, const PlanContext& ctx,
                      TemplateVars& v) {
  const std::string service = Str(data, "service");
  v["service_name"] = service;
  v["site_name"] = f.site;
  const domain::TenantServices* t = ctx.services ? ctx.services->ForTenant(f.tenant) : nullptr;
  if (t != nullptr) {
    if (const domain::Service* s = t->Find(service)) v["service_name"] = s->name;
    for (const auto& site : t->sites) {
      if (Str(site, "id") == f.site && !Str(site, "name").empty()) {
        v["site_name"] = Str(site, "name");
      }
    }
  }
  v["moved_up"] = data.value("moved_up_from_waiting_list", false) ? "sì" : "";
}

}  // namespace procedo::projections
