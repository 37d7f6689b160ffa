#include "engine/fault_fs.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>

namespace procedo::testing {
namespace {

namespace fs = std::filesystem;
using rocksdb::IOStatus;

// A file as the disk knows it, whatever its name: a rename moves the name, not the bytes.
struct Node {
  uint64_t size = 0;                // bytes written so far
  uint64_t synced = 0;              // the prefix a power loss keeps
  bool data_synced = false;         // Sync or Fsync ever ran: the file itself can survive
  std::string path;                 // its current name; empty once it has none
  std::optional<std::string> kept;  // its durable bytes, read when it lost its last name
};
using NodePtr = std::shared_ptr<Node>;

std::string Normal(const std::string& path) {
  std::string p = fs::path(path).lexically_normal().string();
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

std::string Parent(const std::string& path) {
  return fs::path(path).parent_path().string();
}

IOStatus PowerLost() {
  return IOStatus::IOError("simulated power loss: the disk is gone");
}

Result<std::string> ReadPrefix(const std::string& path, uint64_t n) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes(n, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(n))) {
    return Status::IoError(fmt::format("cannot read the first {} bytes of {}", n, path));
  }
  return bytes;
}

}  // namespace

struct FaultFs::State {
  // Held across each mutating call, so the power goes off between two of them (or instead of
  // one), never in the middle of one.
  mutable std::mutex mu;
  bool off = false;
  std::string root;
  std::map<std::string, NodePtr> live;     // names as they are now
  std::map<std::string, NodePtr> durable;  // names as of their directory's last fsync
  uint64_t syncs = 0;
  uint64_t countdown = 0;  // armed: the mutating call that finds it at 1 cuts the power
  std::string armed_image;
  std::optional<Result<PowerLossReport>> loss;

  // Before each mutating call, under `mu`: may it reach the disk?
  IOStatus Admit() {
    if (!off && countdown > 0 && --countdown == 0) loss = CutPower(armed_image);
    return off ? PowerLost() : IOStatus::OK();
  }

  Result<PowerLossReport> CutPower(const std::string& image);

  // `n` is about to lose its name `n->path` (deleted, or replaced by a rename or a creation). If
  // a durable name still points at it, a power loss brings it back: keep its bytes while they
  // can still be read.
  Status PrepareUnlink(const NodePtr& n) {
    if (n->kept) return Status::Ok();
    for (const auto& [name, d] : durable) {
      if (d != n) continue;
      auto bytes = ReadPrefix(n->path, n->synced);
      if (!bytes.ok()) return bytes.status();
      n->kept = std::move(bytes).value();
      break;
    }
    return Status::Ok();
  }

  NodePtr Find(const std::string& name) const {
    auto it = live.find(name);
    return it == live.end() ? nullptr : it->second;
  }
};

namespace {

using State = FaultFs::State;

IOStatus ToIo(const Status& s) {
  return s.ok() ? IOStatus::OK() : IOStatus::IOError(s.message());
}

class FaultFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultFile(std::unique_ptr<rocksdb::FSWritableFile> f, std::shared_ptr<State> st, NodePtr node)
      : FSWritableFileOwnerWrapper(std::move(f)), st_(std::move(st)), node_(std::move(node)) {}

  IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                  rocksdb::IODebugContext* dbg) override {
    return Guarded([&] { return FSWritableFileOwnerWrapper::Append(data, o, dbg); },
                   [&] { node_->size += data.size(); });
  }
  IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                  const rocksdb::DataVerificationInfo& info,
                  rocksdb::IODebugContext* dbg) override {
    return Guarded([&] { return FSWritableFileOwnerWrapper::Append(data, o, info, dbg); },
                   [&] { node_->size += data.size(); });
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                            const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return Guarded(
        [&] { return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, dbg); },
        [&] { node_->size = std::max(node_->size, offset + data.size()); });
  }
  IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                            const rocksdb::IOOptions& o, const rocksdb::DataVerificationInfo& info,
                            rocksdb::IODebugContext* dbg) override {
    return Guarded(
        [&] { return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, info, dbg); },
        [&] { node_->size = std::max(node_->size, offset + data.size()); });
  }
  IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o,
                    rocksdb::IODebugContext* dbg) override {
    return Guarded([&] { return FSWritableFileOwnerWrapper::Truncate(size, o, dbg); },
                   [&] {
                     node_->size = size;
                     node_->synced = std::min(node_->synced, size);
                   });
  }
  IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return Guarded([&] { return FSWritableFileOwnerWrapper::Sync(o, dbg); }, [&] { Synced(); });
  }
  IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return Guarded([&] { return FSWritableFileOwnerWrapper::Fsync(o, dbg); }, [&] { Synced(); });
  }
  // sync_file_range persists data pages but not the size or the inode: it extends the durable
  // prefix of a file that exists, and never makes a new file durable by itself.
  IOStatus RangeSync(uint64_t offset, uint64_t n, const rocksdb::IOOptions& o,
                     rocksdb::IODebugContext* dbg) override {
    return Guarded([&] { return FSWritableFileOwnerWrapper::RangeSync(offset, n, o, dbg); },
                   [&] {
                     if (offset <= node_->synced) {
                       node_->synced = std::max(node_->synced, std::min(offset + n, node_->size));
                     }
                   });
  }

 private:
  template <typename Op, typename Then>
  IOStatus Guarded(Op op, Then then) {
    std::lock_guard lock(st_->mu);
    if (IOStatus admitted = st_->Admit(); !admitted.ok()) return admitted;
    IOStatus s = op();
    if (s.ok()) then();
    return s;
  }
  void Synced() {
    node_->synced = node_->size;
    node_->data_synced = true;
    ++st_->syncs;
  }

  std::shared_ptr<State> st_;
  NodePtr node_;
};

