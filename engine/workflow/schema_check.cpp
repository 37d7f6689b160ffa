#include "engine/workflow/schema_check.h"

#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <valijson/utils/utf8_utils.hpp>

#include "engine/workflow/schema_regex.h"

namespace procedo {

using nlohmann::json;

namespace {

enum TypeBit : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kInteger = 4,
  kNumber = 8,
  kString = 16,
  kArray = 32,
  kObject = 64,
};

// What a value is for the type keyword; an integer is a number too.
uint8_t BitsOf(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return kNull;
    case json::value_t::boolean:
      return kBoolean;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return kInteger | kNumber;
    case json::value_t::number_float:
      return kNumber;
    case json::value_t::string:
      return kString;
    case json::value_t::array:
      return kArray;
    case json::value_t::object:
      return kObject;
    default:
      return 0;
  }
}

std::optional<uint8_t> TypeNamed(const std::string& name) {
  static const std::map<std::string, uint8_t> kNames = {
      {"null", kNull},     {"boolean", kBoolean}, {"integer", kInteger}, {"number", kNumber},
      {"string", kString}, {"array", kArray},     {"object", kObject}};
  auto it = kNames.find(name);
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

// Values enum and const may list here: equal exactly when valijson's strict comparison says so.
bool PlainScalar(const json& v) {
  return v.is_string() || v.is_boolean() || v.is_null() || v.is_number_integer();
}

bool Unsigned(const json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v >= 0);
}

}  // namespace

struct SchemaCheck::Node {
  bool never = false;                       // the schema `false`
  uint8_t types = 0;                        // 0: any type
  std::optional<std::vector<json>> values;  // enum, or const as one value
  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum;
  std::optional<uint64_t> min_length, max_length;
  std::unique_ptr<SchemaRegex> pattern;
  std::shared_ptr<const std::regex> slow_pattern;  // outside SchemaRegex's subset
  std::map<std::string, uint32_t, std::less<>> properties;
  std::vector<std::string> required;
  enum class Additional { kAllowed, kForbidden, kSchema } additional = Additional::kAllowed;
  uint32_t additional_node = 0;
  std::optional<uint64_t> min_properties, max_properties;
  std::optional<uint32_t> items;
  std::optional<uint64_t> min_items, max_items;
  bool unique_items = false;
  std::vector<uint32_t> all_of, any_of, one_of;
  std::optional<uint32_t> negated;
};

struct SchemaCheck::Compiler {
  std::vector<Node>& nodes;
  bool ok = true;

  uint32_t Fail() {
    ok = false;
    return 0;
  }

  std::optional<uint64_t> Count(const json& v) {
    if (!Unsigned(v)) return Fail(), std::nullopt;
    return v.get<uint64_t>();
  }
  std::optional<double> Bound(const json& v) {
    if (!v.is_number()) return Fail(), std::nullopt;
    return v.get<double>();
  }
  std::vector<uint32_t> List(const json& v) {
    std::vector<uint32_t> out;
    if (!v.is_array() || v.empty()) return Fail(), out;
    for (const auto& s : v) out.push_back(Add(s));
    return out;
  }

  uint32_t Add(const json& schema) {
    if (!ok) return 0;
    const auto index = static_cast<uint32_t>(nodes.size());
    nodes.emplace_back();
    Node n;
    if (schema.is_boolean()) {
      n.never = !schema.get<bool>();
      nodes[index] = std::move(n);
      return index;
    }
    if (!schema.is_object()) return Fail();
    // Words that say nothing about validity; any keyword not named here or below leaves the
    // schema to valijson.
    static const std::set<std::string, std::less<>> kAnnotations = {
        "title",     "description", "$schema",   "$id",        "$comment",    "default", "examples",
        "enumNames", "readOnly",    "writeOnly", "deprecated", "definitions", "$defs"};
    for (const auto& [key, v] : schema.items()) {
      // "x-" marks are annotations too (the personal-data marks, personal_fields.h).
      if (kAnnotations.count(key) || key.starts_with("x-")) continue;
      if (key == "type") {
        for (const auto& t : v.is_array() ? v : json::array({v})) {
          auto bit = t.is_string() ? TypeNamed(t.get<std::string>()) : std::nullopt;
          if (!bit) return Fail();
          n.types |= *bit;
        }
        if (n.types == 0) return Fail();
      } else if (key == "enum" || key == "const") {
        if (key == "enum" && (!v.is_array() || v.empty())) return Fail();
        std::vector<json> values = key == "enum" ? v.get<std::vector<json>>() : std::vector{v};
        for (const auto& x : values) {
          if (!PlainScalar(x)) return Fail();
        }
        if (n.values) return Fail();  // both: leave the combination to valijson
        n.values = std::move(values);
      } else if (key == "minimum") {
        n.minimum = Bound(v);
      } else if (key == "maximum") {
        n.maximum = Bound(v);
      } else if (key == "exclusiveMinimum") {
        n.exclusive_minimum = Bound(v);
      } else if (key == "exclusiveMaximum") {
        n.exclusive_maximum = Bound(v);
      } else if (key == "minLength") {
        n.min_length = Count(v);
      } else if (key == "maxLength") {
        n.max_length = Count(v);
      } else if (key == "pattern") {
        if (!v.is_string()) return Fail();
        const auto& p = v.get_ref<const std::string&>();
        n.pattern = SchemaRegex::Compile(p);
        if (!n.pattern) n.slow_pattern = std::make_shared<const std::regex>(p);
      } else if (key == "properties") {
        if (!v.is_object()) return Fail();
        for (const auto& [name, s] : v.items()) n.properties[name] = Add(s);
      } else if (key == "required") {
        if (!v.is_array()) return Fail();
        for (const auto& r : v) {
          if (!r.is_string()) return Fail();
          n.required.push_back(r.get<std::string>());
        }
      } else if (key == "additionalProperties") {
        if (v.is_boolean()) {
          n.additional = v.get<bool>() ? Node::Additional::kAllowed : Node::Additional::kForbidden;
        } else {
          n.additional = Node::Additional::kSchema;
          n.additional_node = Add(v);
        }
      } else if (key == "minProperties") {
        n.min_properties = Count(v);
      } else if (key == "maxProperties") {
        n.max_properties = Count(v);
      } else if (key == "items") {
        if (v.is_array()) return Fail();  // a tuple
        n.items = Add(v);
      } else if (key == "minItems") {
        n.min_items = Count(v);
      } else if (key == "maxItems") {
        n.max_items = Count(v);
      } else if (key == "uniqueItems") {
        if (!v.is_boolean()) return Fail();
        n.unique_items = v.get<bool>();
      } else if (key == "allOf") {
        n.all_of = List(v);
      } else if (key == "anyOf") {
        n.any_of = List(v);
      } else if (key == "oneOf") {
        n.one_of = List(v);
      } else if (key == "not") {
        n.negated = Add(v);
      } else {
        return Fail();
      }
      if (!ok) return 0;
    }
    nodes[index] = std::move(n);
    return index;
  }
};

