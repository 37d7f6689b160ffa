// Lists of objects and objects of named objects in a generated form: a fieldset per row, and the
// buttons that add and remove rows by posting the form again (schema_form_detail.h).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "adapters/web/schema_form.h"
#include "adapters/web/schema_form_detail.h"

namespace procedo::web {

using nlohmann::json;

namespace form_detail {

namespace {

// More rows than a person would type in one form are a forged post, not a bigger form.
constexpr size_t kMaxRows = 50;

std::optional<size_t> Index(std::string_view text) {
  size_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

size_t Bound(const json& p, const char* key, size_t fallback) {
  return p.contains(key) && p[key].is_number_unsigned() ? p[key].get<size_t>() : fallback;
}

bool Keyed(const json& p) {
  return KindOf(p) == Kind::kKeyedRows;
}

std::string KeyName(const std::string& row) {
  return "k." + row;
}

// Whether the person typed anything in the row (its name included): an untouched row is no item.
bool Typed(const FormValues& values, const std::string& row) {
  if (auto k = values.find(KeyName(row)); k != values.end() && !Trim(k->second).empty()) {
    return true;
  }
  const std::string prefix = "f." + row + ".";
  for (auto it = values.lower_bound(prefix); it != values.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (!Trim(it->second).empty()) return true;
  }
  return false;
}

// The rows property at a dotted path of the form (rows' indices as segments), or null.
const json* RowsAt(const json& schema, const std::string& path) {
  const json* s = &schema;
  bool in_rows = false;
  size_t i = 0;
  while (i <= path.size()) {
    size_t dot = path.find('.', i);
    if (dot == std::string::npos) dot = path.size();
    const std::string name = path.substr(i, dot - i);
    if (in_rows) {
      if (!Index(name)) return nullptr;
      s = &RowSchema(*s);
      in_rows = false;
      i = dot + 1;
      continue;
    }
    if (!s->contains("properties") || !(*s)["properties"].contains(name)) return nullptr;
    s = &(*s)["properties"][name];
    const Kind kind = KindOf(*s);
    in_rows = kind == Kind::kRows || kind == Kind::kKeyedRows;
    i = dot + 1;
  }
  return in_rows ? s : nullptr;
}

}  // namespace

const json& RowSchema(const json& p) {
  return Keyed(p) ? p["additionalProperties"] : p["items"];
}

size_t RowCount(const json& p, const std::string& path, const FormValues& values) {
  const size_t least = Bound(p, Keyed(p) ? "minProperties" : "minItems", 0);
  const size_t most =
      std::min(Bound(p, Keyed(p) ? "maxProperties" : "maxItems", kMaxRows), kMaxRows);
  size_t count = std::max<size_t>(least, 1);
  if (auto n = values.find("n." + path); n != values.end()) {
    if (auto posted = Index(n->second)) count = *posted;
  }
  return std::min(std::max(count, least), std::max(most, least));
}

json RowsOf(const json& p, const std::string& path, const std::string& label, bool required,
            const std::string& id_prefix, const FormValues& values, const Errors& errors,
            bool* complete) {
  const bool keyed = Keyed(p);
  const size_t count = RowCount(p, path, values);
  const std::string id = IdOf(id_prefix, path);
  json items = json::array();
  for (size_t i = 0; i < count; ++i) {
    const std::string row = fmt::format("{}.{}", path, i);
    const std::string number = std::to_string(i + 1);
    json fields = json::array();
    // A list's rows read the errors as they are; only a named row needs its own copy.
    Errors named_errors;
    const Errors* here = &errors;
    if (keyed) {
      // The schema's violations name an entry by its name; the form knows it by its row.
      auto k = values.find(KeyName(row));
      const std::string key = k == values.end() ? "" : Trim(k->second);
      const std::string named = path + "." + key + ".";
      named_errors = errors;
      for (const auto& [at, text] : errors) {
        if (!key.empty() && at.compare(0, named.size(), named) == 0) {
          named_errors[row + "." + at.substr(named.size())] = text;
        }
      }
      here = &named_errors;
      json name = FieldOf(json{{"type", "string"}, {"maxLength", 200}}, row + ".chiave", "Nome",
                          true, id_prefix, values, *here);
      name["name"] = KeyName(row);
      name["value"] = k == values.end() ? "" : k->second;
      fields.push_back(std::move(name));
    }
    bool row_complete = true;
    CollectFields(RowSchema(p), row, true, id_prefix, values, *here, &fields, &row_complete);
    if (!row_complete && required) *complete = false;
    items.push_back({{"legend", fmt::format("{} {}", label, number)},
                     {"fields", std::move(fields)},
                     {"remove", row},
                     {"remove_label", fmt::format("Rimuovi «{}» {}", label, number)}});
  }
  json f = FieldOf(json::object(), path, label, required, id_prefix, values, errors);
  f["id"] = id;
  f["rows"] = true;
  f["text"] = false;
  f["count_name"] = "n." + path;
  f["count"] = std::to_string(count);
  f["items"] = std::move(items);
  f["path"] = path;
  f["add_label"] = fmt::format("Aggiungi a «{}»", label);
  f["can_add"] =
      count < std::min(Bound(p, keyed ? "maxProperties" : "maxItems", kMaxRows), kMaxRows);
  if (p.contains("description") && p["description"].is_string()) f["hint"] = p["description"];
  return f;
}

std::optional<json> RowsPayload(const json& p, const std::string& path, const FormValues& values,
                                const Build& build) {
  const bool keyed = Keyed(p);
  json out = keyed ? json::object() : json::array();
  const size_t count = RowCount(p, path, values);
  for (size_t i = 0; i < count; ++i) {
    const std::string row = fmt::format("{}.{}", path, i);
    if (!Typed(values, row)) continue;
    json item = build(RowSchema(p), row);
    if (!keyed) {
      out.push_back(std::move(item));
      continue;
    }
    // A row typed without a name is sent under "": the schema's propertyNames says if that does.
    auto k = values.find(KeyName(row));
    out[k == values.end() ? "" : Trim(k->second)] = std::move(item);
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace form_detail

using namespace form_detail;

bool EditRows(const json& schema, FormValues* values) {
  auto add = values->find("aggiungi");
  auto remove = values->find("rimuovi");
  if (add == values->end() && remove == values->end()) return false;
  const bool adding = add != values->end();
  const std::string target = adding ? add->second : remove->second;
  values->erase("aggiungi");
  values->erase("rimuovi");
  if (adding) {
    if (const json* p = RowsAt(schema, target)) {
      const size_t count = RowCount(*p, target, *values);
      (*values)["n." + target] = std::to_string(count + 1);
      (*values)["n." + target] = std::to_string(RowCount(*p, target, *values));
    }
    return true;
  }
  const size_t dot = target.rfind('.');
  if (dot == std::string::npos) return true;
  const std::string path = target.substr(0, dot);
  const json* p = RowsAt(schema, path);
  const auto index = Index(std::string_view(target).substr(dot + 1));
  if (p == nullptr || !index) return true;
  const size_t count = RowCount(*p, path, *values);
  if (*index >= count) return true;
  // Every posted name under a later row moves up one (the rows' own counts and names included).
  FormValues moved;
  for (auto& [name, text] : *values) {
    const std::string rest = name.size() > 2 ? name.substr(2) : "";
    if (rest.compare(0, path.size() + 1, path + ".") != 0) {
      moved[name] = text;
      continue;
    }
    const std::string after = rest.substr(path.size() + 1);
    const size_t end = std::min(after.find('.'), after.size());
    const auto row = Index(std::string_view(after).substr(0, end));
    if (!row || *row < *index) {
      moved[name] = text;
    } else if (*row > *index) {
      moved[fmt::format("{}{}.{}{}", name.substr(0, 2), path, *row - 1, after.substr(end))] = text;
    }
  }
  moved["n." + path] = std::to_string(count - 1);
  *values = std::move(moved);
  return true;
}

}  // namespace procedo::web
