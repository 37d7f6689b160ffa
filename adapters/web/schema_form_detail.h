// What the form generator's two halves share (adapters/web only): how a property of a payload
// schema is typed in a form, and the small text rules both apply.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adapters/web/schema_form.h"

namespace procedo::web::form_detail {

// The schema's properties a form shows, required ones first in the order `required` lists them (a
// JSON object keeps no order of its own), then the others by name.
std::vector<std::string> Order(const nlohmann::json& schema);
// JSON Schema's `readOnly`: the value is the system's to give (a mail's Message-ID, its stored
// original), so no form shows it or takes it from a post.
bool ReadOnly(const nlohmann::json& prop);
bool IsRequired(const nlohmann::json& schema, const std::string& name);
// The property's title, else its name made readable.
std::string Label(const nlohmann::json& prop, const std::string& name);

enum class Kind {
  kText,
  kTextarea,
  kNumber,
  kInteger,
  kSelect,
  kCheckbox,
  kDate,
  kObject,
  kList,       // a list of texts or numbers: one per line
  kChoices,    // a list of values from an enum: a box for each
  kEntries,    // an object of free names and texts: "name: text", one per line
  kRows,       // a list of objects: a fieldset per item
  kKeyedRows,  // an object of named objects: a fieldset per entry, its name the first field
  kNone        // not typed in a form (lists of lists, objects without properties)
};
Kind KindOf(const nlohmann::json& prop);

std::string Trim(const std::string& text);
// The lines of a text, trimmed, empty ones left out.
std::vector<std::string> Lines(const std::string& text);
// A typed text as the schema's type wants it; a text that is no number is passed as typed, for
// the schema to refuse.
nlohmann::json Typed(const std::string& type, const std::string& text);
std::string IdOf(const std::string& prefix, const std::string& path);

using Errors = std::map<std::string, std::string>;

// One field of the form for the property `p` at `path` (not a list of objects).
nlohmann::json FieldOf(const nlohmann::json& p, const std::string& path, const std::string& label,
                       bool required, const std::string& id_prefix, const FormValues& values,
                       const Errors& errors);
// The fields of an object's properties under `path`, objects flattened into the list; a required
// property no form can type sets `*complete` to false.
void CollectFields(const nlohmann::json& schema, const std::string& path, bool parent_required,
                   const std::string& id_prefix, const FormValues& values, const Errors& errors,
                   nlohmann::json* fields, bool* complete);

// A list of objects (or an object of named objects) as one field holding a fieldset per row.
// Rows are numbered from 0 in the posted names ("f.<path>.<i>.<property>"; an entry's name is
// "k.<path>.<i>"), and "n.<path>" carries how many rows the form shows, so that adding and
// removing a row works by posting the form, without JavaScript.
nlohmann::json RowsOf(const nlohmann::json& p, const std::string& path, const std::string& label,
                      bool required, const std::string& id_prefix, const FormValues& values,
                      const Errors& errors, bool* complete);
// The schema of one row: the list's `items` or the object's `additionalProperties`.
const nlohmann::json& RowSchema(const nlohmann::json& p);
size_t RowCount(const nlohmann::json& p, const std::string& path, const FormValues& values);
// The rows' payload: rows where nothing was typed left out; nullopt when none is left.
using Build = std::function<nlohmann::json(const nlohmann::json&, const std::string&)>;
std::optional<nlohmann::json> RowsPayload(const nlohmann::json& p, const std::string& path,
                                          const FormValues& values, const Build& build);

}  // namespace procedo::web::form_detail
