// Incoming mail as the mailbox reads it: GMime's parse of real-world and hostile messages, and
// the rules that keep automatic mail unanswered. No input may crash or throw.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "adapters/mail/imap.h"
#include "projections/reactors/mail_rules.h"

using namespace procedo;
using projections::AutomaticReason;
using projections::FitText;

namespace {

const char* kReply =
    "From: =?UTF-8?Q?Luca_Bianch=C3=AC?= <Luca@Example.it>\r\n"
    "To: assistenza@comune.forli.example.it\r\n"
    "Subject: =?UTF-8?B?UmU6IFRpY2tldCBUQ0stMjAyNi0wMDAwMTIgY2hpdXNv?=\r\n"
    "Message-ID: <abc@example.it>\r\n"
    "In-Reply-To: <0123456789abcdef0123456789abcdef@procedo.local>\r\n"
    "References: <old@x.it>\r\n <0123456789abcdef0123456789abcdef@procedo.local>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    "--b1\r\nContent-Type: text/plain; charset=ISO-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n\r\nNon funziona pi=F9.\r\n"
    "--b1\r\nContent-Type: application/pdf; name=\"a.pdf\"\r\n"
    "Content-Disposition: attachment; filename=\"a.pdf\"\r\n"
    "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b1--\r\n";

}  // namespace

TEST_CASE("a reply is read: sender, decoded subject, threading, text and attachment", "[mail]") {
  auto m = mail::ParseMail(kReply);
  REQUIRE(m.parsed);
  CHECK(m.from == "Luca@Example.it");
  CHECK(m.subject == "Re: Ticket TCK-2026-000012 chiuso");
  CHECK(m.message_id == "abc@example.it");
  REQUIRE(m.replied_to.size() == 3);
  CHECK(m.replied_to[0] == "0123456789abcdef0123456789abcdef@procedo.local");
  CHECK(m.replied_to[2] == "old@x.it");  // References, newest first
  CHECK(m.text.find("più") != std::string::npos);
  REQUIRE(m.attachments.size() == 1);
  CHECK(m.attachments[0].name == "a.pdf");
  CHECK(m.attachments[0].content == "%PDF-1.4\n");
  CHECK(projections::NotifierMessageId(m.replied_to[0]) == "0123456789abcdef0123456789abcdef");
  CHECK(projections::NotifierMessageId("<old@x.it>").empty());
  CHECK(AutomaticReason(m, {"assistenza@comune.forli.example.it"}).empty());
}

TEST_CASE("hostile messages never crash and yield JSON-safe text", "[mail]") {
  std::string huge_header = "Subject: " + std::string(2 << 20, 'x') + "\r\n\r\nbody";
  std::string bad_utf8 = "From: a@b.it\r\nSubject: \xff\xfe\xc3(\r\nContent-Type: text/plain; "
                         "charset=utf-8\r\n\r\n\xed\xa0\x80 \xf8\x88\x80\x80\x80 ok\r\n";
  std::string bad_mime = "From: a@b.it\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n"
                         "--\r\n--\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@\r\n";
  std::string no_header = std::string("\0\0\0\x01garbage", 11);
  for (const std::string& raw : {huge_header, bad_utf8, bad_mime, no_header, std::string()}) {
    auto m = mail::ParseMail(raw);
    for (const std::string& text : {m.subject, m.text, m.from, m.message_id}) {
      const std::string fit = FitText(text, 300);
      CHECK(fit.size() <= 300);
      CHECK_NOTHROW(nlohmann::json(fit).dump());
    }
  }
  CHECK(FitText("\xff" "a\x01", 10) == "\xEF\xBF\xBD" "a ");
  CHECK(FitText("ààà", 5) == "àà");  // never cut inside a character
}

TEST_CASE("automatic mail, bounces, daemons and loops are recognised", "[mail]") {
  projections::InboundMail m;
  m.parsed = true;
  m.from = "anna@example.it";
  const std::vector<std::string> own = {"assistenza@comune.forli.example.it"};
  CHECK(AutomaticReason(m, own).empty());
  auto with = [&](const char* name, const char* value) {
    projections::InboundMail x = m;
    x.headers[name] = value;
    return AutomaticReason(x, own);
  };
  CHECK(with("auto-submitted", "no").empty());
  CHECK_FALSE(with("auto-submitted", "auto-replied").empty());
  CHECK_FALSE(with("auto-submitted", "Auto-Generated; owner=x").empty());
  CHECK_FALSE(with("precedence", "bulk").empty());
  CHECK_FALSE(with("precedence", "junk").empty());
  CHECK_FALSE(with("x-autoreply", "yes").empty());
  CHECK_FALSE(with("list-id", "<l.example.it>").empty());
  CHECK_FALSE(with("return-path", "<>").empty());
  CHECK_FALSE(with("content-type", "multipart/report; report-type=delivery-status").empty());
  projections::InboundMail d = m;
  d.from = "MAILER-DAEMON@example.it";
  CHECK_FALSE(AutomaticReason(d, own).empty());
  d.from = "Assistenza@Comune.Forli.Example.it";
  CHECK_FALSE(AutomaticReason(d, own).empty());
  d.from = "";
  CHECK_FALSE(AutomaticReason(d, own).empty());
}
