#include "domain/payment_notice.h"

#include <fmt/format.h>

#include <algorithm>

namespace procedo::domain {

namespace {

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// How many digits of a notice number its check digits cover, by aux digit (0: no check digits).
size_t Checked(char aux) {
  switch (aux) {
    case '0':
    case '2':
    case '3':
      return 16;
    default:
      return 0;
  }
}

}  // namespace

std::string NoticeNumber::Iuv() const {
  // Aux 0 places the application code (two digits) between the aux digit and the IUV.
  return aux_digit() == '0' ? digits_.substr(3) : digits_.substr(1);
}

std::string NoticeNumber::Printed() const {
  std::string out;
  for (size_t i = 0; i < digits_.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += ' ';
    out += digits_[i];
  }
  return out;
}

std::string NoticeNumber::QrPayload(std::string_view ente_fiscal_code, int64_t amount_cents) const {
  return fmt::format("PAGOPA|002|{}|{}|{:02d}", digits_, ente_fiscal_code, amount_cents);
}

std::string NoticeCheckDigits(std::string_view digits) {
  if (digits.empty() || digits.size() > 16 || !AllDigits(digits)) return "";
  uint64_t n = 0;
  for (char c : digits) n = n * 10 + static_cast<uint64_t>(c - '0');  // < 10^16: no overflow
  return fmt::format("{:02d}", n % 93);
}

Result<NoticeNumber> IssueNoticeNumber(std::string_view segregation_code, uint64_t base) {
  if (segregation_code.size() != 2 || !AllDigits(segregation_code)) {
    return Status::InvalidArgument(fmt::format(
        "the segregation code '{}' is not two digits: set the one pagoPA assigned to the Ente's "
        "station",
        segregation_code));
  }
  if (base >= 10'000'000'000'000ULL) {
    return Status::InvalidArgument(
        fmt::format("IUV base {} needs more than 13 digits: this station's notice numbers are "
                    "used up; ask pagoPA for another segregation code",
                    base));
  }
  std::string digits = fmt::format("3{}{:013d}", segregation_code, base);
  digits += NoticeCheckDigits(digits);
  return NoticeNumber(std::move(digits));
}

Result<NoticeNumber> ParseNoticeNumber(std::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c == ' ') continue;
    if (c < '0' || c > '9' || digits.size() == 18) {
      return Status::InvalidArgument(
          "a notice number is 18 digits (spaces between them allowed): copy it from the payment "
          "notice");
    }
    digits += c;
  }
  if (digits.size() != 18) {
    return Status::InvalidArgument(fmt::format(
        "a notice number is 18 digits and this has {}: copy it whole from the payment notice",
        digits.size()));
  }
  if (const size_t n = Checked(digits[0]); n > 0) {
    if (NoticeCheckDigits(std::string_view(digits).substr(0, n)) != digits.substr(n, 2)) {
      return Status::InvalidArgument(
          "the notice number's last two digits do not match the others: a digit was mistyped; "
          "copy it again from the payment notice");
    }
  } else if (digits[0] != '1') {
    return Status::InvalidArgument(fmt::format(
        "a notice number starts with 0, 1, 2 or 3, not {}: copy it from the payment notice",
        digits[0]));
  }
  return NoticeNumber(std::move(digits));
}

}  // namespace procedo::domain
