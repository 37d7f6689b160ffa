#include "adapters/kafka/cloudevent.h"

#include "engine/log/log_store.h"

namespace procedo::kafka {

std::string TopicFor(const CloudEventOptions& o, const std::string& stream) {
  return o.topic_prefix + "." + StreamKind(stream);
}

Headers CloudEventHeaders(const CloudEventOptions& o, const Event& e) {
  Headers h;
  h.reserve(13);
  h.emplace_back("ce_specversion", "1.0");
  h.emplace_back("ce_id", UuidToString(e.id));
  h.emplace_back("ce_source", o.source);
  h.emplace_back("ce_type", e.type);
  h.emplace_back("ce_subject", e.stream);
  h.emplace_back("ce_time", FormatTime(e.time));
  h.emplace_back("content-type", "application/json");
  h.emplace_back("ce_dataschema", o.dataschema_base + e.type + ".json");
  h.emplace_back("ce_position", std::to_string(e.position));
  h.emplace_back("ce_streamversion", std::to_string(e.version));
  if (!e.tenant.empty()) h.emplace_back("ce_tenant", e.tenant);
  if (!e.correlation_id.empty()) h.emplace_back("ce_correlationid", e.correlation_id);
  if (!e.causation_id.empty()) h.emplace_back("ce_causationid", e.causation_id);
  return h;
}

}  // namespace procedo::kafka
