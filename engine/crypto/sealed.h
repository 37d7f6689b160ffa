// Personal data sealed for an immutable log (crypto-shredding): each value is encrypted with the
// key of its data subject, XChaCha20-Poly1305 (libsodium's IETF AEAD, a random 192-bit nonce per
// value), with the event's id and the value's path as associated data, so that a ciphertext
// copied into another event or field does not open. The log's hash chain covers the sealed
// text; destroying the subject's key (subject_keys.h) leaves the chain whole and the value
// unreadable.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/base/status.h"

namespace procedo::crypto {

inline constexpr size_t kKeyBytes = 32;
using SubjectKey = std::array<uint8_t, kKeyBytes>;

// libsodium, once per process; false when it cannot start (no entropy source). Everything in
// the process that uses libsodium calls this first, so that it draws from one generator.
bool CryptoReady();

// "v1." + base64url(nonce || ciphertext || tag).
std::string Seal(const SubjectKey& key, std::string_view plaintext, std::string_view event_id,
                 std::string_view path);
// The same appended to `out`, its "v1." replaced by `tag` (three characters, bound into the
// associated data by the caller's path when it differs): no string but `out` is made.
void AppendSealed(std::string& out, const SubjectKey& key, std::string_view plaintext,
                  std::string_view event_id, std::string_view path, std::string_view tag = "v1.");
// The characters base64url (no padding) gives for `n` bytes.
constexpr size_t Base64UrlSize(size_t n) {
  return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}
// What a box adds to its plaintext: the nonce (24 bytes) and the tag (16).
inline constexpr size_t kBoxOverhead = 24 + 16;
// The characters Seal and AppendSealed give for `plaintext_size` bytes, their tag included.
constexpr size_t SealedSize(size_t plaintext_size) {
  return 3 + Base64UrlSize(plaintext_size + kBoxOverhead);
}
// `bytes` in base64url without padding, appended to `out`. Not constant-time: for what is public
// (ciphertexts, ids, paths), never for keys.
void AppendBase64Url(std::string& out, std::string_view bytes);
// The plaintext; InvalidArgument when the text is not a sealed value, Corruption when it does
// not open with this key, event and path (another key, a moved or altered ciphertext).
Result<std::string> Open(const SubjectKey& key, std::string_view sealed, std::string_view event_id,
                         std::string_view path);

// `n` bytes from the process's cryptographic generator (libsodium's, through a per-thread pool).
void RandomBytes(void* out, size_t n);

// A fresh random key.
SubjectKey NewKey();

// The box both of the above and the key store's wrapping are made of: nonce || ciphertext || tag
// of `plaintext` under `key`, authenticating `associated` too; Corruption when it does not open.
std::string Box(const SubjectKey& key, std::string_view plaintext, std::string_view associated);
Result<std::string> Unbox(const SubjectKey& key, std::string_view box, std::string_view associated);

}  // namespace procedo::crypto
