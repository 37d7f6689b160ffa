#include "adapters/web/schema_form.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <vector>

#include "adapters/web/schema_form_detail.h"

namespace procedo::web {

using nlohmann::json;

namespace form_detail {

// The schema's properties, required ones first in the order `required` lists them (a JSON
// object keeps no order of its own), then the others by name.
std::vector<std::string> Order(const json& schema) {
  std::vector<std::string> out;
  const json props = schema.value("properties", json::object());
  for (const auto& r : schema.value("required", json::array())) {
    if (r.is_string() && props.contains(r.get<std::string>()) && !ReadOnly(props[r])) {
      out.push_back(r);
    }
  }
  for (const auto& [k, p] : props.items()) {
    if (std::find(out.begin(), out.end(), k) == out.end() && !ReadOnly(p)) out.push_back(k);
  }
  return out;
}

bool ReadOnly(const json& prop) {
  return prop.is_object() && prop.value("readOnly", false);
}

bool IsRequired(const json& schema, const std::string& name) {
  for (const auto& r : schema.value("required", json::array())) {
    if (r == name) return true;
  }
  return false;
}

std::string Label(const json& prop, const std::string& name) {
  if (prop.contains("title") && prop["title"].is_string()) return prop["title"];
  std::string l = name;
  for (char& c : l) c = c == '_' ? ' ' : c;
  if (!l.empty()) l[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(l[0])));
  return l;
}

namespace {
bool Scalar(const json& items) {
  const std::string t = items.value("type", "");
  return t == "string" || t == "integer" || t == "number";
}

// An object whose properties a row of the form can show.
bool Described(const json& s) {
  return s.is_object() && s.value("type", "") == "object" && s.contains("properties") &&
         s["properties"].is_object();
}

}  // namespace

Kind KindOf(const json& p) {
  if (p.contains("enum") && p["enum"].is_array()) return Kind::kSelect;
  if (p.value("type", "") == "array" && p.contains("items") && p["items"].is_object()) {
    const json& items = p["items"];
    if (items.contains("enum") && items["enum"].is_array()) return Kind::kChoices;
    if (Scalar(items) && !items.contains("enum")) return Kind::kList;
    if (Described(items)) return Kind::kRows;
    return Kind::kNone;  // lists of lists, of free objects: not typed in a form
  }
  if (p.value("type", "") == "object" && !p.contains("properties")) {
    // Names and texts on a line; named objects as rows; anything else cannot be typed.
    const json extra = p.value("additionalProperties", json(true));
    if (extra == json(true) || (extra.is_object() && extra.value("type", "") == "string")) {
      return Kind::kEntries;
    }
    if (Described(extra)) return Kind::kKeyedRows;
    return Kind::kNone;
  }
  const std::string type = p.value("type", "");
  if (type == "string") {
    if (p.value("format", "") == "date") return Kind::kDate;
    return p.value("maxLength", 0) > 500 ? Kind::kTextarea : Kind::kText;
  }
  if (type == "integer") return Kind::kInteger;
  if (type == "number") return Kind::kNumber;
  if (type == "boolean") return Kind::kCheckbox;
  if (type == "object" && p.contains("properties") && p["properties"].is_object()) {
    return Kind::kObject;
  }
  return Kind::kNone;  // anything else: not typed in a form
}

std::string Trim(const std::string& text) {
  const auto b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : text.substr(b, e - b + 1);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string::npos) nl = text.size();
    std::string line = Trim(text.substr(i, nl - i));
    if (!line.empty()) out.push_back(std::move(line));
    i = nl + 1;
  }
  return out;
}

// A typed text as the schema's type wants it; a text that is no number is passed as typed, for
// the schema to refuse.
json Typed(const std::string& type, const std::string& text) {
  if (type == "integer") {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    return ec == std::errc() && ptr == text.data() + text.size() ? json(n) : json(text);
  }
  if (type == "number") {
    std::string t = text;
    for (char& c : t) c = c == ',' ? '.' : c;
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    return !t.empty() && end == t.c_str() + t.size() ? json(d) : json(text);
  }
  return json(text);
}

std::string IdOf(const std::string& prefix, const std::string& path) {
  std::string id = prefix + "-" + path;
  for (char& c : id) c = (c == '.' || c == '_') ? '-' : c;
  return id;
}

