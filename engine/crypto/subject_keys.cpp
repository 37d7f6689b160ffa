#include "engine/crypto/subject_keys.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace procedo::crypto {
namespace {

constexpr std::string_view kKeyRow = "k";
constexpr std::string_view kErasedRow = "e";
constexpr std::string_view kIndexRow = "i";  // "i", hash -> subject NUL group
constexpr std::string_view kOwnerRow = "o";  // "o", subject, "" -> tenant
constexpr std::string_view kMetaErasedThrough = "m\0erased_through";
constexpr std::string_view kIndexedRow = "x";  // "x", subject, group NUL hash -> "" (for erasure)

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
    : db_(std::move(db)), master_(master) {
  constexpr std::string_view kContext = "procedo subject index";
  crypto_generichash(index_key_.data(), index_key_.size(),
                     reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size(),
                     master_.data(), master_.size());
}

SubjectKeyStore::~SubjectKeyStore() {
  sodium_memzero(master_.data(), master_.size());
  sodium_memzero(index_key_.data(), index_key_.size());
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
  const std::string row = Row(kKeyRow, subject, group);
  if (auto cached = Cached(row)) return *cached;
  const uint64_t generation = [this] {
    std::shared_lock lock(cache_mu_);
    return generation_;
  }();
  if (Erased(subject, group)) {
    return Status::PermissionDenied(
        fmt::format("the {} data of subject {} were erased; nothing can be sealed or opened "
                    "with its key again",
                    group, subject));
  }
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
    Cache(row, key, generation);
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
  Cache(row, key, generation);
  return key;
}

std::optional<SubjectKey> SubjectKeyStore::Cached(const std::string& row) const {
  std::shared_lock lock(cache_mu_);
  auto it = cache_.find(row);
  if (it == cache_.end()) return std::nullopt;
  return it->second;
}

void SubjectKeyStore::Cache(const std::string& row, const SubjectKey& key, uint64_t generation) {
  std::unique_lock lock(cache_mu_);
  if (generation != generation_) return;  // an erasure ran meanwhile: read the store again
  if (cache_.size() >= 100'000) cache_.clear();
  cache_[row] = key;
}

Status SubjectKeyStore::EnsureKeys(std::string_view subject, const std::vector<std::string>& groups,
                                   std::string_view claim) {
  rocksdb::WriteBatch batch;
  std::unique_lock<std::mutex> claiming;
  if (!claim.empty()) {
    if (!Valid(subject) || !Valid(claim)) {
      return Status::InvalidArgument("a subject id and a tenant are 1-200 bytes, without NUL");
    }
    claiming = std::unique_lock(Stripe(subject));
    if (auto owner = TenantOf(subject)) {
      if (*owner != claim) {
        return Status::PermissionDenied(fmt::format(
            "subject {} is another tenant's; its data cannot be sealed or erased here", subject));
      }
    } else {
      batch.Put(Row(kOwnerRow, subject, ""), claim);
    }
  }
  std::vector<std::pair<std::string, SubjectKey>> made;
  const uint64_t generation = [this] {
    std::shared_lock lock(cache_mu_);
    return generation_;
  }();
  for (const auto& g : groups) {
    if (!Valid(subject) || !Valid(g)) {
      return Status::InvalidArgument("a subject id and a group are 1-200 bytes, without NUL");
    }
    if (Erased(subject, g)) {
      return Status::PermissionDenied(fmt::format(
          "the {} data of subject {} were erased; nothing can be sealed with its key again", g,
          subject));
    }
    const std::string row = Row(kKeyRow, subject, g);
    if (Cached(row)) continue;
    std::string unused;
    auto got = db_->Get(rocksdb::ReadOptions(), row, &unused);
    if (got.ok()) continue;
    if (!got.IsNotFound())
      return Status::IoError("reading a subject key failed: " + got.ToString());
    const SubjectKey key = NewKey();
    batch.Put(row,
              Box(master_, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
                  WrapData(subject, g)));
    made.emplace_back(row, key);
  }
  if (batch.Count() == 0) return Status::Ok();
  rocksdb::WriteOptions wo;
  wo.sync = true;  // durable before anything is sealed with them
  if (auto s = db_->Write(wo, &batch); !s.ok()) {
    return Status::IoError("storing subject keys failed: " + s.ToString());
  }
  for (const auto& [row, key] : made) Cache(row, key, generation);
  return Status::Ok();
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

Result<std::string> SubjectKeyStore::SubjectFor(std::string_view tenant,
                                                std::string_view identifier, std::string_view group,
                                                const std::vector<std::string>& keys_for) {
  std::string norm;
  for (char c : identifier) {
    norm.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  while (!norm.empty() && std::isspace(static_cast<unsigned char>(norm.back()))) norm.pop_back();
  const size_t lead = norm.find_first_not_of(" \t\r\n");
  norm.erase(0, lead == std::string::npos ? norm.size() : lead);
  if (norm.empty() || !Valid(group) || !Valid(tenant)) {
    return Status::InvalidArgument(
        "an identifier is not empty, and its tenant and group are 1-200 bytes without NUL");
  }
  norm.insert(0, std::string(tenant) + '\0');
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(norm.data()),
                     norm.size(), index_key_.data(), index_key_.size());
  sodium_memzero(norm.data(), norm.size());
  const std::string hash(reinterpret_cast<const char*>(digest), sizeof digest);
  std::string row(kIndexRow);
  row.push_back('\0');
  row.append(hash);
  std::lock_guard lock(Stripe(hash));
  std::string stored;
  auto got = db_->Get(rocksdb::ReadOptions(), row, &stored);
  if (got.ok()) {
    const size_t nul = stored.find('\0');
    std::string subject = stored.substr(0, nul);
    std::string stored_group = nul == std::string::npos ? "" : stored.substr(nul + 1);
    if (!Erased(subject, stored_group)) return subject;
  } else if (!got.IsNotFound()) {
    return Status::IoError("reading the subject index failed: " + got.ToString());
  }
  std::string subject = NewSubjectId();
  rocksdb::WriteBatch batch;
  batch.Put(Row(kOwnerRow, subject, ""), tenant);
  batch.Put(row, subject + '\0' + std::string(group));
  std::vector<std::pair<std::string, SubjectKey>> made;
  const uint64_t generation = [this] {
    std::shared_lock lock(cache_mu_);
    return generation_;
  }();
  for (const auto& g : keys_for) {
    if (!Valid(g)) return Status::InvalidArgument("a group is 1-200 bytes, without NUL");
    const SubjectKey key = NewKey();
    const std::string key_row = Row(kKeyRow, subject, g);
    batch.Put(key_row,
              Box(master_, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
                  WrapData(subject, g)));
    made.emplace_back(key_row, key);
  }
  batch.Put(Row(kIndexedRow, subject, std::string(group) + '\0' + hash), "");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = db_->Write(wo, &batch); !s.ok()) {
    return Status::IoError("storing a subject index entry failed: " + s.ToString());
  }
  for (const auto& [key_row, key] : made) Cache(key_row, key, generation);
  return subject;
}

std::mutex& SubjectKeyStore::Stripe(std::string_view key) {
  return stripes_[std::hash<std::string_view>{}(key) % stripes_.size()];
}

Status SubjectKeyStore::Claim(std::string_view subject, std::string_view tenant) {
  if (!Valid(subject) || !Valid(tenant)) {
    return Status::InvalidArgument("a subject id and a tenant are 1-200 bytes, without NUL");
  }
  std::lock_guard lock(Stripe(subject));
  if (auto owner = TenantOf(subject)) {
    if (*owner == tenant) return Status::Ok();
    return Status::PermissionDenied(fmt::format(
        "subject {} is another tenant's; its data cannot be sealed or erased here", subject));
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = db_->Put(wo, Row(kOwnerRow, subject, ""), tenant); !s.ok()) {
    return Status::IoError("recording a subject's tenant failed: " + s.ToString());
  }
  return Status::Ok();
}

std::optional<std::string> SubjectKeyStore::TenantOf(std::string_view subject) const {
  std::string tenant;
  if (!db_->Get(rocksdb::ReadOptions(), Row(kOwnerRow, subject, ""), &tenant).ok()) {
    return std::nullopt;
  }
  return tenant;
}

uint64_t SubjectKeyStore::ErasedThrough() const {
  std::string v;
  if (!db_->Get(rocksdb::ReadOptions(), kMetaErasedThrough, &v).ok()) return 0;
  return std::strtoull(v.c_str(), nullptr, 10);
}

Status SubjectKeyStore::SetErasedThrough(uint64_t position) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = db_->Put(wo, kMetaErasedThrough, std::to_string(position)); !s.ok()) {
    return Status::IoError("recording the erasures' progress failed: " + s.ToString());
  }
  return Status::Ok();
}

