// The case view kept ready to send: `GET /v1/cases/{id}` is the API's most frequent read (every
// citizen and operator page), so the projection stores the answer's bytes next to the facts that
// decide who may read them, and the route neither parses nor serialises JSON.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/access.h"
#include "engine/views/view_store.h"

namespace procedo::projections {

// Who may read a view is decided by domain/access.h from these facts of its stream.
using ViewAccess = domain::StreamFacts;
ViewAccess AccessOf(const nlohmann::json& summary);

struct RenderedCaseView {
  ViewAccess access;
  uint64_t version = 0;
  std::string body;  // the JSON the API answers
};

// Streams longer than this many events are not kept rendered (each event would rewrite a long
// row); their view is assembled from the summary and the timeline rows at read time.
inline constexpr uint64_t kMaxRenderedEvents = 256;

// The summary's members, then "timeline" with `timeline_array` (JSON array text) spliced in.
std::string RenderCaseViewText(const nlohmann::json& summary, std::string_view timeline_array);
// The same from stored timeline rows, whose values are JSON objects.
std::string RenderCaseViewText(const nlohmann::json& summary, const std::vector<ViewRow>& timeline);

// The row's bytes for `view`, whose body's timeline array starts at `timeline_offset`.
std::string EncodeRenderedView(const RenderedCaseView& view, size_t timeline_offset);
// nullopt when the row is not one EncodeRenderedView wrote.
std::optional<RenderedCaseView> DecodeRenderedView(std::string_view row);
// The timeline array text inside a stored row; nullopt when the row does not decode.
std::optional<std::string> TimelineOfRenderedRow(std::string_view row);
// A stored row as its readers see it (ViewStore::ShowRowsWith): when it is a rendered view, its
// body before and from the timeline shown apart, so that the timeline's offset still holds;
// false (the row untouched) when it is not one.
bool ShowRenderedRow(std::string& row, const std::function<void(std::string&)>& show);

}  // namespace procedo::projections
