// `procedo calendar deadline|elapsed`: business-calendar arithmetic over the same calendar files
// the server uses (<domain_dir>/calendars), for operators checking a deadline by hand.
// `procedo calendar closure announce|cancel`: service closures appended to the log after seed
// 004's check (5 days' notice, 8 business days a year), like `procedo log` with serve stopped.
#include <fmt/format.h>

#include <iostream>

#include "adapters/cli/commands.h"
#include "adapters/cli/common.h"
#include "adapters/event_json.h"
#include "domain/calendars.h"
#include "domain/closures.h"
#include "domain/procedures.h"
#include "engine/workflow/command_handler.h"

namespace procedo::cli {
namespace {

struct CalendarOptions {
  std::string calendar;
  std::string tenant;
  std::string from;
  std::string to;
  std::string add;
  bool closures = false;  // apply the closures announced in the data directory's log
};

// Everything the user typed is checked before it is used: a wrong id, time or term is exit 2.
int BadInput(const Status& s) {
  fmt::print(stderr, "procedo calendar: {}\n", s.message());
  return 2;
}

Result<BusinessCalendar> OpenCalendar(const GlobalOptions& g, const CalendarOptions& o,
                                      int* exit_code) {
  auto cfg = Load(g);
  if (!cfg.ok()) {
    *exit_code = Fail(cfg.status());
    return cfg.status();
  }
  auto catalog = domain::CalendarCatalog::LoadDomain(cfg->domain_dir);
  if (!catalog.ok()) {
    // The data files are the installation's, not the user's input.
    fmt::print(stderr, "procedo calendar: {}\n", catalog.status().message());
    *exit_code = 1;
    return catalog.status();
  }
  auto cal = catalog->Build(o.calendar, o.tenant);
  if (!cal.ok()) {
    *exit_code = BadInput(cal.status());
    return cal;
  }
  if (o.closures) {
    auto log = OpenLog(*cfg);
    auto closures = log.ok() ? domain::ReadClosures(**log, o.calendar, o.tenant)
                             : Result<domain::StreamClosures>(log.status());
    Status applied = closures.ok() ? domain::ApplyClosures(&cal.value(), closures->closures)
                                   : closures.status();
    if (!applied.ok()) {
      *exit_code = Fail(applied);
      return applied;
    }
  }
  return cal;
}

Result<TimePoint> ParseOption(const char* name, const std::string& text) {
  auto t = ParseRfc3339(text);
  if (!t.ok()) return Status::InvalidArgument(fmt::format("{}: {}", name, t.status().message()));
  return t;
}

struct ClosureOptions {
  std::string calendar;
  std::string tenant;
  std::string id;
  std::string from;
  std::string to;
  std::string reason;
  std::string by = "procedo-cli";
};

void AddClosureCommon(CLI::App* cmd, ClosureOptions* o) {
  cmd->add_option("--calendar", o->calendar, "calendar id: a file <domain_dir>/calendars/<id>.json")
      ->required();
  cmd->add_option("--tenant", o->tenant, "tenant whose service closes (tenants.json)")->required();
  cmd->add_option("--id", o->id, "the closure's id, unique within the calendar and tenant")
      ->required();
  cmd->add_option("--by", o->by, "who acts (the events' actor id)");
}

// Sends `command` to the calendar workflow on the data directory's log, as an administrator of
// the tenant, and prints the event it recorded (or why it was refused).
void SendClosureCommand(const GlobalOptions& g, const ClosureOptions& o, const Command& command,
                        int* exit_code) {
  auto cfg = Load(g);
  if (!cfg.ok()) {
    *exit_code = Fail(cfg.status());
    return;
  }
  auto domain = domain::LoadDomain(cfg->domain_dir, cfg->schemas_dir);
  if (!domain.ok()) {
    *exit_code = Fail(domain.status());
    return;
  }
  auto log = OpenLog(*cfg);
  if (!log.ok()) {
    *exit_code = Fail(log.status());
    return;
  }
  CommandHandler handler(**log, (*domain)->workflows, (*domain)->events, nullptr);
  auto r = handler.Handle(command, Actor{o.by, "admin", o.tenant});
  if (!r.ok()) {
    *exit_code = r.status().IsInvalidArgument() ? BadInput(r.status()) : Fail(r.status());
    return;
  }
  if (!r->accepted()) {
    // Refused by the rule (notice, yearly budget, a used or unknown id): the user's input.
    *exit_code = BadInput(Status::InvalidArgument(r->rejection->message));
    return;
  }
  for (const auto& e : r->append.events) std::cout << EventToJson(*e).dump() << "\n";
}

void AddCommon(CLI::App* cmd, CalendarOptions* o) {
  cmd->add_option("--calendar", o->calendar, "calendar id: a file <domain_dir>/calendars/<id>.json")
      ->required();
  cmd->add_option("--tenant", o->tenant, "tenant whose patron saint is a holiday (tenants.json)");
  cmd->add_option("--from", o->from, "receipt instant, RFC 3339, e.g. 2026-11-26T09:00:00+01:00")
      ->required();
  cmd->add_flag("--closures", o->closures,
                "apply the tenant's closures announced in the log (<data_dir>; stop serve first)");
}

}  // namespace

void RegisterCalendar(CLI::App& app, const GlobalOptions& g, int* exit_code) {
  auto* cal = app.add_subcommand("calendar", "Deadlines and business time over the calendars");
  cal->require_subcommand(1);

  static CalendarOptions d;
  auto* deadline = cal->add_subcommand(
      "deadline", "Print the deadline of a term (RFC 3339 with the calendar's local offset)");
  AddCommon(deadline, &d);
  deadline
      ->add_option("--add", d.add,
                   "term: 30m, 6h, 45s (business time), 3bd (business days), 20d (calendar days)")
      ->required();
  deadline->callback([&g, exit_code] {
    auto from = ParseOption("--from", d.from);
    if (!from.ok()) {
      *exit_code = BadInput(from.status());
      return;
    }
    auto term = ParseTerm(d.add);
    if (!term.ok()) {
      *exit_code = BadInput(term.status());
      return;
    }
    auto c = OpenCalendar(g, d, exit_code);
    if (!c.ok()) return;
    auto r = c->Add(*from, *term);
    if (!r.ok()) {
      *exit_code = BadInput(r.status());
      return;
    }
    fmt::print("{}\n", c->FormatLocal(*r));
  });

  static CalendarOptions e;
  auto* elapsed = cal->add_subcommand(
      "elapsed", "Print the business seconds counted from a receipt at --from up to --to");
  AddCommon(elapsed, &e);
  elapsed->add_option("--to", e.to, "end instant, RFC 3339")->required();
  elapsed->callback([&g, exit_code] {
    auto from = ParseOption("--from", e.from);
    if (!from.ok()) {
      *exit_code = BadInput(from.status());
      return;
    }
    auto to = ParseOption("--to", e.to);
    if (!to.ok()) {
      *exit_code = BadInput(to.status());
      return;
    }
    auto c = OpenCalendar(g, e, exit_code);
    if (!c.ok()) return;
    auto r = c->Elapsed(*from, *to);
    if (!r.ok()) {
      *exit_code = BadInput(r.status());
      return;
    }
    fmt::print("{}\n", std::chrono::duration_cast<std::chrono::seconds>(*r).count());
  });

  auto* closure = cal->add_subcommand(
      "closure", "Announce or cancel a service closure (appended to the log; stop serve first)");
  closure->require_subcommand(1);
  static ClosureOptions a;
  auto* announce = closure->add_subcommand(
      "announce", "Close the service from --from to --to (local dates, both included)");
  AddClosureCommon(announce, &a);
  announce->add_option("--from", a.from, "first closed day, YYYY-MM-DD")->required();
  announce->add_option("--to", a.to, "last closed day, YYYY-MM-DD")->required();
  announce->add_option("--reason", a.reason, "shown to users, in Italian")->required();
  announce->callback([&g, exit_code] {
    auto from = domain::ParseDate(a.from);
    auto to = domain::ParseDate(a.to);
    if (!from || !to) {
      *exit_code = BadInput(Status::InvalidArgument("--from and --to are dates YYYY-MM-DD"));
      return;
    }
    const Closure proposed{a.id, *from, *to, a.reason};
    SendClosureCommand(g, a, domain::AnnounceClosureCommand(a.calendar, a.tenant, proposed),
                       exit_code);
  });

  static ClosureOptions k;
  auto* cancel = closure->add_subcommand("cancel", "Cancel an announced closure by its id");
  AddClosureCommon(cancel, &k);
  cancel->callback([&g, exit_code] {
    SendClosureCommand(g, k, domain::CancelClosureCommand(k.calendar, k.tenant, k.id), exit_code);
  });
}

}  // namespace procedo::cli
