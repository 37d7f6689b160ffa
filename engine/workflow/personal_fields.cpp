#include "engine/workflow/personal_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>

namespace procedo {
namespace {

using nlohmann::json;

bool KnownGroup(std::string_view g) {
  return g == "contact" || g == "identity" || g == "special";
}

Status Bad(const std::string& name, const std::string& where, std::string_view what) {
  return Status::InvalidArgument(
      fmt::format("{}: the personal-data mark at {} cannot be honoured: {}", name, where, what));
}

std::string Where(const std::vector<std::string>& path) {
  std::string out;
  for (const auto& p : path) out += "/" + p;
  return out.empty() ? "/" : out;
}

// A personal field's schema describes both forms the field takes, so that the published schema
// holds for what the log and its subscribers carry: {"anyOf": [<the value as given, a string>,
// <the sealed value>]}. Personal values from outside are refused before this check
// (SealedValueAt), so the second form admits only the system's own copies and seals.
// A field beside the subject's object may be of any type as given (an amount, a flag).
Status CheckBothForms(const json& spec, const std::string& name, const std::string& where,
                      bool any_type = false) {
  const json* forms = spec.contains("anyOf") ? &spec["anyOf"] : nullptr;
  const bool shaped = forms != nullptr && forms->is_array() && forms->size() == 2 &&
                      (*forms)[0].is_object() &&
                      (any_type || (*forms)[0].value("type", "") == "string") &&
                      (*forms)[1].is_object() && (*forms)[1].value("type", "") == "string" &&
                      (*forms)[1].value("pattern", "") == kSealedPattern;
  if (shaped) return Status::Ok();
  return Bad(name, where,
             fmt::format("a personal field's schema must be {{\"anyOf\": [<the value as given, "
                         "\"type\": \"string\">, {{\"type\": \"string\", \"pattern\": "
                         "\"{}\"}}]}}, the marks beside anyOf, so that it describes the value as "
                         "given and as sealed",
                         kSealedPattern));
}

// The fields of an object that belong to the subject of a sibling object (x-subject); that
// object's site is in `out` already.
Status WalkBeside(const json& schema, const std::vector<std::string>& path, const std::string& name,
                  std::vector<PersonalSite>& out) {
  for (const auto& [field, spec] : schema["properties"].items()) {
    if (!spec.is_object() || !spec.contains("x-subject")) continue;
    const std::string where = Where(path) + "/" + field;
    const json& owner = spec["x-subject"];
    const json& group = spec.contains("x-personal") ? spec["x-personal"] : json();
    if (!group.is_string() || !KnownGroup(group.get<std::string>())) {
      return Bad(name, where, "x-subject needs x-personal: contact, identity or special");
    }
    std::vector<std::string> at = path;
    at.push_back(owner.is_string() ? owner.get<std::string>() : "");
    auto site =
        std::find_if(out.begin(), out.end(), [&](const PersonalSite& s) { return s.path == at; });
    if (site == out.end()) {
      return Bad(name, where, "x-subject must name a sibling property marked x-data-subject");
    }
    if (Status s = CheckBothForms(spec, name, where, /*any_type=*/true); !s.ok()) return s;
    site->beside.push_back({field, group.get<std::string>(), false});
  }
  return Status::Ok();
}

// Walks properties and array items; `in_subject` when an enclosing object is a subject's.
Status Walk(const json& schema, std::vector<std::string>& path, bool in_subject,
            const std::string& name, std::vector<PersonalSite>& out) {
  if (!schema.is_object()) return Status::Ok();
  if (schema.contains("x-personal") && !in_subject) {
    return Bad(name, Where(path), "it is not inside an object marked x-data-subject");
  }
  const bool subject = schema.value("x-data-subject", false);
  if (subject) {
    if (in_subject) return Bad(name, Where(path), "a subject's object inside another's");
    const json* props = schema.contains("properties") ? &schema["properties"] : nullptr;
    if (props == nullptr || !props->contains("subject") ||
        (*props)["subject"].value("type", "") != "string") {
      return Bad(name, Where(path), "the object has no \"subject\" string property to hold the id");
    }
    PersonalSite site{path, {}, {}};
    for (const auto& [field, spec] : props->items()) {
      if (!spec.is_object() || !spec.contains("x-personal")) continue;
      const json& group = spec["x-personal"];
      if (!group.is_string() || !KnownGroup(group.get<std::string>())) {
        return Bad(name, Where(path) + "/" + field,
                   "the group is not contact, identity or special");
      }
      if (Status s = CheckBothForms(spec, name, Where(path) + "/" + field); !s.ok()) return s;
      site.fields.push_back({field, group.get<std::string>(), spec.value("x-identifies", false)});
    }
    if (site.fields.empty()) return Bad(name, Where(path), "the object marks no personal field");
    out.push_back(std::move(site));
  }
  if (schema.contains("properties") && schema["properties"].is_object()) {
    for (const auto& [field, spec] : schema["properties"].items()) {
      if (subject && spec.is_object() && spec.contains("x-personal")) continue;
      if (!in_subject && !subject && spec.is_object() && spec.contains("x-subject")) continue;
      path.push_back(field);
      Status s = Walk(spec, path, in_subject || subject, name, out);
      path.pop_back();
      if (!s.ok()) return s;
    }
    if (!in_subject && !subject) {
      if (Status s = WalkBeside(schema, path, name, out); !s.ok()) return s;
    }
  }
  if (schema.contains("items")) {
    path.push_back("*");
    Status s = Walk(schema["items"], path, in_subject || subject, name, out);
    path.pop_back();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

std::string Escape(const std::string& token) {  // JSON Pointer (RFC 6901)
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// The subject of a site's object: the one it names, or the one an identifying field finds, or
// (when `make`) a new one; empty when none is named or found and `make` is false.
Result<std::string> SubjectOf(const PersonalSite& site, crypto::PersonalData& personal,
                              std::string_view tenant, const json& object, bool make,
                              const std::vector<std::string>& keys_for = {},
                              std::vector<SideRow>* carry = nullptr, bool* made = nullptr) {
  if (auto it = object.find("subject"); it != object.end() && it->is_string()) {
    return it->get<std::string>();
  }
  for (const auto& f : site.fields) {
    auto it = object.find(f.name);
    if (!f.identifies || it == object.end() || !it->is_string()) continue;
    const auto& value = it->get_ref<const std::string&>();
    if (crypto::LooksPersonal(value) || value.empty()) continue;
    return personal.keys().SubjectFor(tenant, value, f.group, keys_for, carry, made);
  }
  return make ? crypto::NewSubjectId() : std::string();
}

// A value of a field beside the subject's object still to seal: anything but null and a sealed
// value (a copy the system made).
bool BesideToSeal(const json* parent, const PersonalField& f) {
  if (parent == nullptr || !parent->is_object()) return false;
  auto it = parent->find(f.name);
  if (it == parent->end() || it->is_null()) return false;
  return !it->is_string() || !crypto::LooksPersonal(it->get_ref<const std::string&>());
}

// The groups of the object's fields (and those beside it, in `parent`) that hold a value to seal
// (not sealed yet).
std::vector<std::string> GroupsToSeal(const PersonalSite& site, const json& object,
                                      const json* parent) {
  std::vector<std::string> groups;
  auto add = [&](const std::string& g) {
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  };
  for (const auto& f : site.fields) {
    auto it = object.find(f.name);
    if (it == object.end() || !it->is_string()) continue;
    if (crypto::LooksPersonal(it->get_ref<const std::string&>())) continue;
    add(f.group);
  }
  for (const auto& f : site.beside) {
    if (BesideToSeal(parent, f)) add(f.group);
  }
  return groups;
}

Status PrepareObject(const PersonalSite& site, crypto::PersonalData& personal,
                     std::string_view tenant, json& object, const json* parent,
                     std::vector<SideRow>* carry) {
  if (!object.is_object()) return Status::Ok();
  const std::vector<std::string> groups = GroupsToSeal(site, object, parent);
  if (groups.empty()) return Status::Ok();
  // A new person's subject, index entry and keys ride in the batch of the event (`carry`).
  bool made = false;
  auto subject = SubjectOf(site, personal, tenant, object, /*make=*/true, groups, carry, &made);
  if (!subject.ok()) return subject.status();
  // A subject the index just made has these keys and this tenant already.
  if (!made) {
    if (Status s = personal.keys().EnsureKeys(*subject, groups, tenant, carry); !s.ok()) return s;
  }
  object["subject"] = *subject;
  return Status::Ok();
}

Status SealObject(const PersonalSite& site, crypto::PersonalData& personal, std::string_view tenant,
                  std::string_view event_id, const std::string& pointer, json& object, json* parent,
                  const std::string& parent_pointer, std::vector<SealedValue>* ahead) {
  if (!object.is_object() || GroupsToSeal(site, object, parent).empty()) return Status::Ok();
  if (ahead != nullptr && !object.contains("subject")) return Status::Ok();
  auto subject = SubjectOf(site, personal, tenant, object, /*make=*/true);
  if (!subject.ok()) return subject.status();
  if (Status s = personal.keys().Claim(*subject, tenant); !s.ok()) return s;
  // Sealed in place, or (ahead) kept aside with the value as given.
  auto put = [ahead](json& at, std::string at_pointer, std::string sealed) {
    if (ahead == nullptr) {
      at = std::move(sealed);
    } else {
      ahead->push_back({std::move(at_pointer), at, std::move(sealed)});
    }
  };
  for (const auto& f : site.fields) {
    auto it = object.find(f.name);
    if (it == object.end() || !it->is_string()) continue;
    const auto& value = it->get_ref<const std::string&>();
    if (crypto::LooksPersonal(value)) continue;  // a copy the system made of a sealed value
    std::string at = pointer + "/" + Escape(f.name);
    auto sealed = personal.Seal(*subject, f.group, value, event_id, at);
    if (!sealed.ok()) return sealed.status();
    put(*it, std::move(at), std::move(sealed).value());
  }
  for (const auto& f : site.beside) {
    if (!BesideToSeal(parent, f)) continue;
    json& value = (*parent)[f.name];
    const bool as_json = !value.is_string();
    std::string at = parent_pointer + "/" + Escape(f.name);
    auto sealed = personal.Seal(*subject, f.group,
                                as_json ? value.dump() : value.get_ref<const std::string&>(),
                                event_id, at, as_json);
    if (!sealed.ok()) return sealed.status();
    put(value, std::move(at), std::move(sealed).value());
  }
  if (ahead == nullptr) object["subject"] = *subject;
  return Status::Ok();
}

// Each object of the site in `node`, with its JSON Pointer, and the object that holds it (where
// the fields beside it are) with its pointer; null for the root or an array's item.
using EachObject = std::function<Status(const std::string& pointer, json& object, json* parent,
                                        const std::string& parent_pointer)>;
Status ForEachObject(const PersonalSite& site, size_t depth, const std::string& pointer, json& node,
                     const EachObject& fn, json* parent = nullptr,
                     const std::string& parent_pointer = "") {
  if (depth == site.path.size()) return fn(pointer, node, parent, parent_pointer);
  const std::string& step = site.path[depth];
  if (step == "*") {
    if (!node.is_array()) return Status::Ok();
    for (size_t i = 0; i < node.size(); ++i) {
      Status s = ForEachObject(site, depth + 1, pointer + "/" + std::to_string(i), node[i], fn);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
  if (!node.is_object()) return Status::Ok();
  auto it = node.find(step);
  if (it == node.end()) return Status::Ok();
  return ForEachObject(site, depth + 1, pointer + "/" + Escape(step), *it, fn, &node, pointer);
}

// A value beside a subject's object that the event does not hold would have nobody's key: refused,
// naming both (the decision that writes the one writes the other, as the state holds it).
Status CheckOwners(const PersonalSite& site, json& data) {
  if (site.beside.empty() || site.path.empty()) return Status::Ok();
  const PersonalSite holder{{site.path.begin(), site.path.end() - 1}, {}, {}};
  const std::string& owner = site.path.back();
  return ForEachObject(holder, 0, "", data,
                       [&](const std::string& pointer, json& object, json*, const std::string&) {
                         if (!object.is_object()) return Status::Ok();
                         auto it = object.find(owner);
                         if (it != object.end() && it->is_object()) return Status::Ok();
                         for (const auto& f : site.beside) {
                           if (!BesideToSeal(&object, f)) continue;
                           return Status::InvalidArgument(fmt::format(
                               "{}/{} is personal data of {}/{}, which the event does not "
                               "hold: write {} with it (the state's, when it does not change)",
                               pointer, f.name, pointer, owner, owner));
                         }
                         return Status::Ok();
                       });
}

std::optional<std::string> Sealed(const json& node, const std::string& pointer) {
  if (node.is_string()) {
    const auto& text = node.get_ref<const std::string&>();
    for (size_t at = text.find(crypto::kPersonalPrefix); at != std::string::npos;
         at = text.find(crypto::kPersonalPrefix, at + 1)) {
      size_t end = at;
      while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])) &&
             text[end] != '"') {
        ++end;
      }
      // The value may end a sentence: its punctuation is tried off one character at a time.
      for (; end > at; --end) {
        if (crypto::ParsePersonal(std::string_view(text).substr(at, end - at))) return pointer;
        if (text[end - 1] != '.' && text[end - 1] != ',' && text[end - 1] != ')') break;
      }
    }
    return std::nullopt;
  }
  if (node.is_object()) {
    for (const auto& [k, v] : node.items()) {
      if (auto at = Sealed(v, pointer + "/" + Escape(k))) return at;
    }
  } else if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) {
      if (auto at = Sealed(node[i], pointer + "/" + std::to_string(i))) return at;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> SealedValueAt(const json& doc) {
  return Sealed(doc, "");
}

Result<std::vector<PersonalSite>> PersonalSitesOf(const json& schema, const std::string& name) {
  std::vector<PersonalSite> out;
  std::vector<std::string> path;
  if (Status s = Walk(schema, path, false, name, out); !s.ok()) return s;
  return out;
}

Status SealPersonal(const std::vector<PersonalSite>& sites, crypto::PersonalData& personal,
                    std::string_view tenant, std::string_view event_id, json& data,
                    std::vector<SealedValue>* ahead) {
  for (const auto& site : sites) {
    if (Status s = CheckOwners(site, data); !s.ok()) return s;
    Status s = ForEachObject(
        site, 0, "", data,
        [&](const std::string& pointer, json& object, json* parent, const std::string& at) {
          return SealObject(site, personal, tenant, event_id, pointer, object, parent, at, ahead);
        });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void PutSealed(const std::vector<SealedValue>& values, json& data) {
  for (const auto& v : values) {
    const json::json_pointer at(v.pointer);
    if (!data.contains(at)) continue;
    json& value = data[at];
    if (value == v.given) value = v.sealed;
  }
}

Status PrepareSubjects(const std::vector<PersonalSite>& sites, crypto::PersonalData& personal,
                       std::string_view tenant, json& data, std::vector<SideRow>* carry) {
  for (const auto& site : sites) {
    if (Status s = CheckOwners(site, data); !s.ok()) return s;
    Status s = ForEachObject(
        site, 0, "", data, [&](const std::string&, json& object, json* parent, const std::string&) {
          return PrepareObject(site, personal, tenant, object, parent, carry);
        });
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace procedo
