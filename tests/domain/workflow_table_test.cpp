// Every command of every workflow, in every state, for every role, from the stream's own tenant
// and from another one. The expectations are written here from the seeds, independently of the
// definition files, so the table checks the files as much as the engine.
#include <set>

#include "domain/procedures.h"
#include "sample_payloads.h"
#include "workflow_fixture.h"

namespace procedo::testing {
namespace {

struct Spec {
  std::string workflow;
  std::string command;
  std::set<std::string> from;  // empty: initial; {"*"}: every state of an existing stream
  std::set<std::string> roles;
  bool forwarded_tenant = false;  // the actor must be the tenant the stream was forwarded to
};

const std::set<std::string> kAnyState = {"*"};

const std::vector<Spec>& Specs() {
  static const std::set<std::string> kStaff = {"operator", "operator_validator"};
  static const std::set<std::string> kHd = {"helpdesk_l1", "helpdesk_l2"};
  static const std::vector<Spec> kSpecs = {
      {"admin_case", "start_case", {}, {"operator", "operator_validator", "admin"}},
      {"admin_case", "request_integration", {"open"}, kStaff},
      {"admin_case", "receive_integration", {"awaiting_integration"}, kStaff},
      {"admin_case", "suspend_case", {"open"}, kStaff},
      {"admin_case", "resume_case", {"suspended"}, kStaff},
      {"admin_case",
       "add_note",
       {"open", "awaiting_integration", "suspended", "closed"},
       {"operator", "operator_validator", "admin"}},
      {"admin_case", "close_case", {"open", "awaiting_integration", "suspended"}, kStaff},
      {"heating_voucher", "enter_application", {}, kStaff},
      {"heating_voucher", "enter_and_validate_application", {}, {"operator_validator"}},
      {"heating_voucher", "validate_application", {"entered"}, {"validator", "operator_validator"}},
      {"heating_voucher", "forward_to_region", {"validated"}, {"validator", "operator_validator"}},
      {"heating_voucher", "approve_application", {"forwarded"}, {"region"}, true},
      {"heating_voucher", "reject_application", {"forwarded"}, {"region"}, true},
      // Sent back, the application is the Comune's again until it is forwarded anew.
      {"heating_voucher", "return_application", {"forwarded"}, {"region"}, true},
      {"heating_voucher", "correct_application", {"returned"}, kStaff},
      // The help desk's mailbox opens tickets and files answers as the system.
      {"helpdesk_ticket", "open_ticket", {}, {"citizen", "helpdesk_l1", "integrator", "system"}},
      {"helpdesk_ticket", "take_in_charge", {"open"}, {"helpdesk_l1"}},
      {"helpdesk_ticket", "escalate_ticket", {"in_progress"}, {"helpdesk_l1"}},
      {"helpdesk_ticket", "request_information", {"in_progress", "level2"}, kHd},
      {"helpdesk_ticket",
       "receive_information",
       {"waiting_user"},
       {"citizen", "helpdesk_l1", "helpdesk_l2", "system"}},
      {"helpdesk_ticket",
       "record_message",
       {"open", "in_progress", "level2"},
       {"citizen", "helpdesk_l1", "helpdesk_l2", "system"}},
      {"helpdesk_ticket",
       "record_reminder",
       {"open", "in_progress", "level2", "waiting_user"},
       {"citizen", "helpdesk_l1", "helpdesk_l2"}},
      {"helpdesk_ticket",
       "record_complaint",
       {"open", "in_progress", "level2", "waiting_user", "resolved", "closed"},
       {"citizen", "helpdesk_l1", "helpdesk_l2"}},
      {"helpdesk_ticket", "resolve_ticket", {"in_progress", "level2"}, kHd},
      {"helpdesk_ticket", "close_ticket", {"resolved"}, kHd},
      {"helpdesk_ticket", "archive_ticket", {"closed"}, kHd},
      {"helpdesk_ticket",
       "reopen_ticket",
       {"resolved", "closed"},
       {"citizen", "helpdesk_l1", "system"}},
      {"service_enrolment", "start_enrolment", {}, {"citizen", "operator"}},
      {"service_enrolment",
       "complete_details",
       {"draft", "details_completed"},
       {"citizen", "operator"}},
      {"service_enrolment", "submit_enrolment", {"details_completed"}, {"citizen", "operator"}},
      // The application fee's payment, recorded by the payments reactor from its receipt.
      {"service_enrolment", "record_application_fee", {"draft", "details_completed"}, {"system"}},
      // The household the applicant registers and the dependants they declare.
      {"household", "register_household", {}, {"citizen", "operator"}},
      {"household", "declare_dependant", {"registered"}, {"citizen", "operator"}},
      // Debt positions at pagoPA: the Ente's staff or the system create and cancel them; a
      // citizen creates one only to top up an account of theirs (the allocator's rule).
      {"payment_position",
       "create_payment_position",
       {},
       {"operator", "operator_validator", "citizen", "system"}},
      {"payment_position",
       "cancel_payment_position",
       {"created", "published"},
       {"operator", "operator_validator", "system"}},
      // What pagoPA answers, recorded by the payments reactor; the anomalies settled by staff.
      {"payment_position", "record_publication", {"created"}, {"system"}},
      {"payment_position", "record_publication_failure", {"created"}, {"system"}},
      {"payment_position", "record_platform_failure", {"published", "cancelled"}, {"system"}},
      {"payment_position", "record_receipt", kAnyState, {"system"}},
      {"payment_position", "record_expiry", {"published"}, {"system"}},
      {"payment_position", "record_withdrawal", {"cancelled"}, {"system"}},
      {"payment_position", "settle_payment_anomaly", kAnyState, kStaff},
      {"unmatched_receipt", "record_unmatched_receipt", {}, {"system"}},
      {"unmatched_receipt", "settle_unmatched_receipt", {"open"}, kStaff},
      // Per chosen service, after submission: the Ente ranks and decides, the citizen withdraws.
      {"service_enrolment", "rank_for_service", {"submitted"}, kStaff},
      {"service_enrolment",
       "admit_to_service",
       {"submitted"},
       {"operator", "operator_validator", "system"}},  // the system: the waiting list
      {"service_enrolment", "place_on_waiting_list", {"submitted"}, kStaff},
      {"service_enrolment", "reject_for_service", {"submitted"}, kStaff},
      {"service_enrolment",
       "withdraw_from_service",
       {"submitted"},
       {"citizen", "operator", "operator_validator"}},
      // The SLA timer's records: the system only, whatever the stream's state.
      {"admin_case", "record_sla_warning", kAnyState, {"system"}},
      {"admin_case", "record_sla_breach", kAnyState, {"system"}},
      {"helpdesk_ticket", "record_sla_warning", kAnyState, {"system"}},
      {"helpdesk_ticket", "record_sla_breach", kAnyState, {"system"}},
      {"heating_voucher", "record_sla_warning", kAnyState, {"system"}},
      {"heating_voucher", "record_sla_breach", kAnyState, {"system"}},
  };
  return kSpecs;
}

std::string ActorId(const std::string& role) {
  return role == "citizen" ? "cit1" : "x-" + role;
}

std::string Build(WorkflowFixture& f, const std::string& workflow, const std::string& state,
                  int& counter) {
  const WorkflowDefinition* def = f.domain->workflows.ById(workflow);
  std::string stream = def->stream_kind + "-comune-aosta-" + std::to_string(++counter);
  if (state.empty()) return stream;
  for (const auto& step : PathTo(workflow, state)) {
    json payload = SamplePayloadFor(step.command, step.role);
    // A receipt pays the position only when it names the position's own numbers and amount.
    if (step.command == "record_receipt") payload = MatchingReceipt(f.State(stream));
    f.Must(A(step.actor, step.role, TenantOf(step.role)), stream, step.command, payload);
  }
  REQUIRE(f.State(stream).status == state);
  return stream;
}

}  // namespace

TEST_CASE("every command x state x role x tenant gives the outcome the seeds prescribe") {
  WorkflowFixture f;
  int counter = 0;
  std::map<std::string, int> tally;
  std::set<std::string> commands_seen;
  for (const auto& [wid, def] : f.domain->workflows.all()) {
    // The procedures' workflows; the product's own (calendar closures, the citizen's access,
    // the survey, the notifier's records, the mailbox's refusals, a data subject's erasures) name
    // their streams after what they hold and have tests of their own (closures_test,
    // citizen_login_test, notify_test, mail_test, personal_data_test.py); a service account exists
    // only through its enrolment's admission (accounts_test).
    if (wid == "calendar" || wid == "citizen" || wid == "survey" || wid == "notification" ||
        wid == "mailbox" || wid == "service_account" || wid == "data_subject") {
      continue;
    }
    // The table covers every command the definition declares, and nothing else.
    for (const auto& [name, c] : def->commands) {
      bool found = false;
      for (const auto& s : Specs()) found = found || (s.workflow == wid && s.command == name);
      INFO(wid << "." << name);
      CHECK(found);
    }
    std::vector<std::string> states = {""};
    states.insert(states.end(), def->states.begin(), def->states.end());
    for (const auto& state : states) {
      std::string stream = Build(f, wid, state, counter);
      WorkflowState st = f.State(stream);
      for (const auto& spec : Specs()) {
        if (spec.workflow != wid) continue;
        commands_seen.insert(wid + "." + spec.command);
        std::set<std::string> roles = domain::Roles();
        roles.insert(Actor::kSystemRole);
        for (const auto& role : roles) {
          for (bool own : {true, false}) {
            std::string tenant = own ? TenantOf(role) : "comune-pila";
            Actor who = A(ActorId(role), role, tenant);
            Command cmd{stream, spec.command, SamplePayloadFor(spec.command, role), "", ""};

            std::optional<Rejection::Kind> expected;
            std::string owner_tenant = spec.forwarded_tenant
                                           ? st.fields.value("forwarded_to", std::string())
                                           : "comune-aosta";
            if (st.exists() && tenant != owner_tenant) {
              expected = Rejection::Kind::kTenantNotAllowed;
            } else if (!spec.roles.count(role)) {
              expected = Rejection::Kind::kRoleNotAllowed;
            } else if (spec.from == kAnyState ? !st.exists()
                       : spec.from.empty()    ? st.exists()
                                              : !spec.from.count(st.status)) {
              expected = Rejection::Kind::kNotAllowedInState;
            } else if (spec.command == "start_enrolment" && tenant != "comune-aosta") {
              // The sample's services and site are comune-aosta's catalogue's; comune-pila has
              // no services catalogue, so it offers nothing to enrol in.
              expected = Rejection::Kind::kGuardRefused;
            } else if (spec.command == "create_payment_position" && tenant != "comune-aosta") {
              // comune-pila has no pagoPA settings (domain/payments/).
              expected = Rejection::Kind::kGuardRefused;
            } else if (spec.command == "settle_payment_anomaly") {
              // No path records an anomaly; payment_positions_test settles one.
              expected = Rejection::Kind::kGuardRefused;
            } else if (spec.command == "admit_to_service" ||
                       spec.command == "place_on_waiting_list" ||
                       spec.command == "reject_for_service") {
              // The path to "submitted" does not rank the application: each service is decided
              // only after it is ranked (accounts_test covers the decisions).
              expected = Rejection::Kind::kGuardRefused;
            }
            Decision d = Decide(*def, st, cmd, who, f.logf.clock.Now());
            INFO(wid << " state '" << state << "' " << spec.command << " by " << role << "@"
                     << tenant << ": " << (d.accepted() ? "accepted" : d.rejection().message));
            if (expected) {
              REQUIRE_FALSE(d.accepted());
              CHECK(d.rejection().kind == *expected);
              tally[RejectionKindName(*expected)]++;
            } else {
              REQUIRE(d.accepted());
              tally["accepted"]++;
              // Allowed rows also go through the handler on a copy of the stream, so the
              // events they append are checked against their schemas.
              std::string copy = Build(f, wid, state, counter);
              if (spec.command == "create_payment_position" && role == "citizen") {
                // Decide lets a citizen in; the allocator then takes only a top-up of an account
                // or the fee of an application of theirs (payment_positions_test,
                // payment_effects_test): the sample's enrolment is no one's.
                auto r = f.Run(who, copy, spec.command, SamplePayloadFor(spec.command, role));
                REQUIRE_FALSE(r.ok());
                CHECK(r.status().Is(Status::SubCode::kReferenceMissing));
                continue;
              }
              f.Must(who, copy, spec.command, SamplePayloadFor(spec.command, role));
            }
          }
        }
      }
    }
  }
  CHECK(commands_seen.size() == Specs().size());
  for (const auto& [k, v] : tally) {
    INFO(k << ": " << v);
    CHECK(v > 0);
  }
  WARN("table rows: accepted " << tally["accepted"] << ", tenant " << tally["tenant_not_allowed"]
                               << ", role " << tally["role_not_allowed"] << ", state "
                               << tally["not_allowed_in_state"]);
}

TEST_CASE("a command the workflow does not have is an unknown command") {
  WorkflowFixture f;
  auto r = f.Run(A("op1", "operator"), "case-comune-aosta-1", "approve_everything");
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->accepted());
  CHECK(r->rejection->kind == Rejection::Kind::kUnknownCommand);
  CHECK_THAT(r->rejection->message, Catch::Contains("start_case"));
}

TEST_CASE("an invalid payload lists every violation with its path") {
  WorkflowFixture f;
  json p = SamplePayload("start_case");
  p.erase("case_code");
  p["applicant"]["email"] = "not-an-address";
  p["consent"]["sms"] = "yes";
  p["colour"] = "blue";
  auto r = f.Run(A("op1", "operator"), "case-comune-aosta-1", "start_case", p);
  REQUIRE(r.ok());
  REQUIRE_FALSE(r->accepted());
  const Rejection& rej = *r->rejection;
  CHECK(rej.kind == Rejection::Kind::kPayloadInvalid);
  std::set<std::string> paths;
  for (const auto& v : rej.violations) paths.insert(v.path);
  INFO(rej.message);
  CHECK(paths.count("/applicant/email"));
  CHECK(paths.count("/consent/sms"));
  CHECK(rej.violations.size() >= 4);
  CHECK_THAT(rej.message, Catch::Contains("case_code"));
  CHECK_THAT(rej.message, Catch::Contains("colour"));
  CHECK(f.logf.log->LastPosition() == 0);
}

}  // namespace procedo::testing
