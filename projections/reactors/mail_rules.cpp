#include "projections/reactors/mail_rules.h"

#include <algorithm>
#include <cctype>

namespace procedo::projections {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The first token of a structured header value: "auto-replied; owner=x" -> "auto-replied".
std::string Token(const std::string& value) {
  return Lower(Trim(std::string_view(value).substr(0, value.find(';'))));
}

// Length of the valid UTF-8 sequence at s[i], or 0 when the bytes there are not one.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not valid either.
  if (n == 2 && c < 0xC2) return 0;
  if (n == 3 && ((c == 0xE0 && b(i + 1) < 0xA0) || (c == 0xED && b(i + 1) >= 0xA0))) return 0;
  if (n == 4 && ((c == 0xF0 && b(i + 1) < 0x90) || c > 0xF4 || (c == 0xF4 && b(i + 1) >= 0x90))) {
    return 0;
  }
  return n;
}

}  // namespace

std::string AutomaticReason(const InboundMail& mail, const std::vector<std::string>& own) {
  auto header = [&mail](const char* name) {
    auto it = mail.headers.find(name);
    return it == mail.headers.end() ? std::string() : it->second;
  };
  const std::string auto_submitted = Token(header("auto-submitted"));
  if (!auto_submitted.empty() && auto_submitted != "no") {
    return "Auto-Submitted: " + auto_submitted;
  }
  const std::string precedence = Token(header("precedence"));
  if (precedence == "bulk" || precedence == "junk" || precedence == "list" ||
      precedence == "auto_reply") {
    return "Precedence: " + precedence;
  }
  if (mail.headers.count("x-autoreply") || mail.headers.count("x-autorespond")) {
    return "a vacation reply";
  }
  if (mail.headers.count("list-id")) return "a mailing list";
  if (Trim(header("return-path")) == "<>") return "a bounce (empty Return-Path)";
  if (Token(header("content-type")).starts_with("multipart/report")) {
    return "a delivery report";
  }
  const std::string from = Lower(mail.from);
  if (!PlainAddress(from)) return "no sender to answer";
  const std::string local = from.substr(0, from.find('@'));
  if (local == "mailer-daemon" || local == "postmaster") return "a mailer daemon";
  for (const auto& o : own) {
    if (!o.empty() && Lower(o) == from) return "our own mail (a loop)";
  }
  return "";
}

std::string FitText(std::string_view text, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(text.size(), max_bytes));
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8Length(text, i);
    std::string_view piece = n > 0 ? text.substr(i, n) : std::string_view("\xEF\xBF\xBD");
    // Control characters other than line breaks and tabs say nothing to a person.
    if (n == 1 && static_cast<unsigned char>(text[i]) < 0x20 && text[i] != '\n' &&
        text[i] != '\t') {
      piece = " ";
    }
    if (out.size() + piece.size() > max_bytes) break;
    out += piece;
    i += n > 0 ? n : 1;
  }
  return out;
}

bool PlainAddress(std::string_view a) {
  const size_t at = a.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= a.size() || a.size() > 254) {
    return false;
  }
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  // ASCII only: what the schemas' pattern and every SMTP server accept alike.
  return std::none_of(a.begin(), a.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x21 || u > 0x7E;
  });
}

std::string NotifierMessageId(std::string_view message_id) {
  std::string_view id = Trim(message_id);
  if (!id.empty() && id.front() == '<') id.remove_prefix(1);
  if (!id.empty() && id.back() == '>') id.remove_suffix(1);
  const size_t at = id.find('@');
  if (at != 32) return "";
  std::string local(id.substr(0, at));
  for (char c : local) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) {
      return "";
    }
  }
  return local;
}

}  // namespace procedo::projections
