// What every projection shares: key encoding, the parsed parts of an event, JSON rows, the
// per-stream facts a projection keeps for itself, and in-memory rows for `as_of` folds.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/log/event.h"
#include "engine/base/status.h"
#include "engine/views/view_store.h"
#include "engine/workflow/workflow.h"

namespace procedo::projections {

// Parts of a key are joined by 0x00: tenants, stream ids, actor ids and dates never contain it,
// so one part's bytes never run into the next and a prefix scan never matches a longer name.
inline constexpr char kSep = '\0';
// Rows a projection keeps for its own bookkeeping start with 0x01, below every printable tenant
// or id, so query prefixes never see them.
inline constexpr char kInternal = '\x01';

std::string Key(std::initializer_list<std::string_view> parts);
// Fixed-width decimal: bytewise order is numeric order, and keys stay readable in dumps.
std::string Pad20(uint64_t v);
// Microseconds since the epoch, fixed width (instants before 1970 clamp to 0).
std::string TimeKey(TimePoint t);
// Instants as rows store them: microseconds since the epoch.
inline int64_t Us(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint Tp(int64_t us) { return TimePoint(Micros(us)); }

struct ParsedEvent {
  const Event& event;
  // Every projection applies the same event in turn: it is parsed once and shared.
  std::shared_ptr<const nlohmann::json> parsed;
  const nlohmann::json& data;  // *parsed
  std::string actor_id;    // "id", or "system:<name>" for components such as the SLA timer
  std::string actor_role;  // "" for system actors
  std::string kind;        // the stream kind: "case", "ticket", ...
};
// Corruption when the stored data or actor is not a JSON object (the log validated both).
Result<ParsedEvent> Parse(const Event& e);

std::string StreamKind(std::string_view stream);

Result<std::optional<nlohmann::json>> GetJson(ViewWriter& rows, std::string_view key);
void PutJson(ViewWriter& rows, std::string_view key, const nlohmann::json& value);

// A stream's workflow state and the small facts queries filter on, folded by the projection that
// needs them (each projection keeps its own copy so that each rebuilds alone).
struct StreamFacts {
  std::string state;     // workflow state after the event; "" when the stream has no workflow
  std::string previous;  // the state before it
  nlohmann::json fields = nlohmann::json::object();
  nlohmann::json extra = nlohmann::json::object();  // the projection's own bookkeeping
};
// Loads the facts row of the stream, applies the event (state from the definition, shallow merge
// of short scalar fields and of `<object>.name` as `<object>_name`), stores it back.
Result<StreamFacts> FoldFacts(const WorkflowSet& workflows, const ParsedEvent& pe,
                              ViewWriter& rows);
Status SaveFacts(const ParsedEvent& pe, const StreamFacts& facts, ViewWriter& rows);

// Rows in memory: the `as_of` fold writes into these, and tests read them.
class MemoryRows final : public ViewWriter {
 public:
  void Put(std::string_view key, std::string_view value) override {
    rows_[std::string(key)] = std::string(value);
  }
  void Delete(std::string_view key) override { rows_.erase(std::string(key)); }
  Result<std::optional<std::string>> Get(std::string_view key) override;
  std::vector<ViewRow> Scan(std::string_view prefix) const;
  const std::map<std::string, std::string, std::less<>>& rows() const { return rows_; }

 private:
  std::map<std::string, std::string, std::less<>> rows_;
};

}  // namespace procedo::projections
