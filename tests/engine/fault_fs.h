// A file system for durability tests. Every write reaches the real disk, as in production; on
// the side it keeps what a power loss would leave of each file, so a test can cut the power at
// any instant and reopen what the disk would hold when it came back.
//
// The model grants what fsync promises and nothing more, as a careful application must assume:
// - a file's bytes are durable up to its last Sync or Fsync (or a RangeSync that continues the
//   synced prefix, as RocksDB's own fault injection counts it); closing a file syncs nothing;
// - a name (a creation, a rename, a deletion) is durable once its directory is fsynced after it;
// - a new file survives only when its name is durable and its data was synced at least once;
//   every surviving file loses what it had not synced, all of it: no torn tail is kept;
// - a rename or deletion whose directory was not synced since is undone: the old name comes
//   back with the bytes it had made durable;
// - directories themselves, and files that were already there when the file system was made,
//   are durable. Files created without this interface (RocksDB's info LOG, its LOCK) are copied
//   as they are: they hold no data.
// Overwriting an existing file in place, writes at random offsets, hard links and recycled files
// are refused (NotSupported): the log does none of them, and the model cannot describe them.
#pragma once

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "engine/base/status.h"

namespace procedo::testing {

struct PowerLossReport {
  uint64_t unsynced_bytes = 0;  // written to files still named, never synced: gone
  int files_dropped = 0;        // names that exist now and not after the power loss
  int names_restored = 0;       // renames and deletions undone, old contents back
  uint64_t syncs = 0;           // file syncs before the power loss
};

class FaultFs : public rocksdb::FileSystemWrapper {
 public:
  // `root`: the directory whose files the power loss images (the log's directory).
  explicit FaultFs(const std::string& root);
  ~FaultFs() override;

  // An Env for LogOptions::env that does its file I/O here.
  static std::shared_ptr<rocksdb::Env> NewEnv(const std::shared_ptr<FaultFs>& fs);

  // The power goes off now: every later write, sync, rename or deletion fails, so nothing can be
  // acknowledged after this instant, and `image` (a new directory) receives what the disk holds
  // when the power comes back. The files under `root` are left as they are, for the process to
  // close or abandon: nothing it does from here on reaches the image.
  Result<PowerLossReport> SimulatePowerLoss(const std::string& image);
  // The same, instead of the `n`-th write, sync, rename or deletion from now on (n >= 1), on
  // whichever thread makes it: unlike a call from outside, which waits for the call in progress,
  // it can fall between a write and its sync.
  void SimulatePowerLossAt(uint64_t n, const std::string& image);
  // What the power loss reported; nullopt while the power is on.
  std::optional<Result<PowerLossReport>> power_loss() const;

  const char* Name() const override { return "FaultFs"; }

  using IOStatus = rocksdb::IOStatus;
  using IOOptions = rocksdb::IOOptions;
  using FileOptions = rocksdb::FileOptions;
  using IODebugContext = rocksdb::IODebugContext;

  IOStatus NewWritableFile(const std::string& name, const FileOptions& opts,
                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                           IODebugContext* dbg) override;
  IOStatus ReopenWritableFile(const std::string& name, const FileOptions& opts,
                              std::unique_ptr<rocksdb::FSWritableFile>* result,
                              IODebugContext* dbg) override;
  IOStatus ReuseWritableFile(const std::string&, const std::string&, const FileOptions&,
                             std::unique_ptr<rocksdb::FSWritableFile>*, IODebugContext*) override {
    return IOStatus::NotSupported("FaultFs models no recycled files");
  }
  IOStatus NewRandomRWFile(const std::string&, const FileOptions&,
                           std::unique_ptr<rocksdb::FSRandomRWFile>*, IODebugContext*) override {
    return IOStatus::NotSupported("FaultFs models no writes at random offsets");
  }
  IOStatus NewDirectory(const std::string& name, const IOOptions& io,
                        std::unique_ptr<rocksdb::FSDirectory>* result,
                        IODebugContext* dbg) override;
  IOStatus DeleteFile(const std::string& name, const IOOptions& io, IODebugContext* dbg) override;
  IOStatus RenameFile(const std::string& from, const std::string& to, const IOOptions& io,
                      IODebugContext* dbg) override;
  IOStatus LinkFile(const std::string&, const std::string&, const IOOptions&,
                    IODebugContext*) override {
    return IOStatus::NotSupported("FaultFs models no hard links");
  }
  IOStatus Truncate(const std::string& name, size_t size, const IOOptions& io,
                    IODebugContext* dbg) override;

  struct State;  // shared with the open files and directories, which may outlive this object

 private:
  std::shared_ptr<State> state_;
};

}  // namespace procedo::testing
