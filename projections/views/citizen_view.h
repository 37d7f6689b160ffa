// The citizen's page of a case (seed 002, "La tua pratica on line").
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "engine/log/event.h"

namespace procedo::projections {

// The citizen's page from a case stream's events: office, responsible person and contacts, case
// code, procedure data, term and suspensions, state, notes and reasons, timeline (Italian labels).
// Of the notes, the latest kCitizenNotes (notes_total counts them all).
inline constexpr size_t kCitizenNotes = 20;
nlohmann::json BuildCitizenCaseView(const std::vector<Event>& events);

}  // namespace procedo::projections
