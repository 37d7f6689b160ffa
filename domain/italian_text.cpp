#include "domain/italian_text.h"

#include <fmt/format.h>

namespace procedo::domain {

std::string ItalianDateTime(const std::string& t) {
  if (t.size() < 16) return t;
  return fmt::format("{}/{}/{} alle {}", t.substr(8, 2), t.substr(5, 2), t.substr(0, 4),
                     t.substr(11, 5));
}

std::string ItalianDate(const std::string& t) {
  if (t.size() < 10) return t;
  return fmt::format("{}/{}/{}", t.substr(8, 2), t.substr(5, 2), t.substr(0, 4));
}

std::string ItalianEuro(long long cents) {
  const bool negative = cents < 0;
  if (negative) cents = -cents;
  std::string whole = std::to_string(cents / 100);
  for (int i = static_cast<int>(whole.size()) - 3; i > 0; i -= 3) whole.insert(i, ".");
  return fmt::format("€ {}{},{:02}", negative ? "-" : "", whole, cents % 100);
}

}  // namespace procedo::domain
