// The subject key store's rows: those made and not yet written (carried in the batches of the
// events sealed with them), erasure, and the sweep after an erasure raced with such a batch.
#include "engine/crypto/subject_rows.h"

#include <fmt/format.h>

#include <algorithm>

#include "engine/crypto/subject_keys.h"

namespace procedo::crypto {
namespace {

using rows::Row;

// Beyond this many rows made and not yet carried to the disk (commands refused after their
// subjects were made, whose people never came back), they are written on their own.
constexpr size_t kMaxPending = 100'000;

bool Erasable(std::string_view key) {
  return key.starts_with(rows::kKey) || key.starts_with(rows::kIndex) ||
         key.starts_with(rows::kIndexed);
}

void AddOnce(std::vector<SideRow>& to, const std::string& key, const std::string& value) {
  for (const auto& r : to) {
    if (r.key == key) return;
  }
  to.push_back({key, value});
}

}  // namespace

Result<std::optional<std::string>> SubjectKeyStore::Read(const std::string& row) const {
  {
    std::lock_guard lock(pending_mu_);
    if (auto it = pending_.find(row); it != pending_.end()) {
      return std::optional<std::string>(it->second.value);
    }
  }
  return table_.GetSide(row);
}

Status SubjectKeyStore::Put(std::string_view subject, std::vector<SideRow> made,
                            std::vector<SideRow>* carry) {
  if (carry == nullptr) {
    if (made.empty()) return Status::Ok();
    if (Status s = table_.WriteSide(made, {}); !s.ok()) {
      return Status::IoError("storing a subject's keys failed: " + s.message());
    }
    return Status::Ok();
  }
  std::vector<SideRow> overflow;
  {
    std::lock_guard lock(pending_mu_);
    auto& mine = pending_by_subject_[std::string(subject)];
    for (auto& row : made) {
      mine.push_back(row.key);
      pending_[row.key] = Pending{std::string(subject), std::move(row.value)};
    }
    if (pending_.size() > kMaxPending) {
      for (const auto& [key, p] : pending_) overflow.push_back({key, p.value});
    }
  }
  CarryPending(subject, carry);
  if (!overflow.empty()) {
    if (Status s = table_.WriteSide(overflow, {}); !s.ok()) return s;
    Durable(overflow);
  }
  return Status::Ok();
}

void SubjectKeyStore::CarryPending(std::string_view subject, std::vector<SideRow>* carry) const {
  if (carry == nullptr) return;
  std::lock_guard lock(pending_mu_);
  auto it = pending_by_subject_.find(std::string(subject));
  if (it == pending_by_subject_.end()) return;
  for (const auto& key : it->second) {
    if (auto p = pending_.find(key); p != pending_.end()) AddOnce(*carry, key, p->second.value);
  }
}

void SubjectKeyStore::Durable(const std::vector<SideRow>& written) {
  std::lock_guard lock(pending_mu_);
  for (const auto& row : written) {
    std::string subject;
    if (auto it = pending_.find(row.key); it != pending_.end() && it->second.value == row.value) {
      subject = std::move(it->second.subject);
      pending_.erase(it);
      if (auto s = pending_by_subject_.find(subject); s != pending_by_subject_.end()) {
        std::erase(s->second, row.key);
        if (s->second.empty()) pending_by_subject_.erase(s);
      }
    } else {
      subject = rows::SubjectOfRow(row.key, row.value);
    }
    if (!erased_here_.empty() && erased_here_.contains(subject) && Erasable(row.key) &&
        Erased(subject, rows::GroupOf(row.key, row.value))) {
      resurrected_.push_back(row.key);
    }
  }
}

void SubjectKeyStore::DropPending(std::string_view subject,
                                  const std::vector<std::string>& groups) {
  std::lock_guard lock(pending_mu_);
  auto it = pending_by_subject_.find(std::string(subject));
  if (it == pending_by_subject_.end()) return;
  std::erase_if(it->second, [&](const std::string& key) {
    auto p = pending_.find(key);
    if (p == pending_.end()) return true;
    if (!Erasable(key)) return false;  // the owner stays: erasure keeps who the subject was
    const std::string group = rows::GroupOf(key, p->second.value);
    if (!groups.empty() && std::find(groups.begin(), groups.end(), group) == groups.end()) {
      return false;
    }
    pending_.erase(p);
    return true;
  });
  if (it->second.empty()) pending_by_subject_.erase(it);
}

bool SubjectKeyStore::Erased(std::string_view subject, std::string_view group) const {
  auto one = table_.GetSide(Row(rows::kErased, subject, group));
  auto all = table_.GetSide(Row(rows::kErased, subject, ""));
  return (one.ok() && one->has_value()) || (all.ok() && all->has_value());
}

std::vector<std::string> SubjectKeyStore::Groups(std::string_view subject) const {
  std::vector<std::string> out;
  const std::string prefix = Row(rows::kKey, subject, "");
  if (auto stored = table_.ScanSide(prefix); stored.ok()) {
    for (const auto& r : *stored) out.push_back(r.key.substr(prefix.size()));
  }
  std::lock_guard lock(pending_mu_);
  if (auto it = pending_by_subject_.find(std::string(subject)); it != pending_by_subject_.end()) {
    for (const auto& key : it->second) {
      if (!key.starts_with(prefix)) continue;
      std::string g = key.substr(prefix.size());
      if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(std::move(g));
    }
  }
  return out;
}

Status SubjectKeyStore::Erase(std::string_view subject, std::string_view group, bool scrub) {
  if (subject.empty() || subject.size() > 200 || subject.find('\0') != std::string_view::npos ||
      group.size() > 200 || group.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("a subject id and a group are 1-200 bytes, without NUL");
  }
  const std::vector<std::string> groups =
      group.empty() ? Groups(subject) : std::vector<std::string>{std::string(group)};
  auto forget = [&] {  // out of memory, and no read racing with this one cached after it
    std::unique_lock lock(cache_mu_);
    ++generation_;
    for (const auto& g : groups) cache_.erase(Row(rows::kKey, subject, g));
  };
  forget();
  {
    std::lock_guard lock(pending_mu_);
    erased_here_.insert(std::string(subject));
  }
  DropPending(subject, group.empty() ? std::vector<std::string>{} : groups);
  std::vector<std::string> deletes;
  for (const auto& g : groups) deletes.push_back(Row(rows::kKey, subject, g));
  // The identifiers' entries of the erased groups: their hashes leave the disk with the keys.
  std::string prefix = Row(rows::kIndexed, subject, group);
  if (!group.empty()) prefix.push_back('\0');
  auto indexed = table_.ScanSide(prefix);
  if (!indexed.ok()) return indexed.status();
  for (const auto& r : *indexed) {
    if (r.key.size() < prefix.size() + rows::kHashBytes) continue;
    deletes.push_back(rows::IndexRow(r.key.substr(r.key.size() - rows::kHashBytes)));
    deletes.push_back(r.key);
  }
  if (Status s = table_.WriteSide({{Row(rows::kErased, subject, group), "erased"}}, deletes);
      !s.ok()) {
    return Status::IoError("erasing a subject's keys failed: " + s.message());
  }
  forget();  // again now that the store says erased: a read that began before is not cached
  return scrub ? Scrub() : Status::Ok();
}

Status SubjectKeyStore::Scrub() {
  if (Status s = table_.ScrubSide(); !s.ok()) {
    return Status::IoError("erasing subject keys from the disk failed: " + s.message());
  }
  return Status::Ok();
}

bool SubjectKeyStore::NeedsSweep() const {
  std::lock_guard lock(pending_mu_);
  return !resurrected_.empty();
}

Status SubjectKeyStore::Sweep() {
  std::vector<std::string> rows;
  {
    std::lock_guard lock(pending_mu_);
    rows.swap(resurrected_);
  }
  if (rows.empty()) return Status::Ok();
  Status s = table_.WriteSide({}, rows);
  if (s.ok()) s = table_.ScrubSide();
  if (!s.ok()) {
    std::lock_guard lock(pending_mu_);
    resurrected_.insert(resurrected_.end(), rows.begin(), rows.end());
  }
  return s;
}

}  // namespace procedo::crypto
