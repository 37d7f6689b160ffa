// The exchange layout (schemas/exchange.xsd, seed 003's "tracciato XML") with a system that
// manages the on-demand services elsewhere: enrolments, uses and prepaid payments made there come
// in as the same commands staff would send (one write path: every rule of the workflows and the
// services catalogue applies), and submitted enrolments go out.
//
// A document that is not well-formed XML, or names another tenant, is refused whole. Otherwise
// each record stands alone: one that fails the XSD or a workflow's rule is reported with its line
// and the reason, and the others are applied. A record's id of the other system is its
// idempotency key, so importing a file again changes nothing.
#pragma once

#include <libxml/xmlschemas.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "domain/services.h"
#include "engine/base/status.h"
#include "engine/crypto/personal.h"
#include "engine/log/log_store.h"
#include "engine/workflow/command_handler.h"

namespace procedo::exchange {

// The XSD, compiled once (libxml2's validator).
class ExchangeSchema {
 public:
  static Result<std::shared_ptr<const ExchangeSchema>> Load(const std::string& xsd_path);
  ~ExchangeSchema();
  xmlSchemaPtr get() const { return schema_; }

 private:
  xmlSchemaPtr schema_ = nullptr;
};

struct RecordProblem {
  enum class Kind {
    kLayout,    // fails the XSD
    kRefused,   // a workflow's rule or the catalogue refused it
    kConflict,  // its id was imported before with other content
  };
  Kind kind;
  size_t line = 0;
  std::string record;  // "usage M-17"
  std::string reason;
};

struct ImportReport {
  std::string tenant;
  size_t records = 0;
  size_t applied = 0;    // appended now
  size_t unchanged = 0;  // imported before, with the same content
  std::vector<RecordProblem> problems;
};

struct ImportOptions {
  // Who imports: the events' actor. Its tenant must be the document's.
  Actor actor;
  // Commands kept in flight together (on different streams).
  size_t in_flight = 1024;
  // An account's consecutive movements decided together, on the state each leaves for the next
  // (CommandHandler::HandleBatchAsync), each still its own command and append.
  size_t movements_per_batch = 64;
};

// Errors: InvalidArgument (not well-formed: "line L, column C: ..."; another tenant; no XSD
// root), IoError from the log. Refusals of single records are in the report, not errors.
Result<ImportReport> Import(std::string_view xml, const ExchangeSchema& schema,
                            const domain::ServiceCatalogue& services, CommandHandler& handler,
                            const ImportOptions& options);

// Submitted enrolments of `tenant` (of `service`, when not empty) as an exchange document, in
// the order of their submission. With `personal`, the applicant's and beneficiary's sealed
// values are opened for the other system; an application whose people were erased is left out.
Result<std::string> ExportEnrolments(const LogStore& log, const std::string& tenant,
                                     const std::string& service,
                                     const crypto::PersonalData* personal = nullptr);

// The report as JSON ({"tenant", "records", "applied", "unchanged", "problems": [...]}).
nlohmann::json ReportJson(const ImportReport& report);

}  // namespace procedo::exchange
