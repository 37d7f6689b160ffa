// The console's live updates: GET /console/eventi?dopo=N is the API's live feed (http::LiveFeed:
// the events the signed-in person may read, by the same rule as GET /v1/events) for the session
// cookie, stripped to a bare "something changed" (a page refreshes its own region by asking the
// server again, so no event's data needs to reach the browser), and ended when the session ends.
#include <fmt/format.h>

#include <charconv>

#include "adapters/web/console.h"

namespace procedo::web {
namespace {

class ConsoleFeed final : public http::EventSource {
 public:
  ConsoleFeed(std::shared_ptr<http::EventSource> feed, OidcClient* oidc, std::string session)
      : feed_(std::move(feed)), oidc_(oidc), session_(std::move(session)) {}

  Result<std::string> Next(std::chrono::milliseconds wait) override {
    if (!oidc_->Find(session_)) return Status::PermissionDenied("the console session ended");
    auto frames = feed_->Next(wait);
    if (!frames.ok()) return frames.status();
    // One "evento" per event, with its log position (the page asks for the views at it).
    std::string out;
    for (size_t at = 0; (at = frames->find("id: ", at)) != std::string::npos;) {
      const size_t end = frames->find('\n', at);
      if (end == std::string::npos) break;
      out +=
          fmt::format("id: {}\nevent: evento\ndata: {}\n\n", frames->substr(at + 4, end - at - 4),
                      frames->substr(at + 4, end - at - 4));
      at = frames->find("\n\n", end);
      if (at == std::string::npos) break;
    }
    return out;
  }
  void Cancel() override { feed_->Cancel(); }

 private:
  std::shared_ptr<http::EventSource> feed_;
  OidcClient* oidc_;
  std::string session_;
};

http::Response Feed(const Console& c, const http::Request& req, const StaffSession& s) {
  uint64_t from = c.api.log.LastPosition() + 1;
  if (auto after = req.Query("dopo")) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(after->data(), after->data() + after->size(), n);
    if (ec == std::errc() && p == after->data() + after->size()) from = n + 1;
  }
  if (auto last = req.Header("last-event-id")) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(last->data(), last->data() + last->size(), n);
    if (ec == std::errc() && p == last->data() + last->size()) from = n + 1;
  }
  http::Response r;
  r.headers = {{"X-Content-Type-Options", "nosniff"}, {"Cache-Control", "no-store"}};
  r.events = std::make_shared<ConsoleFeed>(http::LiveFeed(c.api, s.who, from), c.oidc,
                                           Cookie(req, kConsoleSession));
  return r;
}

}  // namespace

void AddLivePages(http::Router& router, std::shared_ptr<Console> console) {
  router.Add("GET", "/console/eventi", StaffPage(console, &Feed), /*blocking=*/false);
}

}  // namespace procedo::web
