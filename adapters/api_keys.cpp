#include "adapters/api_keys.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace procedo {

std::string Sha256Hex(const std::string& text) {
  unsigned char h[32];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), h, &n, EVP_sha256(), nullptr);
  std::string out;
  for (unsigned i = 0; i < n; ++i) out += fmt::format("{:02x}", h[i]);
  return out;
}

Result<NewApiKey> CreateApiKey(const std::string& file, const std::string& tenant,
                               const std::string& name) {
  if (tenant.empty()) return Status::InvalidArgument("an API key belongs to a tenant: pass --tenant");
  unsigned char raw[32 + 4];
  if (RAND_bytes(raw, sizeof raw) != 1) return Status::IoError("the system has no randomness to give");
  NewApiKey k;
  k.secret = "pk_";
  for (int i = 0; i < 32; ++i) k.secret += fmt::format("{:02x}", raw[i]);
  k.id = fmt::format("key-{:02x}{:02x}{:02x}{:02x}", raw[32], raw[33], raw[34], raw[35]);
  nlohmann::json j = {{"keys", nlohmann::json::array()}};
  if (std::filesystem::exists(file)) {
    std::ifstream in(file);
    j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("keys")) {
      return Status::InvalidArgument(fmt::format("'{}' is not an API key file; move it away", file));
    }
  }
  j["keys"].push_back({{"id", k.id}, {"tenant", tenant}, {"name", name}, {"sha256", Sha256Hex(k.secret)}});
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(file).parent_path(), ec);
  std::string tmp = file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) return Status::IoError(fmt::format("cannot write '{}'", tmp));
  }
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, ec);
  std::filesystem::rename(tmp, file, ec);
  if (ec) return Status::IoError(fmt::format("cannot replace '{}': {}", file, ec.message()));
  return k;
}

Result<std::shared_ptr<ApiKeyRing>> ApiKeyRing::Load(std::string file) {
  std::shared_ptr<ApiKeyRing> ring(new ApiKeyRing(std::move(file)));
  if (Status s = ring->Reload(); !s.ok()) return s;
  return ring;
}

Status ApiKeyRing::Reload() {
  std::map<std::string, Principal> keys;
  if (!file_.empty() && std::filesystem::exists(file_)) {
    std::ifstream in(file_);
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("keys") || !j["keys"].is_array()) {
      return Status::InvalidArgument(fmt::format(
          "API key file '{}' is not {{\"keys\": [...]}}: recreate it with `procedo apikey create`",
          file_));
    }
    for (const auto& k : j["keys"]) {
      if (!k.is_object() || !k.value("sha256", nlohmann::json()).is_string()) continue;
      keys[k["sha256"].get<std::string>()] =
          Principal{k.value("id", ""), "integrator", k.value("tenant", "")};
    }
  }
  std::lock_guard lock(mu_);
  keys_ = std::move(keys);
  return Status::Ok();
}

std::optional<Principal> ApiKeyRing::Find(const std::string& secret) const {
  const std::string hash = Sha256Hex(secret);
  std::lock_guard lock(mu_);
  auto it = keys_.find(hash);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

}  // namespace procedo
