// A new subject's creation row: its tenant, first identifier's index link and first keys in one
// row, so that a person seen for the first time costs the log's writer two side rows, not five.
// It is read as a fallback beside the rows of one fact each, and an erasure splits it into them.
#include <fmt/format.h>
#include <sodium.h>

#include <algorithm>

#include "engine/crypto/subject_keys.h"
#include "engine/crypto/subject_rows.h"

namespace procedo::crypto {
namespace rows {
namespace {

void AddPart(std::string& out, std::string_view part) {
  out.push_back(static_cast<char>(static_cast<uint8_t>(part.size())));
  out.append(part);
}

bool TakePart(std::string_view& in, std::string* part) {
  if (in.empty()) return false;
  const size_t n = static_cast<uint8_t>(in.front());
  if (in.size() < 1 + n) return false;
  part->assign(in.substr(1, n));
  in.remove_prefix(1 + n);
  return true;
}

}  // namespace

std::string EncodeCreated(const Created& created) {
  std::string out;
  out.reserve(created.tenant.size() + created.index_group.size() + created.hash.size() +
              created.wrapped.size() + 16 * (created.groups.size() + 1));
  AddPart(out, created.tenant);
  AddPart(out, created.index_group);
  AddPart(out, created.hash);
  out.push_back(static_cast<char>(static_cast<uint8_t>(created.groups.size())));
  for (const auto& g : created.groups) AddPart(out, g);
  out.append(created.wrapped);
  return out;
}

std::optional<Created> DecodeCreated(std::string_view in) {
  Created c;
  if (!TakePart(in, &c.tenant) || !TakePart(in, &c.index_group) || !TakePart(in, &c.hash) ||
      in.empty()) {
    return std::nullopt;
  }
  const size_t count = static_cast<uint8_t>(in.front());
  in.remove_prefix(1);
  c.groups.resize(count);
  for (auto& g : c.groups) {
    if (!TakePart(in, &g)) return std::nullopt;
  }
  c.wrapped.assign(in);
  return c;
}

}  // namespace rows

namespace {

std::string CreatedWrapData(std::string_view subject) {
  return rows::Row("procedo subject keys", subject, "");
}

}  // namespace

SideRow SubjectKeyStore::NewCreated(std::string_view subject, std::string_view tenant,
                                    std::string_view index_group, std::string_view hash,
                                    const std::vector<std::string>& groups,
                                    std::vector<std::pair<std::string, SubjectKey>>* keys) const {
  rows::Created created{std::string(tenant), std::string(index_group), std::string(hash), {}, {}};
  for (const auto& g : groups) {  // one key per group, however often the caller names it
    if (std::find(created.groups.begin(), created.groups.end(), g) == created.groups.end()) {
      created.groups.push_back(g);
    }
  }
  std::string plain(created.groups.size() * kKeyBytes, '\0');
  for (size_t i = 0; i < created.groups.size(); ++i) {
    const SubjectKey key = NewKey();
    std::copy(key.begin(), key.end(), plain.begin() + static_cast<ptrdiff_t>(i * kKeyBytes));
    keys->emplace_back(rows::Row(rows::kKey, subject, created.groups[i]), key);
  }
  created.wrapped = Box(master_, plain, CreatedWrapData(subject));
  sodium_memzero(plain.data(), plain.size());
  return {rows::Row(rows::kCreated, subject, ""), rows::EncodeCreated(created)};
}

Result<std::optional<rows::Created>> SubjectKeyStore::ReadCreated(std::string_view subject) const {
  auto stored = Read(rows::Row(rows::kCreated, subject, ""));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) return std::optional<rows::Created>();
  auto created = rows::DecodeCreated(**stored);
  if (!created) {
    return Status::Corruption(fmt::format(
        "the creation row of subject {} is damaged; restore the store from a backup", subject));
  }
  return created;
}

Result<std::vector<SubjectKey>> SubjectKeyStore::OpenCreated(std::string_view subject,
                                                             const rows::Created& created) const {
  auto plain = Unbox(master_, created.wrapped, CreatedWrapData(subject));
  if (!plain.ok() || plain->size() != created.groups.size() * kKeyBytes) {
    return Status::Corruption(fmt::format(
        "the keys of subject {} do not open with the master key: another master key than the "
        "one they were made with, or a damaged store",
        subject));
  }
  std::vector<SubjectKey> keys(created.groups.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    std::copy_n(plain->begin() + static_cast<ptrdiff_t>(i * kKeyBytes), kKeyBytes, keys[i].begin());
  }
  sodium_memzero(plain->data(), plain->size());
  return keys;
}

Result<std::optional<SubjectKey>> SubjectKeyStore::CreatedKey(std::string_view subject,
                                                              std::string_view group) const {
  auto created = ReadCreated(subject);
  if (!created.ok()) return created.status();
  if (!created->has_value()) return std::optional<SubjectKey>();
  const auto& groups = (*created)->groups;
  const auto at = std::find(groups.begin(), groups.end(), group);
  if (at == groups.end()) return std::optional<SubjectKey>();
  auto keys = OpenCreated(subject, **created);
  if (!keys.ok()) return keys.status();
  return std::optional<SubjectKey>((*keys)[static_cast<size_t>(at - groups.begin())]);
}

Status SubjectKeyStore::SplitCreated(std::string_view subject,
                                     const std::vector<std::string>& erased, bool all,
                                     std::vector<SideRow>* puts,
                                     std::vector<std::string>* deletes) const {
  auto created = ReadCreated(subject);
  if (!created.ok()) return created.status();
  if (!created->has_value()) return Status::Ok();
  const rows::Created& c = **created;
  // A row written back after an earlier erasure (before its sweep) still holds what that erasure
  // took: never written out again.
  auto gone = [&](const std::string& g) {
    return all || std::find(erased.begin(), erased.end(), g) != erased.end() || Erased(subject, g);
  };
  // Who the subject was stays, as the owner row would have (erasure keeps it).
  puts->push_back({rows::Row(rows::kOwner, subject, ""), c.tenant});
  auto keys = OpenCreated(subject, c);
  if (!keys.ok()) return keys.status();
  for (size_t i = 0; i < c.groups.size(); ++i) {
    if (gone(c.groups[i])) continue;
    puts->push_back(WrappedKeyRow(subject, c.groups[i], (*keys)[i]));
  }
  for (auto& key : *keys) sodium_memzero(key.data(), key.size());
  if (c.hash.size() == rows::kHashBytes) {
    if (gone(c.index_group)) {
      deletes->push_back(rows::IndexRow(c.hash));
    } else {
      puts->push_back(
          {rows::Row(rows::kIndexed, subject, c.index_group + '\0' + c.hash), std::string()});
    }
  }
  deletes->push_back(rows::Row(rows::kCreated, subject, ""));
  return Status::Ok();
}

}  // namespace procedo::crypto