class FaultDir : public rocksdb::FSDirectoryWrapper {
 public:
  FaultDir(std::unique_ptr<rocksdb::FSDirectory> d, std::shared_ptr<State> st, std::string path)
      : FSDirectoryWrapper(std::move(d)), st_(std::move(st)), path_(std::move(path)) {}

  IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return Commit([&] { return FSDirectoryWrapper::Fsync(o, dbg); });
  }
  IOStatus FsyncWithDirOptions(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& opts) override {
    return Commit([&] { return FSDirectoryWrapper::FsyncWithDirOptions(o, dbg, opts); });
  }

 private:
  // Every name in this directory becomes durable as it is now, whatever the reason RocksDB gave.
  template <typename Op>
  IOStatus Commit(Op op) {
    std::lock_guard lock(st_->mu);
    if (IOStatus admitted = st_->Admit(); !admitted.ok()) return admitted;
    IOStatus s = op();
    if (!s.ok()) return s;
    std::erase_if(st_->durable, [&](const auto& e) { return Parent(e.first) == path_; });
    for (const auto& [name, n] : st_->live) {
      if (Parent(name) == path_) st_->durable[name] = n;
    }
    return s;
  }

  std::shared_ptr<State> st_;
  std::string path_;
};

}  // namespace

FaultFs::FaultFs(const std::string& root)
    : FileSystemWrapper(rocksdb::FileSystem::Default()), state_(std::make_shared<State>()) {
  state_->root = Normal(root);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(state_->root, ec)) {
    if (!entry.is_regular_file()) continue;
    auto n = std::make_shared<Node>();
    n->path = Normal(entry.path().string());
    n->size = n->synced = entry.file_size();
    n->data_synced = true;
    state_->live[n->path] = n;
    state_->durable[n->path] = n;
  }
}

FaultFs::~FaultFs() = default;

std::shared_ptr<rocksdb::Env> FaultFs::NewEnv(const std::shared_ptr<FaultFs>& fs) {
  return rocksdb::NewCompositeEnv(fs);
}

IOStatus FaultFs::NewWritableFile(const std::string& name, const FileOptions& opts,
                                  std::unique_ptr<rocksdb::FSWritableFile>* result,
                                  IODebugContext* dbg) {
  const std::string path = Normal(name);
  std::lock_guard lock(state_->mu);
  if (IOStatus admitted = state_->Admit(); !admitted.ok()) return admitted;
  if (state_->Find(path)) return IOStatus::NotSupported("FaultFs models no overwrite in place");
  std::unique_ptr<rocksdb::FSWritableFile> f;
  IOStatus s = target()->NewWritableFile(name, opts, &f, dbg);
  if (!s.ok()) return s;
  auto n = std::make_shared<Node>();
  n->path = path;
  state_->live[path] = n;
  *result = std::make_unique<FaultFile>(std::move(f), state_, std::move(n));
  return s;
}

IOStatus FaultFs::ReopenWritableFile(const std::string& name, const FileOptions& opts,
                                     std::unique_ptr<rocksdb::FSWritableFile>* result,
                                     IODebugContext* dbg) {
  const std::string path = Normal(name);
  std::lock_guard lock(state_->mu);
  if (IOStatus admitted = state_->Admit(); !admitted.ok()) return admitted;
  std::unique_ptr<rocksdb::FSWritableFile> f;
  IOStatus s = target()->ReopenWritableFile(name, opts, &f, dbg);
  if (!s.ok()) return s;
  NodePtr n = state_->Find(path);
  if (!n) {
    // Not created through here: nothing of it is known to be durable.
    n = std::make_shared<Node>();
    n->path = path;
    uint64_t size = 0;
    s = target()->GetFileSize(name, IOOptions(), &size, dbg);
    if (!s.ok()) return s;
    n->size = size;
    state_->live[path] = n;
  }
  *result = std::make_unique<FaultFile>(std::move(f), state_, std::move(n));
  return s;
}

