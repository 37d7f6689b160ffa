#include "adapters/web/payment_notice.h"

#include <fmt/format.h>
#include <qrencode.h>

#include <regex>

#include "adapters/web/charts.h"  // EscapeMarkup
#include "domain/italian_text.h"
#include "domain/payment_notice.h"

namespace procedo::web {
namespace {

using nlohmann::json;

std::string Text(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string QrSvg(const std::string& payload, const std::string& label) {
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString8bit(payload.c_str(), 4, QR_ECLEVEL_M), &QRcode_free);
  if (!code) return "";
  constexpr int kQuiet = 4;
  const int width = code->width;
  const int side = width + 2 * kQuiet;
  // A horizontal run of dark modules is one rectangle: a short path, crisp at any size.
  std::string path;
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width;) {
      if ((code->data[y * width + x] & 1) == 0) {
        ++x;
        continue;
      }
      int run = 1;
      while (x + run < width && (code->data[y * width + x + run] & 1) != 0) ++run;
      path += fmt::format("M{} {}h{}v1h-{}z", x + kQuiet, y + kQuiet, run, run);
      x += run;
    }
  }
  return fmt::format(
      "<svg class=\"avviso-qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {0}\" "
      "role=\"img\" aria-label=\"{1}\" shape-rendering=\"crispEdges\"><title>{1}</title>"
      "<rect width=\"{0}\" height=\"{0}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{2}\"/></svg>",
      side, EscapeMarkup(label), path);
}

std::string NoticeAmount(long long cents) {
  // ItalianEuro writes "€ 1.020,99"; the notice puts the sign after the amount.
  const std::string euro = domain::ItalianEuro(cents);
  const std::string prefix = "€ ";
  return (euro.starts_with(prefix) ? euro.substr(prefix.size()) : euro) + " €";
}

std::string NoticeDate(const std::string& date) {
  static const std::regex kDate("^([0-9]{4})-([0-9]{2})-([0-9]{2})$");
  std::smatch m;
  if (!std::regex_match(date, m, kDate)) return date;
  return fmt::format("{}/{}/{}", m[3].str(), m[2].str(), m[1].str());
}

Result<std::optional<json>> ReadablePosition(const Principal& who, const std::string& stream,
                                             const PositionRowOf& row_of, const StateOf& state_of) {
  if (!stream.starts_with("payment-")) return std::optional<json>();
  auto row = row_of(stream);
  if (!row.ok() || !row->has_value() || !(*row)->is_object()) return row;
  const std::string tenant = Text(**row, "tenant");
  const std::string reference = Text(**row, "reference");
  domain::StreamFacts of_reference;
  if (!reference.empty() && reference != stream) {
    auto ref = state_of(reference);
    if (ref.ok()) {
      of_reference = domain::FactsOf(**ref);
    } else if (!ref.status().IsInvalidArgument() &&
               ref.status().code() != Status::Code::kNotFound) {
      return ref.status();
    }
  }
  if (!domain::MayRead(who, domain::PaymentFacts(tenant, of_reference))) {
    return std::optional<json>();
  }
  return row;
}

json NoticeData(const json& row, const domain::PaymentSettings& settings,
                const std::string& state) {
  const std::string status = Text(row, "status");
  const long long cents = row.value("amount_cents", 0LL);
  const json debtor = row.value("debtor", json::object());
  json d = {{"subject", Text(row, "description")},
            {"state", state},
            {"ente_name", settings.creditor_name},
            {"ente_fiscal_code", settings.creditor_fiscal_code},
            {"office", settings.office},
            {"info", settings.info},
            {"cbill", settings.cbill},
            {"debtor_name", Text(debtor, "name")},
            {"debtor_fiscal_code", Text(debtor, "fiscal_code")},
            {"amount", NoticeAmount(cents)},
            {"due", NoticeDate(Text(row, "due_date"))},
            {"payable", status == "created" || status == "published"},
            {"publishing", status == "created"},
            {"paid", status == "paid"},
            {"withdrawn", status == "cancelled" || status == "expired"}};
  auto number = domain::ParseNoticeNumber(Text(row, "notice_number"));
  if (number.ok()) {
    d["code"] = number->Printed();
    d["qr"] = QrSvg(number->QrPayload(settings.creditor_fiscal_code, cents),
                    "Codice QR dell'avviso " + number->Printed());
  }
  return d;
}

}  // namespace procedo::web
