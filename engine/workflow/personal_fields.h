// Which fields of an event are personal data, as its schema marks them:
//   "x-data-subject": true   on an object: it describes one person (a data subject), whose random
//                            id its "subject" property holds (given, or allocated when sealed);
//   "x-personal": "<group>"  on a property of such an object: the group of personal data it
//                            belongs to (contact, identity, special), each with its own key; its
//                            schema gives both forms, {"anyOf": [<as given>, <sealed>]};
//   "x-identifies": true     besides, on a property that identifies the person (a fiscal code, an
//                            e-mail address): the same value finds the same subject again;
//   "x-subject": "<name>"    with x-personal, on a property beside a subject's object (its sibling
//                            <name>, which the schema requires): a fact of that person's kept
//                            outside it (an ISEE, an address), of any JSON type, sealed with the
//                            same subject's key (as JSON text when it is not a string).
// The emitter seals those fields (crypto/personal.h) after the event passed its schema, so that
// no personal value reaches the log, its subscribers, a snapshot or a view in clear.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/base/status.h"
#include "engine/crypto/personal.h"

namespace procedo {

// What a personal field's value is once sealed (crypto/personal.h), as its schema's second form.
inline constexpr const char* kSealedPattern = "^pd1\\.[A-Za-z0-9_.-]+$";

struct PersonalField {
  std::string name;
  std::string group;
  bool identifies = false;
};

struct PersonalSite {
  // Property names from the data's root to the subject's object; "*" for every item of an array.
  std::vector<std::string> path;
  std::vector<PersonalField> fields;
  // The subject's personal fields in the object that holds the subject's object (x-subject).
  std::vector<PersonalField> beside;
};

// The sites an event schema marks; InvalidArgument naming the schema for a mark it cannot honour
// (a personal field outside a subject's object and not beside one, on something not a string, an
// unknown group, an object without a "subject" string property).
Result<std::vector<PersonalSite>> PersonalSitesOf(const nlohmann::json& schema,
                                                  const std::string& name);

// A personal value sealed ahead of the append: the value as given at `pointer` (a JSON Pointer
// into the event's data) and what it seals to.
struct SealedValue {
  std::string pointer;
  nlohmann::json given;
  std::string sealed;
};

// Seals in place the personal fields of `data` for the tenant's event `event_id`: each site's
// object gets its "subject" (kept when given; found by an identifying field; else new; always
// the tenant's, PermissionDenied otherwise) and each personal string becomes a personal value.
// A personal field that holds a sealed value already (a copy the system made, from the stream's
// state) is kept as it is.
// With `ahead`, `data` is left as it is and the values it would seal are added there instead, for
// PutSealed: a command that allocates numbers seals before it takes the allocation's lock, which
// then covers a copy of the values only. Objects without their "subject" yet are left to the
// sealing in place.
Status SealPersonal(const std::vector<PersonalSite>& sites, crypto::PersonalData& personal,
                    std::string_view tenant, std::string_view event_id, nlohmann::json& data,
                    std::vector<SealedValue>* ahead = nullptr);

// Puts each value sealed ahead into `data` where the value at its pointer is still the one
// given; one that changed since (or went) is left for SealPersonal to seal as it is now.
void PutSealed(const std::vector<SealedValue>& values, nlohmann::json& data);

// What sealing needs from the key store, done ahead (outside any lock the caller holds around
// the append): each site's object with a value to seal gets its subject (as SealPersonal would
// choose it) claimed for the tenant, and the keys of its groups made. The rows this makes, and
// those of the same subjects no batch has written yet, are added to `carry`, to be written in the
// event's own batch. SealPersonal then only reads keys.
Status PrepareSubjects(const std::vector<PersonalSite>& sites, crypto::PersonalData& personal,
                       std::string_view tenant, nlohmann::json& data, std::vector<SideRow>* carry);

// The JSON Pointer of the first string of `doc` that holds a sealed personal value (alone or in
// a text), if any. A command from outside may not carry one (decide refuses it): whoever reads
// the event would see it opened, another person's data under this event.
std::optional<std::string> SealedValueAt(const nlohmann::json& doc);

}  // namespace procedo
