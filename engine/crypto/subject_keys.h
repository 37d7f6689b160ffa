// The keys of data subjects, for crypto-shredding: one random key per subject and group of
// personal data (contact details, identity, special categories: the groups are the caller's),
// kept in a RocksDB of its own, each wrapped by the master key (XChaCha20-Poly1305, the subject
// and group as associated data, so a wrapped key moved to another row does not open). Erasing a
// key makes what it sealed unreadable for good, and the store makes sure its bytes leave the disk:
// the row is deleted, the memtable flushed, the whole store compacted, and the write-ahead files
// that held it are gone before Erase returns. An erased key is remembered as erased, never made
// again.
#pragma once

#include <memory>
#include <string>
#include <string_view>
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
  // Destroys the key of one group, or of every group of the subject when `group` is empty, and
  // waits until its bytes are off the disk. Erasing what is already erased is not an error.
  Status Erase(std::string_view subject, std::string_view group);
  bool Erased(std::string_view subject, std::string_view group) const;
  // The groups of a subject that have a key, for an access request's export.
  std::vector<std::string> Groups(std::string_view subject) const;

 private:
  SubjectKeyStore(std::unique_ptr<rocksdb::DB> db, const SubjectKey& master);
  std::unique_ptr<rocksdb::DB> db_;
  SubjectKey master_;
};

}  // namespace procedo::crypto
