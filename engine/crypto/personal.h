// Personal values as they stand in events, views and the notifier's queue: sealed with the key of
// their data subject and group, and naming them, with the event and path they were sealed for.
// Whoever shows or uses one (a view's reader, the notifier when it sends, an access export)
// opens it with the key alone, wherever a projection copied it; once the key is erased every copy
// reads as erased ("[dato cancellato]", the domain's words), and nothing needs rewriting.
//
//   pd1.<subject>.<group>.<event id>.<base64url(path)>.<sealed value (sealed.h)>
//
// A value that is not a string (an amount, a flag, an object) is sealed as its JSON text, its
// sealed part tagged j1. instead of v1. (the tag bound into the associated data), and shown back
// as that value.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/crypto/subject_keys.h"

namespace procedo::crypto {

inline constexpr std::string_view kPersonalPrefix = "pd1.";

struct PersonalValue {
  std::string subject, group, event_id, path;
  std::string sealed;  // "v1." (or "j1.") + base64url
  bool json = false;   // j1.: the plaintext is the JSON text of a value that was not a string
};

// The parts of a personal value's text; nullopt when the text is not one.
std::optional<PersonalValue> ParsePersonal(std::string_view text);
bool LooksPersonal(std::string_view text);
// Whether a JSON text may hold a personal value (a string starting with the prefix); when false
// there is nothing to show and no need to parse.
bool MayHoldPersonal(std::string_view json_text);

// Every personal value in a JSON document, in document order.
std::vector<PersonalValue> PersonalValuesIn(const nlohmann::json& doc);

class PersonalData {
 public:
  // `erased_text` is what readers see where a value whose key was erased stood (the deployment's
  // language is the domain's to give).
  PersonalData(SubjectKeyStore& keys, std::string erased_text)
      : keys_(keys), erased_text_(std::move(erased_text)) {}

  // The personal value of `plaintext` for the subject's group, sealed for the event and path.
  // With `json`, `plaintext` is the JSON text of a value that is not a string.
  Result<std::string> Seal(std::string_view subject, std::string_view group,
                           std::string_view plaintext, std::string_view event_id,
                           std::string_view path, bool json = false);
  // The plaintext of a personal value. When `event_id` is given the value must have been sealed
  // for that event and `path` (a value moved to another event or field does not open).
  // PermissionDenied: its key was erased; Corruption: it does not open; InvalidArgument: the
  // text is not a personal value.
  Result<std::string> Open(std::string_view text, std::string_view event_id = {},
                           std::string_view path = {}) const;
  // The plaintext, or the erased text when the value cannot be opened any more; any other text
  // as it is.
  std::string Show(std::string_view text) const;
  // The same as a JSON value: a value sealed as JSON is that value again (a number stays one);
  // a string, or the erased text, is a string.
  nlohmann::json ShowJson(std::string_view text) const;
  // A JSON text with every personal value in it shown (opened, or the erased text); the text
  // unchanged, without a copy's cost beyond the scan, when it holds none.
  std::string ShowAll(std::string_view json_text) const;
  void ShowAll(nlohmann::json& doc) const;
  // A plain text (a message's body) with every personal value in it shown, raw: a value ends
  // where its characters do, and a full stop right after it is the sentence's, not the value's.
  std::string ShowText(std::string_view text) const;
  // The same, in place, for a view's row as its readers get it.
  void ShowInPlace(std::string& json_text) const;

  SubjectKeyStore& keys() { return keys_; }
  const std::string& erased_text() const { return erased_text_; }

 private:
  // A parsed value's plaintext: its key from the store, then the AEAD.
  Result<std::string> OpenValue(const PersonalValue& value) const;

  SubjectKeyStore& keys_;
  std::string erased_text_;
};

}  // namespace procedo::crypto