Status SubjectKeyStore::Erase(std::string_view subject, std::string_view group) {
  if (!Valid(subject) || (!group.empty() && !Valid(group))) {
    return Status::InvalidArgument("a subject id and a group are 1-200 bytes, without NUL");
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const std::vector<std::string> groups =
      group.empty() ? Groups(subject) : std::vector<std::string>{std::string(group)};
  // Out of memory first, and no read racing with this one cached after it.
  {
    std::unique_lock lock(cache_mu_);
    ++generation_;
    for (const auto& g : groups) cache_.erase(Row(kKeyRow, subject, g));
  }
  for (const auto& g : groups) {
    if (auto s = db_->Delete(wo, Row(kKeyRow, subject, g)); !s.ok()) {
      return Status::IoError("erasing a subject key failed: " + s.ToString());
    }
  }
  // The identifiers' entries of the erased groups: their hashes leave the disk with the keys.
  {
    std::string prefix = Row(kIndexedRow, subject, group);
    if (!group.empty()) prefix.push_back('\0');
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const std::string indexed = it->key().ToString();
      if (indexed.size() < prefix.size() + 32) continue;
      std::string row(kIndexRow);
      row.push_back('\0');
      row.append(indexed.substr(indexed.size() - 32));  // the hash ends the row's key
      if (auto s = db_->Delete(wo, row); !s.ok()) {
        return Status::IoError("erasing a subject index entry failed: " + s.ToString());
      }
      if (auto s = db_->Delete(wo, indexed); !s.ok()) {
        return Status::IoError("erasing a subject index entry failed: " + s.ToString());
      }
    }
  }
  if (auto s = db_->Put(wo, Row(kErasedRow, subject, group), "erased"); !s.ok()) {
    return Status::IoError("recording an erasure failed: " + s.ToString());
  }
  // Again now that the store says erased: a read that began before is not cached either.
  {
    std::unique_lock lock(cache_mu_);
    ++generation_;
    for (const auto& g : groups) cache_.erase(Row(kKeyRow, subject, g));
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
