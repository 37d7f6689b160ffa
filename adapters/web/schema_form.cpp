#include "adapters/web/schema_form.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <cstdlib>
#include <vector>

namespace procedo::web {
namespace {

using nlohmann::json;

// The schema's properties, required ones first in the order `required` lists them (a JSON
// object keeps no order of its own), then the others by name.
std::vector<std::string> Order(const json& schema) {
  std::vector<std::string> out;
  const json props = schema.value("properties", json::object());
  for (const auto& r : schema.value("required", json::array())) {
    if (r.is_string() && props.contains(r.get<std::string>())) out.push_back(r);
  }
  for (const auto& [k, _] : props.items()) {
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  return out;
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

enum class Kind { kText, kTextarea, kNumber, kInteger, kSelect, kCheckbox, kDate, kObject, kNone };

Kind KindOf(const json& p) {
  if (p.contains("enum") && p["enum"].is_array()) return Kind::kSelect;
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
  return Kind::kNone;  // lists, free objects: not typed in a form
}

std::string IdOf(const std::string& prefix, const std::string& path) {
  std::string id = prefix + "-" + path;
  for (char& c : id) c = (c == '.' || c == '_') ? '-' : c;
  return id;
}

json Field(const json& p, const std::string& path, const std::string& label, bool required,
           const std::string& id_prefix, const FormValues& values,
           const std::map<std::string, std::string>& errors) {
  const Kind kind = KindOf(p);
  const std::string name = "f." + path;
  auto v = values.find(name);
  const std::string value = v == values.end() ? "" : v->second;
  json f = {{"id", IdOf(id_prefix, path)}, {"name", name},          {"label", label},
            {"required", required},        {"value", value},        {"text", kind == Kind::kText},
            {"textarea", kind == Kind::kTextarea}, {"select", kind == Kind::kSelect},
            {"checkbox", kind == Kind::kCheckbox}, {"date", kind == Kind::kDate},
            {"number", kind == Kind::kNumber || kind == Kind::kInteger},
            {"step", kind == Kind::kInteger ? "1" : "any"},
            // Every key a section of the template tests is set: mustache would otherwise look
            // it up in the enclosing form and show the form's error under each field.
            {"error", false}, {"hint", false}, {"maxlength", false}, {"checked", false},
            {"options", json::array()}};
  if (p.contains("maxLength")) f["maxlength"] = std::to_string(p["maxLength"].get<int64_t>());
  if (p.contains("description") && p["description"].is_string()) f["hint"] = p["description"];
  if (kind == Kind::kCheckbox) f["checked"] = v != values.end() && !value.empty();
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

// Fields of `schema` under `path`, one level of objects flattened into the group they open.
void Collect(const json& schema, const std::string& path, bool parent_required,
             const std::string& id_prefix, const FormValues& values,
             const std::map<std::string, std::string>& errors, json* fields, bool* complete) {
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
      Collect(p, here, required, id_prefix, values, errors, fields, complete);
      continue;
    }
    fields->push_back(Field(p, here, Label(p, name), required, id_prefix, values, errors));
  }
}

const json* PropAt(const json& schema, const std::string& path) {
  const json* s = &schema;
  size_t i = 0;
  while (i <= path.size()) {
    size_t dot = path.find('.', i);
    if (dot == std::string::npos) dot = path.size();
    const std::string name = path.substr(i, dot - i);
    if (!s->contains("properties") || !(*s)["properties"].contains(name)) return nullptr;
    s = &(*s)["properties"][name];
    i = dot + 1;
  }
  return s;
}

const json* ValueAt(const json& payload, const std::string& path) {
  const json* v = &payload;
  size_t i = 0;
  while (i <= path.size()) {
    size_t dot = path.find('.', i);
    if (dot == std::string::npos) dot = path.size();
    const std::string name = path.substr(i, dot - i);
    if (!v->is_object() || !v->contains(name)) return nullptr;
    v = &(*v)[name];
    i = dot + 1;
  }
  return v;
}

std::string Bound(const json& p, const char* key) {
  if (!p.contains(key) || !p[key].is_number()) return "";
  std::string s = p[key].dump();
  for (char& c : s) c = c == '.' ? ',' : c;
  return s;
}

// What the field wants, said to the person who filled it in.
std::string Explain(const json& p, const std::string& label, const json* value) {
  const std::string l = "«" + label + "»";
  switch (KindOf(p)) {
    case Kind::kSelect:
      return fmt::format("Scegli {} tra i valori proposti.", l);
    case Kind::kDate:
      return fmt::format("Indica in {} una data valida (giorno, mese e anno).", l);
    case Kind::kInteger:
    case Kind::kNumber: {
      std::string want = KindOf(p) == Kind::kInteger ? "un numero intero" : "un numero";
      const std::string min = Bound(p, "minimum"), xmin = Bound(p, "exclusiveMinimum"),
                        max = Bound(p, "maximum");
      if (!min.empty() && !max.empty()) want += fmt::format(" da {} a {}", min, max);
      else if (!xmin.empty() && !max.empty()) want += fmt::format(" maggiore di {} e fino a {}", xmin, max);
      else if (!min.empty()) want += fmt::format(" non inferiore a {}", min);
      else if (!xmin.empty()) want += fmt::format(" maggiore di {}", xmin);
      else if (!max.empty()) want += fmt::format(" fino a {}", max);
      return KindOf(p) == Kind::kInteger
                 ? fmt::format("Scrivi in {} {}.", l, want)
                 : fmt::format("Scrivi in {} {} (per i decimali usa la virgola).", l, want);
    }
    default:
      break;
  }
  const std::string text = value && value->is_string() ? value->get<std::string>() : "";
  // Characters, not bytes: what a person counts.
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  if (p.contains("maxLength") && chars > p["maxLength"].get<size_t>()) {
    return fmt::format("{} può avere al massimo {} caratteri (ne hai scritti {}): accorcia il testo.",
                       l, p["maxLength"].get<size_t>(), chars);
  }
  if (p.contains("pattern")) {
    const std::string hint = p.value("description", "");
    return hint.empty() ? fmt::format("{} non ha il formato atteso: correggilo.", l)
                        : fmt::format("{} non ha il formato atteso: {}.", l, hint);
  }
  return fmt::format("Compila {}.", l);
}

void Missing(const json& schema, const json& payload, const std::string& path,
             std::map<std::string, std::string>* out) {
  const json props = schema.value("properties", json::object());
  for (const auto& name : Order(schema)) {
    const json& p = props[name];
    const std::string here = path.empty() ? name : path + "." + name;
    const json* v = payload.is_object() && payload.contains(name) ? &payload[name] : nullptr;
    if (KindOf(p) == Kind::kObject) {
      if (v != nullptr) Missing(p, *v, here, out);
      continue;
    }
    if (v == nullptr && IsRequired(schema, name)) {
      (*out)[here] = fmt::format("Compila «{}»: è obbligatorio.", Label(p, name));
    }
  }
}

}  // namespace

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
      Collect(p, name, required, id_prefix, values, errors, &fields, &complete);
      if (!fields.empty()) groups.push_back({{"legend", Label(p, name)}, {"fields", fields}});
      continue;
    }
    if (KindOf(p) == Kind::kNone) {
      if (required) complete = false;
      continue;
    }
    loose.push_back(Field(p, name, Label(p, name), required, id_prefix, values, errors));
  }
  if (!loose.empty()) groups.insert(groups.begin(), json{{"legend", nullptr}, {"fields", loose}});
  json form = {{"groups", groups}, {"complete", complete}, {"empty", groups.empty()},
               {"error", false}};
  if (auto e = errors.find(""); e != errors.end()) form["error"] = e->second;
  return form;
}

