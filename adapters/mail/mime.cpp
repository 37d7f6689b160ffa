// MIME with GMime: headers decoded (RFC 2047), bodies in any charset and transfer encoding.
#include <gmime/gmime.h>

#include <mutex>

#include "adapters/mail/imap.h"

namespace procedo::mail {
namespace {

using projections::InboundMail;

void InitGMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

std::string Take(char* owned) {
  std::string out = owned ? owned : "";
  g_free(owned);
  return out;
}

std::string Trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
  size_t b = out.find_first_not_of(" \t");
  return b == std::string::npos ? "" : out.substr(b);
}

// A crude reading of HTML for a message with no plain-text part: the tags go, the words stay.
std::string TextOfHtml(const std::string& html) {
  std::string out;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') in_tag = true;
    else if (c == '>') in_tag = false;
    else if (!in_tag) out += c;
  }
  return out;
}

struct Walk {
  InboundMail* mail;
  std::string html;
};

void OnPart(GMimeObject*, GMimeObject* part, gpointer data) {
  auto* walk = static_cast<Walk*>(data);
  if (!GMIME_IS_PART(part)) return;  // containers; their parts come one by one
  GMimePart* p = GMIME_PART(part);
  GMimeContentType* type = g_mime_object_get_content_type(part);
  const char* filename = g_mime_part_get_filename(p);
  const bool attachment = g_mime_part_is_attachment(p) || filename != nullptr;
  if (!attachment && GMIME_IS_TEXT_PART(part)) {
    if (g_mime_content_type_is_type(type, "text", "plain") && walk->mail->text.empty()) {
      walk->mail->text = Take(g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
    } else if (g_mime_content_type_is_type(type, "text", "html") && walk->html.empty()) {
      walk->html = Take(g_mime_text_part_get_text(GMIME_TEXT_PART(part)));
    }
    return;
  }
  GMimeDataWrapper* content = g_mime_part_get_content(p);
  if (content == nullptr) return;
  GMimeStream* out = g_mime_stream_mem_new();
  g_mime_data_wrapper_write_to_stream(content, out);  // decodes base64 / quoted-printable
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
  projections::MailAttachment a;
  a.name = filename ? filename : "allegato";
  a.content_type = Take(g_mime_content_type_get_mime_type(type));
  if (bytes != nullptr) a.content.assign(reinterpret_cast<const char*>(bytes->data), bytes->len);
  g_object_unref(out);
  walk->mail->attachments.push_back(std::move(a));
}

// The message ids a header lists ("<a@x> <b@y>"), in the order written.
std::vector<std::string> Ids(const char* value) {
  std::vector<std::string> out;
  if (value == nullptr) return out;
  GMimeReferences* refs = g_mime_references_parse(nullptr, value);
  if (refs == nullptr) return out;
  for (int i = 0; i < g_mime_references_length(refs); ++i) {
    if (const char* id = g_mime_references_get_message_id(refs, i)) out.emplace_back(id);
  }
  g_mime_references_free(refs);
  return out;
}

}  // namespace

InboundMail ParseMail(std::string raw) {
  InitGMime();
  InboundMail m;
  m.raw = std::move(raw);
  GMimeStream* stream = g_mime_stream_mem_new_with_buffer(m.raw.data(), m.raw.size());
  GMimeParser* parser = g_mime_parser_new_with_stream(stream);
  g_object_unref(stream);
  GMimeMessage* msg = g_mime_parser_construct_message(parser, nullptr);
  g_object_unref(parser);
  if (msg == nullptr) return m;
  m.parsed = true;
  InternetAddressList* from = g_mime_message_get_from(msg);
  for (int i = 0; from != nullptr && i < internet_address_list_length(from); ++i) {
    InternetAddress* a = internet_address_list_get_address(from, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
      m.from = Trimmed(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a)));
      break;
    }
  }
  m.subject = Trimmed(g_mime_message_get_subject(msg));
  m.message_id = Trimmed(g_mime_message_get_message_id(msg));
  GMimeHeaderList* headers = g_mime_object_get_header_list(GMIME_OBJECT(msg));
  auto header = [headers](const char* name) -> const char* {
    GMimeHeader* h = g_mime_header_list_get_header(headers, name);
    return h ? g_mime_header_get_value(h) : nullptr;
  };
  for (const char* name : {"auto-submitted", "precedence", "return-path", "x-autoreply",
                           "x-autorespond", "list-id", "content-type"}) {
    if (const char* v = header(name)) m.headers[name] = Trimmed(v);
  }
  m.replied_to = Ids(header("In-Reply-To"));
  // References lists the thread oldest first; the mail answered is the last.
  auto refs = Ids(header("References"));
  m.replied_to.insert(m.replied_to.end(), refs.rbegin(), refs.rend());
  Walk walk{&m, {}};
  g_mime_message_foreach(msg, OnPart, &walk);
  if (m.text.empty() && !walk.html.empty()) m.text = TextOfHtml(walk.html);
  g_object_unref(msg);
  return m;
}

}  // namespace procedo::mail
