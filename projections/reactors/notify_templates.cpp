#include "projections/reactors/notify_templates.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace procedo::projections {

Result<std::string> RenderTemplate(const std::string& text, const TemplateVars& vars) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t open = text.find("{{", i);
    if (open == std::string::npos) {
      out.append(text, i, std::string::npos);
      break;
    }
    out.append(text, i, open - i);
    size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      return Status::InvalidArgument(fmt::format("'{{{{' at offset {} is never closed", open));
    }
    std::string tag = text.substr(open + 2, close - open - 2);
    bool section = !tag.empty() && tag[0] == '#';
    std::string name = section ? tag.substr(1) : tag;
    auto it = vars.find(name);
    if (it == vars.end()) {
      return Status::InvalidArgument(fmt::format("unknown placeholder '{{{{{}}}}}'", tag));
    }
    if (!section) {
      out += it->second;
      i = close + 2;
      continue;
    }
    std::string end_tag = "{{/" + name + "}}";
    size_t end = text.find(end_tag, close + 2);
    if (end == std::string::npos) {
      return Status::InvalidArgument(
          fmt::format("section '{{{{#{}}}}}' has no '{}'", name, end_tag));
    }
    if (!it->second.empty()) {
      auto inner = RenderTemplate(text.substr(close + 2, end - close - 2), vars);
      if (!inner.ok()) return inner.status();
      out += *inner;
    }
    i = end + end_tag.size();
  }
  return out;
}

const std::vector<std::string>& TemplateSet::KnownPlaceholders() {
  static const std::vector<std::string> names = {"case_code",
                                                 "procedure_name",
                                                 "subject",
                                                 "applicant_name",
                                                 "office_name",
                                                 "office_phone",
                                                 "office_email",
                                                 "responsible_name",
                                                 "responsible_phone",
                                                 "responsible_email",
                                                 "term_text",
                                                 "reason",
                                                 "notes",
                                                 "outcome",
                                                 "link",
                                                 "password",
                                                 "ticket",
                                                 "technician_name",
                                                 "level",
                                                 "solution",
                                                 "deadline",
                                                 "clock",
                                                 "target",
                                                 "stream",
                                                 "target_text",
                                                 "documents",
                                                 "application",
                                                 "tenant_name",
                                                 "tenant_office_name",
                                                 "tenant_office_email",
                                                 "amount",
                                                 "round",
                                                 "message_size",
                                                 "message_limit",
                                                 "take_in_charge_by",
                                                 "resolution_by",
                                                 "resolution_target",
                                                 "closure_from",
                                                 "closure_to",
                                                 "service_name",
                                                 "beneficiary_name",
                                                 "balance",
                                                 "threshold",
                                                 "site_name",
                                                 "moved_up"};
  return names;
}

Result<TemplateSet> TemplateSet::LoadDir(const std::string& dir) {
  TemplateSet set;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return Status::NotFound(fmt::format("no template directory '{}'; set domain_dir", dir));
  }
  TemplateVars probe;
  for (const auto& n : KnownPlaceholders()) probe[n] = "x";
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".txt") continue;
    // "<type>.<channel>", or "<type>.office.<channel>" for the copy to the tenant's office.
    std::string stem = entry.path().stem().string();
    auto dot = stem.rfind('.');
    std::string channel = dot == std::string::npos ? "" : stem.substr(dot + 1);
    if (channel != "email" && channel != "sms") {
      return Status::InvalidArgument(
          fmt::format("{}/{}: name it <event type>.email.txt or <event type>.sms.txt", dir, file));
    }
    std::ifstream in(entry.path());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    MessageTemplate t;
    if (channel == "email") {
      const std::string prefix = "Oggetto: ";
      auto nl = text.find('\n');
      if (text.rfind(prefix, 0) != 0 || nl == std::string::npos) {
        return Status::InvalidArgument(fmt::format(
            "{}/{}: an e-mail template starts with 'Oggetto: <subject>' and a blank line", dir,
            file));
      }
      t.subject = text.substr(prefix.size(), nl - prefix.size());
      size_t body = text.find_first_not_of('\n', nl);
      t.body = body == std::string::npos ? "" : text.substr(body);
    } else {
      t.body = text;
      while (!t.body.empty() && (t.body.back() == '\n' || t.body.back() == ' ')) t.body.pop_back();
    }
    for (const std::string* part : {&t.subject, &t.body}) {
      if (auto r = RenderTemplate(*part, probe); !r.ok()) {
        return Status::InvalidArgument(
            fmt::format("{}/{}: {}; known placeholders are in "
                        "projections/NOTIFY.md",
                        dir, file, r.status().message()));
      }
    }
    set.templates_[stem] = std::move(t);
  }
  return set;
}

const MessageTemplate* TemplateSet::Find(const std::string& event_type,
                                         const std::string& channel) const {
  auto it = templates_.find(event_type + "." + channel);
  return it == templates_.end() ? nullptr : &it->second;
}

}  // namespace procedo::projections
