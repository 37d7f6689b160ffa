// What the form generator's two halves share (adapters/web only): how a property of a payload
// schema is typed in a form, and the small text rules both apply.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace procedo::web::form_detail {

// The schema's properties, required ones first in the order `required` lists them (a JSON
// object keeps no order of its own), then the others by name.
std::vector<std::string> Order(const nlohmann::json& schema);
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
  kList,     // a list of texts or numbers: one per line
  kChoices,  // a list of values from an enum: a box for each
  kEntries,  // an object of free names and texts: "name: text", one per line
  kNone      // not typed in a form (lists of objects, objects of objects)
};
Kind KindOf(const nlohmann::json& prop);

std::string Trim(const std::string& text);
// The lines of a text, trimmed, empty ones left out.
std::vector<std::string> Lines(const std::string& text);
// A typed text as the schema's type wants it; a text that is no number is passed as typed, for
// the schema to refuse.
nlohmann::json Typed(const std::string& type, const std::string& text);
std::string IdOf(const std::string& prefix, const std::string& path);

}  // namespace procedo::web::form_detail
