#include "projections/views/ticket_queues.h"

#include <set>

namespace procedo::projections {

using nlohmann::json;

const char* const TicketQueuesProjection::kDimensions[4] = {"level", "technician", "priority",
                                                            "channel"};

bool TicketQueuesProjection::Open(const std::string& state) {
  return !state.empty() && state != "resolved" && state != "closed" && state != "archived";
}

std::string TicketQueuesProjection::PriorityRank(const std::string& priority) {
  if (priority == "urgent") return "0";
  if (priority == "high") return "1";
  if (priority == "normal") return "2";
  return "3";
}

namespace {

const std::pair<const char*, const char*> kRequesterPushes[] = {
    {"ticket.reminder_received", "reminders"}, {"ticket.complaint_received", "complaints"}};


std::string Text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

Status AddCount(ViewWriter& rows, const std::string& key, int64_t delta) {
  auto row = GetJson(rows, key);
  if (!row.ok()) return row.status();
  int64_t n = row->value_or(json(0)).get<int64_t>() + delta;
  if (n <= 0)
    rows.Delete(key);
  else
    PutJson(rows, key, n);
  return Status::Ok();
}

}  // namespace

Status TicketQueuesProjection::Apply(const Event& event, ViewWriter& rows) {
  auto pe = Parse(event);
  if (!pe.ok()) return pe.status();
  if (pe->kind != "ticket" || workflows_.ForStream(event.stream) == nullptr) return Status::Ok();
  auto facts = FoldFacts(workflows_, *pe, rows);
  if (!facts.ok()) return facts.status();
  StreamFacts& f = *facts;
  if (!f.extra.contains("opened_key")) {
    f.extra["opened_key"] = TimeKey(event.time);
    f.extra["opened_at"] = FormatTime(event.time);
  }
  const std::string opened_key = f.extra["opened_key"];
  // Reminders (solleciti) and complaints (reclami) change no state, but whoever picks the next
  // ticket from a queue must see them.
  for (const auto& [type, counter] : kRequesterPushes) {
    if (event.type == type) f.extra[counter] = f.extra.value(counter, int64_t{0}) + 1;
  }

  // (dimension, value) pairs the ticket is queued under now.
  std::set<std::pair<std::string, std::string>> wanted;
  if (Open(f.state)) {
    for (const char* dim : kDimensions) {
      if (f.fields.contains(dim)) wanted.emplace(dim, Text(f.fields[dim]));
    }
    wanted.emplace("all", PriorityRank(f.fields.value("priority", "")));
  }
  std::set<std::pair<std::string, std::string>> current;
  for (const auto& p : f.extra.value("queued", json::array())) {
    current.emplace(p[0].get<std::string>(), p[1].get<std::string>());
  }
  for (const auto& [dim, value] : current) {
    if (wanted.count({dim, value})) continue;
    rows.Delete(QueuePrefix(event.tenant, dim, value) + opened_key + kSep + event.stream);
    if (Status s = AddCount(rows, CountPrefix(event.tenant) + Key({dim, value}), -1); !s.ok()) {
      return s;
    }
  }
  json item = {{"stream", event.stream},
               {"state", f.state},
               {"opened_at", f.extra["opened_at"]},
               {"updated_at", FormatTime(event.time)}};
  for (const char* k : {"number", "level", "technician", "technician_name", "priority", "channel",
                        "subject", "category"}) {
    if (f.fields.contains(k)) item[k] = f.fields[k];
  }
  for (const auto& [type, counter] : kRequesterPushes) {
    item[counter] = f.extra.value(counter, int64_t{0});
  }
  json queued = json::array();
  for (const auto& [dim, value] : wanted) {
    PutJson(rows, QueuePrefix(event.tenant, dim, value) + opened_key + kSep + event.stream, item);
    if (!current.count({dim, value})) {
      if (Status s = AddCount(rows, CountPrefix(event.tenant) + Key({dim, value}), 1); !s.ok()) {
        return s;
      }
    }
    queued.push_back({dim, value});
  }
  f.extra["queued"] = std::move(queued);
  return SaveFacts(*pe, f, rows);
}

}  // namespace procedo::projections
