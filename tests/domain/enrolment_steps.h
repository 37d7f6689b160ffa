// An application taken to the ranking as a citizen and an operator would, and a copy of the
// domain with comune-aosta's services catalogue edited, for the tests of admissions and of the
// waiting list.
#pragma once

#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>

#include "domain/sample_payloads.h"
#include "domain/workflow_fixture.h"
#include "support/temp_dir.h"

namespace procedo::testing {

struct EnrolmentApplication {
  std::string service = "nursery";
  std::string site = "nido_la_trottola";
  std::optional<int64_t> isee = std::nullopt;
  std::string citizen = "cit1";
};

// Steps 1 and 2, the submission (online, by the citizen) and the operator's ranking.
inline void SubmitAndRank(WorkflowFixture& f, const std::string& stream,
                          const EnrolmentApplication& a) {
  const Actor cit = A(a.citizen, "citizen");
  nlohmann::json start = SamplePayload("start_enrolment");
  start["services"] = {a.service};
  start["site"] = a.site;
  start["resident"] = true;
  if (a.isee) start["isee_cents"] = *a.isee;
  f.Must(cit, stream, "start_enrolment", start);
  f.Must(cit, stream, "complete_details", {{"details", {{a.service, SampleAnswers(a.service)}}}});
  f.Must(cit, stream, "submit_enrolment");
  f.Must(A("op1", "operator"), stream, "rank_for_service", {{"service", a.service}});
}

// A copy of the repository's domain whose comune-aosta services are changed by `edit`.
inline std::string DomainWithServices(TempDir& tmp,
                                      const std::function<void(nlohmann::json&)>& edit) {
  std::filesystem::copy(SourceDir() + "/domain", tmp.sub("domain"),
                        std::filesystem::copy_options::recursive);
  const std::string path = tmp.sub("domain") + "/services/comune-aosta.json";
  nlohmann::json doc = nlohmann::json::parse(std::ifstream(path));
  edit(doc);
  std::ofstream(path, std::ios::trunc) << doc.dump(2);
  return tmp.sub("domain");
}

// The nursery of comune-aosta with `places` places at its one site, and its waiting list moved
// up as `waiting_list` says (empty: the catalogue's default).
inline std::string NurseryWith(TempDir& tmp, int places, const std::string& waiting_list = "") {
  return DomainWithServices(tmp, [&](nlohmann::json& d) {
    for (auto& s : d["services"]) {
      if (s["id"] != "nursery") continue;
      s["ranking"]["places"]["nido_la_trottola"] = places;
      if (!waiting_list.empty()) s["ranking"]["waiting_list"] = waiting_list;
    }
  });
}

}  // namespace procedo::testing
