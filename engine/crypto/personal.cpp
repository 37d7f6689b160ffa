#include "engine/crypto/personal.h"

#include <sodium.h>

#include <algorithm>
#include <vector>

namespace procedo::crypto {
namespace {

bool TokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

std::optional<std::string> FromBase64Url(std::string_view text) {
  std::string bytes(text.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bytes.data()), bytes.size(), text.data(),
                        text.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
    return std::nullopt;
  }
  bytes.resize(len);
  return bytes;
}

// The tag of a value sealed as JSON text, in place of sealed.h's "v1.". The associated data
// says so too, so that a tag changed in either direction does not open.
constexpr std::string_view kJsonTag = "j1.";
std::string JsonPath(std::string_view path) {
  return std::string(path) + '\0' + "json";
}

bool NamePart(std::string_view part) {
  if (part.empty() || part.size() > 200) return false;
  for (char c : part) {
    if (!TokenChar(c) || c == '.') return false;
  }
  return true;
}

}  // namespace

bool LooksPersonal(std::string_view text) {
  return text.starts_with(kPersonalPrefix);
}

bool MayHoldPersonal(std::string_view json_text) {
  return json_text.find("\"pd1.") != std::string_view::npos;
}

std::optional<PersonalValue> ParsePersonal(std::string_view text) {
  if (!LooksPersonal(text)) return std::nullopt;
  text.remove_prefix(kPersonalPrefix.size());
  std::vector<std::string_view> parts;
  for (int i = 0; i < 4; ++i) {
    const size_t dot = text.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    parts.push_back(text.substr(0, dot));
    text.remove_prefix(dot + 1);
  }
  for (auto p : parts) {
    if (!NamePart(p)) return std::nullopt;
  }
  auto path = FromBase64Url(parts[3]);
  const bool json = text.starts_with(kJsonTag);
  if (!path || !(json || text.starts_with("v1.")) || text.size() == 3) return std::nullopt;
  for (char c : text.substr(3)) {
    if (!TokenChar(c) || c == '.') return std::nullopt;  // base64url: no full stop
  }
  return PersonalValue{std::string(parts[0]), std::string(parts[1]), std::string(parts[2]),
                       std::move(*path),      std::string(text),     json};
}

namespace {
void Collect(const nlohmann::json& node, std::vector<PersonalValue>& out) {
  if (node.is_string()) {
    if (auto v = ParsePersonal(node.get_ref<const std::string&>())) out.push_back(std::move(*v));
  } else if (node.is_structured()) {
    for (const auto& child : node) Collect(child, out);
  }
}
}  // namespace

std::vector<PersonalValue> PersonalValuesIn(const nlohmann::json& doc) {
  std::vector<PersonalValue> out;
  Collect(doc, out);
  return out;
}

Result<std::string> PersonalData::Seal(std::string_view subject, std::string_view group,
                                       std::string_view plaintext, std::string_view event_id,
                                       std::string_view path, bool json) {
  if (!NamePart(subject) || !NamePart(group) || !NamePart(event_id)) {
    return Status::InvalidArgument(
        "a subject id, a group and an event id are 1-200 letters, digits, '-' or '_'");
  }
  auto key = keys_.KeyFor(subject, group, /*create=*/true);
  if (!key.ok()) return key.status();
  // One string, sized once: a command seals a few values and every allocation shows.
  std::string out;
  out.reserve(kPersonalPrefix.size() + subject.size() + group.size() + event_id.size() +
              Base64UrlSize(path.size()) + 4 + SealedSize(plaintext.size()));
  out.append(kPersonalPrefix);
  out.append(subject).append(".").append(group).append(".").append(event_id).append(".");
  AppendBase64Url(out, path);
  out.append(".");
  if (json) {
    AppendSealed(out, *key, plaintext, event_id, JsonPath(path), kJsonTag);
  } else {
    AppendSealed(out, *key, plaintext, event_id, path);
  }
  sodium_memzero(key->data(), key->size());
  return out;
}

