// Applying an exchange document: each record's commands through the command handler, the
// records of different streams in flight together (one group commit for many, and the next
// commands decided while the log writes the last), those of one stream in the document's order.
#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>

#include "adapters/exchange/exchange_internal.h"

namespace procedo::exchange {

using nlohmann::json;

namespace {

constexpr const char* kNamespace = "urn:procedo:exchange:1";

std::string LocalName(const char* name) {
  const char* colon = std::strchr(name, ':');
  return colon != nullptr ? colon + 1 : name;
}

class Lines {
 public:
  explicit Lines(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') ends_.push_back(i);
    }
  }
  size_t LineOf(size_t offset) const {
    return static_cast<size_t>(std::lower_bound(ends_.begin(), ends_.end(), offset) -
                               ends_.begin()) +
           1;
  }
  size_t ColumnOf(size_t offset) const {
    size_t line = LineOf(offset);
    return line == 1 ? offset + 1 : offset - ends_[line - 2];
  }

 private:
  std::vector<size_t> ends_;
};

Status Refuse(const std::string& what) {
  return Status::InvalidArgument(what +
                                 "; nothing of it was imported: fix the file and send it "
                                 "again");
}

// What the handler answered for one command of a record.
enum class Step { kApplied, kUnchanged, kRefused, kConflict };

struct Outcome {
  Step step;
  std::string reason;
};

// The answer of the asynchronous path, read again on the synchronous one where it cannot tell:
// a key used before (a retry of an imported record, whose decision today differs from the
// first) and a stream that moved on are answered there from the log.
// Another tenant's account and no account at all read the same: the import tells nothing about
// what other tenants hold.
Outcome NoAccount(const Command& c, const Actor& actor) {
  return Outcome{Step::kRefused,
                 fmt::format("{} has no account {}: an account opens when an application is "
                             "admitted to its service; check the id (the export of enrolments "
                             "lists each admitted service's account)",
                             actor.tenant, c.stream)};
}

Result<Outcome> Classify(Result<CommandOutcome> r, CommandHandler& handler, const Command& c,
                         const Actor& actor, bool retried) {
  const bool movement = c.name == "record_usage" || c.name == "top_up_account";
  if (movement &&
      ((!r.ok() && r.status().Is(Status::SubCode::kWrongTenant)) ||
       (r.ok() && !r->accepted() && r->rejection->kind == Rejection::Kind::kTenantNotAllowed))) {
    return NoAccount(c, actor);
  }
  if (!r.ok()) {
    const Status& s = r.status();
    const bool ask_again = s.IsConflict() || s.Is(Status::SubCode::kIdempotencyKeyReused);
    if (ask_again && !retried) {
      return Classify(handler.Handle(c, actor), handler, c, actor, true);
    }
    if (s.Is(Status::SubCode::kIdempotencyKeyReused)) {
      return Outcome{Step::kConflict,
                     "a record with this id was imported before with other content; a new "
                     "record needs a new id"};
    }
    auto exists = handler.log().StreamVersion(c.stream);
    if (movement && exists.ok() && *exists == 0) return NoAccount(c, actor);
    if (s.IsInvalidArgument() || s.IsNotFound() || s.IsConflict()) {
      return Outcome{Step::kRefused, s.message()};
    }
    return s;  // the log failed: stop, nothing is half-applied and the file can be sent again
  }
  if (!r->accepted()) {
    // A record imported before may be refused now (its application was submitted since): the
    // synchronous path looks for the first attempt by its key before deciding.
    if (!retried && !c.idempotency_key.empty()) {
      return Classify(handler.Handle(c, actor), handler, c, actor, true);
    }
    auto exists = handler.log().StreamVersion(c.stream);
    if (movement && exists.ok() && *exists == 0) return NoAccount(c, actor);
    return Outcome{Step::kRefused, r->rejection->message};
  }
  if (r->append.deduplicated || r->append.events.empty()) return Outcome{Step::kUnchanged, ""};
  return Outcome{Step::kApplied, ""};
}

// Catalogue checks of an enrolment before any of its commands: a record refused at its details
// must not leave a draft application behind.
std::string CheckEnrolment(const Record& r, const domain::TenantServices* catalogue,
                           const std::string& tenant) {
  const json& start = r.commands[0].payload;
  auto problems = domain::CheckServiceChoice(catalogue, tenant, start["services"],
                                             start["site"].get<std::string>());
  if (problems.empty()) {
    problems = domain::CheckEnrolmentDetails(catalogue, tenant, start["services"],
                                             r.commands[1].payload["details"]);
  }
  return problems.empty() ? "" : domain::JoinProblems(problems);
}

}  // namespace

