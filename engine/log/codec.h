// Byte layouts of the log's column families; engine/README.md documents them for auditors.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/log/event.h"
#include "engine/base/status.h"

namespace procedo::codec {

inline constexpr uint8_t kEventFormat = 1;

// Big-endian so that RocksDB's bytewise order is numeric order.
void PutFixed64BE(std::string* dst, uint64_t v);
uint64_t DecodeFixed64BE(const char* p);

std::string PositionKey(uint64_t position);
// stream bytes, 0x00, version (8 bytes BE). Stream ids never contain 0x00.
std::string StreamIndexKey(std::string_view stream, uint64_t version);
std::string StreamIndexPrefix(std::string_view stream);

// The stored value of an event. Its canonical bytes (what the hash covers) are the value
// without its final 32 bytes, the hash itself; the canonical bytes include prev_hash.
std::string EncodeEvent(const Event& e);
Result<Event> DecodeEvent(std::string_view value);
// The position a stored event says it has, read without decoding the rest (CheckLink checks it).
Result<uint64_t> StoredPosition(std::string_view value);
// Hash = SHA-256(canonical bytes). Fills e->hash in `encoded` and returns it.
Hash SealEncodedEvent(std::string* encoded);
Hash ComputeHash(std::string_view encoded_value);

// Incremental SHA-256 (OpenSSL EVP).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(const void* data, size_t n);
  Hash Final();

 private:
  void* ctx_;
};

}  // namespace procedo::codec