json PayloadOf(const json& schema, const FormValues& values) {
  std::function<json(const json&, const std::string&)> build =
      [&](const json& s, const std::string& path) {
        json out = json::object();
        const json props = s.value("properties", json::object());
        for (const auto& [name, p] : props.items()) {
          const std::string here = path.empty() ? name : path + "." + name;
          const Kind kind = KindOf(p);
          if (kind == Kind::kObject) {
            json sub = build(p, here);
            if (!sub.empty() || IsRequired(s, name)) out[name] = std::move(sub);
            continue;
          }
          if (kind == Kind::kNone) continue;
          auto v = values.find("f." + here);
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

std::map<std::string, std::string> ErrorsOf(const json& schema, const json& payload,
                                            const json& violations) {
  std::map<std::string, std::string> out;
  Missing(schema, payload, "", &out);
  for (const auto& v : violations) {
    std::string pointer = v.value("path", "");
    std::string path;
    for (char c : pointer.empty() ? pointer : pointer.substr(1)) path += c == '/' ? '.' : c;
    const json* p = path.empty() ? nullptr : PropAt(schema, path);
    if (p == nullptr || KindOf(*p) == Kind::kObject || KindOf(*p) == Kind::kNone) {
      // A missing field (said above at the field) or something no field of the form holds.
      continue;
    }
    if (out.count(path)) continue;
    const std::string name = path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
    out[path] = Explain(*p, Label(*p, name), ValueAt(payload, path));
  }
  if (out.empty() && !violations.empty()) {
    out[""] = "Alcuni dati non sono accettati: controlla i campi del modulo e riprova.";
  }
  return out;
}

}  // namespace procedo::web
