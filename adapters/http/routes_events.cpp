// History and the live feed: GET /v1/streams/{id}/events and GET /v1/events (SSE).
#include <fmt/format.h>

#include <charconv>

#include "adapters/event_json.h"
#include "adapters/http/api.h"
#include "engine/workflow/command_handler.h"

namespace procedo::http {
namespace {

bool ParseU64(const std::string& s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

Response BadParam(const std::string& name, const std::string& want) {
  return Response::Problem(400, "invalid-parameter", "Invalid query parameter",
                           fmt::format("'{}' must be {}", name, want), {{"parameter", name}});
}

domain::StreamFacts FactsOfStream(Api& api, const std::string& stream) {
  if (api.commands != nullptr && api.commands->workflows().ForStream(stream) != nullptr) {
    auto state = api.commands->Load(stream);
    if (state.ok()) return domain::FactsOf(**state);
    return {};
  }
  auto first = api.log.ReadStream(stream, 1, Direction::kForward, 1);
  domain::StreamFacts f;
  if (first.ok() && !first->empty()) f.tenant = first->front().tenant;
  return f;
}

// Live feed of the log as Server-Sent Events, filtered to what the caller may see: the same
// rule as every other read (domain::MayRead), so the Region sees the streams forwarded to it.
class LogEventSource final : public EventSource {
 public:
  LogEventSource(Api& api, std::unique_ptr<Subscription> sub, Principal who)
      : api_(api), sub_(std::move(sub)), who_(std::move(who)) {}
  Result<std::string> Next(std::chrono::milliseconds wait) override {
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto batch = sub_->Next(256, std::max(left, std::chrono::milliseconds(0)));
      if (!batch.ok()) return batch.status();
      std::string frames;
      for (const auto& e : *batch) {
        if (!Readable(*e)) continue;
        // The envelope written from the stored text: a live feed neither parses nor dumps data.
        frames += fmt::format("id: {}\nevent: {}\ndata: ", e->position, e->type);
        AppendEventJson(*e, &frames);
        frames += "\n\n";
      }
      if (!frames.empty() || batch->empty()) return frames;  // empty: the wait ran out
      if (std::chrono::steady_clock::now() >= deadline) return std::string();
    }
  }
  void Cancel() override { sub_->Cancel(); }

 private:
  // Events of the reader's own tenant need no lookup; another tenant's are readable when the
  // stream was forwarded to the reader (its current state decides, as for its history).
  bool Readable(const Event& e) {
    if (domain::IsAdmin(who_)) return true;
    if (e.tenant == who_.tenant) return domain::MayRead(who_, {e.tenant, "", ""});
    return domain::MayRead(who_, FactsOfStream(api_, e.stream));
  }

  Api& api_;
  std::unique_ptr<Subscription> sub_;
  Principal who_;
};

}  // namespace

std::shared_ptr<EventSource> LiveFeed(Api& api, const Principal& who, uint64_t from) {
  return std::make_shared<LogEventSource>(api, api.log.Subscribe(from), who);
}

bool MayRead(Api& api, const Principal& who, const std::string& stream) {
  return domain::MayRead(who, FactsOfStream(api, stream));
}

void AddEventRoutes(Router& router, Api& api) {
  router.Add("GET", "/v1/streams/{id}/events", [&api](Request& req) {
    Principal who;
    Response denied;
    if (!RequirePrincipal(api, req, &who, &denied)) return denied;
    const std::string& stream = req.params["id"];
    if (Status s = ValidateStreamId(stream); !s.ok()) return Response::FromStatus(s);
    uint64_t from = 1, limit = 100;
    const std::string direction = req.Query("direction").value_or("forward");
    if (direction != "forward" && direction != "backward") {
      return BadParam("direction", "forward or backward");
    }
    const bool backward = direction == "backward";
    if (backward) from = UINT64_MAX;
    if (auto f = req.Query("from"); f && !ParseU64(*f, &from))
      return BadParam("from", "a version number");
    if (auto l = req.Query("limit"); l && (!ParseU64(*l, &limit) || limit == 0 || limit > 1000)) {
      return BadParam("limit", "between 1 and 1000");
    }
    if (!MayRead(api, who, stream)) {
      return Response::Problem(404, "stream-not-found", "Stream not found",
                               fmt::format("no stream {} that you may read", stream));
    }
    auto events =
        api.log.ReadStream(stream, from, backward ? Direction::kBackward : Direction::kForward,
                           static_cast<size_t>(limit) + 1);
    if (!events.ok()) return Response::FromStatus(events.status());
    nlohmann::json out = {{"stream", stream}, {"events", nlohmann::json::array()}};
    for (size_t i = 0; i < events->size() && i < limit; ++i)
      out["events"].push_back(EventToJson((*events)[i]));
    // The next page starts at the version after (or before) the last one returned.
    if (events->size() > limit) out["next_from"] = (*events)[limit].version;
    auto version = api.log.StreamVersion(stream);
    out["version"] = version.ok() ? *version : 0;
    return Response::Json(200, out);
  });

  router.Add(
      "GET", "/v1/events",
      [&api](Request& req) {
        Principal who;
        Response denied;
        if (!RequirePrincipal(api, req, &who, &denied)) return denied;
        if (who.role == "citizen") {
          return Response::Problem(403, "forbidden", "Not allowed",
                                   "citizens see their case, not the log");
        }
        uint64_t from = 1;
        if (auto f = req.Query("from"); f && !ParseU64(*f, &from))
          return BadParam("from", "a log position");
        // A reconnecting EventSource sends the id of the last event it got.
        if (auto last = req.Header("last-event-id")) {
          uint64_t id = 0;
          if (!ParseU64(*last, &id)) {
            return Response::Problem(400, "invalid-header", "Invalid Last-Event-ID",
                                     "Last-Event-ID must be the log position of an event");
          }
          from = id + 1;
        }
        Response r;
        r.events = LiveFeed(api, who, from);
        return r;
      },
      /*blocking=*/false);
}

}  // namespace procedo::http
