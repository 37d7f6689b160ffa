#include "projections/reactors/erasure.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace procedo::projections {

using nlohmann::json;

ErasureReactor::ErasureReactor(const LogStore& log, crypto::SubjectKeyStore& keys)
    : log_(log), keys_(keys) {}

ErasureReactor::~ErasureReactor() {
  Stop();
}

Status ErasureReactor::Start() {
  stop_.store(false);
  position_.store(keys_.ErasedThrough());
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void ErasureReactor::Stop() {
  stop_.store(true);
  {
    std::lock_guard lock(mu_);
    if (sub_) sub_->Cancel();
  }
  advanced_.notify_all();  // a loop pausing after a failure stops now, not after its pause
  if (thread_.joinable()) thread_.join();
}

void ErasureReactor::Loop() {
  while (!stop_.load()) {
    auto r = Pump(std::chrono::milliseconds(200));
    if (r.ok()) continue;
    if (r.status().IsShutdown()) return;
    // Tried again from the same event; the pause keeps a failing store from being hammered.
    std::unique_lock lock(mu_);
    advanced_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_.load(); });
  }
}

Status ErasureReactor::Carry(const Event& e) {
  json data = json::parse(e.data, nullptr, false);
  const std::string subject = data.is_object() ? data.value("subject", "") : "";
  if (subject.empty()) {
    return Status::Corruption(fmt::format(
        "subject.erased at position {} names no subject; run `procedo verify`", e.position));
  }
  // Only the owner's erasure reaches the keys (a subject never claimed has no keys either).
  const auto owner = keys_.TenantOf(subject);
  if (!owner || *owner != e.tenant) {
    if (owner) refused_.fetch_add(1);
    return Status::Ok();
  }
  std::vector<std::string> groups;
  if (auto g = data.find("groups"); g != data.end() && g->is_array()) {
    for (const auto& x : *g) {
      if (x.is_string()) groups.push_back(x.get<std::string>());
    }
  }
  if (groups.empty()) groups.push_back("");  // every group
  for (const auto& g : groups) {
    if (Status s = keys_.Erase(subject, g, /*scrub=*/false); !s.ok()) return s;
  }
  erased_.fetch_add(1);
  return Status::Ok();
}

Result<size_t> ErasureReactor::Pump(std::chrono::milliseconds wait) {
  {
    std::lock_guard lock(mu_);
    if (!sub_) {
      marked_ = keys_.ErasedThrough();
      sub_ = log_.Subscribe(marked_ + 1);
    }
  }
  auto page = sub_->Next(1024, wait);
  if (!page.ok()) return page.status();
  size_t carried = 0;
  uint64_t last = 0;
  Status failed;
  for (const auto& e : *page) {
    if (e->type == "subject.erased") {
      failed = Carry(*e);
      if (!failed.ok()) break;
      ++carried;
    }
    last = e->position;
  }
  // The page's erased keys leave the disk together (one flush and compaction), before the mark
  // moves past them; a key that a command in flight during an erasure wrote back goes again.
  if (failed.ok() && carried > 0) failed = keys_.Scrub();
  if (failed.ok() && keys_.NeedsSweep()) failed = keys_.Sweep();
  // The mark moves with each erasure, and otherwise now and then: a restart reads again what
  // lies past it, which costs a scan and erases nothing twice in effect.
  if (failed.ok() && last != 0 && (carried > 0 || last - marked_ >= 65536)) {
    failed = keys_.SetErasedThrough(last);
    if (failed.ok()) marked_ = last;
  }
  {
    std::lock_guard lock(mu_);
    if (!failed.ok()) {
      // The page is read again from the mark: the failed erasure comes first.
      sub_.reset();
      health_ = failed;
    } else {
      health_ = Status::Ok();
      if (last != 0) position_.store(last);
    }
  }
  advanced_.notify_all();
  if (!failed.ok()) return failed;  // reported by Progress().health
  return carried;
}

bool ErasureReactor::WaitSettled(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return advanced_.wait_for(
      lock, timeout, [this] { return position_.load() >= log_.LastPosition() && health_.ok(); });
}

bool ErasureReactor::WaitFor(uint64_t target, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto done = [&] { return position_.load() >= target && health_.ok(); };
  advanced_.wait_for(lock, timeout, [&] { return stop_.load() || done(); });
  return done();
}

ConsumerProgress ErasureReactor::Progress() const {
  ConsumerProgress p;
  p.position = position_.load();
  {
    std::lock_guard lock(mu_);
    p.health = health_;
  }
  p.counters = {{"erased", static_cast<double>(erased_.load())},
                {"refused", static_cast<double>(refused_.load())}};
  return p;
}

}  // namespace procedo::projections
