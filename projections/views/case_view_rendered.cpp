#include "projections/views/case_view_rendered.h"

#include <charconv>

namespace procedo::projections {

using nlohmann::json;

namespace {

// Row layout: "1" version tenant forwarded_to requester timeline_offset, each ended by '\0',
// then the body. Stream ids, tenants and actor ids cannot contain '\0'.
constexpr std::string_view kFormat = "1";

bool NextField(std::string_view& rest, std::string_view* field) {
  size_t end = rest.find('\0');
  if (end == std::string_view::npos) return false;
  *field = rest.substr(0, end);
  rest.remove_prefix(end + 1);
  return true;
}

bool ParseNumber(std::string_view s, uint64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

struct Parsed {
  RenderedCaseView view;
  uint64_t timeline_offset = 0;
};

std::optional<Parsed> Parse(std::string_view row) {
  std::string_view format, version, tenant, forwarded, requester, offset;
  if (!NextField(row, &format) || format != kFormat || !NextField(row, &version) ||
      !NextField(row, &tenant) || !NextField(row, &forwarded) || !NextField(row, &requester) ||
      !NextField(row, &offset)) {
    return std::nullopt;
  }
  Parsed p;
  if (!ParseNumber(version, &p.view.version) || !ParseNumber(offset, &p.timeline_offset) ||
      p.timeline_offset >= row.size() || row[p.timeline_offset] != '[' || row.back() != '}') {
    return std::nullopt;
  }
  p.view.access = {std::string(tenant), std::string(forwarded), std::string(requester)};
  p.view.body = std::string(row);
  return p;
}

}  // namespace

ViewAccess AccessOf(const json& summary) {
  auto fields = summary.find("fields");
  ViewAccess a = domain::FactsOfFields(summary.value("tenant", ""),
                                       fields != summary.end() ? *fields : json::object());
  a.forwarded_to = summary.value("forwarded_to", "");
  return a;
}

std::string RenderCaseViewText(const json& summary, std::string_view timeline_array) {
  std::string out = summary.dump(-1, ' ', false, json::error_handler_t::replace);
  out.pop_back();  // the closing brace
  if (out.size() > 1) out += ',';
  out += "\"timeline\":";
  out += timeline_array;
  out += '}';
  return out;
}

std::string RenderCaseViewText(const json& summary, const std::vector<ViewRow>& timeline) {
  std::string array = "[";
  for (const auto& row : timeline) {
    if (array.size() > 1) array += ',';
    array += row.value;
  }
  array += ']';
  return RenderCaseViewText(summary, array);
}

std::string EncodeRenderedView(const RenderedCaseView& view, size_t timeline_offset) {
  std::string out;
  out.reserve(view.body.size() + 96);
  const std::string version = std::to_string(view.version);
  for (std::string_view f :
       {kFormat, std::string_view(version), std::string_view(view.access.tenant),
        std::string_view(view.access.forwarded_to), std::string_view(view.access.requester)}) {
    out += f;
    out += '\0';
  }
  out += std::to_string(timeline_offset);
  out += '\0';
  out += view.body;
  return out;
}

std::optional<RenderedCaseView> DecodeRenderedView(std::string_view row) {
  auto p = Parse(row);
  if (!p) return std::nullopt;
  return std::move(p->view);
}

std::optional<std::string> TimelineOfRenderedRow(std::string_view row) {
  auto p = Parse(row);
  if (!p) return std::nullopt;
  const std::string& body = p->view.body;
  // The array runs from the offset to just before the body's closing brace.
  return body.substr(p->timeline_offset, body.size() - 1 - p->timeline_offset);
}

bool ShowRenderedRow(std::string& row, const std::function<void(std::string&)>& show) {
  auto p = Parse(row);
  if (!p) return false;
  std::string head = p->view.body.substr(0, p->timeline_offset);
  std::string tail = p->view.body.substr(p->timeline_offset);
  show(head);
  show(tail);
  const size_t offset = head.size();
  p->view.body = std::move(head) + tail;
  row = EncodeRenderedView(p->view, offset);
  return true;
}

}  // namespace procedo::projections
