// The subject key store's tests' helpers: a log with the store beside it, and reads of the log's
// side table with RocksDB itself (the store's row layout: a kind, the subject and a group joined
// by NUL), so that a test sees what is on the disk, not what the store says.
#pragma once

#include <rocksdb/db.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "engine/crypto/subject_keys.h"
#include "engine/log/log_store.h"

namespace procedo::crypto::test {

inline SubjectKey Master() {
  SubjectKey m{};
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(i * 7 + 1);
  return m;
}

// A row of the log's side table as the store keeps it (its layout: a kind, the subject and a
// group joined by NUL), read with RocksDB itself while the log is closed; "" when none.
inline std::string SideRowOf(const std::string& path, const std::string& kind,
                             const std::string& subject, const std::string& group) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                      {"side", {}}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  REQUIRE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, cfs, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  auto s =
      db->Get(rocksdb::ReadOptions(), handles[1], kind + '\0' + subject + '\0' + group, &value);
  for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
  REQUIRE((s.ok() || s.IsNotFound()));
  return value;
}

// A key made on its own: "k", wrapped alone.
inline std::string Wrapped(const std::string& path, const std::string& subject,
                           const std::string& group) {
  return SideRowOf(path, "k", subject, group);
}

// A new subject's creation row: its tenant, index link and first keys in one.
inline std::string Created(const std::string& path, const std::string& subject) {
  return SideRowOf(path, "c", subject, "");
}

// A log and the key store beside it, opened together and closed together.
struct KeysOnLog {
  std::unique_ptr<LogStore> log;
  std::unique_ptr<SubjectKeyStore> keys;
  KeysOnLog(const std::string& path, const SubjectKey& master) {
    LogOptions o;
    o.path = path;
    log = LogStore::Open(o).value();
    keys = SubjectKeyStore::Open(*log, master).value();
  }
  SubjectKeyStore* operator->() { return keys.get(); }
  void Close() {
    keys.reset();
    log.reset();
  }
};

// A command's event on a new stream, carrying the key store's rows as the command path does.
inline Result<AppendResult> AppendCarrying(LogStore& log, const std::string& stream,
                                           std::vector<SideRow> rows) {
  AppendRequest r;
  r.stream = stream;
  r.expected = ExpectedVersion::NoStream();
  r.events.push_back(NewEvent{"case.noted", "{}", "comune-forli", "{}", "", "", std::nullopt});
  r.side_rows = std::move(rows);
  return log.Append(std::move(r));
}

}  // namespace procedo::crypto::test
