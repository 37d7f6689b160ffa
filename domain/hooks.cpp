// The C++ the workflow definitions name: only what data cannot express.
#include <fmt/format.h>

#include "domain/procedures.h"
#include "engine/log/log_store.h"
#include "engine/workflow/workflow.h"

namespace procedo::domain {
namespace {

using nlohmann::json;

std::string Field(const json& fields, const char* name) {
  auto it = fields.find(name);
  return (it != fields.end() && it->is_string()) ? it->get<std::string>() : "";
}

}  // namespace

void SubjectOwners::Set(Lookup lookup) {
  std::lock_guard lock(mu_);
  lookup_ = std::move(lookup);
}

std::optional<std::string> SubjectOwners::TenantOf(const std::string& subject) const {
  std::lock_guard lock(mu_);
  return lookup_ ? lookup_(subject) : std::nullopt;
}

bool SubjectOwners::set() const {
  std::lock_guard lock(mu_);
  return static_cast<bool>(lookup_);
}

void RegisterHooks(HookRegistry& hooks, std::shared_ptr<const Catalogue> catalogue,
                   std::map<std::string, std::string> regions,
                   std::shared_ptr<const SubjectOwners> owners) {
  // Which Region an application goes to is the tenant's data, not the workflow's.
  auto region_of = std::make_shared<const std::map<std::string, std::string>>(std::move(regions));
  hooks.AddGuard("tenant_has_region",
                 [region_of](const DecideContext& c) -> std::optional<std::string> {
                   if (region_of->contains(c.state.tenant)) return std::nullopt;
                   return fmt::format(
                       "tenant '{}' has no Region to forward to; add its \"region\" to "
                       "domain/calendars/tenants.json",
                       c.state.tenant);
                 });
  // A correction of the applicant's facts kept beside their object (the ISEE, the address, the
  // household's size) names the applicant too, as the state holds them: those facts are sealed
  // with the applicant's key.
  hooks.AddEffect("applicant_of_corrected_facts",
                  [](const DecideContext& c, const std::string&, json& data) {
                    if (data.contains("applicant")) return;
                    if (!data.contains("isee") && !data.contains("address") &&
                        !data.contains("household_members")) {
                      return;
                    }
                    auto it = c.state.fields.find("applicant");
                    if (it != c.state.fields.end() && it->is_object()) data["applicant"] = *it;
                  });
  hooks.AddEffect("forwarded_to_region",
                  [region_of](const DecideContext& c, const std::string&, json& data) {
                    auto it = region_of->find(c.state.tenant);
                    if (it != region_of->end()) data["forwarded_to"] = it->second;
                  });

  // An erasure names its subject twice, in the stream and the payload, and the stream names the
  // tenant too: a subject's erasures are one stream of its own tenant's, which no other tenant
  // can take first. The subject must be that tenant's; another tenant's is answered as one that
  // does not exist.
  hooks.AddGuard(
      "subject_stream_matches", [owners](const DecideContext& c) -> std::optional<std::string> {
        const std::string subject = c.command.payload.value("subject", "");
        const std::string want = fmt::format("subject-{}-{}", c.actor.tenant, subject);
        if (c.command.stream != want) {
          return fmt::format("the payload names subject {}, but the stream is {}; send it to {}",
                             subject, c.command.stream, want);
        }
        if (!owners->set()) {
          return std::string(
              "personal data is not sealed on this server (no "
              "personal.master_key_file): there are no keys to erase");
        }
        if (owners->TenantOf(subject) != c.actor.tenant) {
          return fmt::format(
              "{} has no data subject {}; use the subject id its "
              "events name (applicant.subject)",
              c.actor.tenant, subject);
        }
        return std::nullopt;
      });

  hooks.AddGuard(
      "known_procedure", [catalogue](const DecideContext& c) -> std::optional<std::string> {
        std::string id = c.command.payload.value("procedure_id", "");
        const CatalogueEntry* e = catalogue->Find(id);
        if (e == nullptr) {
          return fmt::format(
              "procedure '{}' is not in the catalogue; use a catalogued procedure id", id);
        }
        if (e->workflow != "admin_case") {
          return fmt::format("procedure '{}' follows workflow '{}', not the administrative case",
                             id, e->workflow);
        }
        return std::nullopt;
      });

  // Freezes the catalogue entry into the stream: later catalogue edits never change its term. The
  // entry is the event's procedure_id: a case's comes from its payload, an application's is set
  // by its workflow. A stream that froze the entry already (an application forwarded again after
  // corrections) keeps what it froze, as a case keeps the term it started under.
  hooks.AddEffect("catalogue_entry",
                  [catalogue](const DecideContext& c, const std::string&, json& data) {
                    static constexpr const char* kFrozen[] = {
                        "procedure_name", "office",   "responsible",      "term",
                        "term_text",      "calendar", "catalogue_version"};
                    const std::string id = Field(data, "procedure_id");
                    if (!id.empty() && Field(c.state.fields, "procedure_id") == id &&
                        c.state.fields.contains("catalogue_version")) {
                      for (const char* k : kFrozen) {
                        if (c.state.fields.contains(k)) data[k] = c.state.fields[k];
                      }
                      return;
                    }
                    const CatalogueEntry* e = catalogue->Find(id);
                    if (e == nullptr)
                      return;  // the known_procedure guard or the domain's load refused
                    const json& s = e->source;
                    data["procedure_name"] = s["name"];
                    data["office"] = s["office"];
                    data["responsible"] = s["responsible"];
                    data["term"] = e->TermTarget();
                    data["term_text"] = s["term"].value("text", "");
                    data["calendar"] = e->calendar;
                    data["catalogue_version"] = e->version;
                  });

  // Bon de Chauffage rounds: each forwarding to the Region is one more round, and what happens in
  // a round (a sending back) names it. Counting is what data cannot do. An application forwarded
  // before rounds were recorded was in its first.
  hooks.AddEffect("application_round",
                  [](const DecideContext& c, const std::string& event_type, json& data) {
                    int64_t round = c.state.fields.value("round", int64_t{0});
                    if (round == 0 && !Field(c.state.fields, "forwarded_at").empty()) round = 1;
                    data["round"] = event_type == "voucher.forwarded" ? round + 1 : round;
                  });

  // Segregation of duties (Bon de Chauffage): whoever entered an application, or corrected it
  // after the Region sent it back, may not validate it. The operator_validator profile exists
  // precisely to do both, so it is exempt.
  hooks.AddGuard("segregation_of_duties", [](const DecideContext& c) -> std::optional<std::string> {
    if (c.actor.role == "operator_validator") return std::nullopt;
    if (Field(c.state.fields, "entered_by") == c.actor.id) {
      return fmt::format(
          "'{}' entered this application and may not validate it; a different "
          "validator must",
          c.actor.id);
    }
    if (Field(c.state.fields, "corrected_by") == c.actor.id) {
      return fmt::format(
          "'{}' corrected this application and may not validate the corrections; a different "
          "validator must",
          c.actor.id);
    }
    return std::nullopt;
  });

  // Citizens act only on what they opened; staff act on their tenant's streams.
  hooks.AddGuard("requester_if_citizen", [](const DecideContext& c) -> std::optional<std::string> {
    if (c.actor.role != "citizen") return std::nullopt;
    std::string owner = Field(c.state.fields, "opened_by");
    if (owner.empty()) owner = Field(c.state.fields, "started_by");
    if (owner.empty()) owner = Field(c.state.fields, "holder");  // a service account
    if (owner != c.actor.id) {
      return "a citizen may act only on requests they submitted themselves";
    }
    return std::nullopt;
  });

  // Seed 004: the reopened ticket goes back to the technician who handled and closed it.
  hooks.AddEffect("assign_to_closing_technician",
                  [](const DecideContext& c, const std::string&, json& data) {
                    std::string closer = Field(c.state.fields, "closed_by");
                    if (closer.empty()) closer = Field(c.state.fields, "resolved_by");
                    if (closer.empty()) closer = Field(c.state.fields, "technician");
                    data["technician"] = closer;
                    if (closer == Field(c.state.fields, "technician")) {
                      data["technician_name"] = Field(c.state.fields, "technician_name");
                    }
                  });

  // Paper applications are entered by an operator; online ones by the citizen themselves.
  hooks.AddGuard("channel_matches_role", [](const DecideContext& c) -> std::optional<std::string> {
    std::string channel = c.command.payload.value("channel", "");
    if (c.actor.role == "citizen" && channel != "online") {
      return "citizens apply online; a paper application is entered by an operator";
    }
    if (c.actor.role != "citizen" && channel != "paper") {
      return "staff enter paper applications; online applications come from the citizen";
    }
    return std::nullopt;
  });

  // A gap-free number per service and tenant: the counter stream's version is the number. The
  // counter's event rides in the submission's own batch, expected at the version read here, so
  // one submission is one durable write; a number another submission took first makes the
  // append conflict on the counter, and the handler allocates again.
  hooks.AddAllocator(
      "sequence_per_service",
      [](const StreamVersionOf& version_of, const DecideContext& c, const std::string&, json& data,
         std::vector<AllocatedEvent>* also) -> Status {
        json numbers = json::object();
        for (const auto& s : c.state.fields.value("services", json::array())) {
          std::string service = s.get<std::string>();
          std::string counter = "sequence-" + c.state.tenant + "-" + service;
          auto version = version_of(counter);
          if (!version.ok()) return version.status();
          numbers[service] = *version + 1;
          also->push_back({counter, *version, "sequence.assigned",
                           json{{"claimed_by", c.state.stream}, {"service", service}}});
        }
        data["sequence_numbers"] = std::move(numbers);
        return Status::Ok();
      });
}

}  // namespace procedo::domain
