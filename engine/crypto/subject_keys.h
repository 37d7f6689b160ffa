// The keys of data subjects, for crypto-shredding: one random key per subject and group of
// personal data (contact details, identity, special categories: the groups are the caller's),
// kept in a RocksDB of its own, each wrapped by the master key (XChaCha20-Poly1305, the subject
// and group as associated data, so a wrapped key moved to another row does not open). Erasing a
// key makes what it sealed unreadable for good, and the store makes sure its bytes leave the disk:
// the row is deleted, the memtable flushed, the whole store compacted, and the write-ahead files
// that held it are gone before Erase returns. An erased key is remembered as erased, never made
// again.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/base/status.h"
#include "engine/crypto/sealed.h"

namespace rocksdb {
class DB;
}

namespace procedo::crypto {

// A new subject id: random, so that it says nothing of the person (never a fiscal code).
std::string NewSubjectId();

// The master key from a file: 64 hexadecimal digits (32 bytes), whitespace around them allowed.
Result<SubjectKey> ReadMasterKey(const std::string& path);

class SubjectKeyStore {
 public:
  static Result<std::unique_ptr<SubjectKeyStore>> Open(const std::string& path,
                                                       const SubjectKey& master);
  ~SubjectKeyStore();

  // The key of a subject's group, made (and synced to disk) on first use when `create`.
  // NotFound when there is none and `create` is false; PermissionDenied when it was erased.
  Result<SubjectKey> KeyFor(std::string_view subject, std::string_view group, bool create);
  // Makes the keys of `groups` the subject has not got yet, all in one synced write (a subject
  // seen for the first time costs one sync, not one per group). PermissionDenied when one of
  // them was erased.
  // With `claim`, the subject is claimed for that tenant in the same write (as Claim).
  Status EnsureKeys(std::string_view subject, const std::vector<std::string>& groups,
                    std::string_view claim = {});
  // Destroys the key of one group, or of every group of the subject when `group` is empty, and
  // waits until its bytes are off the disk. Erasing what is already erased is not an error.
  Status Erase(std::string_view subject, std::string_view group);
  bool Erased(std::string_view subject, std::string_view group) const;
  // The groups of a subject that have a key, for an access request's export.
  std::vector<std::string> Groups(std::string_view subject) const;
  // The subject an identifier (a fiscal code, an e-mail address) belongs to in a tenant, made on
  // first sight, so that one person's cases, tickets and enrolments there share one subject (and
  // another tenant's never do). The index keeps a keyed hash of the tenant and the identifier
  // (trimmed, lower case), never the identifier, under the group the identifier belongs to:
  // erasing that group (or the subject) removes the entry, and the identifier then finds
  // nobody (a later sighting makes a new subject).
  // A subject made here gets the keys of `keys_for` in the same synced write.
  Result<std::string> SubjectFor(std::string_view tenant, std::string_view identifier,
                                 std::string_view group,
                                 const std::vector<std::string>& keys_for = {});
  // Records that the subject is the tenant's (once; again for the same tenant is a no-op);
  // PermissionDenied when it is another tenant's. Only the owner's erasures reach its keys.
  Status Claim(std::string_view subject, std::string_view tenant);
  // The tenant a subject belongs to; nullopt when it was never claimed.
  std::optional<std::string> TenantOf(std::string_view subject) const;
  // How far the erasures recorded in the log have been carried out (a log position), kept with
  // the keys so that a restart resumes where the keys' own state is.
  uint64_t ErasedThrough() const;
  Status SetErasedThrough(uint64_t position);

 private:
  SubjectKeyStore(std::unique_ptr<rocksdb::DB> db, const SubjectKey& master);
  std::unique_ptr<rocksdb::DB> db_;
  SubjectKey master_;
  SubjectKey index_key_;  // derived from the master key: the identifiers' keyed hashes
  // One subject per identifier (and one owner per subject) when two commands see it at once;
  // striped by hash, so that different people's first sightings sync in parallel.
  std::array<std::mutex, 64> stripes_;
  std::mutex& Stripe(std::string_view key);
  // Keys opened or made, by row, so that sealing and showing read no store: an erasure removes
  // its keys (and bumps the generation, so that a read racing with it is not cached after it).
  std::optional<SubjectKey> Cached(const std::string& row) const;
  void Cache(const std::string& row, const SubjectKey& key, uint64_t generation);
  mutable std::shared_mutex cache_mu_;
  std::unordered_map<std::string, SubjectKey> cache_;
  uint64_t generation_ = 0;  // guarded by cache_mu_
};

}  // namespace procedo::crypto