IOStatus FaultFs::NewDirectory(const std::string& name, const IOOptions& io,
                               std::unique_ptr<rocksdb::FSDirectory>* result, IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> d;
  IOStatus s = target()->NewDirectory(name, io, &d, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<FaultDir>(std::move(d), state_, Normal(name));
  return s;
}

IOStatus FaultFs::DeleteFile(const std::string& name, const IOOptions& io, IODebugContext* dbg) {
  const std::string path = Normal(name);
  std::lock_guard lock(state_->mu);
  if (IOStatus admitted = state_->Admit(); !admitted.ok()) return admitted;
  NodePtr n = state_->Find(path);
  if (n) {
    if (IOStatus s = ToIo(state_->PrepareUnlink(n)); !s.ok()) return s;
  }
  IOStatus s = target()->DeleteFile(name, io, dbg);
  if (s.ok() && n) {
    n->path.clear();
    state_->live.erase(path);
  }
  return s;
}

IOStatus FaultFs::RenameFile(const std::string& from, const std::string& to, const IOOptions& io,
                             IODebugContext* dbg) {
  const std::string src = Normal(from), dst = Normal(to);
  std::lock_guard lock(state_->mu);
  if (IOStatus admitted = state_->Admit(); !admitted.ok()) return admitted;
  NodePtr moved = state_->Find(src), replaced = state_->Find(dst);
  if (replaced) {
    if (IOStatus s = ToIo(state_->PrepareUnlink(replaced)); !s.ok()) return s;
  }
  IOStatus s = target()->RenameFile(from, to, io, dbg);
  if (!s.ok()) return s;
  if (replaced) replaced->path.clear();
  state_->live.erase(dst);
  if (moved) {
    state_->live.erase(src);
    moved->path = dst;
    state_->live[dst] = moved;
  }
  return s;
}

IOStatus FaultFs::Truncate(const std::string& name, size_t size, const IOOptions& io,
                           IODebugContext* dbg) {
  const std::string path = Normal(name);
  std::lock_guard lock(state_->mu);
  if (IOStatus admitted = state_->Admit(); !admitted.ok()) return admitted;
  IOStatus s = target()->Truncate(name, size, io, dbg);
  if (NodePtr n = state_->Find(path); s.ok() && n) {
    n->size = size;
    n->synced = std::min<uint64_t>(n->synced, size);
  }
  return s;
}

Result<PowerLossReport> FaultFs::SimulatePowerLoss(const std::string& image) {
  std::lock_guard lock(state_->mu);
  if (state_->off) return Status::InvalidArgument("the power is already off");
  state_->loss = state_->CutPower(image);
  return *state_->loss;
}

void FaultFs::SimulatePowerLossAt(uint64_t n, const std::string& image) {
  std::lock_guard lock(state_->mu);
  state_->countdown = std::max<uint64_t>(n, 1);
  state_->armed_image = image;
}

std::optional<Result<PowerLossReport>> FaultFs::power_loss() const {
  std::lock_guard lock(state_->mu);
  return state_->loss;
}

Result<PowerLossReport> FaultFs::State::CutPower(const std::string& image) {
  off = true;
  countdown = 0;

  PowerLossReport r;
  r.syncs = syncs;
  std::error_code ec;
  fs::create_directories(image, ec);
  if (ec) return Status::IoError(fmt::format("cannot create {}: {}", image, ec.message()));
  auto target = [&](const std::string& path) -> Result<std::string> {
    if (Parent(path) != root) {
      return Status::InvalidArgument(fmt::format("{} is outside {}: not modelled", path, root));
    }
    return (fs::path(image) / fs::path(path).filename()).string();
  };
  auto write = [&](const std::string& path, const std::string& bytes) -> Status {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    return out ? Status::Ok() : Status::IoError("cannot write " + path);
  };

  for (const auto& [name, n] : live) r.unsynced_bytes += n->size - n->synced;
  for (const auto& [name, n] : durable) {
    if (!n->data_synced) continue;
    auto to = target(name);
    if (!to.ok()) return to.status();
    Result<std::string> bytes =
        n->kept ? Result<std::string>(*n->kept) : ReadPrefix(n->path, n->synced);
    if (!bytes.ok()) return bytes.status();
    if (Status s = write(*to, *bytes); !s.ok()) return s;
    if (Find(name) != n) ++r.names_restored;
  }
  for (const auto& [name, n] : live) {
    auto d = durable.find(name);
    if (d == durable.end() || !d->second->data_synced) ++r.files_dropped;
  }
  // Files made without this interface: copied as they are.
  std::error_code list_ec;
  for (const auto& entry : fs::directory_iterator(root, list_ec)) {
    const std::string name = Normal(entry.path().string());
    if (!entry.is_regular_file() || live.contains(name) || durable.contains(name)) continue;
    fs::copy_file(entry.path(), fs::path(image) / entry.path().filename(), ec);
    if (ec) return Status::IoError(fmt::format("cannot copy {}: {}", name, ec.message()));
  }
  if (list_ec) return Status::IoError(fmt::format("cannot list {}: {}", root, list_ec.message()));
  return r;
}

}  // namespace procedo::testing
