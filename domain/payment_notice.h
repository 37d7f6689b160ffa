// pagoPA's identifiers of a payment, as its specification of the payment identifiers (SACI)
// defines them: the IUV (identificativo univoco di versamento) and the 18-digit notice number
// (numero avviso) a citizen pays with, at a counter or on line. Procedo issues aux digit 3 (the
// only one the specification does not deprecate, and GPD's default): 3 <segregation code, 2> <IUV
// base, 13> <check digits, 2>, the check digits being the first 16 digits taken as a number,
// mod 93. The segregation code is pagoPA's, assigned to the Ente's station: configuration, never
// a constant here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace procedo::domain {

class NoticeNumber {
 public:
  // The 18 digits.
  const std::string& digits() const { return digits_; }
  char aux_digit() const { return digits_[0]; }
  // The IUV the notice number carries: everything after the aux digit (aux 3: 17 digits).
  std::string Iuv() const;
  // As printed on the payment notice: groups of four digits ("3010 0000 0000 0042 85").
  std::string Printed() const;
  // The payment notice's QR code: "PAGOPA|002|<notice number>|<Ente's fiscal code>|<cents>".
  std::string QrPayload(std::string_view ente_fiscal_code, int64_t amount_cents) const;

  friend bool operator==(const NoticeNumber&, const NoticeNumber&) = default;

 private:
  friend Result<NoticeNumber> IssueNoticeNumber(std::string_view, uint64_t);
  friend Result<NoticeNumber> ParseNoticeNumber(std::string_view);
  explicit NoticeNumber(std::string digits) : digits_(std::move(digits)) {}
  std::string digits_;
};

// The two check digits over `digits` (the aux digit and what follows it, up to 16 digits): their
// number mod 93, zero-padded. Empty when `digits` is not 1-16 decimal digits.
std::string NoticeCheckDigits(std::string_view digits);

// The notice number of the `base`-th IUV of a station: aux 3, `segregation_code` (two digits),
// `base` as 13 digits. InvalidArgument when the code is not two digits or `base` needs more
// than 13.
Result<NoticeNumber> IssueNoticeNumber(std::string_view segregation_code, uint64_t base);

// A notice number as a person or pagoPA gives it: 18 digits, spaces allowed between them (the
// printed form). Its check digits must hold for aux 0, 2 and 3; aux 1 has none. InvalidArgument,
// saying which, for anything else.
Result<NoticeNumber> ParseNoticeNumber(std::string_view text);

}  // namespace procedo::domain
