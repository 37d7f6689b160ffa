// Notification texts as data: domain/templates/<event type>.<channel>.txt, Italian first
// with the Italian terms of the seeds; <event type>.office.<channel>.txt is the copy to the office
// of the stream's own tenant (a Comune told the Region's outcome). An e-mail template starts with
// "Oggetto: <subject>" and a blank line.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/base/status.h"

namespace procedo::projections {

using TemplateVars = std::map<std::string, std::string>;

// "{{name}}" is replaced by vars[name]; "{{#name}}...{{/name}}" is kept only when vars[name] is
// not empty (a reason or a password that some messages have and others not). A name that is not
// in `vars` is an error, so a typo in a template fails loudly instead of sending "{{resaon}}".
Result<std::string> RenderTemplate(const std::string& text, const TemplateVars& vars);

struct MessageTemplate {
  std::string subject;  // e-mail only
  std::string body;
};

class TemplateSet {
 public:
  // Every <type>.<channel>.txt under `dir`; channel is "email" or "sms". Each template is rendered
  // once with every known placeholder so that an unknown one fails at startup, naming the file.
  static Result<TemplateSet> LoadDir(const std::string& dir);
  const MessageTemplate* Find(const std::string& event_type, const std::string& channel) const;
  size_t size() const { return templates_.size(); }
  // The placeholders templates may use; the notifier fills all of them.
  static const std::vector<std::string>& KnownPlaceholders();

 private:
  std::map<std::string, MessageTemplate> templates_;  // "<type>.<channel>"
};

}  // namespace procedo::projections
