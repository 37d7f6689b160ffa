#include "adapters/http/dev_keys.h"

#include <fmt/format.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace procedo::http {

Result<DevKeys> EnsureDevKeys(const std::string& dir) {
  DevKeys k{dir + "/private.pem", dir + "/public.pem"};
  if (std::filesystem::exists(k.private_pem_file) && std::filesystem::exists(k.public_pem_file)) return k;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError(fmt::format("cannot create '{}': {}", dir, ec.message()));
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  if (!key) return Status::IoError("OpenSSL could not generate an EC P-256 key");
  auto write = [&](const std::string& path, bool priv) -> Status {
    std::unique_ptr<FILE, decltype(&fclose)> f(fopen(path.c_str(), "w"), fclose);
    if (!f) return Status::IoError(fmt::format("cannot write '{}'", path));
    int ok = priv ? PEM_write_PrivateKey(f.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)
                  : PEM_write_PUBKEY(f.get(), key.get());
    if (!ok) return Status::IoError(fmt::format("cannot write the key to '{}'", path));
    return Status::Ok();
  };
  if (Status s = write(k.private_pem_file, true); !s.ok()) return s;
  std::filesystem::permissions(k.private_pem_file, std::filesystem::perms::owner_read |
                                                       std::filesystem::perms::owner_write, ec);
  if (Status s = write(k.public_pem_file, false); !s.ok()) return s;
  return k;
}

Result<std::string> IssueToken(const std::string& private_pem_file, const std::string& subject,
                               const std::string& role, const std::string& tenant,
                               std::chrono::seconds ttl, TimePoint now, const std::string& issuer) {
  std::ifstream in(private_pem_file);
  if (!in) return Status::NotFound(fmt::format("no private key at '{}'", private_pem_file));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string pem = ss.str();
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return Status::IoError("libjwt could not allocate a token");
  std::unique_ptr<jwt_t, decltype(&jwt_free)> jwt(raw, jwt_free);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  jwt_add_grant(jwt.get(), "sub", subject.c_str());
  jwt_add_grant(jwt.get(), "role", role.c_str());
  if (!tenant.empty()) jwt_add_grant(jwt.get(), "tenant", tenant.c_str());
  if (!issuer.empty()) jwt_add_grant(jwt.get(), "iss", issuer.c_str());
  jwt_add_grant_int(jwt.get(), "iat", secs);
  jwt_add_grant_int(jwt.get(), "exp", secs + ttl.count());
  if (jwt_set_alg(jwt.get(), JWT_ALG_ES256, reinterpret_cast<const unsigned char*>(pem.data()),
                  static_cast<int>(pem.size())) != 0) {
    return Status::InvalidArgument(fmt::format("'{}' is not an EC P-256 private key", private_pem_file));
  }
  char* encoded = jwt_encode_str(jwt.get());
  if (!encoded) return Status::IoError("libjwt could not sign the token");
  std::string token(encoded);
  free(encoded);
  return token;
}

}  // namespace procedo::http