SchemaCheck::SchemaCheck() = default;
SchemaCheck::~SchemaCheck() = default;

std::unique_ptr<SchemaCheck> SchemaCheck::Compile(const json& schema) {
  std::unique_ptr<SchemaCheck> out(new SchemaCheck());
  Compiler c{out->nodes_};
  try {
    c.Add(schema);
  } catch (const std::exception&) {
    return nullptr;  // a pattern std::regex refuses: valijson will say so
  }
  if (!c.ok) return nullptr;
  return out;
}

bool SchemaCheck::Accepts(const json& document) const {
  return Accepts(nodes_[0], document);
}

bool SchemaCheck::Accepts(const Node& n, const json& v) const {
  if (n.never) return false;
  const uint8_t bits = BitsOf(v);
  if (n.types != 0 && (n.types & bits) == 0) return false;
  if (n.values) {
    bool found = false;
    for (const auto& x : *n.values) found = found || x == v;
    if (!found) return false;
  }
  if (bits & kNumber) {
    const double d = v.get<double>();
    if ((n.minimum && d < *n.minimum) || (n.maximum && d > *n.maximum) ||
        (n.exclusive_minimum && d <= *n.exclusive_minimum) ||
        (n.exclusive_maximum && d >= *n.exclusive_maximum)) {
      return false;
    }
  } else if (bits & kString) {
    const auto& s = v.get_ref<const std::string&>();
    if (n.min_length || n.max_length) {
      // Characters as valijson counts them (UTF-8 sequences, up to the first NUL).
      const uint64_t len = valijson::utils::u8_strlen(s.c_str());
      if ((n.min_length && len < *n.min_length) || (n.max_length && len > *n.max_length)) {
        return false;
      }
    }
    if (n.pattern && !n.pattern->Search(s)) return false;
    if (n.slow_pattern && !std::regex_search(s, *n.slow_pattern)) return false;
  } else if (bits & kObject) {
    if ((n.min_properties && v.size() < *n.min_properties) ||
        (n.max_properties && v.size() > *n.max_properties)) {
      return false;
    }
    for (const auto& r : n.required) {
      if (!v.contains(r)) return false;
    }
    for (auto it = v.begin(); it != v.end(); ++it) {
      auto p = n.properties.find(it.key());
      if (p != n.properties.end()) {
        if (!Accepts(nodes_[p->second], it.value())) return false;
      } else if (n.additional == Node::Additional::kForbidden) {
        return false;
      } else if (n.additional == Node::Additional::kSchema &&
                 !Accepts(nodes_[n.additional_node], it.value())) {
        return false;
      }
    }
  } else if (bits & kArray) {
    if ((n.min_items && v.size() < *n.min_items) || (n.max_items && v.size() > *n.max_items)) {
      return false;
    }
    if (n.items) {
      for (const auto& item : v) {
        if (!Accepts(nodes_[*n.items], item)) return false;
      }
    }
    if (n.unique_items) {
      for (size_t i = 0; i < v.size(); ++i) {
        for (size_t j = i + 1; j < v.size(); ++j) {
          if (v[i] == v[j]) return false;
        }
      }
    }
  }
  for (uint32_t k : n.all_of) {
    if (!Accepts(nodes_[k], v)) return false;
  }
  if (!n.any_of.empty()) {
    bool any = false;
    for (uint32_t k : n.any_of) any = any || Accepts(nodes_[k], v);
    if (!any) return false;
  }
  if (!n.one_of.empty()) {
    int matched = 0;
    for (uint32_t k : n.one_of) matched += Accepts(nodes_[k], v) ? 1 : 0;
    if (matched != 1) return false;
  }
  if (n.negated && Accepts(nodes_[*n.negated], v)) return false;
  return true;
}

}  // namespace procedo
