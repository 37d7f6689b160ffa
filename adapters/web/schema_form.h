// A command's form, generated from the JSON Schema of its payload (the workflow's data), so a new
// procedure needs no new page: strings, numbers, enums, dates and yes/no, required or not, nested
// objects as fieldsets; lists of texts or numbers and objects of free names and texts as one entry
// per line ("nome: valore"), lists of enum values as a box for each; lists of objects and objects
// of named objects as a fieldset per row, with buttons that add and remove rows by posting the
// form (no JavaScript needed). Labels are the
// schema's `title`s (enum values: `enumNames`), hints its `description`s. The form only carries
// what the person typed: the payload is checked by the command's own schema in decide, and its
// violations come back here as Italian sentences built from the field's schema, next to the
// field (an item's, at its list).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace procedo::web {

using FormValues = std::map<std::string, std::string>;  // posted fields, "f.<path>" -> text

// For the template: {title, complete, groups: [{legend, fields: [...]}]}; each field with its
// id (unique under `id_prefix`), name, label, kind flags, constraints, the value sent back and
// its error. `complete` is false when a required field cannot be typed in a form (a list of
// lists, an object without properties): such a command is for the API only.
nlohmann::json FormOf(const nlohmann::json& schema, const std::string& id_prefix,
                      const FormValues& values, const std::map<std::string, std::string>& errors);

// The payload the form's fields make: empty fields left out, numbers as numbers (a text that is
// no number is passed as typed, for the schema to refuse), unchecked boxes false.
nlohmann::json PayloadOf(const nlohmann::json& schema, const FormValues& values);

// When the form was posted by one of its row buttons ("aggiungi" = a list's path, "rimuovi" =
// "<path>.<row>"), changes `values` to the form with that row added or removed (the rows after a
// removed one move up) and returns true: the form is to be shown again, and no command sent.
bool EditRows(const nlohmann::json& schema, FormValues* values);

// A refusal's violations ([{path: JSON Pointer, message}]) as one Italian sentence per field,
// by dotted path; "" holds what no field explains.
std::map<std::string, std::string> ErrorsOf(const nlohmann::json& schema,
                                            const nlohmann::json& payload,
                                            const nlohmann::json& violations);

}  // namespace procedo::web
