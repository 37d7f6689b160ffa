// Private to adapters/exchange: what reading a document and applying it share.
#pragma once

#include <optional>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "adapters/exchange/exchange.h"

namespace procedo::exchange {

// What libxml2 found: a fatal problem (not well-formed) refuses the document; layout problems
// (the XSD's) refuse the records on their lines.
struct Checked {
  struct Problem {
    size_t line = 0, column = 0;
    std::string message;
  };
  std::optional<Problem> fatal;
  std::vector<Problem> layout;
};
Checked CheckDocument(std::string_view xml, const ExchangeSchema& schema);

// One record of the document and the commands it becomes, in order (an enrolment's two steps
// and its submission; a movement's one command).
struct Record {
  size_t line = 0;
  std::string name;  // "usage M-17"
  std::vector<Command> commands;
  std::string refusal;  // set: refused before any command (its layout)
  RecordProblem::Kind refusal_kind = RecordProblem::Kind::kLayout;
};
void PlanRecord(const pugi::xml_node& node, const std::string& tenant,
                const domain::TenantServices* catalogue, Record* record);

// The application an imported enrolment becomes: named by the record's id, so that importing it
// again reaches it.
std::string EnrolmentStream(const std::string& tenant, const std::string& record_id);

}  // namespace procedo::exchange
