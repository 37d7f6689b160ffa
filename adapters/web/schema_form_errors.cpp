// The refusals of a form's payload as Italian sentences at the fields they concern.
#include <fmt/format.h>

#include "adapters/web/schema_form.h"
#include "adapters/web/schema_form_detail.h"

namespace procedo::web {

using nlohmann::json;
using namespace form_detail;

namespace {

bool IsRows(const json& p) {
  return KindOf(p) == Kind::kRows || KindOf(p) == Kind::kKeyedRows;
}

// The property at a dotted path; below a list of objects the next segment is a row (an index,
// or an entry's name).
const json* PropAt(const json& schema, const std::string& path) {
  const json* s = &schema;
  size_t i = 0;
  while (i <= path.size()) {
    size_t dot = path.find('.', i);
    if (dot == std::string::npos) dot = path.size();
    const std::string name = path.substr(i, dot - i);
    if (s != &schema && IsRows(*s)) {
      s = &RowSchema(*s);
    } else if (s->contains("properties") && (*s)["properties"].contains(name)) {
      s = &(*s)["properties"][name];
    } else {
      return nullptr;
    }
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
    if (v->is_array()) {
      const size_t at = std::strtoul(name.c_str(), nullptr, 10);
      if (at >= v->size()) return nullptr;
      v = &(*v)[at];
    } else if (v->is_object() && v->contains(name)) {
      v = &(*v)[name];
    } else {
      return nullptr;
    }
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
      if (!min.empty() && !max.empty())
        want += fmt::format(" da {} a {}", min, max);
      else if (!xmin.empty() && !max.empty())
        want += fmt::format(" maggiore di {} e fino a {}", xmin, max);
      else if (!min.empty())
        want += fmt::format(" non inferiore a {}", min);
      else if (!xmin.empty())
        want += fmt::format(" maggiore di {}", xmin);
      else if (!max.empty())
        want += fmt::format(" fino a {}", max);
      return KindOf(p) == Kind::kInteger
                 ? fmt::format("Scrivi in {} {}.", l, want)
                 : fmt::format("Scrivi in {} {} (per i decimali usa la virgola).", l, want);
    }
    case Kind::kList: {
      const std::string type = p["items"].value("type", "");
      return type == "string"
                 ? fmt::format("Controlla {}: scrivi una voce per riga, come richiesto.", l)
                 : fmt::format("Scrivi in {} un numero per riga.", l);
    }
    case Kind::kEntries:
      return fmt::format("Scrivi in {} una voce per riga, nella forma «nome: valore».", l);
    case Kind::kChoices:
      return fmt::format("Scegli in {} tra i valori proposti.", l);
    case Kind::kRows:
    case Kind::kKeyedRows: {
      const char* least = KindOf(p) == Kind::kRows ? "minItems" : "minProperties";
      const char* most = KindOf(p) == Kind::kRows ? "maxItems" : "maxProperties";
      const size_t n = value && (value->is_array() || value->is_object()) ? value->size() : 0;
      if (p.contains(least) && p[least].is_number() && n < p[least].get<size_t>()) {
        return fmt::format("Compila almeno {} voci di {}.", p[least].get<size_t>(), l);
      }
      if (p.contains(most) && p[most].is_number() && n > p[most].get<size_t>()) {
        return fmt::format("{} può avere al massimo {} voci: togline qualcuna.", l,
                           p[most].get<size_t>());
      }
      return fmt::format("Controlla le voci di {}: ognuna deve avere un nome diverso.", l);
    }
    default:
      break;
  }
  const std::string text = value && value->is_string() ? value->get<std::string>() : "";
  // Characters, not bytes: what a person counts.
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80;
  if (p.contains("maxLength") && chars > p["maxLength"].get<size_t>()) {
    return fmt::format(
        "{} può avere al massimo {} caratteri (ne hai scritti {}): accorcia il testo.", l,
        p["maxLength"].get<size_t>(), chars);
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
    if (IsRows(p) && v != nullptr) {
      // A row's required fields, said at the row (an entry's by its name, as the form maps it).
      for (const auto& [key, item] : v->items()) {
        Missing(RowSchema(p), item, fmt::format("{}.{}", here, key), out);
      }
      continue;
    }
    if (v == nullptr && IsRequired(schema, name)) {
      (*out)[here] = IsRows(p) ? fmt::format("Compila almeno una voce di «{}»: è obbligatorio.",
                                             Label(p, name))
                               : fmt::format("Compila «{}»: è obbligatorio.", Label(p, name));
    }
  }
}

}  // namespace

std::map<std::string, std::string> ErrorsOf(const json& schema, const json& payload,
                                            const json& violations) {
  std::map<std::string, std::string> out;
  Missing(schema, payload, "", &out);
  for (const auto& v : violations) {
    std::string pointer = v.value("path", "");
    std::string path;
    for (char c : pointer.empty() ? pointer : pointer.substr(1)) path += c == '/' ? '.' : c;
    const json* p = path.empty() ? nullptr : PropAt(schema, path);
    if (p == nullptr && path.rfind('.') != std::string::npos) {
      // An item of a list or an entry of an object: said at the field that holds it.
      const std::string parent = path.substr(0, path.rfind('.'));
      const json* holder = PropAt(schema, parent);
      if (holder != nullptr &&
          (KindOf(*holder) == Kind::kList || KindOf(*holder) == Kind::kEntries ||
           KindOf(*holder) == Kind::kChoices)) {
        path = parent;
        p = holder;
      }
    }
    if (p == nullptr || KindOf(*p) == Kind::kObject || KindOf(*p) == Kind::kNone) {
      // A missing field (said above at the field) or something no field of the form holds.
      continue;
    }
    if (out.count(path)) continue;
    const std::string name =
        path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
    out[path] = Explain(*p, Label(*p, name), ValueAt(payload, path));
  }
  if (out.empty() && !violations.empty()) {
    out[""] = "Alcuni dati non sono accettati: controlla i campi del modulo e riprova.";
  }
  return out;
}

}  // namespace procedo::web
