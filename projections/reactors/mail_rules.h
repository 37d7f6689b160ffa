// What the mailbox reactor decides from a message alone: whether it was sent by a machine (and
// must never be answered), and its text made fit for an event (valid UTF-8, within the
// schemas' lengths). Pure, so that hostile input is tested without a mailbox.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "projections/reactors/mailbox.h"

namespace procedo::projections {

// Why a message is automatic (RFC 3834 Auto-Submitted, Precedence bulk/junk/list, vacation
// headers, a mailing list, a bounce: empty Return-Path, multipart/report or a mailer daemon), a
// loop (from one of `own`), or unanswerable (no usable sender); "" for a person's message.
std::string AutomaticReason(const InboundMail& mail, const std::vector<std::string>& own);

// Valid UTF-8 (each invalid byte becomes U+FFFD), at most `max_bytes` long, never cut inside a
// character; JSON needs the first, the schemas the second.
std::string FitText(std::string_view text, size_t max_bytes);

// Whether `address` is one we can answer: printable ASCII, one @, something each side.
bool PlainAddress(std::string_view address);

// The notifier's message id in a Message-ID ("<32 hex>@domain"), or "" when it is not one.
std::string NotifierMessageId(std::string_view message_id);

}  // namespace procedo::projections
