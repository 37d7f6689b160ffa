// A data subject's id as the key store makes it (NewSubjectId): "subj-" and 22 base64url
// characters (16 random bytes). One reading of it for whoever must tell an id from other text.
#pragma once

#include <algorithm>
#include <cctype>
#include <string_view>

namespace procedo::crypto {

inline constexpr std::string_view kSubjectIdPrefix = "subj-";
inline constexpr size_t kSubjectIdSize = kSubjectIdPrefix.size() + 22;

inline bool IsSubjectId(std::string_view text) {
  if (text.size() != kSubjectIdSize || !text.starts_with(kSubjectIdPrefix)) return false;
  return std::all_of(text.begin() + kSubjectIdPrefix.size(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

}  // namespace procedo::crypto
