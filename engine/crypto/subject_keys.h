// The keys of data subjects, for crypto-shredding: one random key per subject and group of
// personal data (contact details, identity, special categories: the groups are the caller's),
// each wrapped by the master key (XChaCha20-Poly1305, the subject and group as associated data,
// so that a wrapped key moved to another row does not open). The rows live in a side table of
// the event log (engine/base/side_table.h): a command's new subject, index entry and keys ride in
// the batch of its events, so a key is on the disk exactly when the first event sealed with it
// is (one sync per command, and never an event whose key a crash lost). Erasing a key makes what
// it sealed unreadable for good, and the store makes sure its bytes leave the disk: the row is
// deleted, every memory table flushed, the side table compacted, and the write-ahead files that
// held it are gone before Erase returns. An erased key is remembered as erased, never made again.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/base/side_table.h"
#include "engine/base/status.h"
#include "engine/crypto/sealed.h"

namespace procedo::crypto {
namespace rows {
struct Created;
}

// A new subject id: random, so that it says nothing of the person (never a fiscal code).
std::string NewSubjectId();

// The master key from a file: 64 hexadecimal digits (32 bytes), whitespace around them allowed.
Result<SubjectKey> ReadMasterKey(const std::string& path);

class SubjectKeyStore {
 public:
  // `table` (the event log) outlives the store.
  static Result<std::unique_ptr<SubjectKeyStore>> Open(SideTable& table, const SubjectKey& master);
  ~SubjectKeyStore();

  // `carry`, where the methods below take one: the rows they make, and those of the same subject
  // that earlier calls made and no batch has yet written, are added to it, for the caller to
  // write in the batch of the events it seals with them; the store keeps them in memory until a
  // batch holding them is durable. Without `carry`, what they make is written (synced) at once.

  // The key of a subject's group, made (and synced to disk) on first use when `create`.
  // NotFound when there is none and `create` is false; PermissionDenied when it was erased.
  Result<SubjectKey> KeyFor(std::string_view subject, std::string_view group, bool create);
  // Makes the keys of `groups` the subject has not got yet, all in one synced write (a subject
  // seen for the first time costs one sync, not one per group). PermissionDenied when one of
  // them was erased.
  // With `claim`, the subject is claimed for that tenant in the same write (as Claim).
  Status EnsureKeys(std::string_view subject, const std::vector<std::string>& groups,
                    std::string_view claim = {}, std::vector<SideRow>* carry = nullptr);
  // Destroys the key of one group, or of every group of the subject when `group` is empty, and
  // waits until its bytes are off the disk. Erasing what is already erased is not an error.
  // With `scrub` false the key is gone from the store but its bytes may still be on the disk
  // until Scrub: many erasures then cost one flush and compaction, not one each.
  Status Erase(std::string_view subject, std::string_view group, bool scrub = true);
  Status Scrub();
  bool Erased(std::string_view subject, std::string_view group) const;
  // The groups of a subject that have a key, for an access request's export.
  std::vector<std::string> Groups(std::string_view subject) const;
  // The subject an identifier (a fiscal code, an e-mail address) belongs to in a tenant, made on
  // first sight, so that one person's cases, tickets and enrolments there share one subject (and
  // another tenant's never do). The index keeps a keyed hash of the tenant and the identifier
  // (trimmed, lower case), never the identifier, under the group the identifier belongs to:
  // erasing that group (or the subject) removes the entry, and the identifier then finds
  // nobody (a later sighting makes a new subject).
  // A subject made here gets the keys of `keys_for` in the same synced write, and is claimed
  // for the tenant; `made` (when given) says whether it was made here.
  Result<std::string> SubjectFor(std::string_view tenant, std::string_view identifier,
                                 std::string_view group,
                                 const std::vector<std::string>& keys_for = {},
                                 std::vector<SideRow>* carry = nullptr, bool* made = nullptr);
  // The subject an identifier finds in the tenant, as SubjectFor would, without making one:
  // nullopt when nobody has it (or their entry was erased).
  Result<std::optional<std::string>> FindSubject(std::string_view tenant,
                                                 std::string_view identifier) const;
  // Records that the subject is the tenant's (once; again for the same tenant is a no-op);
  // PermissionDenied when it is another tenant's. Only the owner's erasures reach its keys.
  Status Claim(std::string_view subject, std::string_view tenant,
               std::vector<SideRow>* carry = nullptr);
  // The tenant a subject belongs to; nullopt when it was never claimed.
  std::optional<std::string> TenantOf(std::string_view subject) const;
  // How far the erasures recorded in the log have been carried out (a log position), kept with
  // the keys so that a restart resumes where the keys' own state is.
  uint64_t ErasedThrough() const;
  Status SetErasedThrough(uint64_t position);
  // A batch carrying a subject's new key that was in flight while the subject was erased writes
  // the key back after the erasure: Sweep erases such rows again. The erasure reactor calls it
  // when NeedsSweep says so.
  bool NeedsSweep() const;
  Status Sweep();