Result<std::string> PersonalData::Open(std::string_view text, std::string_view event_id,
                                       std::string_view path) const {
  auto value = ParsePersonal(text);
  if (!value) return Status::InvalidArgument("not a personal value: it does not read pd1.…");
  if (!event_id.empty() && (value->event_id != event_id || value->path != path)) {
    return Status::Corruption(
        "a personal value was sealed for another event or field: it was moved, and does not "
        "open here");
  }
  return OpenValue(*value);
}

Result<std::string> PersonalData::OpenValue(const PersonalValue& value) const {
  auto key = keys_.KeyFor(value.subject, value.group, /*create=*/false);
  if (!key.ok()) {
    if (key.status().IsNotFound()) {
      return Status::PermissionDenied("the key of a personal value is gone: erased");
    }
    return key.status();
  }
  auto plain = value.json ? crypto::Open(*key, "v1." + value.sealed.substr(kJsonTag.size()),
                                         value.event_id, JsonPath(value.path))
                          : crypto::Open(*key, value.sealed, value.event_id, value.path);
  sodium_memzero(key->data(), key->size());
  return plain;
}

nlohmann::json PersonalData::ShowJson(std::string_view text) const {
  auto value = ParsePersonal(text);
  if (!value) return std::string(text);
  auto plain = OpenValue(*value);
  if (!plain.ok()) return erased_text_;
  if (!value->json) return std::move(plain).value();
  auto parsed = nlohmann::json::parse(*plain, nullptr, false);
  return parsed.is_discarded() ? nlohmann::json(std::move(plain).value()) : parsed;
}

std::string PersonalData::Show(std::string_view text) const {
  auto value = ParsePersonal(text);
  if (!value) return std::string(text);  // text that merely starts alike
  auto plain = OpenValue(*value);
  return plain.ok() ? std::move(plain).value() : erased_text_;
}

std::string PersonalData::ShowAll(std::string_view json_text) const {
  constexpr std::string_view kOpen = "\"pd1.";
  size_t at = json_text.find(kOpen);
  if (at == std::string_view::npos) return std::string(json_text);
  std::string out;
  out.reserve(json_text.size());
  size_t copied = 0;
  while (at != std::string_view::npos) {
    size_t end = at + 1;
    while (end < json_text.size() && TokenChar(json_text[end])) ++end;
    // Only a whole JSON string; one inside an escaped JSON text (\"pd1.…\") is left as it is.
    const bool whole =
        end < json_text.size() && json_text[end] == '"' && (at == 0 || json_text[at - 1] != '\\');
    if (whole) {
      out.append(json_text.substr(copied, at - copied));
      out.append(ShowJson(json_text.substr(at + 1, end - at - 1))
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      copied = end + 1;
    }
    at = json_text.find(kOpen, end);
  }
  out.append(json_text.substr(copied));
  return out;
}

std::string PersonalData::ShowText(std::string_view text) const {
  size_t at = text.find(kPersonalPrefix);
  if (at == std::string_view::npos) return std::string(text);
  std::string out;
  size_t copied = 0;
  while (at != std::string_view::npos) {
    size_t end = at;
    while (end < text.size() && TokenChar(text[end])) ++end;
    const bool starts_token = at == 0 || !TokenChar(text[at - 1]);
    size_t stop = end;
    while (starts_token && stop > at && !ParsePersonal(text.substr(at, stop - at)) &&
           text[stop - 1] == '.') {
      --stop;
    }
    if (starts_token && ParsePersonal(text.substr(at, stop - at))) {
      out.append(text.substr(copied, at - copied));
      out.append(Show(text.substr(at, stop - at)));
      copied = stop;
    }
    at = text.find(kPersonalPrefix, std::max(end, at + 1));
  }
  out.append(text.substr(copied));
  return out;
}

void PersonalData::ShowInPlace(std::string& json_text) const {
  if (MayHoldPersonal(json_text)) json_text = ShowAll(json_text);
}

void PersonalData::ShowAll(nlohmann::json& doc) const {
  if (doc.is_string()) {
    const auto& s = doc.get_ref<const std::string&>();
    if (LooksPersonal(s)) doc = ShowJson(s);
  } else if (doc.is_structured()) {
    for (auto& child : doc) ShowAll(child);
  }
}

}  // namespace procedo::crypto
