// Base64 (RFC 4648 section 4) and its URL-safe alphabet without padding (section 5), as MIME
// bodies, HTTP Basic credentials, PKCE challenges and random tokens need them: one encoder.
#pragma once

#include <string>
#include <string_view>

namespace procedo {

inline std::string Base64Encode(std::string_view in, bool url = false) {
  static constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* alphabet = url ? kUrl : kStd;
  std::string out;
  out.reserve(4 * ((in.size() + 2) / 3));
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (const size_t rest = in.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    // The URL-safe form goes in URLs and JWT-like tokens, which carry no padding.
    if (!url) out.append(rest == 1 ? "==" : "=");
  }
  return out;
}

// Base64url without padding.
inline std::string Base64UrlEncode(std::string_view in) { return Base64Encode(in, true); }

}  // namespace procedo