 private:
  SubjectKeyStore(SideTable& table, const SubjectKey& master);
  // The index's keyed hash of a tenant's identifier (trimmed, lower case).
  Result<std::string> IndexHash(std::string_view tenant, std::string_view identifier) const;
  // The subject an index row's value names, unless the entry's group was erased.
  std::optional<std::string> LiveSubject(const std::string& index_value) const;
  // A row as this process knows it: not yet written (pending) or in the table.
  Result<std::optional<std::string>> Read(const std::string& row) const;
  // Rows made for `subject`: kept pending and carried, or (no carry) written now.
  Status Put(std::string_view subject, std::vector<SideRow> rows, std::vector<SideRow>* carry);
  void CarryPending(std::string_view subject, std::vector<SideRow>* carry) const;
  std::vector<std::string> PendingKeysOf(std::string_view subject) const;
  void Durable(const std::vector<SideRow>& rows);
  void Forget(std::string_view subject, const std::vector<std::string>& keys);
  void DropPending(std::string_view subject, const std::vector<std::string>& groups);
  SideRow NewWrappedKey(std::string_view subject, std::string_view group, SubjectKey* key) const;
  SideRow WrappedKeyRow(std::string_view subject, std::string_view group,
                        const SubjectKey& key) const;
  // A new subject's creation row (subject_rows.h), its keys made for `groups` and added to `keys`
  // by their "k" row names.
  SideRow NewCreated(std::string_view subject, std::string_view tenant,
                     std::string_view index_group, std::string_view hash,
                     const std::vector<std::string>& groups,
                     std::vector<std::pair<std::string, SubjectKey>>* keys) const;
  Result<std::optional<rows::Created>> ReadCreated(std::string_view subject) const;
  Result<std::vector<SubjectKey>> OpenCreated(std::string_view subject,
                                              const rows::Created& created) const;
  // The group's key from the subject's creation row; nullopt when the row or the group is not
  // there.
  Result<std::optional<SubjectKey>> CreatedKey(std::string_view subject,
                                               std::string_view group) const;
  // An erasure's split of the creation row: the owner, the kept groups' keys and the kept index
  // link as rows of their own, the erased index entry and the creation row deleted.
  Status SplitCreated(std::string_view subject, const std::vector<std::string>& erased, bool all,
                      std::vector<SideRow>* puts, std::vector<std::string>* deletes) const;
  // Erasures of the subject so far (its shard's): a key read before a change is not cached after
  // it.
  uint64_t Generation(std::string_view subject) const;

  SideTable& table_;
  SubjectKey master_;
  SubjectKey index_key_;  // derived from the master key: the identifiers' keyed hashes
  // One subject per identifier (and one owner per subject) when two commands see it at once;
  // striped by hash, so that different people's first sightings sync in parallel.
  std::array<std::mutex, 64> stripes_;
  std::mutex& Stripe(std::string_view key);
  // Keys opened or made, so that sealing and showing read no store, and rows made and not yet
  // durable, by row and by subject: in shards, one lock each, so that 64 commands meeting
  // different people do not queue on one lock. A row lives in the shard of its subject (an
  // index row, of its hash: rows::RouteOf), a subject's list of rows in the shard of the subject;
  // no code holds two shards' locks at once.
  struct Pending {
    std::string subject;
    std::string value;
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Pending> pending;
    std::unordered_map<std::string, std::vector<std::string>> by_subject;
    std::unordered_map<std::string, SubjectKey> cache;
    uint64_t generation = 0;  // bumped by each erasure of a subject of the shard
    // Subject -> the groups of the Erase calls running on it ("" for all of its groups).
    std::unordered_map<std::string, std::vector<std::string>> erasing;
  };
  static constexpr size_t kShards = 64;
  static constexpr size_t kCachedPerShard = 100'000 / kShards;  // keys; then the shard starts over
  static bool ErasingLocked(const Shard& shard, std::string_view subject, std::string_view group);
  static void ForgetLocked(Shard& shard, std::string_view subject, std::string_view key);
  // Whether a key of the subject read at `generation` may go into the cache now.
  static bool MayCacheLocked(const Shard& shard, std::string_view subject, uint64_t generation);
  Shard& ShardOf(std::string_view route) const;
  // The cached key of the subject's group (`row`), unless an Erase of that group (or of all the
  // subject's groups) is running (`erasing` says so): its key is then neither served nor cached,
  // so that no read between the erasure's start and its end opens what it is destroying.
  std::optional<SubjectKey> Cached(std::string_view subject, std::string_view group,
                                   const std::string& row, bool* erasing) const;
  void Cache(const std::string& row, const SubjectKey& key, uint64_t generation);
  // Keys made for one subject (rows of its "k" kind), under one lock.
  void CacheMade(std::string_view subject, std::vector<std::pair<std::string, SubjectKey>>& keys,
                 uint64_t generation);
  // Starts (marks the groups and drops their cached keys) and ends an Erase's running state.
  void BeginErasing(std::string_view subject, std::string_view group,
                    const std::vector<std::string>& groups);
  void EndErasing(std::string_view subject, std::string_view group,
                  const std::vector<std::string>& groups);
  mutable std::array<Shard, kShards> shards_;
  std::atomic<size_t> pending_rows_{0};
  // Subjects erased by this process, and rows written back after their erasure (Sweep).
  mutable std::mutex erased_mu_;
  std::atomic<bool> erased_any_{false};
  std::unordered_set<std::string> erased_here_;
  std::vector<std::string> resurrected_;
};

}  // namespace procedo::crypto
