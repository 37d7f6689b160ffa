// Private to engine/crypto: the layout of the subject key store's rows in its side table.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/side_table.h"
#include "engine/base/status.h"

namespace procedo::crypto {
class SubjectKeyStore;
}

namespace procedo::crypto::rows {

// A new subject's first rows are one: "c", subject, "" -> its tenant, first identifier's index
// link and first keys (Created), beside the index row itself; two rows to insert, not five. The
// row is never rewritten (two batches carrying the subject may land in either order): an erasure
// splits it into the rows below and deletes it.
inline constexpr std::string_view kCreated = "c";
inline constexpr std::string_view kKey = "k";      // "k", subject, group -> wrapped key
inline constexpr std::string_view kErased = "e";   // "e", subject, group ("" all) -> "erased"
inline constexpr std::string_view kIndex = "i";    // "i", hash -> subject NUL group
inline constexpr std::string_view kOwner = "o";    // "o", subject, "" -> tenant
inline constexpr std::string_view kIndexed = "x";  // "x", subject, group NUL hash -> ""
// "w", subject, "" -> "due": erased since the store was last opened. A batch in flight during the
// erasure may write the subject's rows back after it, and the sweep that takes them again runs in
// memory: a crash before it would leave them, so opening the store sweeps the marked subjects.
inline constexpr std::string_view kSweepDue = "w";
// Present once the store's erasures leave marks (a store from before them is swept whole once).
inline constexpr std::string_view kSweepMarks = std::string_view("m\0sweep_marks", 13);
inline constexpr std::string_view kErasedThrough = std::string_view("m\0erased_through", 16);
inline constexpr size_t kHashBytes = 32;

inline std::string Row(std::string_view kind, std::string_view subject, std::string_view group) {
  std::string row(kind);
  row.push_back('\0');
  row.append(subject);
  row.push_back('\0');
  row.append(group);
  return row;
}

inline std::string IndexRow(std::string_view hash) {
  std::string row(kIndex);
  row.push_back('\0');
  row.append(hash);
  return row;
}

inline bool IsIndexRow(std::string_view key) {
  return key.size() > 1 && key.starts_with(kIndex) && key[1] == '\0';
}

struct Created {
  std::string tenant;
  std::string index_group;  // the group of the identifier `hash` indexes
  std::string hash;         // kHashBytes
  std::vector<std::string> groups;
  std::string wrapped;  // the groups' keys in their order, boxed as one by the master key
};
// Lengths of at most 255 bytes (tenants and groups are at most 200) before each part.
std::string EncodeCreated(const Created& created);
std::optional<Created> DecodeCreated(std::string_view value);
// Its tenant alone, read in place.
inline std::optional<std::string_view> CreatedTenant(std::string_view value) {
  if (value.empty()) return std::nullopt;
  const size_t n = static_cast<uint8_t>(value.front());
  if (value.size() < 1 + n) return std::nullopt;
  return value.substr(1, n);
}

// The subject part of a row of kind c, k, e, o or x (between its first and second NUL).
inline std::string_view SubjectPart(std::string_view key) {
  const size_t first = key.find('\0');
  if (first == std::string_view::npos) return {};
  const size_t second = key.find('\0', first + 1);
  return key.substr(first + 1,
                    second == std::string_view::npos ? std::string_view::npos : second - first - 1);
}

// What picks the shard a row is kept in while it is not yet durable: its subject, or for an
// index row (whose subject is not known before it is read) its hash.
inline std::string_view RouteOf(std::string_view row) {
  return IsIndexRow(row) ? row.substr(2) : SubjectPart(row);
}

// The group a row of kind k, x or i belongs to ("" for the others).
inline std::string GroupOf(std::string_view key, std::string_view value) {
  if (IsIndexRow(key)) {
    const size_t nul = value.find('\0');
    return nul == std::string_view::npos ? std::string() : std::string(value.substr(nul + 1));
  }
  const size_t first = key.find('\0');
  const size_t second = first == std::string_view::npos ? first : key.find('\0', first + 1);
  if (second == std::string_view::npos) return {};
  std::string_view rest = key.substr(second + 1);
  if (key.starts_with(kIndexed)) rest = rest.substr(0, rest.find('\0'));
  return std::string(rest);
}

// The subject a row of kind c, k, o, x or i belongs to.
inline std::string SubjectOfRow(std::string_view key, std::string_view value) {
  if (IsIndexRow(key)) return std::string(value.substr(0, value.find('\0')));
  return std::string(SubjectPart(key));
}

// Takes the index entries out of `deletes`, and puts back those that still name a subject whose
// group of the identifier is erased: the identifier may have found a newer subject since.
Status KeepLiveIndexEntries(const SideTable& table, const SubjectKeyStore& store,
                            std::vector<std::string>* deletes);
// The rows of the subject's groups that `erased` names, for deletion: its keys written on their
// own, and its identifiers' entries (the subject's link, and the index entry the link names).
Status AddRowsOfGroups(const SideTable& table, std::string_view subject,
                       const std::function<bool(std::string_view)>& erased,
                       std::vector<std::string>* deletes);

}  // namespace procedo::crypto::rows
