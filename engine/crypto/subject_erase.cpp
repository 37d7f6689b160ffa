// The subject key store's erasure: a subject's (or one group's) keys destroyed, the reads that
// race with it refused, and the sweep of rows that batches in flight wrote back after it.
#include <algorithm>
#include <functional>

#include "engine/crypto/subject_keys.h"
#include "engine/crypto/subject_rows.h"

namespace procedo::crypto {

using rows::Row;

Status rows::KeepLiveIndexEntries(const SideTable& table, const SubjectKeyStore& store,
                                  std::vector<std::string>* deletes) {
  std::vector<std::string> entries;
  std::erase_if(*deletes, [&](const std::string& key) {
    if (!rows::IsIndexRow(key)) return false;
    entries.push_back(key);
    return true;
  });
  for (const auto& key : entries) {
    auto entry = table.GetSide(key);
    if (!entry.ok()) return entry.status();
    if (entry->has_value() &&
        store.Erased(rows::SubjectOfRow(key, **entry), rows::GroupOf(key, **entry))) {
      deletes->push_back(key);
    }
  }
  return Status::Ok();
}

Status rows::AddRowsOfGroups(const SideTable& table, std::string_view subject,
                             const std::function<bool(std::string_view)>& erased,
                             std::vector<std::string>* deletes) {
  for (std::string_view kind : {rows::kKey, rows::kIndexed}) {
    const std::string prefix = Row(kind, subject, "");
    auto found = table.ScanSide(prefix);
    if (!found.ok()) return found.status();
    for (const auto& r : *found) {
      if (!erased(rows::GroupOf(r.key, r.value))) continue;
      deletes->push_back(r.key);
      if (kind == rows::kIndexed && r.key.size() >= prefix.size() + rows::kHashBytes) {
        deletes->push_back(rows::IndexRow(r.key.substr(r.key.size() - rows::kHashBytes)));
      }
    }
  }
  return Status::Ok();
}

Status SubjectKeyStore::Erase(std::string_view subject, std::string_view group, bool scrub) {
  if (subject.empty() || subject.size() > 200 || subject.find('\0') != std::string_view::npos ||
      group.size() > 200 || group.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("a subject id and a group are 1-200 bytes, without NUL");
  }
  const std::vector<std::string> groups =
      group.empty() ? Groups(subject) : std::vector<std::string>{std::string(group)};
  BeginErasing(subject, group, groups);
  // However it ends, the running mark goes: a failed erasure leaves the keys as they were, for
  // the erasure reactor to try again.
  struct Ending {
    SubjectKeyStore* store;
    std::string_view subject, group;
    const std::vector<std::string>& groups;
    ~Ending() { store->EndErasing(subject, group, groups); }
  } ending{this, subject, group, groups};
  {
    std::lock_guard lock(erased_mu_);
    erased_here_.insert(std::string(subject));
    erased_any_.store(true);
  }
  std::vector<SideRow> puts = {{Row(rows::kErased, subject, group), "erased"},
                               {Row(rows::kSweepDue, subject, ""), "due"}};
  std::vector<std::string> deletes;
  if (Status s = SplitCreated(subject, groups, group.empty(), &puts, &deletes); !s.ok()) return s;
  // The keys made and not yet written too, should their batch land before this write. The
  // identifiers' entries of the erased groups: their hashes leave the disk with the keys.
  for (const auto& g : groups) deletes.push_back(Row(rows::kKey, subject, g));
  auto named = [&](std::string_view g) { return group.empty() || g == group; };
  if (Status s = rows::AddRowsOfGroups(table_, subject, named, &deletes); !s.ok()) return s;
  if (Status s = table_.WriteSide(puts, deletes); !s.ok()) {
    return Status::IoError("erasing a subject's keys failed: " + s.message());
  }
  // Only now, with the kept keys written on their own: until then a command meeting the subject
  // carries its creation row, so no event is ever sealed with a key no row on the disk holds.
  DropPending(subject, group.empty() ? std::vector<std::string>{} : groups);
  return scrub ? Scrub() : Status::Ok();
}

bool SubjectKeyStore::ErasingLocked(const Shard& shard, std::string_view subject,
                                    std::string_view group) {
  auto it = shard.erasing.find(std::string(subject));
  if (it == shard.erasing.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& g) { return g.empty() || g == group; });
}

void SubjectKeyStore::BeginErasing(std::string_view subject, std::string_view group,
                                   const std::vector<std::string>& groups) {
  Shard& shard = ShardOf(subject);
  std::lock_guard lock(shard.mu);
  shard.erasing[std::string(subject)].emplace_back(group);
  ++shard.generation;  // a read that began before is not cached after
  for (const auto& g : groups) shard.cache.erase(Row(rows::kKey, subject, g));
}

void SubjectKeyStore::EndErasing(std::string_view subject, std::string_view group,
                                 const std::vector<std::string>& groups) {
  Shard& shard = ShardOf(subject);
  std::lock_guard lock(shard.mu);
  // Again: a key read from the disk before its row was deleted is not cached after.
  ++shard.generation;
  for (const auto& g : groups) shard.cache.erase(Row(rows::kKey, subject, g));
  auto it = shard.erasing.find(std::string(subject));
  if (it == shard.erasing.end()) return;
  auto& running = it->second;
  if (auto g = std::find(running.begin(), running.end(), group); g != running.end()) {
    running.erase(g);
  }
  if (running.empty()) shard.erasing.erase(it);
}

Status SubjectKeyStore::Scrub() {
  if (Status s = table_.ScrubSide(); !s.ok()) {
    return Status::IoError("erasing subject keys from the disk failed: " + s.message());
  }
  return Status::Ok();
}

bool SubjectKeyStore::NeedsSweep() const {
  std::lock_guard lock(erased_mu_);
  return !resurrected_.empty();
}

Status SubjectKeyStore::Sweep() {
  std::vector<std::string> flagged;
  {
    std::lock_guard lock(erased_mu_);
    flagged.swap(resurrected_);
  }
  if (flagged.empty()) return Status::Ok();
  // A creation row is split, not just deleted: what no erasure on the disk took (an erasure that
  // failed before its write, a group kept) is written out on its own first. An index entry goes
  // only while it still names the erased subject: the hash may name a newer one by now.
  std::vector<SideRow> puts;
  std::vector<std::string> deletes;
  Status s = Status::Ok();
  for (const auto& row : flagged) {
    if (row.starts_with(rows::kCreated)) {
      s = SplitCreated(rows::SubjectPart(row), {}, /*all=*/false, &puts, &deletes);
      if (!s.ok()) break;
    } else {
      deletes.push_back(row);
    }
  }
  if (s.ok()) s = rows::KeepLiveIndexEntries(table_, *this, &deletes);
  if (s.ok()) s = table_.WriteSide(puts, deletes);
  if (s.ok()) s = table_.ScrubSide();
  if (!s.ok()) {
    std::lock_guard lock(erased_mu_);
    resurrected_.insert(resurrected_.end(), flagged.begin(), flagged.end());
  }
  return s;
}

}  // namespace procedo::crypto
