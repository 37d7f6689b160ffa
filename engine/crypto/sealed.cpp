#include "engine/crypto/sealed.h"

#include <pthread.h>
#include <sodium.h>

#include <atomic>
#include <cstring>
#include <stdexcept>

namespace procedo::crypto {
namespace {

// Bumped in a forked child: its threads' pools are its parent's bytes, and must not be used again.
std::atomic<uint64_t> fork_generation{0};

constexpr std::string_view kVersion = "v1.";
static_assert(kBoxOverhead == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                                  crypto_aead_xchacha20poly1305_ietf_ABYTES);

// What the tag authenticates besides the ciphertext: where the value belongs. The event id is
// fixed-length text and the path follows it, so no two (event, path) pairs give the same bytes.
std::string AssociatedData(std::string_view event_id, std::string_view path) {
  std::string ad;
  ad.reserve(event_id.size() + path.size() + 1);
  ad.append(event_id);
  ad.push_back('\0');
  ad.append(path);
  return ad;
}

}  // namespace

bool CryptoReady() {
  static const bool ready = [] {
    // libsodium's ChaCha20 generator, seeded from the kernel, its state per thread (Debian's
    // libsodium is built with thread-local storage): a command sealing three values and making
    // a subject draws eight nonces and keys, and the default generator spends a system call on
    // each. It refuses to run in a forked child (it aborts rather than repeat its parent's
    // stream), so a child that does not exec goes back to the kernel's generator.
    randombytes_set_implementation(&randombytes_internal_implementation);
    pthread_atfork(nullptr, nullptr, [] {
      randombytes_set_implementation(&randombytes_sysrandom_implementation);
      fork_generation.fetch_add(1);
    });
    return sodium_init() >= 0;
  }();
  return ready;
}

void RandomBytes(void* out, size_t n) {
  if (!CryptoReady()) throw std::runtime_error("libsodium did not start: no source of entropy");
  // Drawn from libsodium a pool at a time: even its user-space generator asks the kernel for the
  // process id on every call (to notice a fork), and a new person's first command draws eight
  // times. Bytes handed out are wiped from the pool; a forked child discards its parent's pool.
  struct Pool {
    unsigned char bytes[1024];
    size_t used = sizeof bytes;
    uint64_t generation = 0;
  };
  thread_local Pool pool;
  auto* to = static_cast<unsigned char*>(out);
  if (n > sizeof pool.bytes / 4) {
    randombytes_buf(to, n);
    return;
  }
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (pool.generation != generation || sizeof pool.bytes - pool.used < n) {
    randombytes_buf(pool.bytes, sizeof pool.bytes);
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(to, pool.bytes + pool.used, n);
  sodium_memzero(pool.bytes + pool.used, n);
  pool.used += n;
}

SubjectKey NewKey() {
  SubjectKey key;
  RandomBytes(key.data(), key.size());
  return key;
}

// nonce || ciphertext || tag into `box`, which has room for plaintext + kBoxOverhead bytes.
static void BoxInto(unsigned char* box, const SubjectKey& key, std::string_view plaintext,
                    std::string_view associated) {
  if (!CryptoReady()) throw std::runtime_error("libsodium did not start: no source of entropy");
  RandomBytes(box, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      box + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &written,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), nullptr, box,
      key.data());
}

std::string Box(const SubjectKey& key, std::string_view plaintext, std::string_view associated) {
  std::string box(kBoxOverhead + plaintext.size(), '\0');
  BoxInto(reinterpret_cast<unsigned char*>(box.data()), key, plaintext, associated);
  return box;
}

Result<std::string> Unbox(const SubjectKey& key, std::string_view box,
                          std::string_view associated) {
  if (!CryptoReady()) return Status::Unavailable("libsodium did not start: no source of entropy");
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  std::string plain(box.size() < kBoxOverhead ? 0 : box.size() - kBoxOverhead, '\0');
  unsigned long long plain_len = 0;
  if (box.size() < kBoxOverhead ||
      crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr,
          nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          box.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
          reinterpret_cast<const unsigned char*>(associated.data()), associated.size(), nonce,
          key.data()) != 0) {
    return Status::Corruption(
        "a sealed value does not open: another subject's key, or a ciphertext moved to another "
        "event or field, or altered");
  }
  plain.resize(plain_len);
  return plain;
}

void AppendBase64Url(std::string& out, std::string_view bytes) {
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const size_t start = out.size();
  out.resize(start + Base64UrlSize(bytes.size()));
  char* at = out.data() + start;
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    *at++ = kDigits[v >> 18];
    *at++ = kDigits[(v >> 12) & 63];
    *at++ = kDigits[(v >> 6) & 63];
    *at++ = kDigits[v & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (rest == 2 ? uint32_t{in[i + 1]} << 8 : 0);
    *at++ = kDigits[v >> 18];
    *at++ = kDigits[(v >> 12) & 63];
    if (rest == 2) *at++ = kDigits[(v >> 6) & 63];
  }
}

void AppendSealed(std::string& out, const SubjectKey& key, std::string_view plaintext,
                  std::string_view event_id, std::string_view path, std::string_view tag) {
  // Most values are a name, an address or a number: their box fits on the stack.
  unsigned char small[256 + kBoxOverhead];
  std::string large;
  unsigned char* box = small;
  if (plaintext.size() > 256) {
    large.resize(plaintext.size() + kBoxOverhead);
    box = reinterpret_cast<unsigned char*>(large.data());
  }
  BoxInto(box, key, plaintext, AssociatedData(event_id, path));
  out.reserve(out.size() + SealedSize(plaintext.size()));
  out.append(tag);
  AppendBase64Url(
      out, std::string_view(reinterpret_cast<const char*>(box), plaintext.size() + kBoxOverhead));
}

std::string Seal(const SubjectKey& key, std::string_view plaintext, std::string_view event_id,
                 std::string_view path) {
  std::string text;
  AppendSealed(text, key, plaintext, event_id, path);
  return text;
}

Result<std::string> Open(const SubjectKey& key, std::string_view sealed, std::string_view event_id,
                         std::string_view path) {
  if (!CryptoReady()) return Status::Unavailable("libsodium did not start: no source of entropy");
  if (!sealed.starts_with(kVersion)) {
    return Status::InvalidArgument("not a sealed value: it does not start with v1.");
  }
  sealed.remove_prefix(kVersion.size());
  std::string box(sealed.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(box.data()), box.size(), sealed.data(),
                        sealed.size(), nullptr, &len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      len < crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return Status::InvalidArgument("not a sealed value: its text is not base64url of a box");
  }
  box.resize(len);
  return Unbox(key, box, AssociatedData(event_id, path));
}

}  // namespace procedo::crypto