json FieldOf(const json& p, const std::string& path, const std::string& label, bool required,
             const std::string& id_prefix, const FormValues& values, const Errors& errors) {
  const Kind kind = KindOf(p);
  const std::string name = "f." + path;
  auto v = values.find(name);
  const std::string value = v == values.end() ? "" : v->second;
  json f = {{"id", IdOf(id_prefix, path)},
            {"name", name},
            {"label", label},
            {"required", required},
            {"value", value},
            {"text", kind == Kind::kText},
            {"textarea", kind == Kind::kTextarea},
            {"select", kind == Kind::kSelect},
            {"checkbox", kind == Kind::kCheckbox},
            {"date", kind == Kind::kDate},
            {"choices", kind == Kind::kChoices},
            {"number", kind == Kind::kNumber || kind == Kind::kInteger},
            {"step", kind == Kind::kInteger ? "1" : "any"},
            // Every key a section of the template tests is set: mustache would otherwise look
            // it up in the enclosing form and show the form's error under each field.
            {"error", false},
            {"hint", false},
            {"maxlength", false},
            {"checked", false},
            {"rows", false},
            {"options", json::array()}};
  if (p.contains("maxLength")) f["maxlength"] = std::to_string(p["maxLength"].get<int64_t>());
  if (p.contains("description") && p["description"].is_string()) f["hint"] = p["description"];
  if (kind == Kind::kCheckbox) f["checked"] = v != values.end() && !value.empty();
  if (kind == Kind::kList || kind == Kind::kEntries) {
    f["text"] = false;
    f["textarea"] = true;
    const std::string how = kind == Kind::kList ? "Una voce per riga."
                                                : "Una voce per riga, nella forma «nome: valore».";
    f["hint"] = p.contains("description") && p["description"].is_string()
                    ? json(p["description"].get<std::string>() + " " + how)
                    : json(how);
  }
  if (kind == Kind::kChoices) {
    json options = json::array();
    const json& items = p["items"];
    const json names = items.value("enumNames", p.value("enumNames", json::array()));
    for (size_t i = 0; i < items["enum"].size(); ++i) {
      const json& e = items["enum"][i];
      const std::string val = e.is_string() ? e.get<std::string>() : e.dump();
      const std::string key = name + "." + std::to_string(i);
      options.push_back(
          {{"id", IdOf(id_prefix, path) + "-" + std::to_string(i)},
           {"name", key},
           {"value", val},
           {"label", i < names.size() && names[i].is_string() ? names[i].get<std::string>() : val},
           {"checked", values.count(key) > 0}});
    }
    f["options"] = options;
  }
  if (kind == Kind::kSelect) {
    json options = json::array();
    const json& names = p.value("enumNames", json::array());
    for (size_t i = 0; i < p["enum"].size(); ++i) {
      const json& e = p["enum"][i];
      const std::string val = e.is_string() ? e.get<std::string>() : e.dump();
      const std::string text =
          i < names.size() && names[i].is_string() ? names[i].get<std::string>() : val;
      options.push_back({{"value", val}, {"label", text}, {"selected", val == value}});
    }
    f["options"] = options;
  }
  if (auto e = errors.find(path); e != errors.end()) f["error"] = e->second;
  return f;
}

void CollectFields(const json& schema, const std::string& path, bool parent_required,
                   const std::string& id_prefix, const FormValues& values, const Errors& errors,
                   json* fields, bool* complete) {
  const json props = schema.value("properties", json::object());
  for (const auto& name : Order(schema)) {
    const json& p = props[name];
    const bool required = parent_required && IsRequired(schema, name);
    const std::string here = path.empty() ? name : path + "." + name;
    const Kind kind = KindOf(p);
    if (kind == Kind::kNone) {
      if (required) *complete = false;
      continue;
    }
    if (kind == Kind::kObject) {
      CollectFields(p, here, required, id_prefix, values, errors, fields, complete);
      continue;
    }
    if (kind == Kind::kRows || kind == Kind::kKeyedRows) {
      fields->push_back(
          RowsOf(p, here, Label(p, name), required, id_prefix, values, errors, complete));
      continue;
    }
    fields->push_back(FieldOf(p, here, Label(p, name), required, id_prefix, values, errors));
  }
}

}  // namespace form_detail

using namespace form_detail;

