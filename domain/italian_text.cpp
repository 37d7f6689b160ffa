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

}  // namespace procedo::domain
