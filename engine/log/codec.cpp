#include "engine/log/codec.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

namespace procedo::codec {
namespace {

void PutFixed32LE(std::string* dst, uint32_t v) {
  char buf[4];
  for (int i = 0; i < 4; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  dst->append(buf, 4);
}

void PutFixed64LE(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (8 * i));
  dst->append(buf, 8);
}

void PutString(std::string* dst, std::string_view s) {
  PutFixed32LE(dst, static_cast<uint32_t>(s.size()));
  dst->append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Fixed64LE(uint64_t* v) {
    if (in_.size() < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v |= uint64_t(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(8);
    return true;
  }
  bool Bytes(void* dst, size_t n) {
    if (in_.size() < n) return false;
    std::memcpy(dst, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool String(std::string* s) {
    if (in_.size() < 4) return false;
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= uint32_t(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(4);
    if (in_.size() < n) return false;
    s->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

}  // namespace

void PutFixed64BE(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 0; i < 8; ++i) buf[i] = static_cast<char>(v >> (56 - 8 * i));
  dst->append(buf, 8);
}

uint64_t DecodeFixed64BE(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

std::string PositionKey(uint64_t position) {
  std::string k;
  PutFixed64BE(&k, position);
  return k;
}

std::string StreamIndexPrefix(std::string_view stream) {
  std::string k(stream);
  k.push_back('\0');
  return k;
}

std::string StreamIndexKey(std::string_view stream, uint64_t version) {
  std::string k = StreamIndexPrefix(stream);
  PutFixed64BE(&k, version);
  return k;
}

std::string EncodeEvent(const Event& e) {
  std::string v;
  v.reserve(128 + e.stream.size() + e.type.size() + e.tenant.size() + e.actor.size() +
            e.correlation_id.size() + e.causation_id.size() + e.data.size());
  v.push_back(static_cast<char>(kEventFormat));
  PutFixed64LE(&v, e.position);
  PutFixed64LE(&v, e.version);
  PutFixed64LE(&v, static_cast<uint64_t>(e.time.time_since_epoch().count()));
  v.append(reinterpret_cast<const char*>(e.id.data()), e.id.size());
  PutString(&v, e.stream);
  PutString(&v, e.type);
  PutString(&v, e.tenant);
  PutString(&v, e.actor);
  PutString(&v, e.correlation_id);
  PutString(&v, e.causation_id);
  PutString(&v, e.data);
  v.append(reinterpret_cast<const char*>(e.prev_hash.data()), e.prev_hash.size());
  v.append(reinterpret_cast<const char*>(e.hash.data()), e.hash.size());
  return v;
}

Result<Event> DecodeEvent(std::string_view value) {
  if (value.empty() || static_cast<uint8_t>(value[0]) != kEventFormat) {
    return Status::Corruption("event record has an unknown format byte; the log was written by "
                              "another program or altered");
  }
  Reader r(value.substr(1));
  Event e;
  uint64_t t = 0;
  bool ok = r.Fixed64LE(&e.position) && r.Fixed64LE(&e.version) && r.Fixed64LE(&t) &&
            r.Bytes(e.id.data(), e.id.size()) && r.String(&e.stream) && r.String(&e.type) &&
            r.String(&e.tenant) && r.String(&e.actor) && r.String(&e.correlation_id) &&
            r.String(&e.causation_id) && r.String(&e.data) &&
            r.Bytes(e.prev_hash.data(), e.prev_hash.size()) &&
            r.Bytes(e.hash.data(), e.hash.size());
  if (!ok || r.remaining() != 0) {
    return Status::Corruption("event record is truncated or has trailing bytes");
  }
  e.time = TimePoint(Micros(static_cast<int64_t>(t)));
  return e;
}

Result<uint64_t> StoredPosition(std::string_view value) {
  if (value.size() < 9 || static_cast<uint8_t>(value[0]) != kEventFormat) {
    return Status::Corruption("event record has an unknown format byte or is truncated");
  }
  uint64_t position = 0;
  Reader(value.substr(1)).Fixed64LE(&position);
  return position;
}

Hash ComputeHash(std::string_view encoded_value) {
  // OpenSSL 3's one-shot SHA256() looks the algorithm up on every call; a per-thread context
  // with the algorithm fetched once hashes a 400-byte event in about half the time.
  struct Ctx {
    EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Ctx() {
      EVP_MD_CTX_free(ctx);
      EVP_MD_free(md);
    }
  };
  thread_local Ctx c;
  Hash h{};
  size_t n = encoded_value.size() >= h.size() ? encoded_value.size() - h.size() : 0;
  unsigned int len = 0;
  EVP_DigestInit_ex(c.ctx, c.md, nullptr);
  EVP_DigestUpdate(c.ctx, encoded_value.data(), n);
  EVP_DigestFinal_ex(c.ctx, h.data(), &len);
  return h;
}

Hash SealEncodedEvent(std::string* encoded) {
  Hash h = ComputeHash(*encoded);
  std::memcpy(encoded->data() + encoded->size() - h.size(), h.data(), h.size());
  return h;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_sha256(), nullptr);
}
Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Sha256::Update(const void* data, size_t n) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, n);
}
Hash Sha256::Final() {
  Hash h{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), h.data(), &n);
  return h;
}

}  // namespace procedo::codec
