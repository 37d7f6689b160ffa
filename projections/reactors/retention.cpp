#include "projections/reactors/retention.h"

#include <date/date.h>
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "engine/crypto/personal.h"
#include "projections/views/rows.h"

namespace procedo::projections {
namespace {

using nlohmann::json;

constexpr size_t kPage = 1024;

// The same instant `years` later on the calendar; 29 February becomes 28 February.
TimePoint AddYears(TimePoint t, uint32_t years) {
  const auto day = date::floor<date::days>(t);
  const date::year_month_day ymd{day};
  auto later = ymd + date::years{static_cast<int>(years)};
  if (!later.ok()) later = later.year() / later.month() / date::last;
  return date::sys_days{later} + (t - day);
}

std::string StreamKey(const std::string& stream) {
  return Key({"p", stream});
}
std::string SubjectKey(const std::string& tenant, const std::string& subject) {
  return Key({"s", tenant, subject});
}
std::string DueKey(int64_t due, const std::string& tenant, const std::string& subject) {
  return Key({"d", Pad20(static_cast<uint64_t>(std::max<int64_t>(due, 0))), tenant, subject});
}

bool Contains(const json& list, const std::string& v) {
  return std::find(list.begin(), list.end(), json(v)) != list.end();
}

}  // namespace

RetentionReactor::RetentionReactor(CommandHandler& commands, ViewStore& views,
                                   std::shared_ptr<const domain::Catalogue> catalogue,
                                   Waiter& waiter)
    : commands_(commands),
      log_(commands.log()),
      views_(views),
      catalogue_(std::move(catalogue)),
      waiter_(waiter) {
  for (const auto& [id, entry] : catalogue_->entries()) {
    if (entry.retention_years > 0) closing_[entry.retention_after].insert(id);
  }
}

RetentionReactor::~RetentionReactor() {
  Stop();
}

Status RetentionReactor::Start() {
  stop_.store(false);
  position_.store(views_.Checkpoint(kRetentionView));
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void RetentionReactor::Stop() {
  stop_.store(true);
  {
    std::lock_guard lock(mu_);
    if (sub_) sub_->Cancel();
  }
  waiter_.Wake();
  if (thread_.joinable()) thread_.join();
}

void RetentionReactor::Loop() {
  while (!stop_.load()) {
    // The log is followed in short waits, so that a clock moved by a test is seen soon too.
    auto r = Pump(std::chrono::milliseconds(100));
    if (r.ok() || stop_.load()) continue;
    if (r.status().IsShutdown()) return;
    const uint64_t epoch = waiter_.Epoch();
    waiter_.WaitUntil(waiter_.clock().Now() + std::chrono::seconds(1), epoch);
  }
}

Status RetentionReactor::Fold(const Event& e, ViewWriter& rows) {
  const domain::CatalogueEntry* ends = nullptr;
  static const std::set<std::string> kNone;
  auto closing = closing_.find(e.type);
  const std::set<std::string>& closing_types = closing == closing_.end() ? kNone : closing->second;
  const bool personal = crypto::MayHoldPersonal(e.data);
  const bool names_procedure = e.data.find("\"procedure_id\"") != std::string::npos;
  if (!personal && !names_procedure && closing_types.empty()) return Status::Ok();
  auto parsed = Parse(e);
  if (!parsed.ok()) return parsed.status();
  const json& data = parsed->data;

  auto stored = rows.GetJson(StreamKey(e.stream));
  if (!stored.ok()) return stored.status();
  json p = stored->value_or(json{{"procedure", ""}, {"subjects", json::array()}, {"due", 0}});
  bool changed = !stored->has_value() && personal;
  if (p.value("procedure", "").empty() && data.contains("procedure_id") &&
      data["procedure_id"].is_string()) {
    p["procedure"] = data["procedure_id"];
    changed = true;
  }
  const bool ended = p.value("due", int64_t{0}) > 0;

  // A subject first seen on this stream: the stream keeps them (until it ends and its period
  // passes), and an earlier due time of theirs waits for it.
  for (const auto& v : crypto::PersonalValuesIn(data)) {
    if (Contains(p["subjects"], v.subject)) continue;
    p["subjects"].push_back(v.subject);
    changed = true;
    auto srow = rows.GetJson(SubjectKey(e.tenant, v.subject));
    if (!srow.ok()) return srow.status();
    json s = srow->value_or(json{{"open", json::array()}, {"due", 0}});
    const int64_t due = s.value("due", int64_t{0});
    if (s["open"].empty() && due > 0) rows.Delete(DueKey(due, e.tenant, v.subject));
    if (ended) {
      s["due"] = std::max(due, p.value("due", int64_t{0}));
      if (s["open"].empty()) rows.Put(DueKey(s["due"], e.tenant, v.subject), "");
    } else {
      s["open"].push_back(e.stream);
    }
    rows.PutJson(SubjectKey(e.tenant, v.subject), s);
  }

  const std::string procedure = p.value("procedure", "");
  if (!ended && closing_types.count(procedure)) ends = catalogue_->Find(procedure);
  if (ends != nullptr) {
    const int64_t due = Us(AddYears(e.time, ends->retention_years));
    p["due"] = due;
    changed = true;
    for (const auto& x : p["subjects"]) {
      const std::string subject = x.get<std::string>();
      auto srow = rows.GetJson(SubjectKey(e.tenant, subject));
      if (!srow.ok()) return srow.status();
      if (!srow->has_value()) continue;
      json s = std::move(**srow);
      json open = json::array();
      for (const auto& o : s["open"]) {
        if (o != e.stream) open.push_back(o);
      }
      s["open"] = open;
      const int64_t before = s.value("due", int64_t{0});
      s["due"] = std::max(before, due);
      if (open.empty()) {
        if (before > 0 && before != s["due"].get<int64_t>()) {
          rows.Delete(DueKey(before, e.tenant, subject));
        }
        rows.Put(DueKey(s["due"].get<int64_t>(), e.tenant, subject), "");
      }
      rows.PutJson(SubjectKey(e.tenant, subject), s);
    }
  }
  if (changed) rows.PutJson(StreamKey(e.stream), p);
  return Status::Ok();
}

Result<size_t> RetentionReactor::EraseDue() {
  const int64_t now = Us(waiter_.clock().Now());
  const std::string prefix = Key({"d", ""});
  auto due = views_.Scan(kRetentionView, prefix, "", 256);
  if (!due.ok()) return due.status();
  size_t erased = 0;
  for (const auto& row : *due) {
    // "d" 0 <due> 0 <tenant> 0 <subject>
    std::vector<std::string> parts;
    size_t at = 0;
    for (size_t next; (next = row.key.find(kSep, at)) != std::string::npos; at = next + 1) {
      parts.push_back(row.key.substr(at, next - at));
    }
    parts.push_back(row.key.substr(at));
    if (parts.size() != 4) continue;
    const int64_t when = std::stoll(parts[1]);
    if (when > now) break;
    const std::string& tenant = parts[2];
    const std::string& subject = parts[3];
    Command c{fmt::format("subject-{}-{}", tenant, subject),
              "erase_personal_data",
              {{"subject", subject},
               {"reason", "retention"},
               {"note", "conservazione scaduta secondo il catalogo dei procedimenti"}},
              fmt::format("retention-{}-{}", subject, when),
              ""};
    auto r = commands_.Handle(c, Actor::System(kActor, tenant));
    if (!r.ok()) return r.status();
    if (!r->accepted()) {
      return Status::InvalidArgument(fmt::format("the retention erasure of {} was refused: {}",
                                                 subject, r->rejection->message));
    }
    auto batch = views_.NewBatch();
    ViewWriter& rows = batch->For(kRetentionView);
    rows.Delete(row.key);
    rows.Delete(SubjectKey(tenant, subject));
    if (Status s = views_.Commit(*batch); !s.ok()) return s;
    ++erased;
  }
  erased_.fetch_add(erased);
  return erased;
}

Result<size_t> RetentionReactor::Pump(std::chrono::milliseconds wait) {
  {
    std::lock_guard lock(mu_);
    if (!sub_) sub_ = log_.Subscribe(views_.Checkpoint(kRetentionView) + 1);
  }
  auto page = sub_->Next(kPage, wait);
  if (!page.ok()) return page.status();
  Status failed;
  if (!page->empty()) {
    auto batch = views_.NewBatch();
    ViewWriter& rows = batch->For(kRetentionView);
    for (const auto& e : *page) {
      failed = Fold(*e, rows);
      if (!failed.ok()) break;
    }
    if (failed.ok()) {
      batch->SetCheckpoint(kRetentionView, page->back()->position);
      failed = views_.Commit(*batch);
    }
    if (failed.ok()) position_.store(page->back()->position);
  }
  Result<size_t> erased = failed.ok() ? EraseDue() : Result<size_t>(failed);
  std::lock_guard lock(mu_);
  if (!erased.ok()) {
    sub_.reset();  // read again from the checkpoint
    health_ = erased.status();
  } else {
    health_ = Status::Ok();
  }
  return erased;
}

ConsumerProgress RetentionReactor::Progress() const {
  ConsumerProgress p;
  p.position = position_.load();
  {
    std::lock_guard lock(mu_);
    p.health = health_;
  }
  p.counters = {{"erased", static_cast<double>(erased_.load())}};
  return p;
}

}  // namespace procedo::projections
