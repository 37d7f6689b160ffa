// pagoPA's GPD (Gestione Posizioni Debitorie) over HTTP: the debt-position API v1 and the
// receipts API, as domain/PAYMENTS.md describes them from pagoPA's published documents. Every
// call carries the Ente's subscription key (Ocp-Apim-Subscription-Key), which no message,
// record or log line ever shows. A create is not idempotent at pagoPA (a retry whose first
// attempt committed answers 409): the position is then read back by its IUPD and accepted when
// it holds the same numbers and amount.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "engine/crypto/personal.h"
#include "projections/reactors/payments.h"

namespace procedo::pagopa {

struct GpdOptions {
  std::string positions_url;  // .../gpd/debt-positions-service/v1
  std::string receipts_url;   // .../gpd/payments-receipts-service/v1
  std::string subscription_key;
  std::chrono::milliseconds timeout{10'000};
  // With personal data sealed, the debtor's fiscal code and name are opened here, at the edge,
  // for the platform that needs them, and nowhere before.
  const crypto::PersonalData* personal = nullptr;
};

class GpdClient final : public projections::PaymentPlatform {
 public:
  explicit GpdClient(GpdOptions options);
  ~GpdClient() override;
  GpdClient(const GpdClient&) = delete;
  GpdClient& operator=(const GpdClient&) = delete;

  projections::PlatformReply Publish(const projections::PositionToPublish& p) override;
  projections::PlatformReply Read(const std::string& org, const std::string& iupd) override;
  projections::PlatformReply Invalidate(const std::string& org, const std::string& iupd) override;
  Result<std::vector<std::string>> PaidSince(const std::string& org,
                                             const std::string& from) override;
  Result<projections::PlatformReceipt> Receipt(const std::string& org,
                                               const std::string& iuv) override;

  // The GPD create body of a position (tests compare it with what the stand-in stored).
  static std::string PositionBody(const projections::PositionToPublish& p);
  // A stored receipt (PaSendRTV2Request, with or without a namespace prefix) read by the local
  // names of its elements.
  static Result<projections::PlatformReceipt> ParseReceipt(const std::string& xml);

 private:
  struct Answer {
    int status = 0;  // 0: no answer
    std::string body;
    std::string error;  // why there was no answer
  };
  Answer Call(const std::string& method, const std::string& url, const std::string& body);

  GpdOptions options_;
  std::mutex mu_;
  void* curl_ = nullptr;
};

}  // namespace procedo::pagopa
