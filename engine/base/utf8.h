// Lengths of text as people count them: characters (Unicode code points), not the bytes of their
// UTF-8 form, so that "perché" is 6 long and a limit in characters means what it says.
#pragma once

#include <cstddef>
#include <string_view>

namespace procedo {

// Code points in UTF-8 text. A byte that does not belong to a sequence its lead byte announces
// (a stray continuation byte, a truncated sequence's lead) counts as a character of its own, so
// that broken text is never shorter than it looks: N characters are at most 4N bytes.
inline size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    const unsigned char lead = static_cast<unsigned char>(s[i]);
    const size_t want = lead >= 0xF0 && lead < 0xF8   ? 4
                        : lead >= 0xE0 && lead < 0xF0 ? 3
                        : lead >= 0xC0 && lead < 0xE0 ? 2
                                                      : 1;
    size_t len = 1;
    while (len < want && i + len < s.size() &&
           (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) {
      ++len;
    }
    i += len;
  }
  return n;
}

}  // namespace procedo
