// Personal data over HTTP. GET /v1/subjects/{subject}: a data subject's personal data for an
// access request (GDPR art. 15): every event that holds a personal value of theirs (the subjects
// projection says where), each value opened with their key, or the erased text where a group was
// erased, and the erasures recorded; the tenant's administrators only
// (domain::MayExportPersonalData), and a subject of another tenant, or none, is the same 404.
// POST /v1/personal/open: sealed values, as Kafka carries them, opened for the tenant's
// integrators (domain::MayOpenPersonalData).
#include <fmt/format.h>

#include "adapters/http/api.h"
#include "adapters/http/view_query.h"
#include "domain/access.h"
#include "engine/crypto/personal.h"
#include "engine/crypto/subject_id.h"
#include "projections/views/subjects.h"

namespace procedo::http {
namespace {

using nlohmann::json;
using projections::SubjectsProjection;

Response NoSubject(const std::string& subject) {
  return Response::Problem(404, "subject-not-found", "Data subject not found",
                           fmt::format("no data subject {} of your tenant", subject));
}

// The subject's values in one event, each opened with the event and field it was sealed for
// (a copy the system made stands elsewhere, and is held here all the same).
json OpenedFields(const crypto::PersonalData& personal, const Event& e, const json& fields) {
  json data = json::parse(e.data, nullptr, false);
  json out = json::array();
  for (const auto& f : fields) {
    const std::string path = f.value("path", "");
    json value = nullptr;
    try {
      const json::json_pointer ptr(path);
      if (data.is_object() && data.contains(ptr) && data.at(ptr).is_string()) {
        value = personal.ShowJson(data.at(ptr).get<std::string>());
      }
    } catch (const json::exception&) {
      // A path this server did not write: shown as absent.
    }
    out.push_back({{"path", path}, {"group", f.value("group", "")}, {"value", value}});
  }
  return out;
}

}  // namespace

void AddSubjectRoutes(Router& router, Api& api) {
  router.Add(
      "GET", "/v1/subjects/{subject}",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        if (!domain::MayExportPersonalData(who)) {
          return NotAllowed(
              "a data subject's export is the Ente's privacy officer's (or the platform "
              "administrator's) to read");
        }
        const std::string& subject = req.params["subject"];
        if (!crypto::IsSubjectId(subject)) {
          return BadParameter("subject", "a data subject's id (subj- and 22 characters)");
        }
        std::string tenant;
        if (!TenantFor(req, who, /*required=*/true, &tenant, &out)) return out;
        // Without sealing (no personal.master_key_file) there are no subjects at all.
        if (api.personal == nullptr || api.views == nullptr ||
            api.personal->keys().TenantOf(subject) != tenant) {
          return NoSubject(subject);
        }
        if (!WaitForViews(api, req, &out)) return out;
        const std::string prefix = SubjectsProjection::SubjectPrefix(tenant, subject);
        PageRequest page;
        if (!ParsePage(req, prefix, &page, &out)) return out;
        Status failed;
        auto result =
            ScanPage(*api.views, SubjectsProjection::kName, prefix, page, [&](json& item) {
              if (!item.contains("fields")) return true;  // an erasure
              auto events = api.log.ReadAll(item.value("position", 0), 1);
              if (!events.ok() || events->empty()) {
                failed = events.ok() ? Status::NotFound("event gone") : events.status();
                return false;
              }
              item["fields"] = OpenedFields(*api.personal, events->front(), item["fields"]);
              return true;
            });
        if (!result.ok()) return Response::FromStatus(result.status());
        if (!failed.ok()) return Response::FromStatus(failed);
        json body = {{"tenant", tenant},
                     {"subject", subject},
                     {"groups_held", api.personal->keys().Groups(subject)}};
        return Response::Json(200, PageBody(std::move(result).value(), std::move(body)));
      },
      /*blocking=*/true);

  // What a Kafka consumer (or any integrator) reads sealed it opens here: each value of the
  // caller's tenant's subjects, or the erased text; another tenant's, or no personal value at
  // all, is null, alike.
  router.Add(
      "POST", "/v1/personal/open",
      [&api](Request& req) {
        Principal who;
        Response out;
        if (!RequirePrincipal(api, req, &who, &out)) return out;
        if (!domain::MayOpenPersonalData(who)) {
          return NotAllowed(
              "sealed values are opened for the Ente's integrators and administrators");
        }
        json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
        if (body.is_discarded() || !body.is_object() || !body.contains("values") ||
            !body["values"].is_array() || body["values"].size() > 1000) {
          return Response::Problem(
              400, "malformed-json", "Malformed JSON",
              "the body must be {\"values\": [...]}: at most 1,000 sealed values (pd1.…) as the "
              "events carry them");
        }
        json values = json::array();
        for (const auto& v : body["values"]) {
          const auto parsed =
              v.is_string() ? crypto::ParsePersonal(v.get<std::string>()) : std::nullopt;
          // Without sealing there is nothing this server sealed: every value is null.
          if (!parsed || api.personal == nullptr ||
              api.personal->keys().TenantOf(parsed->subject) != who.tenant) {
            values.push_back(nullptr);
            continue;
          }
          values.push_back(api.personal->ShowJson(v.get<std::string>()));
        }
        return Response::Json(200, json{{"values", std::move(values)}});
      },
      /*blocking=*/true);
}

}  // namespace procedo::http
