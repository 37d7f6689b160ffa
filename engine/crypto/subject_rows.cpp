// The subject key store's rows: opening the store (sweeping what a crash left of an erasure),
// rows made and not yet written (carried in the batches of the events sealed with them), and what
// a subject holds. Erasure itself is in subject_erase.cpp.
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
         key.starts_with(rows::kIndexed) || key.starts_with(rows::kCreated);
}

void AddOnce(std::vector<SideRow>& to, const std::string& key, const std::string& value) {
  for (const auto& r : to) {
    if (r.key == key) return;
  }
  to.push_back({key, value});
}

}  // namespace

Result<std::unique_ptr<SubjectKeyStore>> SubjectKeyStore::Open(SideTable& table,
                                                               const SubjectKey& master) {
  if (!CryptoReady()) return Status::Unavailable("libsodium did not start: no source of entropy");
  std::unique_ptr<SubjectKeyStore> store(new SubjectKeyStore(table, master));
  // The subjects erased before the last stop. Nothing is in flight now: any row a batch wrote
  // back after an erasure is on the disk, and only the sweep in memory, which a crash may have
  // prevented, would have taken it again. A store from before the marks takes every erased
  // subject as marked, once.
  auto version = table.GetSide(rows::kSweepMarks);
  if (!version.ok()) return version.status();
  const bool marked = version->has_value();
  auto marks = table.ScanSide(std::string(marked ? rows::kSweepDue : rows::kErased) + '\0');
  if (!marks.ok()) return marks.status();
  if (marks->empty()) {
    if (marked) return store;
    if (Status s = table.WriteSide({{std::string(rows::kSweepMarks), "1"}}, {}); !s.ok()) return s;
    return store;
  }
  std::vector<std::string> subjects;
  for (const auto& mark : *marks) {
    std::string subject(rows::SubjectPart(mark.key));
    if (subjects.empty() || subjects.back() != subject) subjects.push_back(std::move(subject));
  }
  std::vector<SideRow> puts;
  std::vector<std::string> deletes, failed;
  for (const auto& subject : subjects) {
    // A creation row that does not open (damaged, or another master key than the one it was
    // made with) stays, and so does the mark: a start with the right key sweeps it.
    std::vector<SideRow> split_puts;
    std::vector<std::string> split_deletes;
    if (!store->SplitCreated(subject, {}, /*all=*/false, &split_puts, &split_deletes).ok()) {
      failed.push_back(subject);
      continue;
    }
    puts.insert(puts.end(), split_puts.begin(), split_puts.end());
    deletes.insert(deletes.end(), split_deletes.begin(), split_deletes.end());
    auto erased = [&](std::string_view g) { return store->Erased(subject, g); };
    if (Status s = rows::AddRowsOfGroups(table, subject, erased, &deletes); !s.ok()) return s;
  }
  if (Status s = rows::KeepLiveIndexEntries(table, *store, &deletes); !s.ok()) return s;
  // The marks go only once the bytes are off the disk, so that a crash before sweeps again. The
  // scrub runs even when nothing was found here: a sweep in memory may have deleted rows and
  // stopped before its own scrub.
  if (Status s = table.WriteSide(puts, deletes); !s.ok()) return s;
  if (Status s = store->Scrub(); !s.ok()) return s;
  std::vector<SideRow> keep;
  std::vector<std::string> swept;
  if (!marked) keep.push_back({std::string(rows::kSweepMarks), "1"});
  for (const auto& subject : subjects) {
    const bool kept = std::find(failed.begin(), failed.end(), subject) != failed.end();
    if (kept && !marked) keep.push_back({Row(rows::kSweepDue, subject, ""), "due"});
    if (!kept && marked) swept.push_back(Row(rows::kSweepDue, subject, ""));
  }
  if (Status s = table.WriteSide(keep, swept); !s.ok()) return s;
  return store;
}

