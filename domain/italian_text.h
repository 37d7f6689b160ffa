// Instants and amounts as Italian readers expect them in pages and messages: "24/11/2026 alle
// 09:30", "€ 1.234,50". One rule, so a page and an e-mail never write the same figure two ways.
#pragma once

#include <string>

namespace procedo::domain {

// What pages, views, exports and messages show where a person's data was erased (GDPR).
inline constexpr const char* kErasedText = "[dato cancellato]";

// From an RFC 3339 local time ("2026-11-24T09:30:00+01:00"): "24/11/2026 alle 09:30". Anything
// shorter is returned as it is.
std::string ItalianDateTime(const std::string& rfc3339_local);
// "24/11/2026".
std::string ItalianDate(const std::string& rfc3339_local);
// An amount in integer euro cents: "€ 1.234,50", "€ -3,20".
std::string ItalianEuro(long long cents);

}  // namespace procedo::domain