json FormOf(const json& schema, const std::string& id_prefix, const FormValues& values,
            const std::map<std::string, std::string>& errors) {
  json groups = json::array();
  json loose = json::array();
  bool complete = schema.value("type", "") == "object";
  const json props = schema.value("properties", json::object());
  for (const auto& name : Order(schema)) {
    const json& p = props[name];
    const bool required = IsRequired(schema, name);
    if (KindOf(p) == Kind::kObject) {
      json fields = json::array();
      CollectFields(p, name, required, id_prefix, values, errors, &fields, &complete);
      if (!fields.empty()) groups.push_back({{"legend", Label(p, name)}, {"fields", fields}});
      continue;
    }
    if (KindOf(p) == Kind::kNone) {
      if (required) complete = false;
      continue;
    }
    if (KindOf(p) == Kind::kRows || KindOf(p) == Kind::kKeyedRows) {
      loose.push_back(
          RowsOf(p, name, Label(p, name), required, id_prefix, values, errors, &complete));
      continue;
    }
    loose.push_back(FieldOf(p, name, Label(p, name), required, id_prefix, values, errors));
  }
  if (!loose.empty()) groups.insert(groups.begin(), json{{"legend", nullptr}, {"fields", loose}});
  // A form with rows has buttons that add and remove them; a hidden copy of its own button comes
  // first, so that Enter in a field sends the form rather than removing a row.
  bool has_rows = false;
  for (const json& g : groups) {
    for (const json& f : g["fields"]) has_rows = has_rows || f.value("rows", false);
  }
  json form = {{"groups", groups},
               {"complete", complete},
               {"empty", groups.empty()},
               {"has_rows", has_rows},
               {"error", false}};
  if (auto e = errors.find(""); e != errors.end()) form["error"] = e->second;
  return form;
}

json PayloadOf(const json& schema, const FormValues& values) {
  Build build = [&](const json& s, const std::string& path) {
    json out = json::object();
    const json props = s.value("properties", json::object());
    for (const auto& [name, p] : props.items()) {
      if (ReadOnly(p)) continue;
      const std::string here = path.empty() ? name : path + "." + name;
      const Kind kind = KindOf(p);
      if (kind == Kind::kObject) {
        json sub = build(p, here);
        if (!sub.empty() || IsRequired(s, name)) out[name] = std::move(sub);
        continue;
      }
      if (kind == Kind::kNone) continue;
      if (kind == Kind::kRows || kind == Kind::kKeyedRows) {
        if (auto rows = RowsPayload(p, here, values, build)) {
          out[name] = std::move(*rows);
        } else if (IsRequired(s, name)) {
          out[name] = kind == Kind::kRows ? json::array() : json::object();
        }
        continue;
      }
      if (kind == Kind::kChoices) {
        json chosen = json::array();
        const json& options = p["items"]["enum"];
        for (size_t i = 0; i < options.size(); ++i) {
          if (values.count("f." + here + "." + std::to_string(i))) chosen.push_back(options[i]);
        }
        if (!chosen.empty() || IsRequired(s, name)) out[name] = std::move(chosen);
        continue;
      }
      auto v = values.find("f." + here);
      if (kind == Kind::kList || kind == Kind::kEntries) {
        if (v == values.end()) continue;
        auto lines = Lines(v->second);
        if (lines.empty()) continue;
        if (kind == Kind::kList) {
          json list = json::array();
          for (const auto& line : lines) list.push_back(Typed(p["items"].value("type", ""), line));
          out[name] = std::move(list);
        } else {
          // A line without a colon is a name with an empty text: the schema says if that will do.
          json entries = json::object();
          for (const auto& line : lines) {
            const size_t colon = line.find(':');
            entries[Trim(line.substr(0, colon))] =
                colon == std::string::npos ? "" : Trim(line.substr(colon + 1));
          }
          out[name] = std::move(entries);
        }
        continue;
      }
      if (kind == Kind::kCheckbox) {
        out[name] = v != values.end() && !v->second.empty();
        continue;
      }
      if (v == values.end()) continue;
      std::string text = v->second;
      const auto b = text.find_first_not_of(" \t\r\n"), e = text.find_last_not_of(" \t\r\n");
      text = b == std::string::npos ? "" : text.substr(b, e - b + 1);
      if (text.empty()) continue;
      if (kind == Kind::kInteger) {
        int64_t n = 0;
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
        out[name] = ec == std::errc() && ptr == text.data() + text.size() ? json(n) : json(text);
      } else if (kind == Kind::kNumber) {
        std::string t = text;
        for (char& c : t) c = c == ',' ? '.' : c;
        char* end = nullptr;
        double d = std::strtod(t.c_str(), &end);
        out[name] = end == t.c_str() + t.size() ? json(d) : json(text);
      } else {
        out[name] = kind == Kind::kTextarea ? v->second : text;
      }
    }
    return out;
  };
  return build(schema, "");
}

}  // namespace procedo::web
