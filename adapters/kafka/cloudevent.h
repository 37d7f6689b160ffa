// How one log event becomes one Kafka message: CloudEvents 1.0, Kafka protocol binding, binary
// content mode (attributes in ce_* headers, the event's data as the value).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/log/event.h"

namespace procedo::kafka {

struct CloudEventOptions {
  std::string topic_prefix = "procedo";
  std::string source = "urn:procedo:local";  // ce_source: this Procedo instance
  // ce_dataschema = base + type + ".json"; the files are schemas/events/<type>.json.
  std::string dataschema_base = "urn:procedo:schemas:events:";
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// `<prefix>.<kind>`, kind being StreamKind(stream).
std::string TopicFor(const CloudEventOptions& o, const std::string& stream);

// ce_specversion, ce_id, ce_source, ce_type, ce_subject, ce_time, content-type, ce_dataschema,
// and the extensions ce_position, ce_streamversion, ce_tenant, ce_correlationid and
// ce_causationid (the last three only when not empty: CloudEvents attributes are never empty).
Headers CloudEventHeaders(const CloudEventOptions& o, const Event& e);

}  // namespace procedo::kafka
