#include "adapters/kafka/checkpoint.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace procedo::kafka {
namespace {

constexpr const char* kMagic = "procedo-kafka-relay-checkpoint";

std::string FilePath(const std::string& dir) {
  return dir + "/checkpoint";
}

Status SyncPath(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0)
    return Status::IoError(fmt::format("cannot open '{}': {}", path, std::strerror(errno)));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IoError(fmt::format("fsync '{}': {}", path, std::strerror(err)));
  return Status::Ok();
}

bool ParseHash(const std::string& hex, Hash* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1) return false;
    (*out)[i] = static_cast<uint8_t>(v);
  }
  return true;
}

}  // namespace

Result<RelayCheckpoint> LoadCheckpoint(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Status::IoError(
        fmt::format("cannot create the relay's directory '{}': {}", dir, ec.message()));
  }
  const std::string path = FilePath(dir);
  std::ifstream in(path);
  if (!in) {
    if (!std::filesystem::exists(path)) return RelayCheckpoint{};
    return Status::IoError(fmt::format("cannot read '{}'", path));
  }
  std::string magic, version, hex;
  RelayCheckpoint cp;
  in >> magic >> version >> cp.position >> hex;
  if (!in || magic != kMagic || version != "1" || !ParseHash(hex, &cp.hash)) {
    return Status::Corruption(fmt::format(
        "'{}' is not a relay checkpoint; delete it to republish every event from position 1",
        path));
  }
  return cp;
}

Status SaveCheckpoint(const std::string& dir, const RelayCheckpoint& cp) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError(fmt::format("cannot create '{}': {}", dir, ec.message()));
  const std::string path = FilePath(dir);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kMagic << " 1 " << cp.position << " " << HashToHex(cp.hash) << "\n";
    out.flush();
    if (!out) return Status::IoError(fmt::format("cannot write '{}'", tmp));
  }
  if (Status s = SyncPath(tmp, O_RDONLY); !s.ok()) return s;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return Status::IoError(fmt::format("rename '{}' -> '{}': {}", tmp, path, std::strerror(errno)));
  }
  // The rename is durable only once the directory entry is.
  return SyncPath(dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace procedo::kafka
