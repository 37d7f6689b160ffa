// The payment notice (avviso di pagamento) of a debt position as a printable page: what pagoPA's
// notice specification asks for (domain/PAYMENTS.md, sections 3 and 4): the subject, the Ente
// (name, fiscal code, office, contacts, CBILL), the debtor, the amount and due date in Italian,
// the codice avviso in groups of four and its QR code, drawn here as SVG. Who may open it is
// domain::PaymentFacts's: the citizen whose account or application the position is for, and the
// Ente's staff; for anyone else it does not exist.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "domain/access.h"
#include "domain/payments.h"
#include "engine/base/status.h"
#include "engine/workflow/workflow.h"

namespace procedo::web {

// A QR code of `payload` as an inline SVG image named `label` (its accessible name): error
// correction M and at least version 4 (33 x 33 modules), as pagoPA's notice asks, in byte mode
// (the payload is ASCII), with the four-module quiet zone; the dark modules are one path.
// Empty when the payload cannot be encoded.
std::string QrSvg(const std::string& payload, const std::string& label);

// The notice's amount: "1.020,99 €".
std::string NoticeAmount(long long cents);
// A due date YYYY-MM-DD as "31/12/2026"; anything else as it is.
std::string NoticeDate(const std::string& date);

// A debt position's row in the payments view (PaymentsProjection::PositionKey); nullopt when the
// view has none.
using PositionRowOf =
    std::function<Result<std::optional<nlohmann::json>>(const std::string& stream)>;
// A stream's state as the command handler folds it: what the position is for (its reference).
using StateOf =
    std::function<Result<std::shared_ptr<const WorkflowState>>(const std::string& stream)>;

// The position `stream` as the payments view keeps it ({stream, tenant, status, purpose,
// reference, description, amount_cents, due_date, notice_number, iuv, debtor, ...}) when `who`
// may read it; nullopt when it does not exist, is not a debt position or is not theirs, alike.
// An error only when the view or the log could not be read.
Result<std::optional<nlohmann::json>> ReadablePosition(const Principal& who,
                                                       const std::string& stream,
                                                       const PositionRowOf& row_of,
                                                       const StateOf& state_of);

// The template payment_notice's data for a position row and its Ente's settings; `state` is the
// position's state in Italian (labels.json). Every value is plain text for the template to
// escape, except `qr`, the SVG QrSvg drew.
nlohmann::json NoticeData(const nlohmann::json& row, const domain::PaymentSettings& settings,
                          const std::string& state);

}  // namespace procedo::web
