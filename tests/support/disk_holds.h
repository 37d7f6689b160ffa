#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace procedo::testing {

// Whether any file under `dir` holds `bytes`: the byte search that shows a secret left the disk.
inline bool DiskHolds(const std::string& dir, const std::string& bytes) {
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (content.find(bytes) != std::string::npos) return true;
  }
  return false;
}

}  // namespace procedo::testing
