// domain::CommandsOffered: what a form may offer a principal on a stream now, judged as decide
// judges tenant, role and state; a refusal only the payload or a guard can give leaves it offered.
#include <algorithm>

#include "domain/access.h"
#include "sample_payloads.h"
#include "workflow_fixture.h"

using namespace procedo;
using namespace procedo::testing;

namespace {
bool Has(const std::vector<std::string>& v, const std::string& name) {
  return std::find(v.begin(), v.end(), name) != v.end();
}
}  // namespace

TEST_CASE("the commands offered follow role, tenant and state", "[access]") {
  WorkflowFixture f;
  const WorkflowDefinition* def = f.domain->workflows.ById("heating_voucher");
  REQUIRE(def != nullptr);
  const TimePoint now = f.logf.clock.Now();
  const Principal op{"olga", "operator", "comune-aosta"};
  const Principal val{"rita", "validator", "comune-aosta"};
  const Principal region{"regina", "region", "regione-vda"};
  const Principal other{"franco", "validator", "comune-forli"};

  WorkflowState fresh;
  fresh.stream = "voucher-comune-aosta-1";
  auto starts = domain::CommandsOffered(*def, fresh, op, now);
  CHECK(starts == std::vector<std::string>{"enter_application"});
  CHECK(domain::CommandsOffered(*def, fresh, region, now).empty());

  REQUIRE(f.Run(A("olga", "operator"), fresh.stream, "enter_application",
                SamplePayload("enter_application"))
              ->accepted());
  auto state = f.handler->Load(fresh.stream);
  REQUIRE(state.ok());
  const WorkflowState& entered = **state;
  CHECK(domain::CommandsOffered(*def, entered, op, now).empty());
  auto for_validator = domain::CommandsOffered(*def, entered, val, now);
  CHECK(Has(for_validator, "validate_application"));
  CHECK_FALSE(Has(for_validator, "forward_to_region"));                // not in this state
  CHECK_FALSE(Has(for_validator, "enter_application"));                // the stream exists
  CHECK(domain::CommandsOffered(*def, entered, other, now).empty());   // another Comune's
  CHECK(domain::CommandsOffered(*def, entered, region, now).empty());  // not forwarded yet
  // The operator who entered it is offered nothing more; a validator who did would be offered
  // validation, which the segregation-of-duties guard then refuses with its reason.
  const Principal both{"olga", "operator_validator", "comune-aosta"};
  CHECK(Has(domain::CommandsOffered(*def, entered, both, now), "validate_application"));
}
