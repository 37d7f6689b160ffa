#include "engine/crypto/subject_keys.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace procedo::crypto {
namespace {

constexpr std::string_view kKeyRow = "k";
constexpr std::string_view kErasedRow = "e";

std::string Row(std::string_view kind, std::string_view subject, std::string_view group) {
  std::string row(kind);
  row.push_back('\0');
  row.append(subject);
  row.push_back('\0');
  row.append(group);
  return row;
}

std::string WrapData(std::string_view subject, std::string_view group) {
  return Row("procedo subject key", subject, group);
}

bool Valid(std::string_view part) {
  return !part.empty() && part.size() <= 200 && part.find('\0') == std::string_view::npos;
}

}  // namespace

std::string NewSubjectId() {
  if (!CryptoReady()) throw std::runtime_error("libsodium did not start: no source of entropy");
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char text[sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(text, sizeof text, bytes, sizeof bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string("subj-") + text;
}

Result<SubjectKey> ReadMasterKey(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::InvalidArgument(fmt::format(
        "the master key file '{}' cannot be read; give a file holding 64 hexadecimal digits "
        "(e.g. `openssl rand -hex 32`), readable by the server only",
        path));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string hex;
  for (char c : ss.str()) {
    if (!std::isspace(static_cast<unsigned char>(c))) hex.push_back(c);
  }
  SubjectKey key{};
  size_t len = 0;
  if (!CryptoReady() || hex.size() != 2 * kKeyBytes ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &len, nullptr) != 0 ||
      len != kKeyBytes) {
    return Status::InvalidArgument(fmt::format(
        "the master key file '{}' does not hold 64 hexadecimal digits (32 bytes); make one with "
        "`openssl rand -hex 32`",
        path));
  }
  return key;
}

SubjectKeyStore::SubjectKeyStore(std::unique_ptr<rocksdb::DB> db, const SubjectKey& master)
    : db_(std::move(db)), master_(master) {}

SubjectKeyStore::~SubjectKeyStore() {
  sodium_memzero(master_.data(), master_.size());
  if (db_) db_->Close();
}

Result<std::unique_ptr<SubjectKeyStore>> SubjectKeyStore::Open(const std::string& path,
                                                               const SubjectKey& master) {
  if (!CryptoReady()) return Status::Unavailable("libsodium did not start: no source of entropy");
  rocksdb::Options o;
  o.create_if_missing = true;
  // No archive of old write-ahead files: a flushed one is deleted, and the erased key with it.
  o.WAL_ttl_seconds = 0;
  o.WAL_size_limit_MB = 0;
  o.recycle_log_file_num = 0;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(o, path, &raw);
  if (!s.ok()) {
    return Status::IoError(fmt::format(
        "cannot open the subject key store at '{}' ({}); check the path and that no other "
        "procedo process holds it",
        path, s.ToString()));
  }
  return std::unique_ptr<SubjectKeyStore>(
      new SubjectKeyStore(std::unique_ptr<rocksdb::DB>(raw), master));
}

Result<SubjectKey> SubjectKeyStore::KeyFor(std::string_view subject, std::string_view group,
                                           bool create) {
  if (!Valid(subject) || !Valid(group)) {
    return Status::InvalidArgument("a subject id and a group are 1-200 bytes, without NUL");
  }
  if (Erased(subject, group)) {
    return Status::PermissionDenied(
        fmt::format("the {} data of subject {} were erased; nothing can be sealed or opened "
                    "with its key again",
                    group, subject));
  }
  const std::string row = Row(kKeyRow, subject, group);
  const std::string ad = WrapData(subject, group);
  std::string stored;
  auto got = db_->Get(rocksdb::ReadOptions(), row, &stored);
  if (got.ok()) {
    auto plain = Unbox(master_, stored, ad);
    if (!plain.ok() || plain->size() != kKeyBytes) {
      return Status::Corruption(fmt::format(
          "the key of subject {} ({}) does not open with the master key: another master key "
          "than the one it was made with, or a damaged store",
          subject, group));
    }
    SubjectKey key{};
    std::copy(plain->begin(), plain->end(), key.begin());
    sodium_memzero(plain->data(), plain->size());
    return key;
  }
  if (!got.IsNotFound()) return Status::IoError("reading a subject key failed: " + got.ToString());
  if (!create) return Status::NotFound(fmt::format("no {} key for subject {}", group, subject));
  const SubjectKey key = NewKey();
  const std::string wrapped =
      Box(master_, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), ad);
  // Durable before anything is sealed with it: a key lost in a crash would lose the data too.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  auto put = db_->Put(wo, row, wrapped);
  if (!put.ok()) return Status::IoError("storing a subject key failed: " + put.ToString());
  return key;
}

bool SubjectKeyStore::Erased(std::string_view subject, std::string_view group) const {
  std::string unused;
  return db_->Get(rocksdb::ReadOptions(), Row(kErasedRow, subject, group), &unused).ok() ||
         db_->Get(rocksdb::ReadOptions(), Row(kErasedRow, subject, ""), &unused).ok();
}

std::vector<std::string> SubjectKeyStore::Groups(std::string_view subject) const {
  std::vector<std::string> out;
  const std::string prefix = Row(kKeyRow, subject, "");
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    out.push_back(it->key().ToString().substr(prefix.size()));
  }
  return out;
}

Status SubjectKeyStore::Erase(std::string_view subject, std::string_view group) {
  if (!Valid(subject) || (!group.empty() && !Valid(group))) {
    return Status::InvalidArgument("a subject id and a group are 1-200 bytes, without NUL");
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const std::vector<std::string> groups =
      group.empty() ? Groups(subject) : std::vector<std::string>{std::string(group)};
  for (const auto& g : groups) {
    if (auto s = db_->Delete(wo, Row(kKeyRow, subject, g)); !s.ok()) {
      return Status::IoError("erasing a subject key failed: " + s.ToString());
    }
  }
  if (auto s = db_->Put(wo, Row(kErasedRow, subject, group), "erased"); !s.ok()) {
    return Status::IoError("recording an erasure failed: " + s.ToString());
  }
  // Off the disk: the memtable into a table file, every table file compacted (the deleted rows
  // dropped), and the write-ahead files that held the key obsolete, hence deleted.
  rocksdb::FlushOptions fo;
  fo.wait = true;
  if (auto s = db_->Flush(fo); !s.ok()) {
    return Status::IoError("flushing the subject keys after an erasure failed: " + s.ToString());
  }
  rocksdb::CompactRangeOptions co;
  co.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  if (auto s = db_->CompactRange(co, nullptr, nullptr); !s.ok()) {
    return Status::IoError("compacting the subject keys after an erasure failed: " + s.ToString());
  }
  return Status::Ok();
}

}  // namespace procedo::crypto
