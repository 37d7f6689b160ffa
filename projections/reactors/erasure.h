// The erasures carried out: a reactor that follows the log and, for each subject.erased, destroys
// the keys of the subject's groups named (all of them when none is) in the subject key store; a
// page's erased keys leave the disk together before its progress moves. Only the owner's
// erasure acts: a subject
// another tenant claimed is left alone (counted as refused), so that one Ente can never shred
// another's data.
//
// At least once, and harmless twice: destroying a key already destroyed changes nothing. Its
// progress is kept in the key store itself (ErasedThrough), written after the keys, so that a
// crash between the two repeats the erasure instead of skipping it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/crypto/subject_keys.h"
#include "engine/log/log_store.h"
#include "engine/views/consumer.h"

namespace procedo::projections {

class ErasureReactor final : public Consumer {
 public:
  // Both must outlive the reactor.
  ErasureReactor(const LogStore& log, crypto::SubjectKeyStore& keys);
  ~ErasureReactor() override;
  ErasureReactor(const ErasureReactor&) = delete;
  ErasureReactor& operator=(const ErasureReactor&) = delete;

  std::string name() const override { return "erasure"; }
  Status Start() override;
  void Stop() override;
  ConsumerProgress Progress() const override;

  // Carries out what the log holds past the progress mark, waiting up to `wait` for something
  // new; the reactor's thread calls it in a loop, tests on their own thread. Returns the number
  // of erasures carried out.
  Result<size_t> Pump(std::chrono::milliseconds wait = std::chrono::milliseconds(0));
  // Until the started reactor has carried out the whole log as it is now; false on timeout.
  bool WaitSettled(std::chrono::milliseconds timeout);
  // Until it has carried out every erasure up to the log position `target`; false on timeout.
  // For read-your-writes: a read after an erasure's answer shows the data erased.
  bool WaitFor(uint64_t target, std::chrono::milliseconds timeout);

  uint64_t erased() const { return erased_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  void Loop();
  Status Carry(const Event& e);

  const LogStore& log_;
  crypto::SubjectKeyStore& keys_;
  std::unique_ptr<Subscription> sub_;
  uint64_t marked_ = 0;  // the progress mark as stored
  std::atomic<uint64_t> position_{0}, erased_{0}, refused_{0};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable advanced_;
  Status health_;
  std::thread thread_;
};

}  // namespace procedo::projections
