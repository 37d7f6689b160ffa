#include "projections/reactors/payments.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/log/event.h"

namespace procedo::projections {

using nlohmann::json;

namespace {

// What names a receipt's effect in the log: the top-up's movement id, or the receipt's id on
// the invoice settled or the application fee recorded.
std::string EffectToken(const std::string& purpose, const std::string& receipt_id) {
  if (purpose == "top_up") return domain::PaymentMovementId(receipt_id);
  return purpose + ":" + receipt_id;
}

std::string UtcDate(TimePoint t) {
  return FormatTime(t).substr(0, 10);
}

// The day of the payment, as the receipt gives it: the same on every attempt, so a retried top-up
// is the same movement.
std::string PaidDate(const std::string& paid_at, TimePoint fallback) {
  if (paid_at.size() >= 10 && paid_at[4] == '-' && paid_at[7] == '-') return paid_at.substr(0, 10);
  return UtcDate(fallback);
}

}  // namespace

PaymentsReactor::PaymentsReactor(CommandHandler& commands, PaymentPlatform& platform,
                                 std::shared_ptr<const domain::PaymentSettingsSet> settings,
                                 Waiter& waiter, PaymentsOptions options)
    : PaymentsReactor(
          commands, [&platform](const std::string&) { return &platform; }, std::move(settings),
          waiter, options) {}

PaymentsReactor::PaymentsReactor(CommandHandler& commands, PlatformOf platform_of,
                                 std::shared_ptr<const domain::PaymentSettingsSet> settings,
                                 Waiter& waiter, PaymentsOptions options)
    : commands_(commands),
      platform_of_(std::move(platform_of)),
      settings_(std::move(settings)),
      waiter_(waiter),
      options_(options) {}

PaymentsReactor::~PaymentsReactor() {
  Stop();
}

Status PaymentsReactor::Start() {
  if (running_.exchange(true)) return Status::Ok();
  sub_ = commands_.log().Subscribe(1);
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void PaymentsReactor::Stop() {
  if (!running_.exchange(false)) return;
  if (sub_) sub_->Cancel();
  waiter_.Wake();
  if (thread_.joinable()) thread_.join();
  sub_.reset();
}

ConsumerProgress PaymentsReactor::Progress() const {
  std::lock_guard lock(mu_);
  ConsumerProgress p;
  p.position = counters_.count("position") ? static_cast<uint64_t>(counters_.at("position")) : 0;
  p.health = health_.ok() && !last_refusal_.empty()
                 ? Status::InvalidArgument("last refused: " + last_refusal_)
                 : health_;
  // pagoPA being down must not stop the Ente's other work: the positions wait.
  p.essential = false;
  for (const auto& [name, value] : counters_) p.counters.emplace_back(name, value);
  return p;
}

void PaymentsReactor::Run() {
  const Clock& clock = waiter_.clock();
  while (running_) {
    const uint64_t seen = waiter_.Epoch();
    Status st = PassOnce();
    {
      std::lock_guard lock(mu_);
      health_ = st;
    }
    if (!running_) break;
    // New events wake the pass at once; otherwise the poll interval, or the earliest retry.
    TimePoint next = next_poll_;
    for (const auto& [s, p] : positions_) {
      if (p.attempts > 0 && p.not_before < next) next = p.not_before;
    }
    if (sub_ && sub_->next_position() <= commands_.log().LastPosition()) continue;
    waiter_.WaitUntil(std::max(next, clock.Now() + std::chrono::milliseconds(200)), seen);
  }
}

void PaymentsReactor::Fold(const Event& e) {
  if (e.type.rfind("payment_position.", 0) == 0 || e.type.rfind("payment.", 0) == 0) {
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) return;
    Position& p = positions_[e.stream];
    if (e.type == "payment_position.created") {
      p.tenant = e.tenant;
      p.status = "created";
      p.iuv = d.value("iuv", "");
      p.notice_number = d.value("notice_number", "");
      p.iupd = d.value("iupd", "");
      p.purpose = d.value("purpose", "");
      p.reference = d.value("reference", "");
      p.due_date = d.value("due_date", "");
      p.period = d.value("period", "");
      p.amount_cents = d.value("amount_cents", int64_t{0});
      by_iuv_[e.tenant + "/" + p.iuv] = e.stream;
    } else if (e.type == "payment_position.published") {
      p.status = "published";
      p.failed_for_good = false;
    } else if (e.type == "payment_position.publication_failed" ||
               e.type == "payment_position.platform_call_failed") {
      // Refused for good in this state: asked again only once the position moves on.
      p.failed_for_good = p.failed_for_good || d.value("permanent", false);
    } else if (e.type == "payment_position.paid") {
      p.status = "paid";
      p.receipt_id = d.value("receipt_id", "");
      p.paid_at = d.value("paid_at", "");
      const std::string token = EffectToken(p.purpose, p.receipt_id);
      p.effect_done = effects_seen_.count(token) > 0;
      if (!p.effect_done) awaiting_effect_[token] = e.stream;
    } else if (e.type == "payment_position.expired") {
      p.status = "expired";
    } else if (e.type == "payment_position.cancelled") {
      p.status = "cancelled";
      p.failed_for_good = false;
    } else if (e.type == "payment_position.withdrawn") {
      p.withdrawn = true;
    }
  } else if (e.type == "account.topped_up" || e.type == "account.invoice_settled" ||
             e.type == "enrolment.application_fee_paid") {
    // The effects of receipts (a top-up at the counter is none of ours: its token matches
    // nothing awaited, and it is kept only when it names a receipt).
    json d = json::parse(e.data, nullptr, false);
    if (!d.is_object()) return;
    std::string token;
    if (e.type == "account.topped_up") {
      token = d.value("movement_id", "");
      if (token.rfind("pagopa:", 0) != 0) return;
    } else if (e.type == "account.invoice_settled") {
      token = EffectToken("invoice", d.value("receipt_id", ""));
    } else {
      token = EffectToken("enrolment_fee", d.value("fee_receipt_id", ""));
    }
    effects_seen_.insert(token);
    if (auto paid = awaiting_effect_.find(token); paid != awaiting_effect_.end()) {
      positions_[paid->second].effect_done = true;
      awaiting_effect_.erase(paid);
    }
  } else if (e.type == "unmatched_receipt.recorded") {
    json d = json::parse(e.data, nullptr, false);
    if (d.is_object()) unmatched_.insert(e.tenant + "/" + d.value("receipt_id", ""));
  }
}

Status PaymentsReactor::PassOnce() {
  // Tests and the benchmark pass without starting the thread.
  if (!sub_) sub_ = commands_.log().Subscribe(1);
  // What the log holds up to now, folded before anything is decided from it.
  while (running_ || !thread_.joinable()) {
    auto events = sub_->Next(4096, std::chrono::milliseconds(0));
    if (!events.ok()) return events.status();
    if (events->empty()) break;
    for (const auto& e : *events) Fold(*e);
    std::lock_guard lock(mu_);
    counters_["position"] = static_cast<double>(events->back()->position);
  }
  const TimePoint now = waiter_.clock().Now();
  Status first;
  auto keep = [&first](Status s) {
    if (!s.ok() && first.ok()) first = std::move(s);
  };
  std::set<std::string> tenants;
  std::vector<Outgoing> effects;
  std::vector<Position*> effected;
  std::set<std::string> accounts;  // one effect per account per pass: they would conflict
  for (auto& [stream, p] : positions_) {
    if (p.tenant.empty()) continue;  // events of a stream whose creation this log does not hold
    tenants.insert(p.tenant);
    if (p.attempts > 0 && now < p.not_before) continue;
    if (p.failed_for_good && p.status != "paid") continue;
    if (p.status == "created") {
      keep(Publish(stream, p));
    } else if (p.status == "cancelled" && !p.withdrawn) {
      keep(Withdraw(stream, p));
    } else if (p.status == "published" && !p.due_date.empty() && UtcDate(now) > p.due_date) {
      keep(CheckExpiry(stream, p));
    } else if (p.status == "paid" && !p.effect_done && accounts.insert(p.reference).second) {
      effects.push_back(EffectOf(stream, p));
      effected.push_back(&p);
    }
  }
  const std::vector<Status> applied = SendAll(effects);
  for (size_t i = 0; i < applied.size(); ++i) {
    if (applied[i].ok()) effected[i]->effect_done = true;
    keep(applied[i]);
  }
  if (now >= next_poll_) {
    for (const auto& tenant : tenants) keep(ReadReceipts(tenant));
    next_poll_ = now + options_.poll_interval;
  }
  return first;
}

std::optional<PaymentsReactor::Station> PaymentsReactor::StationOf(
    const std::string& tenant) const {
  const domain::PaymentSettings* settings = settings_ ? settings_->ForTenant(tenant) : nullptr;
  PaymentPlatform* platform = settings != nullptr ? platform_of_(tenant) : nullptr;
  if (platform == nullptr) return std::nullopt;
  return Station{*settings, *platform};
}

Status PaymentsReactor::Retry(const std::string& stream, Position& p, const PlatformReply& r,
                              Call call) {
  p.attempts++;
  const bool permanent = r.kind == PlatformReply::Kind::kPermanent;
  if (p.attempts < options_.max_attempts && !permanent) {
    auto delay = options_.retry_base * (1LL << std::min(p.attempts - 1, 20));
    delay = std::min<std::chrono::milliseconds>(delay, options_.retry_max);
    p.not_before = waiter_.clock().Now() + std::chrono::duration_cast<Micros>(delay);
    return Status::Unavailable(fmt::format("pagoPA, position {}: {} (attempt {}, trying again)",
                                           stream, r.detail, p.attempts));
  }
  // Each call records its own failure: a position that could not be withdrawn or read is not
  // one whose publication failed.
  json failure = {{"reason", r.detail.empty() ? "pagoPA did not answer" : r.detail.substr(0, 1000)},
                  {"permanent", permanent}};
  if (r.http_status > 0) failure["http_status"] = r.http_status;
  std::string command = "record_publication_failure";
  if (call != Call::kPublish) {
    command = "record_platform_failure";
    failure["call"] = call == Call::kWithdraw ? "withdraw" : "read";
  }
  p.failed_for_good = permanent;
  // Not permanent: recorded once per spent round of attempts, tried again after a pause.
  p.attempts = permanent ? 0 : 1;
  p.not_before = waiter_.clock().Now() + options_.retry_max;
  return Send(stream, command, std::move(failure), "", p.tenant);
}

Status PaymentsReactor::Publish(const std::string& stream, Position& p) {
  const auto station = StationOf(p.tenant);
  if (!station) return Status::Ok();  // no settings (an old log) or no platform: it waits
  const domain::PaymentSettings* s = &station->settings;
  auto state = commands_.Load(stream);
  if (!state.ok()) return state.status();
  const json& f = (*state)->fields;
  PositionToPublish out;
  out.org = s->creditor_fiscal_code;
  out.iupd = p.iupd;
  out.iuv = p.iuv;
  out.notice_number = p.notice_number;
  out.description = f.value("description", "");
  out.amount_cents = p.amount_cents;
  out.due_utc = domain::DueInstantUtc(p.due_date);
  const json debtor = f.value("debtor", json::object());
  out.debtor_type = debtor.value("type", "F");
  out.debtor_fiscal_code = debtor.value("fiscal_code", "");
  out.debtor_name = debtor.value("name", "");
  out.settings = s;
  auto category = s->categories.find(p.purpose);
  out.category = category == s->categories.end() ? "" : category->second;
  PlatformReply r = station->platform.Publish(out);
  if (r.kind != PlatformReply::Kind::kDone) return Retry(stream, p, r, Call::kPublish);
  p.attempts = 0;
  const std::string status = r.platform_status == "PUBLISHED" ? "PUBLISHED" : "VALID";
  return Send(stream, "record_publication", {{"platform_status", status}},
              "pagopa-published:" + stream, p.tenant);
}

Status PaymentsReactor::Withdraw(const std::string& stream, Position& p) {
  const auto station = StationOf(p.tenant);
  if (!station) return Status::Ok();  // no settings (an old log) or no platform: it waits
  const domain::PaymentSettings* s = &station->settings;
  PlatformReply r = station->platform.Invalidate(s->creditor_fiscal_code, p.iupd);
  if (r.kind == PlatformReply::Kind::kPermanent &&
      (r.platform_status == "PAID" || r.platform_status == "PARTIALLY_PAID" ||
       r.platform_status == "REPORTED")) {
    // Paid meanwhile: the receipt will come as an anomaly of the cancelled position.
    p.attempts = 0;
    p.withdrawn = true;
    return Status::Ok();
  }
  if (r.kind != PlatformReply::Kind::kDone) return Retry(stream, p, r, Call::kWithdraw);
  p.attempts = 0;
  const std::string status = r.platform_status == "NOT_PUBLISHED" ? "NOT_PUBLISHED" : "INVALID";
  return Send(stream, "record_withdrawal", {{"platform_status", status}},
              "pagopa-withdrawn:" + stream, p.tenant);
}

Status PaymentsReactor::CheckExpiry(const std::string& stream, Position& p) {
  const auto station = StationOf(p.tenant);
  if (!station) return Status::Ok();  // no settings (an old log) or no platform: it waits
  const domain::PaymentSettings* s = &station->settings;
  PlatformReply r = station->platform.Read(s->creditor_fiscal_code, p.iupd);
  if (r.kind != PlatformReply::Kind::kDone) return Retry(stream, p, r, Call::kRead);
  // Asked again only after the next poll interval (a position kept payable after its due date).
  p.attempts = 1;
  p.not_before = waiter_.clock().Now() + options_.poll_interval;
  if (r.platform_status == "EXPIRED") {
    return Send(stream, "record_expiry", {{"platform_status", "EXPIRED"}},
                "pagopa-expired:" + stream, p.tenant);
  }
  return Status::Ok();
}

Status PaymentsReactor::ReadReceipts(const std::string& tenant) {
  const auto station = StationOf(tenant);
  if (!station) return Status::Ok();  // no settings (an old log) or no platform: it waits
  const domain::PaymentSettings* s = &station->settings;
  const std::string from = UtcDate(waiter_.clock().Now() - options_.lookback);
  auto iuvs = station->platform.PaidSince(s->creditor_fiscal_code, from);
  if (!iuvs.ok()) return iuvs.status();
  std::set<std::string> once(iuvs->begin(), iuvs->end());
  Status first;
  std::vector<Outgoing> out;
  std::vector<std::string> seen;
  for (const auto& iuv : once) {
    auto receipt = station->platform.Receipt(s->creditor_fiscal_code, iuv);
    if (!receipt.ok()) {
      if (first.ok()) first = receipt.status();
      continue;
    }
    std::string receipt_seen = tenant + "/" + iuv + "/" + receipt->receipt_id;
    if (seen_receipts_.count(receipt_seen) || receipt->outcome != "OK") continue;
    json payload = {{"receipt_id", receipt->receipt_id},
                    {"notice_number", receipt->notice_number},
                    {"iuv", receipt->iuv},
                    {"creditor_fiscal_code", receipt->creditor_fiscal_code},
                    {"amount", receipt->amount},
                    {"outcome", receipt->outcome},
                    {"paid_at", receipt->paid_at},
                    {"method", receipt->method},
                    {"psp", receipt->psp}};
    const std::string key =
        fmt::format("pagopa-receipt:{}:{}", s->creditor_fiscal_code, receipt->receipt_id);
    auto stream = by_iuv_.find(tenant + "/" + iuv);
    if (stream != by_iuv_.end()) {
      out.push_back({stream->second, "record_receipt", key, tenant, std::move(payload)});
    } else if (!unmatched_.count(tenant + "/" + receipt->receipt_id)) {
      out.push_back({domain::UnmatchedReceiptStream(tenant, receipt->receipt_id),
                     "record_unmatched_receipt", key, tenant, std::move(payload)});
    } else {
      continue;
    }
    seen.push_back(std::move(receipt_seen));
  }
  const std::vector<Status> sent = SendAll(out);
  for (size_t i = 0; i < sent.size(); ++i) {
    if (sent[i].ok()) {
      seen_receipts_.insert(seen[i]);
    } else if (first.ok()) {
      first = sent[i];
    }
  }
  return first;
}

PaymentsReactor::Outgoing PaymentsReactor::EffectOf(const std::string& stream,
                                                    const Position& p) const {
  const std::string key = "pagopa-effect:" + stream + ":" + p.receipt_id;
  if (p.purpose == "invoice") {
    return {p.reference, "settle_invoice", key, p.tenant,
            json{{"period", p.period},
                 {"receipt_id", p.receipt_id},
                 {"amount_cents", p.amount_cents},
                 {"payment", stream}}};
  }
  if (p.purpose == "enrolment_fee") {
    return {p.reference, "record_application_fee", key, p.tenant,
            json{{"fee_payment", stream},
                 {"fee_receipt_id", p.receipt_id},
                 {"fee_paid_cents", p.amount_cents}}};
  }
  // A paid top-up credits the account it was asked for; the movement id is the receipt's, so the
  // ledger refuses a second credit of the same payment whatever the path.
  return {p.reference, "top_up_account", key, p.tenant,
          json{{"movement_id", domain::PaymentMovementId(p.receipt_id)},
               {"amount_cents", p.amount_cents},
               {"date", PaidDate(p.paid_at, waiter_.clock().Now())}}};
}

}  // namespace procedo::projections