Result<std::optional<std::string>> SubjectKeyStore::Read(const std::string& row) const {
  {
    Shard& shard = ShardOf(rows::RouteOf(row));
    std::lock_guard lock(shard.mu);
    if (auto it = shard.pending.find(row); it != shard.pending.end()) {
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
  // The rows made here go into the carry as they are; the subject's rows that earlier calls made
  // and no batch has written yet are looked up only when there are some.
  bool earlier = false;
  if (!made.empty()) {
    Shard& shard = ShardOf(subject);
    std::lock_guard lock(shard.mu);
    auto& mine = shard.by_subject[std::string(subject)];
    earlier = !mine.empty();
    for (const auto& row : made) mine.push_back(row.key);
  }
  for (auto& row : made) {
    AddOnce(*carry, row.key, row.value);
    Shard& shard = ShardOf(rows::RouteOf(row.key));
    std::lock_guard lock(shard.mu);
    const bool added = shard.pending
                           .insert_or_assign(std::move(row.key),
                                             Pending{std::string(subject), std::move(row.value)})
                           .second;
    if (added) pending_rows_.fetch_add(1, std::memory_order_relaxed);
  }
  if (made.empty() || earlier) CarryPending(subject, carry);
  if (pending_rows_.load(std::memory_order_relaxed) > kMaxPending) {
    std::vector<SideRow> overflow;
    for (auto& shard : shards_) {
      std::lock_guard lock(shard.mu);
      for (const auto& [key, p] : shard.pending) overflow.push_back({key, p.value});
    }
    if (Status s = table_.WriteSide(overflow, {}); !s.ok()) return s;
    Durable(overflow);
  }
  return Status::Ok();
}

std::vector<std::string> SubjectKeyStore::PendingKeysOf(std::string_view subject) const {
  Shard& shard = ShardOf(subject);
  std::lock_guard lock(shard.mu);
  auto it = shard.by_subject.find(std::string(subject));
  return it == shard.by_subject.end() ? std::vector<std::string>{} : it->second;
}

void SubjectKeyStore::CarryPending(std::string_view subject, std::vector<SideRow>* carry) const {
  if (carry == nullptr) return;
  const std::vector<std::string> keys = PendingKeysOf(subject);
  if (std::all_of(keys.begin(), keys.end(), [&](const std::string& key) {
        return std::any_of(carry->begin(), carry->end(),
                           [&](const SideRow& r) { return r.key == key; });
      })) {
    return;  // carried already (a subject made by this same command)
  }
  for (const auto& key : keys) {
    Shard& shard = ShardOf(rows::RouteOf(key));
    std::lock_guard lock(shard.mu);
    if (auto p = shard.pending.find(key); p != shard.pending.end()) {
      AddOnce(*carry, key, p->second.value);
    }
  }
}

void SubjectKeyStore::Forget(std::string_view subject, const std::vector<std::string>& keys) {
  Shard& shard = ShardOf(subject);
  std::lock_guard lock(shard.mu);
  for (const auto& key : keys) ForgetLocked(shard, subject, key);
}

void SubjectKeyStore::ForgetLocked(Shard& shard, std::string_view subject, std::string_view key) {
  auto it = shard.by_subject.find(std::string(subject));
  if (it == shard.by_subject.end()) return;
  std::erase_if(it->second, [&](const std::string& k) { return k == key; });
  if (it->second.empty()) shard.by_subject.erase(it);
}

void SubjectKeyStore::Durable(const std::vector<SideRow>& written) {
  const bool erasures = erased_any_.load();
  for (const auto& row : written) {
    std::string subject;  // set when the row was pending
    bool forget_elsewhere = false;
    {
      Shard& shard = ShardOf(rows::RouteOf(row.key));
      std::lock_guard lock(shard.mu);
      if (auto it = shard.pending.find(row.key);
          it != shard.pending.end() && it->second.value == row.value) {
        subject = std::move(it->second.subject);
        shard.pending.erase(it);
        pending_rows_.fetch_sub(1, std::memory_order_relaxed);
        // A key or creation row lives in its subject's shard: one lock for both maps. An index
        // row lives in its hash's.
        if (&ShardOf(subject) == &shard) {
          ForgetLocked(shard, subject, row.key);
        } else {
          forget_elsewhere = true;
        }
      }
    }
    if (forget_elsewhere) Forget(subject, {row.key});
    if (subject.empty()) subject = rows::SubjectOfRow(row.key, row.value);
    if (!erasures) continue;
    std::lock_guard lock(erased_mu_);
    // An erasure splits a creation row whatever it erased: one landing after it is swept.
    if (erased_here_.contains(subject) && Erasable(row.key) &&
        (row.key.starts_with(rows::kCreated) ||
         Erased(subject, rows::GroupOf(row.key, row.value)))) {
      resurrected_.push_back(row.key);
    }
  }
}

void SubjectKeyStore::DropPending(std::string_view subject,
                                  const std::vector<std::string>& groups) {
  const std::vector<std::string> keys = PendingKeysOf(subject);
  std::vector<std::string> dropped;
  for (const auto& key : keys) {
    Shard& shard = ShardOf(rows::RouteOf(key));
    std::lock_guard lock(shard.mu);
    auto p = shard.pending.find(key);
    if (p == shard.pending.end()) {
      dropped.push_back(key);
      continue;
    }
    if (!Erasable(key)) continue;  // the owner stays: erasure keeps who the subject was
    // An index entry made anew for the identifier since (a newer subject's) is not this one's.
    if (p->second.subject != subject) {
      dropped.push_back(key);
      continue;
    }
    const std::string group = rows::GroupOf(key, p->second.value);
    if (!key.starts_with(rows::kCreated) && !groups.empty() &&
        std::find(groups.begin(), groups.end(), group) == groups.end()) {
      continue;
    }
    shard.pending.erase(p);
    pending_rows_.fetch_sub(1, std::memory_order_relaxed);
    dropped.push_back(key);
  }
  Forget(subject, dropped);
}

bool SubjectKeyStore::Erased(std::string_view subject, std::string_view group) const {
  auto one = table_.GetSide(Row(rows::kErased, subject, group));
  auto all = table_.GetSide(Row(rows::kErased, subject, ""));
  return (one.ok() && one->has_value()) || (all.ok() && all->has_value());
}

std::vector<std::string> SubjectKeyStore::Groups(std::string_view subject) const {
  std::vector<std::string> out;
  const std::string prefix = Row(rows::kKey, subject, "");
  // The rows not yet durable first, the table after: a key whose batch becomes durable between
  // the two reads is then seen by the second, never by neither (an erasure would miss it).
  for (const auto& key : PendingKeysOf(subject)) {
    if (key.starts_with(prefix)) out.push_back(key.substr(prefix.size()));
  }
  auto add = [&](std::string g) {
    if (std::find(out.begin(), out.end(), g) == out.end()) out.push_back(std::move(g));
  };
  // A creation row written back by a batch in flight during an erasure, until the sweep, still
  // names the erased groups.
  if (auto created = ReadCreated(subject); created.ok() && created->has_value()) {
    for (auto& g : (*created)->groups) {
      if (!Erased(subject, g)) add(std::move(g));
    }
  }
  if (auto stored = table_.ScanSide(prefix); stored.ok()) {
    for (const auto& r : *stored) add(r.key.substr(prefix.size()));
  }
  return out;
}

}  // namespace procedo::crypto