Result<ImportReport> Import(std::string_view xml, const ExchangeSchema& schema,
                            const domain::ServiceCatalogue& services, CommandHandler& handler,
                            const ImportOptions& options) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed =
      doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  const Lines lines(xml);
  if (!parsed) {
    const size_t at = static_cast<size_t>(std::max<ptrdiff_t>(parsed.offset, 0));
    return Refuse(fmt::format("the document is not well-formed XML: line {}, column {}: {}",
                              lines.LineOf(at), lines.ColumnOf(at), parsed.description()));
  }
  // libxml2 is stricter than pugixml on what is well-formed (encodings, characters): it has the
  // last word, with its own line and column.
  Checked checked = CheckDocument(xml, schema);
  if (checked.fatal) {
    return Refuse(fmt::format("the document is not well-formed XML: line {}, column {}: {}",
                              checked.fatal->line, checked.fatal->column, checked.fatal->message));
  }
  pugi::xml_node root = doc.document_element();
  bool ns_ok = false;
  for (auto a : root.attributes()) {
    const std::string name = a.name();
    if ((name == "xmlns" || name.rfind("xmlns:", 0) == 0) && std::string(a.value()) == kNamespace) {
      ns_ok = true;
    }
  }
  if (LocalName(root.name()) != "exchange" || !ns_ok) {
    return Refuse(
        fmt::format("the root element must be <exchange xmlns=\"{}\" tenant=\"...\">", kNamespace));
  }
  ImportReport report;
  report.tenant = root.attribute("tenant").as_string();
  std::vector<Record> records;
  for (auto n : root.children()) {
    if (n.type() != pugi::node_element) continue;
    Record r;
    r.line = lines.LineOf(static_cast<size_t>(n.offset_debug()));
    records.push_back(std::move(r));
  }
  // The XSD's problems: on the root (its tenant), the whole document; in a record, that record.
  for (const auto& p : checked.layout) {
    auto after = std::upper_bound(records.begin(), records.end(), p.line,
                                  [](size_t line, const Record& r) { return line < r.line; });
    if (after == records.begin()) {
      return Refuse(fmt::format("line {}: {}", p.line, p.message));
    }
    Record& r = *(after - 1);
    r.refusal += (r.refusal.empty() ? "" : "; ") + p.message;
  }
  if (report.tenant != options.actor.tenant) {
    return Refuse(fmt::format("the document is for tenant '{}', and you import for '{}'",
                              report.tenant, options.actor.tenant));
  }
  const domain::TenantServices* catalogue = services.ForTenant(report.tenant);
  size_t i = 0;
  for (auto n : root.children()) {
    if (n.type() != pugi::node_element) continue;
    Record& r = records[i++];
    const std::string layout = std::move(r.refusal);
    PlanRecord(n, report.tenant, catalogue, &r);
    if (!layout.empty()) r.refusal = layout, r.refusal_kind = RecordProblem::Kind::kLayout;
    if (r.refusal.empty() && r.commands.size() == 3) {
      r.refusal = CheckEnrolment(r, catalogue, report.tenant);
      r.refusal_kind = RecordProblem::Kind::kRefused;
    }
  }
  report.records = records.size();

  // Per stream, its records in the document's order, one send in flight per stream: an
  // enrolment's commands one by one, an account's consecutive movements as one batch. As soon as
  // a stream's send is answered its next one goes, so that deciding the next commands overlaps
  // the log's writing of the last ones.
  struct Lane {
    std::deque<size_t> records;
    size_t step = 0;
    bool applied = false;  // some step of the current record appended
    // The movements in flight, moved out of their records: the handler reads them until it
    // answers, and a refusal is asked again with them.
    std::vector<Command> batch;
  };
  std::map<std::string, Lane> lanes;
  for (size_t k = 0; k < records.size(); ++k) {
    if (!records[k].refusal.empty()) {
      report.problems.push_back(
          {records[k].refusal_kind, records[k].line, records[k].name, records[k].refusal});
      continue;
    }
    lanes[records[k].commands[0].stream].records.push_back(k);
  }
  struct Answer {
    Lane* lane;
    std::vector<Result<CommandOutcome>> results;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Answer> answered;  // guarded by mu
  size_t outstanding = 0;       // commands sent and not answered
  const size_t in_flight = std::max<size_t>(options.in_flight, 1);
  const size_t per_batch = std::max<size_t>(options.movements_per_batch, 1);
  auto movement = [&](size_t k) {
    const auto& cs = records[k].commands;
    return cs.size() == 1 && (cs[0].name == "record_usage" || cs[0].name == "top_up_account");
  };
  // The handler may answer at once, on this thread (a refusal), or later, on the log's.
  auto send = [&](Lane& lane) {
    auto answer = [&, l = &lane](std::vector<Result<CommandOutcome>> out) {
      std::lock_guard lock(mu);
      answered.push_back(Answer{l, std::move(out)});
      cv.notify_one();
    };
    if (movement(lane.records.front())) {
      for (size_t j = 0; j < lane.records.size() && j < per_batch && movement(lane.records[j]);
           ++j) {
        lane.batch.push_back(std::move(records[lane.records[j]].commands[0]));
      }
      outstanding += lane.batch.size();
      handler.HandleBatchAsync(lane.batch, options.actor, answer);
      return;
    }
    const Record& r = records[lane.records.front()];
    ++outstanding;
    handler.HandleAsync(r.commands[lane.step], options.actor,
                        [answer](Result<CommandOutcome> out) mutable {
                          std::vector<Result<CommandOutcome>> one;
                          one.push_back(std::move(out));
                          answer(std::move(one));
                        });
  };
  auto next_lane = lanes.begin();
  while (next_lane != lanes.end() && outstanding < in_flight) send((next_lane++)->second);
  Status failed = Status::Ok();
  while (outstanding > 0) {
    std::deque<Answer> batch;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !answered.empty(); });
      batch.swap(answered);
    }
    for (Answer& a : batch) {
      outstanding -= a.results.size();
      Lane& lane = *a.lane;
      for (size_t j = 0; j < a.results.size() && failed.ok(); ++j) {
        Record& r = records[lane.records.front()];
        const Command& c = lane.batch.empty() ? r.commands[lane.step] : lane.batch[j];
        auto outcome = Classify(std::move(a.results[j]), handler, c, options.actor, false);
        if (!outcome.ok()) {
          failed = Status::IoError(fmt::format(
              "{}; the records before line {} may be imported: send the file again to import "
              "the rest",
              outcome.status().message(), r.line));
          break;
        }
        bool done = false;
        if (outcome->step == Step::kRefused || outcome->step == Step::kConflict) {
          report.problems.push_back({outcome->step == Step::kRefused
                                         ? RecordProblem::Kind::kRefused
                                         : RecordProblem::Kind::kConflict,
                                     r.line, r.name, outcome->reason});
          done = true;
        } else {
          lane.applied = lane.applied || outcome->step == Step::kApplied;
          if (++lane.step == r.commands.size()) {
            ++(lane.applied ? report.applied : report.unchanged);
            done = true;
          }
        }
        if (done) {
          lane.records.pop_front();
          lane.step = 0;
          lane.applied = false;
        }
      }
      lane.batch.clear();
      if (!failed.ok()) continue;  // the log failed: wait for what is in flight, send no more
      if (!lane.records.empty()) {
        send(lane);
      } else if (next_lane != lanes.end()) {
        send((next_lane++)->second);
      }
    }
  }
  if (!failed.ok()) return failed;
  std::sort(report.problems.begin(), report.problems.end(),
            [](const RecordProblem& a, const RecordProblem& b) { return a.line < b.line; });
  return report;
}

json ReportJson(const ImportReport& report) {
  json problems = json::array();
  for (const auto& p : report.problems) {
    problems.push_back({{"line", p.line},
                        {"record", p.record},
                        {"kind", p.kind == RecordProblem::Kind::kLayout    ? "layout"
                                 : p.kind == RecordProblem::Kind::kRefused ? "refused"
                                                                           : "conflict"},
                        {"reason", p.reason}});
  }
  return {{"tenant", report.tenant},
          {"records", report.records},
          {"applied", report.applied},
          {"unchanged", report.unchanged},
          {"problems", problems}};
}

}  // namespace procedo::exchange
