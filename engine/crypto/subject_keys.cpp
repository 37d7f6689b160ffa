#include "engine/crypto/subject_keys.h"

#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "engine/crypto/subject_id.h"
#include "engine/crypto/subject_rows.h"

namespace procedo::crypto {
namespace {

using rows::Row;

std::string WrapData(std::string_view subject, std::string_view group) {
  return Row("procedo subject key", subject, group);
}

bool Valid(std::string_view part) {
  return !part.empty() && part.size() <= 200 && part.find('\0') == std::string_view::npos;
}

Status Invalid() {
  return Status::InvalidArgument("a subject id, a group and a tenant are 1-200 bytes, without NUL");
}

Status ErasedError(std::string_view subject, std::string_view group) {
  return Status::PermissionDenied(
      fmt::format("the {} data of subject {} were erased; nothing can be sealed or opened with "
                  "its key again",
                  group, subject));
}

}  // namespace

std::string NewSubjectId() {
  if (!CryptoReady()) throw std::runtime_error("libsodium did not start: no source of entropy");
  char bytes[16];
  RandomBytes(bytes, sizeof bytes);
  std::string id(kSubjectIdPrefix);
  AppendBase64Url(id, std::string_view(bytes, sizeof bytes));
  return id;
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

SubjectKeyStore::SubjectKeyStore(SideTable& table, const SubjectKey& master)
    : table_(table), master_(master) {
  constexpr std::string_view kContext = "procedo subject index";
  crypto_generichash(index_key_.data(), index_key_.size(),
                     reinterpret_cast<const unsigned char*>(kContext.data()), kContext.size(),
                     master_.data(), master_.size());
  for (auto& shard : shards_) shard.cache.reserve(kCachedPerShard);
  table_.OnSideDurable([this](const std::vector<SideRow>& rows) { Durable(rows); });
}

SubjectKeyStore::~SubjectKeyStore() {
  table_.OnSideDurable(nullptr);
  sodium_memzero(master_.data(), master_.size());
  sodium_memzero(index_key_.data(), index_key_.size());
}

SideRow SubjectKeyStore::WrappedKeyRow(std::string_view subject, std::string_view group,
                                       const SubjectKey& key) const {
  return {Row(rows::kKey, subject, group),
          Box(master_, std::string_view(reinterpret_cast<const char*>(key.data()), key.size()),
              WrapData(subject, group))};
}

SideRow SubjectKeyStore::NewWrappedKey(std::string_view subject, std::string_view group,
                                       SubjectKey* key) const {
  *key = NewKey();
  return WrappedKeyRow(subject, group, *key);
}

SubjectKeyStore::Shard& SubjectKeyStore::ShardOf(std::string_view route) const {
  return shards_[std::hash<std::string_view>{}(route) % kShards];
}

uint64_t SubjectKeyStore::Generation(std::string_view subject) const {
  Shard& shard = ShardOf(subject);
  std::lock_guard lock(shard.mu);
  return shard.generation;
}

Result<SubjectKey> SubjectKeyStore::KeyFor(std::string_view subject, std::string_view group,
                                           bool create) {
  if (!Valid(subject) || !Valid(group)) return Invalid();
  const std::string row = Row(rows::kKey, subject, group);
  bool erasing = false;
  if (auto cached = Cached(subject, group, row, &erasing)) return *cached;
  if (erasing) return ErasedError(subject, group);
  const uint64_t generation = Generation(subject);
  if (Erased(subject, group)) return ErasedError(subject, group);
  auto from_created = CreatedKey(subject, group);
  if (!from_created.ok()) return from_created.status();
  if (from_created->has_value()) {
    Cache(row, **from_created, generation);
    return **from_created;
  }
  auto stored = Read(row);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    auto plain = Unbox(master_, **stored, WrapData(subject, group));
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
  if (!create) return Status::NotFound(fmt::format("no {} key for subject {}", group, subject));
  SubjectKey key{};
  // Durable before anything is sealed with it: a key lost in a crash would lose the data too.
  if (Status s = Put(subject, {NewWrappedKey(subject, group, &key)}, nullptr); !s.ok()) return s;
  Cache(row, key, generation);
  return key;
}

std::optional<SubjectKey> SubjectKeyStore::Cached(std::string_view subject, std::string_view group,
                                                  const std::string& row, bool* erasing) const {
  Shard& shard = ShardOf(subject);
  std::lock_guard lock(shard.mu);
  *erasing = !shard.erasing.empty() && ErasingLocked(shard, subject, group);
  if (*erasing) return std::nullopt;
  auto it = shard.cache.find(row);
  if (it == shard.cache.end()) return std::nullopt;
  return it->second;
}

void SubjectKeyStore::Cache(const std::string& row, const SubjectKey& key, uint64_t generation) {
  const std::string_view subject = rows::RouteOf(row);
  Shard& shard = ShardOf(subject);
  std::lock_guard lock(shard.mu);
  if (!MayCacheLocked(shard, subject, generation)) return;
  if (shard.cache.size() >= kCachedPerShard) shard.cache.clear();
  shard.cache[row] = key;
}

bool SubjectKeyStore::MayCacheLocked(const Shard& shard, std::string_view subject,
                                     uint64_t generation) {
  if (generation != shard.generation) return false;  // an erasure ran meanwhile: read again
  // A read that began before an erasure may still use the key it read, but no later one does.
  return shard.erasing.empty() || !shard.erasing.contains(std::string(subject));
}

void SubjectKeyStore::CacheMade(std::string_view subject,
                                std::vector<std::pair<std::string, SubjectKey>>& keys,
                                uint64_t generation) {
  Shard& shard = ShardOf(subject);
  std::lock_guard lock(shard.mu);
  if (!MayCacheLocked(shard, subject, generation)) return;
  if (shard.cache.size() + keys.size() > kCachedPerShard) shard.cache.clear();
  for (auto& [row, key] : keys) shard.cache.insert_or_assign(std::move(row), key);
}

Status SubjectKeyStore::EnsureKeys(std::string_view subject, const std::vector<std::string>& groups,
                                   std::string_view claim, std::vector<SideRow>* carry) {
  if (!Valid(subject) || (!claim.empty() && !Valid(claim))) return Invalid();
  std::lock_guard lock(Stripe(subject));
  std::vector<SideRow> made;
  if (!claim.empty()) {
    const auto owner = TenantOf(subject);
    if (!owner) {
      made.push_back({Row(rows::kOwner, subject, ""), std::string(claim)});
    } else if (*owner != claim) {
      return Status::PermissionDenied(fmt::format(
          "subject {} is another tenant's; its data cannot be sealed or erased here", subject));
    }
  }
  std::vector<std::pair<std::string, SubjectKey>> keys;
  const uint64_t generation = Generation(subject);
  for (const auto& g : groups) {
    if (!Valid(g)) return Invalid();
    const std::string row = Row(rows::kKey, subject, g);
    bool erasing = false;
    if (Cached(subject, g, row, &erasing)) continue;  // an erasure takes its keys out first
    if (erasing) return ErasedError(subject, g);
    if (Erased(subject, g)) return ErasedError(subject, g);
    auto from_created = CreatedKey(subject, g);
    if (!from_created.ok()) return from_created.status();
    if (from_created->has_value()) {  // opened now: cached, so that sealing does not open it again
      Cache(row, **from_created, generation);
      continue;
    }
    auto stored = Read(row);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) continue;
    SubjectKey key{};
    made.push_back(NewWrappedKey(subject, g, &key));
    keys.emplace_back(row, key);
  }
  if (Status s = Put(subject, std::move(made), carry); !s.ok()) return s;
  CacheMade(subject, keys, generation);
  return Status::Ok();
}

Result<std::string> SubjectKeyStore::IndexHash(std::string_view tenant,
                                               std::string_view identifier) const {
  std::string norm;
  for (char c : identifier) {
    norm.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  while (!norm.empty() && std::isspace(static_cast<unsigned char>(norm.back()))) norm.pop_back();
  const size_t lead = norm.find_first_not_of(" \t\r\n");
  norm.erase(0, lead == std::string::npos ? norm.size() : lead);
  if (norm.empty() || !Valid(tenant)) {
    return Status::InvalidArgument(
        "an identifier is not empty, and its tenant is 1-200 bytes without NUL");
  }
  norm.insert(0, std::string(tenant) + '\0');
  unsigned char digest[rows::kHashBytes];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(norm.data()),
                     norm.size(), index_key_.data(), index_key_.size());
  sodium_memzero(norm.data(), norm.size());
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::optional<std::string> SubjectKeyStore::LiveSubject(const std::string& index_value) const {
  const size_t nul = index_value.find('\0');
  std::string subject = index_value.substr(0, nul);
  const std::string group = nul == std::string::npos ? "" : index_value.substr(nul + 1);
  if (Erased(subject, group)) return std::nullopt;
  return subject;
}

Result<std::optional<std::string>> SubjectKeyStore::FindSubject(std::string_view tenant,
                                                                std::string_view identifier) const {
  auto hash = IndexHash(tenant, identifier);
  if (!hash.ok()) return hash.status();
  auto stored = Read(rows::IndexRow(*hash));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<std::string>();
  return LiveSubject(**stored);
}

Result<std::string> SubjectKeyStore::SubjectFor(std::string_view tenant,
                                                std::string_view identifier, std::string_view group,
                                                const std::vector<std::string>& keys_for,
                                                std::vector<SideRow>* carry, bool* made_here) {
  if (made_here != nullptr) *made_here = false;
  if (!Valid(group) || keys_for.size() > 255) return Invalid();
  for (const auto& g : keys_for) {
    if (!Valid(g)) return Invalid();
  }
  auto hashed = IndexHash(tenant, identifier);
  if (!hashed.ok()) return hashed.status();
  const std::string& hash = *hashed;
  const std::string row = rows::IndexRow(hash);
  std::lock_guard lock(Stripe(hash));
  auto stored = Read(row);
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    if (auto subject = LiveSubject(**stored)) {
      CarryPending(*subject, carry);
      return *subject;
    }
  }
  std::string subject = NewSubjectId();
  std::vector<std::pair<std::string, SubjectKey>> keys;
  const uint64_t generation = Generation(subject);
  std::vector<SideRow> made;
  made.reserve(2);
  made.push_back(NewCreated(subject, tenant, group, hash, keys_for, &keys));
  made.push_back({row, subject + '\0' + std::string(group)});
  if (Status s = Put(subject, std::move(made), carry); !s.ok()) return s;
  CacheMade(subject, keys, generation);
  if (made_here != nullptr) *made_here = true;
  return subject;
}

std::mutex& SubjectKeyStore::Stripe(std::string_view key) {
  return stripes_[std::hash<std::string_view>{}(key) % stripes_.size()];
}

Status SubjectKeyStore::Claim(std::string_view subject, std::string_view tenant,
                              std::vector<SideRow>* carry) {
  if (!Valid(subject) || !Valid(tenant)) return Invalid();
  std::lock_guard lock(Stripe(subject));
  if (auto owner = TenantOf(subject)) {
    if (*owner != tenant) {
      return Status::PermissionDenied(fmt::format(
          "subject {} is another tenant's; its data cannot be sealed or erased here", subject));
    }
    CarryPending(subject, carry);
    return Status::Ok();
  }
  return Put(subject, {{Row(rows::kOwner, subject, ""), std::string(tenant)}}, carry);
}

std::optional<std::string> SubjectKeyStore::TenantOf(std::string_view subject) const {
  // A subject made with a creation row has no owner row until an erasure splits it.
  if (auto created = Read(Row(rows::kCreated, subject, "")); created.ok() && created->has_value()) {
    if (auto tenant = rows::CreatedTenant(**created)) return std::string(*tenant);
  }
  auto owner = Read(Row(rows::kOwner, subject, ""));
  if (!owner.ok() || !owner->has_value()) return std::nullopt;
  return std::move(**owner);
}

uint64_t SubjectKeyStore::ErasedThrough() const {
  auto v = table_.GetSide(rows::kErasedThrough);
  if (!v.ok() || !v->has_value()) return 0;
  return std::strtoull((*v)->c_str(), nullptr, 10);
}

Status SubjectKeyStore::SetErasedThrough(uint64_t position) {
  return table_.WriteSide({{std::string(rows::kErasedThrough), std::to_string(position)}}, {});
}

}  // namespace procedo::crypto
