// What the view routes share: role checks, read-your-writes waits, cursor pagination over a
// projection's rows. Cursors are the last row key, base64url-encoded: opaque to clients.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "adapters/http/api.h"

namespace procedo::http {

std::string EncodeCursor(const std::string& key);
std::optional<std::string> DecodeCursor(const std::string& text);

Response BadParameter(const std::string& name, const std::string& want);
Response NotAllowed(const std::string& detail);

// Waits for `?min_position=N` / `X-Min-Position: N` when given (a position past the end of the
// log waits for the whole log). False with `out` set to the problem (400 for a bad number, 503
// when the views are still behind after Api::max_wait).
bool WaitForViews(Api& api, const Request& req, Response* out);

// The tenant whose rows the caller reads: its own, or for admins `?tenant=` (`required` makes
// an admin name one; empty is not given). False with `out` set: 400 for a malformed tenant id,
// 403 for another tenant's.
bool TenantFor(const Request& req, const Principal& who, bool required, std::string* tenant,
               Response* out);

struct PageRequest {
  size_t limit = 50;
  std::string after;  // a row key; empty: from the start of the prefix
};
// `?limit=` (1..500) and `?cursor=` (base64url; empty is not given; a cursor of another list
// starts this one at its beginning or past its end).
bool ParsePage(const Request& req, const std::string& prefix, PageRequest* page, Response* out);

struct Page {
  std::vector<nlohmann::json> items;
  std::optional<std::string> next_cursor;
};
// Rows under `prefix` after the cursor whose JSON passes `keep`, at most `limit`; next_cursor is
// set only when another matching row exists. `keep` may edit the item it is shown.
Result<Page> ScanPage(const ViewStore& views, const std::string& projection,
                      const std::string& prefix, const PageRequest& page,
                      const std::function<bool(nlohmann::json&)>& keep);

nlohmann::json PageBody(Page page, nlohmann::json body);

}  // namespace procedo::http
